// Headless Chromium for the browser tests, and the one piece of a bundler they need: the ES module
// a bundler makes of the package's `.wasm` import.
import { readFile } from 'node:fs/promises';

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Debian's Chromium with a fresh profile (a persistent context is how Playwright takes one). */
export function launchChromium(profileDir) {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Browsers cannot import a .wasm file as an ES module yet; bundlers (Vite with a wasm plugin,
 * webpack's asyncWebAssembly) turn that import into an instantiation. This is that module for the
 * file at `wasmPath` (served at `wasmUrl`): it fetches and instantiates the module, importing what
 * it imports relative to `baseUrl`, and re-exports its exports, so the glue that ships runs
 * unmodified.
 */
export async function wasmModuleShim(wasmPath, wasmUrl, baseUrl) {
  const module = new WebAssembly.Module(await readFile(wasmPath));
  const importModules = [...new Set(WebAssembly.Module.imports(module).map((entry) => entry.module))];
  const exportNames = WebAssembly.Module.exports(module).map((entry) => entry.name);
  return [
    ...importModules.map((name, i) => `import * as import${i} from ${JSON.stringify(new URL(name, baseUrl).href)};`),
    `const { instance } = await WebAssembly.instantiateStreaming(fetch(${JSON.stringify(wasmUrl)}), {`,
    ...importModules.map((name, i) => `  ${JSON.stringify(name)}: import${i},`),
    '});',
    ...exportNames.map((name) => `export const ${name} = instance.exports[${JSON.stringify(name)}];`),
  ].join('\n');
}
