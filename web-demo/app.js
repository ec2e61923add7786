// Boots the demo: loads the WebAssembly build, wires the tabs, starts both views.
import init, * as tools from '../pkg/tools/web/index.js';
import { startAudit } from './audit.js';
import { startSimulator } from './simulator.js';

function wireTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute('aria-controls')).hidden = !selected;
    }
    if (focus) tab.focus();
  };
  for (const [index, tab] of tabs.entries()) {
    tab.addEventListener('click', () => select(tab, false));
    // Arrow keys move between tabs, as the ARIA tabs pattern expects.
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) {
        event.preventDefault();
        select(tabs[(index + step + tabs.length) % tabs.length], true);
      }
    });
  }
}

try {
  await init();
  wireTabs();
  startSimulator(tools);
  startAudit(tools);
  const { name, version } = tools.info();
  document.getElementById('version').textContent = `${name} ${version} (WebAssembly, running locally)`;
  document.body.setAttribute('data-ready', '');
} catch (error) {
  window.showFatal(`The WebAssembly module did not load: ${error?.message ?? error}`);
  throw error;
}
