// The web demo in headless Chromium, served by the same server `scripts/serve-demo.sh` runs.
// Screenshots of each view at desktop and phone width go to artifacts/web-demo/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'artifacts', 'web-demo');
const BIG_USERS = 100_000;
// Generous: the audit of 100,000 users takes a few seconds on a laptop.
const BIG_AUDIT_TIMEOUT_MS = 120_000;

let server;
let url;
let work;
let context;
let page;
const pageErrors = [];

const user = (username, { email = username, verified = true, enabled = true, status = 'CONFIRMED' } = {}) => ({
  Username: username,
  Attributes: [
    { Name: 'sub', Value: `sub-${username}` },
    { Name: 'email', Value: email },
    { Name: 'email_verified', Value: String(verified) },
  ],
  Enabled: enabled,
  UserStatus: status,
});

/** A list-users export of `count` users; every 1,000th has a twin that differs only in case. */
async function writeBigExport(path, count) {
  const out = createWriteStream(path);
  out.write('{\n    "Users": [\n');
  let written = 0;
  for (let i = 0; written < count; i += 1) {
    const batch = [];
    batch.push(user(`user${i}@example.com`, { verified: i % 7 !== 0, enabled: i % 500 !== 0 }));
    if (i % 1000 === 0 && written + 1 < count) batch.push(user(`User${i}@Example.com`));
    for (const entry of batch) {
      written += 1;
      const text = `        ${JSON.stringify(entry)}${written < count ? ',' : ''}\n`;
      if (!out.write(text)) await once(out, 'drain');
    }
  }
  out.end('    ]\n}\n');
  await once(out, 'finish');
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cognito-migrate-demo-'));
  await mkdir(ARTIFACTS, { recursive: true });
  server = spawn(process.execPath, [join(ROOT, 'web-demo/server.mjs'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await Promise.race([
    once(server.stdout, 'data'),
    once(server, 'exit').then(() => {
      throw new Error('the demo server exited');
    }),
  ]);
  url = String(line).match(/http:\/\/\S+/)?.[0];
  assert.ok(url, `no URL in: ${line}`);
  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { timeout: 20_000 });
});

after(async () => {
  await context?.close();
  server?.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

const text = (selector) => page.locator(selector).innerText();
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

async function showView(name) {
  await page.click(`#tab-${name}`);
  await page.waitForSelector(`#view-${name}:not([hidden])`);
}

test('the page loads the module and says which build runs', async () => {
  assert.match(await text('#version'), /^cognito-migrate \d+\.\d+\.\d+/);
  assert.equal(await page.locator('#fatal').isHidden(), true);
  assert.deepEqual(pageErrors, []);
});

test('an event built from the form migrates the owner of the collision pair as CONFIRMED', async () => {
  await showView('simulator');
  await page.selectOption('#sim-source', 'UserMigration_Authentication');
  await page.fill('#sim-username', 'NAME@acme.com');
  await page.fill('#sim-password', 'hunter2-but-longer');
  // The raw JSON follows the form.
  const raw = JSON.parse(await page.inputValue('#sim-event'));
  assert.equal(raw.userName, 'NAME@acme.com');
  assert.equal(raw.request.password, 'hunter2-but-longer');
  assert.equal(raw.response.finalUserStatus, null);
  await page.click('#sim-run');
  assert.equal(await text('#sim-decision'), 'APPROVED');
  assert.match(await text('#sim-summary'), /Migrate Name@Acme\.com as CONFIRMED/);
  const highlighted = await text('#sim-response mark');
  assert.match(highlighted, /"finalUserStatus": "CONFIRMED"/);
  assert.match(highlighted, /"custom:legacy_username": "Name@Acme.com"/);
  assert.doesNotMatch(await text('#sim-response'), /"sub":/);
  await shot('simulator-desktop');
});

test('the form follows edits of the raw JSON', async () => {
  const raw = JSON.parse(await page.inputValue('#sim-event'));
  raw.userName = 'Name@Acme.com';
  raw.callerContext.clientId = 'edited-client';
  await page.fill('#sim-event', JSON.stringify(raw, null, 2));
  assert.equal(await page.inputValue('#sim-username'), 'Name@Acme.com');
  assert.equal(await page.inputValue('#sim-client'), 'edited-client');
});

test('a wrong password for the owner is refused with its reason, client message and trace', async () => {
  await page.selectOption('select[data-username="Name@Acme.com"]', 'wrong');
  assert.equal(await text('#sim-decision'), 'REFUSED');
  assert.equal(await text('#sim-reason'), 'wrong_password');
  assert.match(await text('#sim-explanation'), /fits none of the legacy users/);
  assert.equal(await text('#sim-client-message'), 'NotAuthorizedException: Incorrect username or password.');
  const steps = await page.locator('#sim-trace li').allInnerTexts();
  assert.ok(steps.length >= 4, steps.join('\n'));
  assert.ok(steps.some((step) => /password is wrong for `Name@Acme.com`/.test(step)), steps.join('\n'));
  assert.equal(await page.locator('#sim-response mark').count(), 0, 'a refusal returns the event unchanged');
  await shot('simulator-refused-desktop');
  await page.selectOption('select[data-username="Name@Acme.com"]', 'ok');
  assert.equal(await text('#sim-decision'), 'APPROVED');
});

test('a sign-up that takes a legacy e-mail shows the exact error the client gets', async () => {
  await page.selectOption('#sim-source', 'PreSignUp_SignUp');
  await page.fill('#sim-username', 'name@ACME.com');
  assert.equal(await text('#sim-decision'), 'REFUSED');
  assert.match(await text('#sim-client-message'), /^UserLambdaValidationException: PreSignUp failed with error An account with this sign-in already exists/);
  assert.match(await text('#sim-response'), /No response: the trigger fails the request/);
  await page.selectOption('#sim-source', 'UserMigration_Authentication');
});

test('broken JSON shows an error with its line and column, never a blank result', async () => {
  const good = await page.inputValue('#sim-event');
  await page.fill('#sim-event', '{\n  "triggerSource": "UserMigration_Authentication",\n  "userName": "a",,\n}');
  const error = await text('#sim-event-error');
  assert.match(error, /INVALID_JSON/);
  assert.match(error, /line 3, column 19/);
  assert.equal(await page.getAttribute('#sim-event', 'aria-invalid'), 'true');
  assert.match(await text('#sim-error'), /Fix the JSON/);
  await page.fill('#sim-event', '{"triggerSource": "UserMigration_Authentication", "userName": "a"}');
  assert.match(await text('#sim-event-error'), /INVALID_EVENT.*request\.password/);
  await page.fill('#sim-event', good);
  assert.equal(await page.locator('#sim-event-error').isHidden(), true);

  const users = await page.inputValue('#sim-users');
  await page.fill('#sim-users', '[\n  {"Username": "a"}\n  {"Username": "b"}\n]');
  assert.match(await text('#sim-users-error'), /line 3, column 3/);
  await page.fill('#sim-users', users);
  assert.equal(await text('#sim-decision'), 'APPROVED');
  assert.deepEqual(pageErrors, []);
});

test('an export with a collision pair lists the group and the users who need a decision', async () => {
  const path = join(work, 'collisions.json');
  await writeFile(path, JSON.stringify({
    Users: [
      user('Name@Acme.com'),
      user('name@acme.com', { verified: false }),
      user('carl@acme.com', { enabled: false, status: 'FORCE_CHANGE_PASSWORD' }),
      user('dora@acme.com'),
      // Keys of non-ASCII text come from the keys module the tools module loads with it.
      user('Straße@Acme.com'),
      user('STRASSE@acme.com', { verified: false }),
    ],
  }, null, 4));
  await showView('audit');
  assert.match(await text('#view-audit'), /never uploaded/);
  await page.setInputFiles('#audit-file', path);
  await page.waitForSelector('#audit-result:not([hidden])');
  const collisions = await text('#audit-collisions');
  assert.match(collisions, /2 users share the key name@acme\.com/);
  assert.match(collisions, /Name@Acme\.com/);
  assert.match(collisions, /name@acme\.com \(username name@acme\.com, email name@acme\.com\)/);
  assert.match(collisions, /2 users share the key strasse@acme\.com/);
  assert.match(await text('#audit-summary'), /Users\s+6/);
  assert.match(await text('details[data-category="disabled"] summary'), /^1\s*Disabled/);
  await page.click('details[data-category="disabled"] summary');
  assert.match(await text('details[data-category="disabled"]'), /carl@acme\.com/);
  assert.match(await text('details[data-category="unverifiedEmail"] summary'), /^2\s/);
  await shot('audit-desktop');
});

test('a broken export shows what could not be read, by line', async () => {
  const path = join(work, 'broken.json');
  await writeFile(path, '{"Username": "ann", "UserStatus": "CONFIRMED"}\n{"Username": "bob", "Enabled": tru}\n{"Username": "cy", "UserStatus": "CONFIRMED"}\n');
  await page.setInputFiles('#audit-file', path);
  await page.waitForFunction(() => document.querySelector('#audit-file-name')?.textContent.includes('broken.json'));
  assert.equal(await page.locator('#audit-input-errors').isVisible(), true);
  assert.match(await text('#audit-input-error-list'), /^line 2: invalid JSON/);
  assert.match(await text('#audit-summary'), /Users\s+2/);
});

test('100,000 users are audited with progress while the page stays responsive', async () => {
  const path = join(work, 'big.json');
  await writeBigExport(path, BIG_USERS);
  // Record the longest gap between timer ticks (a blocked main thread shows as a long gap)
  // and every progress text shown.
  await page.evaluate(() => {
    window.probe = { maxGap: 0, progress: [] };
    let last = performance.now();
    window.probe.timer = setInterval(() => {
      const now = performance.now();
      window.probe.maxGap = Math.max(window.probe.maxGap, now - last);
      last = now;
    }, 20);
    new MutationObserver(() => window.probe.progress.push(document.getElementById('audit-progress-label').textContent))
      .observe(document.getElementById('audit-progress-label'), { childList: true, characterData: true, subtree: true });
  });
  // A slow phone's CPU: the audit then takes long enough to click during it on any machine.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
  const started = Date.now();
  await page.setInputFiles('#audit-file', path);
  await page.waitForSelector('#audit-progress-box:not([hidden])');
  // A click handled mid-audit: switching views works while the worker reads.
  await page.waitForFunction(() => window.probe.progress.some((line) => /users so far/.test(line)), null, { timeout: 30_000 });
  const midway = await page.evaluate(() => document.body.hasAttribute('data-auditing'));
  await page.click('#tab-simulator');
  assert.equal(await page.getAttribute('#tab-simulator', 'aria-selected'), 'true');
  await page.click('#tab-audit');
  await page.waitForSelector(`body[data-audited="${BIG_USERS}"]`, { timeout: BIG_AUDIT_TIMEOUT_MS });
  const elapsed = Date.now() - started;
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await cdp.detach();
  const probe = await page.evaluate(() => {
    clearInterval(window.probe.timer);
    return { maxGap: window.probe.maxGap, progress: window.probe.progress };
  });
  assert.ok(midway, 'the audit finished before a click could be made during it');
  assert.ok(probe.progress.length >= 2, `progress shown ${probe.progress.length} time(s)`);
  assert.ok(probe.maxGap < 1_000, `the main thread was blocked for ${Math.round(probe.maxGap)} ms`);
  assert.ok(elapsed < BIG_AUDIT_TIMEOUT_MS);
  assert.match(await text('#audit-summary'), /Users\s+100,000/);
  assert.match(await text('#audit-summary'), /Collision groups\s+100\b/);
  assert.match(await text('#audit-collisions'), /… and \d+ more|2 users share/);
  console.log(`# 100,000 users audited in ${(elapsed / 1000).toFixed(1)} s at 6x CPU throttling; longest main-thread gap ${Math.round(probe.maxGap)} ms`);
});

test('tab order reaches the main controls', async () => {
  await page.reload();
  await page.waitForSelector('body[data-ready]');
  const order = [];
  for (let i = 0; i < 30; i += 1) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
  }
  const expected = ['tab-simulator', 'sim-source', 'sim-username', 'sim-password', 'sim-client', 'sim-event', 'sim-users', 'sim-outcome-0', 'sim-outcome-1', 'sim-schema', 'sim-collision', 'sim-max', 'sim-run'];
  let at = -1;
  for (const id of expected) {
    const next = order.indexOf(id, at + 1);
    assert.ok(next > at, `${id} is not reached after ${expected[expected.indexOf(id) - 1]}: ${order.join(' ')}`);
    at = next;
  }
  // The tabs follow the ARIA pattern: arrow keys move between them.
  await page.focus('#tab-simulator');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-audit');
  assert.equal(await page.locator('#view-audit').isVisible(), true);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'audit-file');
  const outline = await page.evaluate(() => getComputedStyle(document.querySelector('#audit-drop')).outlineStyle);
  assert.equal(outline, 'solid', 'the drop zone shows focus while its file input has it');
});

test('at 375 px wide neither view scrolls sideways', async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  for (const view of ['simulator', 'audit']) {
    await showView(view);
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    assert.ok(scroll <= client, `${view}: the document is ${scroll} px wide in a ${client} px window`);
    await shot(`${view}-phone`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a module that fails to load shows a message, not a blank page', async () => {
  const broken = await context.newPage();
  await broken.route('**/*.wasm', (route) => route.abort());
  await broken.goto(url);
  await broken.waitForSelector('#fatal:not([hidden])', { timeout: 20_000 });
  assert.match(await broken.locator('#fatal').innerText(), /could not run/i);
  await broken.close();
});
