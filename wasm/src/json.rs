//! JSON text from forms and files, read with the same parser the core uses, so a mistake is
//! reported with its line and column in every browser.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::error::ExportError;
use crate::serialize::to_js;

/// Reads JSON text; `what` names it in the error message.
pub fn parse_text(what: &str, text: &str) -> Result<Value, ExportError> {
    serde_json::from_str(text).map_err(|error| ExportError::json(what, &error))
}

/// Parses JSON text like `JSON.parse`, but throws `INVALID_JSON` with `line` and `column`
/// (both from 1) on a mistake. `label` names the text in the message (default `"the text"`).
#[wasm_bindgen(js_name = parseJson, unchecked_return_type = "unknown")]
#[expect(
    clippy::needless_pass_by_value,
    reason = "wasm-bindgen passes an optional string owned"
)]
pub fn parse_json(text: &str, label: Option<String>) -> Result<JsValue, ExportError> {
    let value = parse_text(label.as_deref().unwrap_or("the text"), text)?;
    to_js(&value)
}
