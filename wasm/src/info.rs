//! What build of the package is loaded.

use wasm_bindgen::prelude::*;

use crate::error::ExportError;

#[wasm_bindgen(typescript_custom_section)]
const INFO_TYPES: &str = r#"
/** The loaded build: compare `version` with the Lambda's to be sure both compute the same keys. */
export interface PackageInfo {
  name: string;
  version: string;
}
"#;

/// The package's name and version.
#[wasm_bindgen(unchecked_return_type = "PackageInfo")]
pub fn info() -> Result<JsValue, ExportError> {
    // JSON text fixed at build time: no serializer for one constant object.
    js_sys::JSON::parse(concat!(
        r#"{"name":"cognito-migrate","version":""#,
        env!("CARGO_PKG_VERSION"),
        r#""}"#
    ))
    .map_err(|_| ExportError::new("SERIALIZATION", "the engine refused the package info JSON"))
}
