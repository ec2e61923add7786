// The Node build of the package computes exactly the keys the native core computes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import * as pkg from 'cognito-migrate';
import { describeMismatches, keysWith, loadNative, loadPinned } from './support/native.mjs';

const native = loadNative();

test('keys of the pinned table equal its expectations', () => {
  const pinned = loadPinned();
  assert.ok(pinned.length >= 40, `only ${pinned.length} pinned rows`);
  const actual = pinned.map((row) => keysWith(pkg, row.input));
  const mismatches = describeMismatches(actual, pinned);
  assert.equal(mismatches, '', mismatches);
});

test('keys of the edge cases equal the native keys', () => {
  assert.ok(native.examples.length >= 40, `only ${native.examples.length} examples`);
  const actual = native.examples.map((row) => keysWith(pkg, row.input));
  const mismatches = describeMismatches(actual, native.examples);
  assert.equal(mismatches, '', mismatches);
});

test('keys of 10,000 seeded random strings equal the native keys', () => {
  assert.ok(native.random.length >= 10_000, `only ${native.random.length} random strings`);
  const actual = native.random.map((row) => keysWith(pkg, row.input));
  const mismatches = describeMismatches(actual, native.random);
  assert.equal(mismatches, '', `seed ${native.seed}:\n${mismatches}`);
});

test('an empty identifier throws an Error with a stable code', () => {
  for (const input of ['', ' \t', '\u3000\u200B\uFEFF']) {
    assert.throws(
      () => pkg.canonicalUsername(input),
      (error) => {
        assert.ok(error instanceof Error, 'not an Error instance');
        assert.equal(error.name, 'CognitoMigrateError');
        assert.equal(error.code, 'EMPTY_IDENTIFIER');
        assert.equal(typeof error.message, 'string');
        assert.ok(error.message.length > 0);
        assert.equal(typeof error.stack, 'string');
        return true;
      },
    );
  }
});

test('matchKey of white space is the empty key, not an error', () => {
  assert.equal(pkg.matchKey(' \u3000\t'), '');
});

test('a lone surrogate is read as U+FFFD, as the UTF-8 conversion at the boundary defines', () => {
  assert.equal(pkg.matchKey('a\uD800b'), pkg.matchKey('a\uFFFDb'));
  assert.equal(pkg.canonicalUsername('A\uDC00'), pkg.canonicalUsername('A\uFFFD'));
});

test('the module survives thousands of thrown errors (no leaked state)', () => {
  for (let i = 0; i < 5_000; i += 1) {
    assert.throws(() => pkg.canonicalUsername(' '));
  }
  assert.equal(pkg.canonicalUsername('Ok'), 'ok');
});

test('info() is a plain object that JSON round-trips', () => {
  const info = pkg.info();
  assert.equal(Object.getPrototypeOf(info), Object.prototype);
  assert.deepEqual(JSON.parse(JSON.stringify(info)), info);
  assert.equal(info.name, 'cognito-migrate');
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(info.version, version, 'the crate and the npm package disagree on the version');
});

test('the package loads through require() as well', async () => {
  const { createRequire } = await import('node:module');
  const required = createRequire(import.meta.url)('cognito-migrate');
  assert.equal(required.matchKey('Straße'), pkg.matchKey('Straße'));
});
