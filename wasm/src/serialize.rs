//! The one conversion between Rust values and JavaScript values, for every export.
//!
//! Both directions go through JSON text and the engine's own `JSON.parse`/`JSON.stringify`:
//! `serde_json` is already linked for the core, and a second serde format
//! (`serde-wasm-bindgen`) cost about 20 KB of the gzipped module. The result is the shape
//! the house style asks for: maps become plain objects (never `Map`), `None` becomes `null`,
//! so results survive `JSON.stringify` and `structuredClone` unchanged.

use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::ExportError;

/// Serialises a DTO into a plain JavaScript value.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, ExportError> {
    // A DTO that serde_json cannot write is a bug here, not a fault of the caller's input, so
    // the error's own text is left out: its `Display` links serde_json's messages and std's I/O
    // error names, about 4.7 KB of the gzipped keys module.
    let text = serde_json::to_string(value)
        .map_err(|_| ExportError::new("SERIALIZATION", "a result could not be written as JSON"))?;
    js_sys::JSON::parse(&text).map_err(|_| {
        ExportError::new(
            "SERIALIZATION",
            "the engine refused JSON written by serde_json",
        )
    })
}

#[cfg(feature = "tools")]
/// Reads an argument object; `what` names it in the `INVALID_INPUT` message.
pub fn from_js<T: serde::de::DeserializeOwned>(
    what: &str,
    value: &JsValue,
) -> Result<T, ExportError> {
    let text = json_text(what, value)?;
    serde_json::from_str(&text).map_err(|error| invalid_input(what, &error))
}

#[cfg(feature = "tools")]
/// `INVALID_INPUT` with `serde_json`'s message (one copy for every argument type).
fn invalid_input(what: &str, error: &serde_json::Error) -> ExportError {
    ExportError::new("INVALID_INPUT", &format!("{what}: {error}"))
}

#[cfg(feature = "tools")]
/// The argument as JSON text, written by the engine (one copy for every argument type).
fn json_text(what: &str, value: &JsValue) -> Result<String, ExportError> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| {
            ExportError::new(
                "INVALID_INPUT",
                &format!("{what} must be a plain object that JSON can represent"),
            )
        })
}
