//! What build of the package is loaded.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::ExportError;
use crate::serialize::to_js;

#[wasm_bindgen(typescript_custom_section)]
const INFO_TYPES: &str = r#"
/** The loaded build: compare `version` with the Lambda's to be sure both compute the same keys. */
export interface PackageInfo {
  name: string;
  version: string;
}
"#;

/// The JavaScript shape of `info()`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PackageInfo {
    name: &'static str,
    version: &'static str,
}

/// The package's name and version.
#[wasm_bindgen(unchecked_return_type = "PackageInfo")]
pub fn info() -> Result<JsValue, ExportError> {
    to_js(&PackageInfo {
        name: "cognito-migrate",
        version: env!("CARGO_PKG_VERSION"),
    })
}
