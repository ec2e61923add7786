//! The one conversion from Rust values to JavaScript values, for every export.
//!
//! Results go through JSON text and the engine's own `JSON.parse` (arguments come in the other
//! way, through `JSON.stringify`: see `input`):
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
