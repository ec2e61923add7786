// The audit view: a list-users export in (picked or dropped), the core's report out. The file
// is read and audited in a Web Worker, in this browser; nothing is uploaded.

// Long lists are cut here; the counts stay exact.
const SHOWN = 200;

const number = new Intl.NumberFormat('en');
const megabytes = (bytes) => `${(bytes / 1_048_576).toFixed(1)} MB`;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function more(total, shown) {
  return total > shown ? [element('li', `… and ${number.format(total - shown)} more`, 'more')] : [];
}

function renderReport(report, fileName) {
  const $ = (id) => document.getElementById(id);
  $('audit-file-name').textContent = fileName;
  $('audit-summary').replaceChildren(
    ...[
      ['Users', report.totalUsers],
      ['Without issues', report.usersWithoutIssues],
      ['In collisions', report.usersInCollisions],
      ['Collision groups', report.collisions.length],
      ['Unreadable parts', report.inputErrorCount],
    ].map(([title, value]) => {
      const item = element('div');
      item.append(element('dt', title), element('dd', number.format(value)));
      return item;
    }),
  );

  $('audit-input-errors').hidden = report.inputErrorCount === 0;
  $('audit-input-error-list').replaceChildren(
    ...report.inputErrors.slice(0, SHOWN).map((error) => element('li', error.line ? `line ${error.line}: ${error.message}` : error.message)),
    ...more(report.inputErrorCount, Math.min(SHOWN, report.inputErrors.length)),
  );

  $('audit-no-collisions').hidden = report.collisions.length > 0;
  $('audit-collisions').replaceChildren(
    ...report.collisions.slice(0, SHOWN).map((group) => {
      const item = element('li');
      const title = element('div');
      title.append(`${group.members.length} users share the key `, element('code', group.key));
      const members = element('ul');
      for (const member of group.members) {
        const line = element('li');
        line.append(element('code', member.username));
        const via = member.identifiers.map((identifier) => `${identifier.field} ${identifier.value}`).join(', ');
        line.append(` (${via})`);
        members.append(line);
      }
      item.append(title, members);
      return item;
    }),
    ...more(report.collisions.length, SHOWN),
  );

  $('audit-categories').replaceChildren(
    ...report.categories.map((category) => {
      const details = element('details');
      details.dataset.category = category.category;
      const summary = element('summary');
      summary.append(element('span', number.format(category.count), 'count'), ' ', category.title);
      details.append(summary, element('p', category.decision));
      if (category.count > 0) {
        const list = element('ul');
        list.append(...category.usernames.slice(0, SHOWN).map((name) => element('li', name)), ...more(category.count, SHOWN));
        details.append(list);
      }
      return details;
    }),
  );
  $('audit-result').hidden = false;
}

export function startAudit() {
  const $ = (id) => document.getElementById(id);
  const input = $('audit-file');
  const drop = $('audit-drop');
  const box = $('audit-progress-box');
  const bar = $('audit-progress');
  const label = $('audit-progress-label');
  const errorBox = $('audit-error');
  let worker = null;

  const stop = () => {
    worker?.terminate();
    worker = null;
    box.hidden = true;
    document.body.removeAttribute('data-auditing');
  };

  const fail = (message) => {
    stop();
    errorBox.hidden = false;
    errorBox.textContent = message;
  };

  const audit = (file) => {
    stop();
    errorBox.hidden = true;
    $('audit-result').hidden = true;
    box.hidden = false;
    bar.value = 0;
    label.textContent = `Reading ${file.name} (${megabytes(file.size)})…`;
    document.body.setAttribute('data-auditing', '');
    const started = performance.now();
    worker = new Worker(new URL('./audit-worker.js', import.meta.url), { type: 'module' });
    worker.addEventListener('error', (event) => fail(`The audit could not run: ${event.message ?? 'the worker failed to load'}`));
    worker.addEventListener('message', ({ data }) => {
      if (data.progress) {
        const { bytes, total, users } = data.progress;
        bar.value = total ? bytes / total : 1;
        label.textContent = `Read ${megabytes(bytes)} of ${megabytes(total)}: ${number.format(users)} users so far`;
      } else if (data.report) {
        stop();
        renderReport(data.report, `(${file.name}, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
        document.body.dataset.audited = String(data.report.totalUsers);
      } else if (data.error) {
        fail(`The audit failed: ${data.error.message}`);
      }
    });
    worker.postMessage({ file });
  };

  input.addEventListener('change', () => {
    if (input.files?.[0]) audit(input.files[0]);
    // The same file picked again must run again.
    input.value = '';
  });
  $('audit-cancel').addEventListener('click', () => {
    stop();
    errorBox.hidden = false;
    errorBox.textContent = 'Audit cancelled.';
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files?.[0];
    if (file) audit(file);
  });
}
