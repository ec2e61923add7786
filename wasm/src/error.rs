//! Errors cross into JavaScript as real `Error` objects with a stable `code` property, so callers
//! can branch on `error.code` instead of parsing messages.

use wasm_bindgen::prelude::*;

use crate::code::ErrorCode;

#[wasm_bindgen(typescript_custom_section)]
const ERROR_TYPES: &str = r#"
/** Stable codes carried by the `code` property of every error this package throws. */
export type ErrorCode = "EMPTY_IDENTIFIER" | "SERIALIZATION";

/** What this package throws: a real `Error` with a stable `code`. */
export interface CognitoMigrateError extends Error {
  readonly name: "CognitoMigrateError";
  readonly code: ErrorCode;
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
        // Setting an own property on a fresh, unfrozen Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
        Self(error)
    }
}

impl<E: ErrorCode> From<E> for ExportError {
    fn from(error: E) -> Self {
        Self::new(error.code(), &error.to_string())
    }
}

impl From<ExportError> for JsValue {
    fn from(error: ExportError) -> Self {
        error.0.into()
    }
}
