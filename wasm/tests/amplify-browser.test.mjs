// A sign-in page using `cognito-migrate/amplify` in headless Chromium: an ASCII username never
// fetches the keys module's .wasm (nor its glue), a non-ASCII one does, once. Prints what the
// helper adds to the page in each case, gzipped.
//
// The page resolves bare imports with an import map, as a bundler would: `cognito-migrate` to the
// shipped bundler build (its .wasm import through the instantiating module a bundler generates,
// support/chromium.mjs), and `aws-amplify/auth` to a stand-in whose `signIn` records its input
// and succeeds: this test is about what the page downloads, wasm/tests/amplify-local.test.mjs runs
// the real Amplify against a user pool.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { canonicalUsername } from 'cognito-migrate';

import { launchChromium, wasmModuleShim } from './support/chromium.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLER_DIR = join(ROOT, 'pkg/bundler/');
const HELPER_DIR = join(ROOT, 'wasm/js/');
const MODULE = 'cognito_migrate_wasm_bg.wasm';
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
// The most the helper may add to a page that signs in ASCII usernames: its own JavaScript,
// unminified (the keys module alone is about 64 KB).
const ASCII_BUDGET_GZIP_BYTES = 8192;

const AMPLIFY_STAND_IN = `
window.signInCalls = [];
export async function signIn(input) {
  window.signInCalls.push(structuredClone(input));
  return { isSignedIn: true, nextStep: { signInStep: 'DONE' } };
}`;

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script type="importmap">
${JSON.stringify({
  imports: {
    'aws-amplify/auth': '/aws-amplify-auth.js',
    'cognito-migrate': '/pkg/bundler/cognito_migrate_wasm.js',
    [`/pkg/bundler/${MODULE}`]: '/wasm-module.js',
  },
})}
</script>
<script type="module">
  import { signInWithMigration } from '/wasm/js/amplify.js';
  window.signInWith = (username) => signInWithMigration({ username, password: 'pw' });
  window.ready = true;
</script>`;

let server;
let origin;
let profile;
let context;
let page;
/** Paths the page requested since it was last loaded. */
let requested = [];
const pageErrors = [];

/** A file of the package for a request path, or undefined. */
function packageFile(path) {
  for (const [prefix, dir] of [['/pkg/bundler/', BUNDLER_DIR], ['/wasm/js/', HELPER_DIR]]) {
    if (path.startsWith(prefix)) {
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(dir)) throw new Error(`outside the package: ${path}`);
      return file;
    }
  }
  return undefined;
}

async function handle(request, response) {
  const path = new URL(request.url, origin).pathname;
  const file = packageFile(path);
  let body;
  let type;
  if (path === '/') {
    [body, type] = [PAGE, TYPES['.html']];
  } else if (path === '/aws-amplify-auth.js') {
    [body, type] = [AMPLIFY_STAND_IN, TYPES['.js']];
  } else if (path === '/wasm-module.js') {
    body = await wasmModuleShim(join(BUNDLER_DIR, MODULE), `/pkg/bundler/${MODULE}`, `${origin}/pkg/bundler/`);
    type = TYPES['.js'];
  } else if (file !== undefined) {
    [body, type] = [await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream'];
  } else if (path === '/favicon.ico') {
    response.writeHead(204).end();
    return;
  } else {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

/** Bytes of `gzip -9`, the measure scripts/build-wasm.sh checks its budgets with. */
const gzipBytes = (file) => execFileSync('gzip', ['-9', '-c', file], { maxBuffer: 1 << 24 }).length;

/** The package files among `paths`, each with its size gzipped, as a server sends them. */
function packageBytes(paths) {
  const files = [];
  for (const path of paths) {
    const file = packageFile(path);
    if (file !== undefined) files.push({ path, gzip: gzipBytes(file) });
  }
  return { files, total: files.reduce((sum, { gzip }) => sum + gzip, 0) };
}

const signInWith = (username) => page.evaluate((name) => window.signInWith(name), username);
const sentUsernames = () => page.evaluate(() => window.signInCalls.map((call) => call.username));
const fetchedWasm = () => requested.filter((path) => path.endsWith('.wasm'));

before(async () => {
  server = createServer((request, response) =>
    handle(request, response).catch((error) => response.writeHead(500).end(String(error))),
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  profile = await mkdtemp(join(tmpdir(), 'cognito-migrate-chromium-'));
  context = await launchChromium(profile);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
});

beforeEach(async () => {
  // A fresh document: nothing imported yet.
  await page.goto('about:blank');
  requested = [];
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20_000 });
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (profile) await rm(profile, { recursive: true, force: true });
});

test('an ASCII sign-in fetches no WebAssembly; the first non-ASCII one fetches the keys module once', async () => {
  assert.ok(requested.includes('/wasm/js/amplify.js'), `the page did not load the helper: ${requested}`);
  assert.deepEqual(fetchedWasm(), [], 'the page loaded WebAssembly before any sign-in');

  await signInWith('  Ana@Example.COM\t');
  await signInWith('BOB@EXAMPLE.ORG');
  assert.deepEqual(await sentUsernames(), ['ana@example.com', 'bob@example.org']);
  assert.deepEqual(fetchedWasm(), [], `an ASCII sign-in fetched ${fetchedWasm()}`);
  assert.ok(!requested.some((path) => path.startsWith('/pkg/')), `an ASCII sign-in loaded ${requested}`);
  const ascii = packageBytes(requested);

  const beforeNonAscii = requested.length;
  await signInWith('STRAẞE@Example.de');
  await signInWith('\u200BİSTANBUL@example.com');
  assert.deepEqual((await sentUsernames()).slice(2), [
    canonicalUsername('STRAẞE@Example.de'),
    canonicalUsername('\u200BİSTANBUL@example.com'),
  ]);
  assert.deepEqual(fetchedWasm(), [`/pkg/bundler/${MODULE}`], 'the keys module was not fetched exactly once');
  const added = packageBytes(requested.slice(beforeNonAscii));

  // Once loaded, ASCII input still takes the plain path and nothing more is fetched.
  const afterNonAscii = requested.length;
  await signInWith('Carol@Example.com');
  assert.deepEqual(requested.slice(afterNonAscii), []);
  assert.deepEqual(pageErrors, []);

  assert.deepEqual(ascii.files.map((file) => file.path).sort(), ['/wasm/js/amplify.js', '/wasm/js/ascii-keys.js']);
  assert.ok(ascii.total <= ASCII_BUDGET_GZIP_BYTES, `the helper adds ${ascii.total} bytes gzipped to an ASCII page`);
  const describe = ({ files }) => files.map(({ path, gzip }) => `${path.split('/').pop()} ${gzip}`).join(', ');
  console.log(`helper bytes gzipped, ASCII sign-in: ${ascii.total} (${describe(ascii)})`);
  console.log(`helper bytes gzipped, first non-ASCII sign-in adds: ${added.total} (${describe(added)}); in all ${ascii.total + added.total}`);
});

test('a page whose first sign-in is not ASCII fetches the keys module for it', async () => {
  await signInWith('Ｎａｍｅ@Example.com');
  assert.deepEqual(await sentUsernames(), [canonicalUsername('Ｎａｍｅ@Example.com')]);
  assert.deepEqual(fetchedWasm(), [`/pkg/bundler/${MODULE}`]);
  assert.deepEqual(pageErrors, []);
});

test('a blank ASCII username is refused in the page before anything is sent or fetched', async () => {
  const refused = await page.evaluate(() =>
    window.signInWith(' \t ').then(
      () => null,
      (error) => ({ isError: error instanceof Error, name: error.name, code: error.code }),
    ),
  );
  assert.deepEqual(refused, { isError: true, name: 'CognitoMigrateError', code: 'EMPTY_IDENTIFIER' });
  assert.deepEqual(await sentUsernames(), []);
  assert.deepEqual(fetchedWasm(), []);
});
