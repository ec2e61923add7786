// What the JS and browser builds must reproduce: the pinned table of the core
// (core/tests/fixtures/key-examples.json), and native results for more edge cases and seeded
// random strings, written by `cargo run --example key_table -- native SEED COUNT` in the same
// test run (scripts/test-js.sh) and never committed.
import { readFileSync } from 'node:fs';

// The one pinned table of keys, checked by the core's own tests too.
const pinnedPath = new URL('../../../core/tests/fixtures/key-examples.json', import.meta.url);

export function loadNative() {
  const path = process.env.NATIVE_KEYS;
  if (!path) {
    throw new Error('NATIVE_KEYS is not set: run scripts/test-js.sh, which generates the native key table');
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * The pinned table (`input`, `canonical`, `key`, `why`) in the native table's shape; a `null`
 * canonical username means the input is refused with `EMPTY_IDENTIFIER`.
 */
export function loadPinned() {
  return JSON.parse(readFileSync(pinnedPath, 'utf8')).map((row) => ({
    input: row.input,
    canonicalUsername: row.canonical,
    canonicalError: row.canonical === null ? 'EMPTY_IDENTIFIER' : null,
    matchKey: row.key,
    why: row.why,
  }));
}

/** What a build returns for one input, in the native table's shape. */
export function keysWith({ canonicalUsername, matchKey }, input) {
  let canonical = null;
  let canonicalError = null;
  try {
    canonical = canonicalUsername(input);
  } catch (error) {
    canonicalError = error?.code ?? `uncoded: ${error}`;
  }
  return { input, canonicalUsername: canonical, canonicalError, matchKey: matchKey(input) };
}

/** Readable mismatches (escaped code points) for assertion messages. */
export function describeMismatches(actual, expected, limit = 5) {
  const escape = (value) =>
    value === null ? 'null' : [...value].map((c) => `U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
  const lines = [];
  for (let i = 0; i < expected.length && lines.length < limit; i += 1) {
    const a = actual[i];
    const e = expected[i];
    for (const field of ['canonicalUsername', 'canonicalError', 'matchKey']) {
      if (a?.[field] !== e[field]) {
        lines.push(`#${i} ${field} of [${escape(e.input)}]: got [${escape(a?.[field] ?? null)}], native [${escape(e[field])}]`);
      }
    }
  }
  return lines.join('\n');
}
