//! Errors cross into JavaScript as real `Error` objects with a stable `code` property, so callers
//! can branch on `error.code` instead of parsing messages.

use wasm_bindgen::prelude::*;

use crate::code::ErrorCode;

#[wasm_bindgen(typescript_custom_section)]
const ERROR_TYPES: &str = r#"
/** Stable codes carried by the `code` property of every error this package throws. */
export type ErrorCode =
  | "EMPTY_IDENTIFIER"
  | "INVALID_JSON"
  | "INVALID_EVENT"
  | "INVALID_USER"
  | "INVALID_OUTCOME"
  | "INVALID_INPUT"
  | "UNKNOWN_TRIGGER_SOURCE"
  | "SERIALIZATION";

/** What this package throws: a real `Error` with a stable `code`. */
export interface CognitoMigrateError extends Error {
  readonly name: "CognitoMigrateError";
  readonly code: ErrorCode;
  /** `INVALID_JSON`: line of the fault, from 1. */
  readonly line?: number;
  /** `INVALID_JSON`: column of the fault, from 1. */
  readonly column?: number;
  /** `INVALID_EVENT`, `INVALID_USER`: the field at fault (a JSON path such as `request.password`). */
  readonly field?: string;
  /** `INVALID_USER`: index of the user in `legacyUsers`. */
  readonly index?: number;
}
"#;

/// The error type of every fallible export; wasm-bindgen throws it as a JavaScript `Error`.
#[derive(Debug)]
pub struct ExportError(js_sys::Error);

impl ExportError {
    /// An `Error` named `CognitoMigrateError` with the given code and message.
    #[must_use]
    pub fn new(code: &str, message: &str) -> Self {
        let error = js_sys::Error::new(message);
        error.set_name("CognitoMigrateError");
        Self(error).with("code", code)
    }

    /// Adds a property (`line`, `field`, ...) that says where the fault is.
    #[must_use]
    pub fn with(self, name: &str, value: impl Into<JsValue>) -> Self {
        // Setting an own property on a fresh, unfrozen Error object cannot fail.
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        self
    }

    /// `INVALID_JSON` for text that `serde_json` refused, with its line and column.
    #[cfg(feature = "tools")]
    #[must_use]
    pub fn json(what: &str, error: &serde_json::Error) -> Self {
        let message = format!(
            "{what} is not valid JSON: {} (line {}, column {})",
            error_without_position(error),
            error.line(),
            error.column()
        );
        Self::new("INVALID_JSON", &message)
            .with("line", error.line())
            .with("column", error.column())
    }
}

#[cfg(feature = "tools")]
/// `serde_json`'s message without its own " at line L column C" suffix. The suffix is rebuilt
/// and cut off the end: searching backwards for it links a second string searcher.
fn error_without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => text,
    }
}

impl<E: ErrorCode> From<E> for ExportError {
    fn from(error: E) -> Self {
        let exported = Self::new(error.code(), &error.to_string());
        match error.field() {
            Some(field) => exported.with("field", field),
            None => exported,
        }
    }
}

impl From<ExportError> for JsValue {
    fn from(error: ExportError) -> Self {
        error.0.into()
    }
}
