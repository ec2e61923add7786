//! The tools module's keys of text that is not ASCII, borrowed from the keys module.
//!
//! The tools module is built without the core's Unicode tables (about 55 KB of the gzipped
//! module); at start it hands the core the keys module's own `canonicalUsername` and `matchKey`,
//! through `cognito_migrate_keys.js`, which the build writes beside each tools build to load the
//! keys build of the same target. One copy of the tables serves both modules, and the simulator
//! and the audit compute exactly the keys the package exports.

use cognito_migrate_core::KeyError;
use cognito_migrate_core::keys::{UnicodeKeys, install_unicode_keys};
use wasm_bindgen::prelude::*;

use crate::code::ErrorCode;

#[wasm_bindgen(raw_module = "./cognito_migrate_keys.js")]
extern "C" {
    #[wasm_bindgen(js_name = canonicalUsername, catch)]
    fn keys_canonical_username(input: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(js_name = matchKey)]
    fn keys_match_key(input: &str) -> String;
}

/// The keys module refuses an empty identifier with an error; the core expects `""`.
fn canonical_username(input: &str) -> String {
    keys_canonical_username(input).unwrap_or_else(|error| {
        let code = js_sys::Reflect::get(&error, &JsValue::from_str("code")).ok();
        if code.and_then(|code| code.as_string()).as_deref() == Some(KeyError::Empty.code()) {
            String::new()
        } else {
            wasm_bindgen::throw_val(error)
        }
    })
}

#[wasm_bindgen(start, private)]
fn start() {
    install_unicode_keys(UnicodeKeys {
        canonical_username,
        match_key: keys_match_key,
    });
}
