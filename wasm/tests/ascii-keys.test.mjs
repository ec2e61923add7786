// The Amplify helper's canonical username of ASCII text (plain JavaScript, wasm/js/ascii-keys.js)
// equals the keys module's (the core, compiled to WebAssembly) on every ASCII input tried: the
// core's pinned ASCII examples, every pair of ASCII characters around a letter, and seeded random
// ASCII strings rich in control characters and white space.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as keys from 'cognito-migrate';
import { canonicalUsernameAsync } from 'cognito-migrate/amplify';

import { asciiCanonicalUsername } from '../js/ascii-keys.js';
import { loadPinned } from './support/native.mjs';

const SEED = Number(process.env.KEY_SEED ?? 20240212);
const RANDOM_COUNT = 20_000;
const isAscii = (text) => /^[\x00-\x7f]*$/.test(text);

/** What a canonicalUsername gives for one input: its result, or its error's name, code and message. */
function outcome(canonicalUsername, input) {
  try {
    return { value: canonicalUsername(input) };
  } catch (error) {
    return { error: { isError: error instanceof Error, name: error?.name, code: error?.code, message: error?.message } };
  }
}

/** Inputs on which the two functions disagree, escaped, at most `limit`. */
function disagreements(inputs, limit = 5) {
  const escape = (text) => JSON.stringify(text).replace(/[\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const lines = [];
  for (const input of inputs) {
    const plain = outcome(asciiCanonicalUsername, input);
    const wasm = outcome(keys.canonicalUsername, input);
    try {
      assert.deepEqual(plain, wasm);
    } catch {
      lines.push(`${escape(input)}: plain ${JSON.stringify(plain)}, keys module ${JSON.stringify(wasm)}`);
      if (lines.length >= limit) break;
    }
  }
  return lines.join('\n');
}

/** mulberry32: a small seeded generator, so a failure can be replayed with KEY_SEED. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const WHITE_SPACE = ['\t', '\n', '\v', '\f', '\r', ' '];
const CONTROLS = Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)).concat('\x7f');
const UPPER = Array.from({ length: 26 }, (_, i) => String.fromCharCode(0x41 + i));

/** ASCII strings of 0 to 24 characters: any ASCII, white space, control characters, capitals. */
function randomAsciiStrings(seed, count) {
  const next = random(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const strings = [];
  for (let n = 0; n < count; n += 1) {
    const length = Math.floor(next() * 25);
    let text = '';
    for (let i = 0; i < length; i += 1) {
      const kind = next();
      if (kind < 0.4) text += String.fromCharCode(Math.floor(next() * 128));
      else if (kind < 0.65) text += pick(WHITE_SPACE);
      else if (kind < 0.8) text += pick(CONTROLS);
      else text += pick(UPPER);
    }
    strings.push(text);
  }
  return strings;
}

test('the pinned ASCII examples: the plain path gives the table\'s canonical form, as the keys module does', () => {
  const pinned = loadPinned().filter((row) => isAscii(row.input));
  assert.ok(pinned.length >= 8, `only ${pinned.length} ASCII rows in the pinned table`);
  for (const row of pinned) {
    const plain = outcome(asciiCanonicalUsername, row.input);
    if (row.canonicalUsername === null) {
      assert.equal(plain.error?.code, 'EMPTY_IDENTIFIER', row.why);
    } else {
      assert.deepEqual(plain, { value: row.canonicalUsername }, row.why);
    }
  }
  const mismatches = disagreements(pinned.map((row) => row.input));
  assert.equal(mismatches, '', mismatches);
});

test('every pair of ASCII characters around a letter: the plain path equals the keys module', () => {
  const inputs = [];
  for (let a = 0; a < 128; a += 1) {
    for (let b = 0; b < 128; b += 1) {
      const [ca, cb] = [String.fromCharCode(a), String.fromCharCode(b)];
      inputs.push(`${ca}${cb}X${cb}`, `${ca}${cb}`);
    }
  }
  const mismatches = disagreements(inputs);
  assert.equal(mismatches, '', mismatches);
});

test(`${RANDOM_COUNT} seeded random ASCII strings: the plain path equals the keys module`, () => {
  const inputs = randomAsciiStrings(SEED, RANDOM_COUNT);
  // The generator must reach the cases that matter: blank input, trimmed edges, capitals.
  const blank = inputs.filter((text) => outcome(keys.canonicalUsername, text).error).length;
  const trimmed = inputs.filter((text) => /^[\t-\r ]|[\t-\r ]$/.test(text) && /[^\t-\r ]/.test(text)).length;
  assert.ok(blank >= 100, `only ${blank} blank inputs`);
  assert.ok(trimmed >= 5_000, `only ${trimmed} inputs with white space to trim`);
  const mismatches = disagreements(inputs);
  assert.equal(mismatches, '', `seed ${SEED}:\n${mismatches}`);
});

test('text that is not ASCII, and values that are not strings, are left to the keys module', () => {
  for (const input of ['Straße', 'a\u0085', '\u00a0a', '\u200bname', 'A\ud800', 'ÄB', undefined, null, 42]) {
    assert.equal(asciiCanonicalUsername(input), undefined, String(input));
  }
});

test('canonicalUsernameAsync resolves to the keys module\'s answer for every pinned input, ASCII or not', async () => {
  const pinned = loadPinned();
  for (const row of pinned) {
    const expected = outcome(keys.canonicalUsername, row.input);
    let actual;
    try {
      actual = { value: await canonicalUsernameAsync(row.input) };
    } catch (error) {
      actual = { error: { isError: error instanceof Error, name: error?.name, code: error?.code, message: error?.message } };
    }
    assert.deepEqual(actual, expected, row.why);
  }
});
