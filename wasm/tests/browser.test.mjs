// The shipped ESM (pkg/bundler) in headless Chromium computes the native keys.
//
// Browsers cannot import a .wasm file as an ES module yet; bundlers (Vite with a wasm plugin,
// webpack's asyncWebAssembly) turn that import into an instantiation. The page does the same
// with an import map that points the glue's `./…_bg.wasm` import at a small generated module,
// so the exact files that ship run unmodified.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launchChromium, wasmModuleShim } from './support/chromium.mjs';
import { describeMismatches, loadNative, loadPinned } from './support/native.mjs';

const BUNDLER_DIR = fileURLToPath(new URL('../../pkg/bundler/', import.meta.url));
const GLUE = 'cognito_migrate_wasm.js';
const MODULE = 'cognito_migrate_wasm_bg.wasm';
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const native = loadNative();
let server;
let origin;
let profile;
let context;
let page;
const pageErrors = [];

const PAGE = () => `<!doctype html>
<meta charset="utf-8">
<script type="importmap">
${JSON.stringify({ imports: { [`/pkg/bundler/${MODULE}`]: '/wasm-module.js' } })}
</script>
<script type="module">
  import * as pkg from '/pkg/bundler/${GLUE}';
  window.pkg = pkg;
  window.ready = true;
</script>`;

async function handle(request, response) {
  const path = new URL(request.url, origin).pathname;
  let body;
  let type;
  if (path === '/') {
    [body, type] = [PAGE(), TYPES['.html']];
  } else if (path === '/wasm-module.js') {
    const shim = wasmModuleShim(join(BUNDLER_DIR, MODULE), `/pkg/bundler/${MODULE}`, `${origin}/pkg/bundler/`);
    [body, type] = [await shim, TYPES['.js']];
  } else if (path.startsWith('/pkg/bundler/')) {
    const file = normalize(join(BUNDLER_DIR, path.slice('/pkg/bundler/'.length)));
    if (!file.startsWith(BUNDLER_DIR)) throw new Error(`outside the package: ${path}`);
    [body, type] = [await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream'];
  } else if (path === '/favicon.ico') {
    // Asked for by every page; answered so that any other 404 shows up as a page error.
    response.writeHead(204).end();
    return;
  } else {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

before(async () => {
  server = createServer((request, response) =>
    handle(request, response).catch((error) => response.writeHead(500).end(String(error))),
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  profile = await mkdtemp(join(tmpdir(), 'cognito-migrate-chromium-'));
  context = await launchChromium(profile);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 20_000 });
});

after(async () => {
  await context?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** Runs every input through the page's package, in one round trip. */
function keysInPage(inputs) {
  return page.evaluate((all) => {
    const { canonicalUsername, matchKey } = window.pkg;
    return all.map((input) => {
      let canonical = null;
      let canonicalError = null;
      try {
        canonical = canonicalUsername(input);
      } catch (error) {
        canonicalError = error?.code ?? `uncoded: ${error}`;
      }
      return { input, canonicalUsername: canonical, canonicalError, matchKey: matchKey(input) };
    });
  }, inputs);
}

test('the bundler build loads in Chromium without errors', async () => {
  assert.deepEqual(await page.evaluate(() => Object.keys(window.pkg).sort()), ['canonicalUsername', 'info', 'matchKey']);
  assert.deepEqual(pageErrors, []);
});

test('keys of the pinned table in Chromium equal its expectations', async () => {
  const pinned = loadPinned();
  const actual = await keysInPage(pinned.map((row) => row.input));
  const mismatches = describeMismatches(actual, pinned);
  assert.equal(mismatches, '', mismatches);
});

test('keys of the edge cases in Chromium equal the native keys', async () => {
  const actual = await keysInPage(native.examples.map((row) => row.input));
  const mismatches = describeMismatches(actual, native.examples);
  assert.equal(mismatches, '', mismatches);
});

test('keys of 10,000 seeded random strings in Chromium equal the native keys', async () => {
  assert.ok(native.random.length >= 10_000, `only ${native.random.length} random strings`);
  const actual = await keysInPage(native.random.map((row) => row.input));
  const mismatches = describeMismatches(actual, native.random);
  assert.equal(mismatches, '', `seed ${native.seed}:\n${mismatches}`);
});

test('errors thrown in the page are Error objects with a code', async () => {
  const seen = await page.evaluate(() => {
    try {
      window.pkg.canonicalUsername('\u3000');
      return null;
    } catch (error) {
      return { isError: error instanceof Error, name: error.name, code: error.code };
    }
  });
  assert.deepEqual(seen, { isError: true, name: 'CognitoMigrateError', code: 'EMPTY_IDENTIFIER' });
  assert.deepEqual(pageErrors, []);
});
