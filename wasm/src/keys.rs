//! Identifier keys: the same code the Lambda runs, so a browser and the trigger always agree.

use wasm_bindgen::prelude::*;

use crate::error::ExportError;

/// The username to send to the new pool: trimmed, NFC, lowercased (`ß` stays `ß`).
///
/// Throws an `Error` with `code = "EMPTY_IDENTIFIER"` when nothing but white space or invisible
/// characters is given.
#[wasm_bindgen(js_name = canonicalUsername)]
pub fn canonical_username(input: &str) -> Result<String, ExportError> {
    Ok(cognito_migrate_core::canonical_username(input)?.into_string())
}

/// The compatibility caseless key that groups identifiers a case-insensitive pool could confuse
/// (`Straße` and `STRASSE` share `strasse`). White space alone gives `""`.
#[wasm_bindgen(js_name = matchKey)]
#[must_use]
pub fn match_key(input: &str) -> String {
    cognito_migrate_core::match_key(input).into_string()
}
