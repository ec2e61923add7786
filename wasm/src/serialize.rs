//! The one serializer for every export that returns an object.

use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::ExportError;

/// Serialises a DTO into a plain JavaScript value: maps become plain objects (not `Map`, which
/// `JSON.stringify` prints as `{}` and React cannot spread), and `None` becomes `null` (not
/// `undefined`), so results survive `JSON.stringify` and `structuredClone` unchanged.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, ExportError> {
    let serializer = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    value
        .serialize(&serializer)
        .map_err(|error| ExportError::new("SERIALIZATION", &error.to_string()))
}
