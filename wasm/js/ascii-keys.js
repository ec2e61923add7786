// The canonical username of ASCII text without WebAssembly, so that a sign-in form whose users type
// ASCII (most e-mail addresses) never downloads the keys module.
//
// On ASCII, the core's `canonical_username` (core/src/keys.rs, `ascii_canonical_username`) is
// exactly: trim U+0009..U+000D and U+0020 from both ends (Unicode White_Space within ASCII; no
// ASCII character is default-ignorable), lowercase A-Z, and refuse what is left empty.
// wasm/tests/ascii-keys.test.mjs holds this file equal to the keys module on the core's pinned
// ASCII examples and on random ASCII strings. Any other text goes to the keys module.

/** @param {number} code a UTF-16 code unit */
const isAsciiWhiteSpace = (code) => (code >= 0x09 && code <= 0x0d) || code === 0x20;

/**
 * The error the keys module throws for an empty identifier, with the same name, code and message.
 *
 * @returns {Error & { code: 'EMPTY_IDENTIFIER' }}
 */
export function emptyIdentifierError() {
  const error = new Error('the identifier is empty');
  error.name = 'CognitoMigrateError';
  return Object.assign(error, { code: /** @type {const} */ ('EMPTY_IDENTIFIER') });
}

/**
 * `canonicalUsername(input)` for a string made only of ASCII characters; `undefined` for any other
 * value, which only the keys module can map.
 *
 * @param {unknown} input
 * @returns {string | undefined}
 * @throws {Error} `CognitoMigrateError` with code `EMPTY_IDENTIFIER` for ASCII white space alone.
 */
export function asciiCanonicalUsername(input) {
  if (typeof input !== 'string') return undefined;
  let start = 0;
  let end = input.length;
  for (let i = 0; i < end; i += 1) {
    if (input.charCodeAt(i) > 0x7f) return undefined;
  }
  while (start < end && isAsciiWhiteSpace(input.charCodeAt(start))) start += 1;
  while (end > start && isAsciiWhiteSpace(input.charCodeAt(end - 1))) end -= 1;
  if (start === end) throw emptyIdentifierError();
  // On ASCII text, toLowerCase maps A-Z to a-z and changes nothing else.
  return input.slice(start, end).toLowerCase();
}
