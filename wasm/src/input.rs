//! Argument objects, read field by field from the JSON value the engine writes for them.
//!
//! Derived `Deserialize` impls cost about 5 KB of the gzipped tools module for the handful of
//! argument types it takes; a walk over the `serde_json::Value` the module parses anyway costs a
//! fraction of that. Every fault is `INVALID_INPUT` with the path of the field at fault, and
//! fields a type does not know are refused rather than ignored, so a misspelt option is never
//! silently left at its default.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::{Map, Value};
use wasm_bindgen::JsValue;

use crate::error::ExportError;

/// An argument object: its path in messages (`simulateTrigger input.policy`) and its fields.
#[derive(Debug)]
pub struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

/// `INVALID_INPUT` with a message.
fn invalid(message: &str) -> ExportError {
    ExportError::new("INVALID_INPUT", message)
}

impl<'a> Fields<'a> {
    /// The object `value`, whose field names must all be in `known`.
    pub fn new(path: String, value: &'a Value, known: &[&str]) -> Result<Self, ExportError> {
        let Value::Object(map) = value else {
            return Err(invalid(&format!("{path} must be an object")));
        };
        if let Some(name) = map.keys().find(|name| !known.contains(&name.as_str())) {
            return Err(invalid(&format!(
                "{path} has an unknown field `{name}`; the fields are: {}",
                known.join(", ")
            )));
        }
        Ok(Self { path, map })
    }

    /// The path of field `name`, for messages.
    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    /// Field `name`, absent when missing or `null`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name).filter(|value| !value.is_null())
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<Option<&'a str>, ExportError> {
        self.get(name)
            .map(|value| {
                value
                    .as_str()
                    .ok_or_else(|| invalid(&format!("{} must be a string", self.at(name))))
            })
            .transpose()
    }

    /// Field `name`, which must be present and not `null`.
    pub fn required(&self, name: &str) -> Result<&'a Value, ExportError> {
        self.get(name)
            .ok_or_else(|| invalid(&format!("{} is missing", self.at(name))))
    }

    /// A string field that must be present.
    pub fn required_string(&self, name: &str) -> Result<&'a str, ExportError> {
        self.required(name)?
            .as_str()
            .ok_or_else(|| invalid(&format!("{} must be a string", self.at(name))))
    }

    /// A string field holding one of the words `T` parses (`"most-recent"`).
    pub fn word<T: FromStr>(&self, name: &str) -> Result<Option<T>, ExportError>
    where
        T::Err: std::fmt::Display,
    {
        self.string(name)?
            .map(|word| {
                word.parse()
                    .map_err(|error| invalid(&format!("{}: {error}", self.at(name))))
            })
            .transpose()
    }

    /// A list of strings.
    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, ExportError> {
        self.get(name)
            .map(|value| {
                value
                    .as_array()
                    .and_then(|items| {
                        items
                            .iter()
                            .map(|item| item.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| invalid(&format!("{} must be a list of strings", self.at(name))))
            })
            .transpose()
    }

    /// An object whose values are all strings, by name. (Built by insertion: collecting into a
    /// map or sorting links the standard library's sort, several KB.)
    pub fn string_map(&self, name: &str) -> Result<Option<BTreeMap<String, String>>, ExportError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let fault = || {
            invalid(&format!(
                "{} must be an object whose values are strings",
                self.at(name)
            ))
        };
        let mut map = BTreeMap::new();
        for (key, item) in value.as_object().ok_or_else(fault)? {
            map.insert(key.clone(), item.as_str().ok_or_else(fault)?.to_owned());
        }
        Ok(Some(map))
    }

    /// A whole number from 0.
    pub fn whole_number(&self, name: &str) -> Result<Option<u64>, ExportError> {
        self.get(name)
            .map(|value| {
                value.as_u64().ok_or_else(|| {
                    invalid(&format!("{} must be a whole number from 0", self.at(name)))
                })
            })
            .transpose()
    }

    /// A list of values.
    pub fn list(&self, name: &str) -> Result<Option<&'a Vec<Value>>, ExportError> {
        self.get(name)
            .map(|value| {
                value
                    .as_array()
                    .ok_or_else(|| invalid(&format!("{} must be a list", self.at(name))))
            })
            .transpose()
    }

    /// A nested argument object, whose field names must all be in `known`.
    pub fn object(&self, name: &str, known: &[&str]) -> Result<Option<Fields<'a>>, ExportError> {
        self.get(name)
            .map(|value| Fields::new(self.at(name), value, known))
            .transpose()
    }
}

/// An argument as the JSON value the engine writes for it (`JSON.stringify`), which is what
/// every argument object must survive: `undefined` fields vanish, a `BigInt` or a cycle is
/// `INVALID_INPUT`.
pub fn from_js(what: &str, value: &JsValue) -> Result<Value, ExportError> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| {
            invalid(&format!(
                "{what} must be a plain object that JSON can represent"
            ))
        })?;
    serde_json::from_str(&text).map_err(|error| invalid(&format!("{what}: {error}")))
}
