// The native Rust results the JS and browser builds must reproduce. They are written by
// `cargo run --example key_table -- native SEED COUNT` in the same test run (scripts/test-js.sh),
// never committed, so a test compares against what the core computes today.
import { readFileSync } from 'node:fs';

const examplesPath = new URL('../fixtures/key-examples.json', import.meta.url);

export function loadNative() {
  const path = process.env.NATIVE_KEYS;
  if (!path) {
    throw new Error('NATIVE_KEYS is not set: run scripts/test-js.sh, which generates the native key table');
  }
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** The committed example table, with notes: the inputs the core documents. */
export function loadExamples() {
  return JSON.parse(readFileSync(examplesPath, 'utf8'));
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
