//! Trigger events: the sources the core models, events shaped as Cognito sends them, and
//! validation of an edited event by the core's own parser.

use std::collections::BTreeMap;

use cognito_migrate_core::event::{TriggerEvent, TriggerSource};
use cognito_migrate_core::settings::pool_id_region;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::error::ExportError;
use crate::input::{Fields, from_js};
use crate::json::parse_text;
use crate::serialize::to_js;

#[wasm_bindgen(typescript_custom_section)]
const EVENT_TYPES: &str = r#"
/** Every trigger source the core models (`triggerSources()` lists them at run time). */
export type TriggerSourceName =
  | "UserMigration_Authentication"
  | "UserMigration_ForgotPassword"
  | "PreSignUp_SignUp"
  | "PreSignUp_AdminCreateUser"
  | "PreSignUp_ExternalProvider"
  | "PostAuthentication_Authentication"
  | "TokenGeneration_HostedAuth"
  | "TokenGeneration_Authentication"
  | "TokenGeneration_NewPasswordChallenge"
  | "TokenGeneration_AuthenticateDevice"
  | "TokenGeneration_RefreshTokens";

/** What `buildEvent` puts into an event; the rest takes Cognito's defaults and nulls. */
export interface EventFields {
  userName: string;
  /** `request.password` (UserMigration_Authentication only; required there). */
  password?: string;
  /** Default `us-east-1_NewPool01`; the region is read from its prefix. */
  userPoolId?: string;
  /** `callerContext.clientId`. */
  clientId?: string;
  /** `request.userAttributes` (sign-up, post authentication, token generation). */
  userAttributes?: Record<string, string>;
  /** `request.groupConfiguration.groupsToOverride` (token generation). */
  groups?: string[];
}

/** A trigger event as JSON: the object Cognito sends to the Lambda. */
export interface TriggerEventJson {
  version: string;
  triggerSource: string;
  region: string;
  userPoolId: string;
  userName: string;
  callerContext: { awsSdkVersion: string; clientId: string };
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  [field: string]: unknown;
}
"#;

const DEFAULT_POOL: &str = "us-east-1_NewPool01";
const DEFAULT_CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";

/// The fields of `EventFields`.
const EVENT_FIELDS: &[&str] = &[
    "userName",
    "password",
    "userPoolId",
    "clientId",
    "userAttributes",
    "groups",
];

/// The fields `buildEvent` takes (`EventFields`).
#[derive(Debug)]
struct EventFields {
    user_name: String,
    password: Option<String>,
    user_pool_id: Option<String>,
    client_id: Option<String>,
    user_attributes: BTreeMap<String, String>,
    groups: Option<Vec<String>>,
}

impl EventFields {
    fn read(value: &JsValue) -> Result<Self, ExportError> {
        let value = from_js("buildEvent fields", value)?;
        let fields = Fields::new("buildEvent fields".to_owned(), &value, EVENT_FIELDS)?;
        Ok(Self {
            user_name: fields.required_string("userName")?.to_owned(),
            password: fields.string("password")?.map(str::to_owned),
            user_pool_id: fields.string("userPoolId")?.map(str::to_owned),
            client_id: fields.string("clientId")?.map(str::to_owned),
            user_attributes: fields.string_map("userAttributes")?.unwrap_or_default(),
            groups: fields.strings("groups")?,
        })
    }
}

/// The trigger sources the core models, in the order a picker shows them.
#[wasm_bindgen(js_name = triggerSources, unchecked_return_type = "TriggerSourceName[]")]
pub fn trigger_sources() -> Result<JsValue, ExportError> {
    to_js(&TriggerSource::KNOWN)
}

/// An event for `source` shaped exactly as Cognito sends it (unset fields are `null`), with the
/// given fields filled in. Throws `UNKNOWN_TRIGGER_SOURCE`, `INVALID_INPUT`, or `INVALID_EVENT`
/// when the result would not be an event the core accepts (a sign-in without a password).
#[wasm_bindgen(js_name = buildEvent, unchecked_return_type = "TriggerEventJson")]
pub fn build_event(
    #[wasm_bindgen(unchecked_param_type = "TriggerSourceName")] source: &str,
    #[wasm_bindgen(unchecked_param_type = "EventFields")] fields: &JsValue,
) -> Result<JsValue, ExportError> {
    let fields = EventFields::read(fields)?;
    let event = event_json(source, &fields)?;
    // The core must read back what was built: the same check a Lambda invocation makes.
    TriggerEvent::from_value(event.clone())?;
    to_js(&event)
}

/// Reads edited event text with the core's parser. Returns the event object; throws
/// `INVALID_JSON` (with `line` and `column`) or `INVALID_EVENT` (with `field`).
#[wasm_bindgen(js_name = parseEvent, unchecked_return_type = "TriggerEventJson")]
pub fn parse_event(text: &str) -> Result<JsValue, ExportError> {
    let value = parse_text("the event", text)?;
    TriggerEvent::from_value(value.clone())?;
    to_js(&value)
}

/// The request and response parts of each source, as the fixtures in
/// `core/tests/fixtures/events/` record them. The shapes are JSON text for the parser the module
/// links anyway: `json!` would build every key in code, several times the size.
fn event_json(source: &str, fields: &EventFields) -> Result<Value, ExportError> {
    let source_kind = TriggerSource::parse(source);
    let (request, response) = match &source_kind {
        TriggerSource::UserMigrationAuthentication => (
            r#"{"password": null, "validationData": null, "clientMetadata": null, "userAttributes": null}"#,
            MIGRATION_RESPONSE,
        ),
        TriggerSource::UserMigrationForgotPassword => (
            r#"{"validationData": null, "clientMetadata": null, "userAttributes": null}"#,
            MIGRATION_RESPONSE,
        ),
        TriggerSource::PreSignUp(_) => (
            r#"{"userAttributes": {}, "validationData": null}"#,
            r#"{"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}"#,
        ),
        TriggerSource::PostAuthentication => {
            (r#"{"userAttributes": {}, "newDeviceUsed": false}"#, "{}")
        }
        TriggerSource::TokenGeneration(_) => (
            r#"{
                "userAttributes": {},
                "groupConfiguration": {
                    "groupsToOverride": [],
                    "iamRolesToOverride": [],
                    "preferredRole": null
                }
            }"#,
            r#"{"claimsOverrideDetails": null}"#,
        ),
        TriggerSource::Other(other) => {
            return Err(ExportError::new(
                "UNKNOWN_TRIGGER_SOURCE",
                &format!(
                    "`{other}` is not one of: {}",
                    TriggerSource::KNOWN.join(", ")
                ),
            ));
        }
    };
    // Setting a key the shape already holds keeps its place in the object.
    let mut request = shape(request)?;
    match source_kind {
        TriggerSource::UserMigrationAuthentication => {
            request["password"] = fields.password.clone().into();
        }
        TriggerSource::PreSignUp(_) | TriggerSource::PostAuthentication => {
            request["userAttributes"] = attributes(fields);
        }
        TriggerSource::TokenGeneration(_) => {
            request["userAttributes"] = attributes(fields);
            request["groupConfiguration"]["groupsToOverride"] =
                fields.groups.clone().unwrap_or_default().into();
        }
        _ => {}
    }
    let pool = fields.user_pool_id.as_deref().unwrap_or(DEFAULT_POOL);
    // The one pool-id-to-Region rule; a local or malformed id gives the default Region.
    let region = pool_id_region(pool).ok().flatten().unwrap_or("us-east-1");
    let mut event = shape(
        r#"{
            "version": "1",
            "triggerSource": null,
            "region": null,
            "userPoolId": null,
            "userName": null,
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": null},
            "request": null,
            "response": null
        }"#,
    )?;
    event["triggerSource"] = source.into();
    event["region"] = region.into();
    event["userPoolId"] = pool.into();
    event["userName"] = fields.user_name.as_str().into();
    event["callerContext"]["clientId"] =
        fields.client_id.as_deref().unwrap_or(DEFAULT_CLIENT).into();
    event["request"] = request;
    event["response"] = shape(response)?;
    Ok(event)
}

const MIGRATION_RESPONSE: &str = r#"{
    "userAttributes": null,
    "forceAliasCreation": null,
    "enableSMSMFA": null,
    "finalUserStatus": null,
    "messageAction": null,
    "desiredDeliveryMediums": null
}"#;

/// One of the shapes above.
fn shape(text: &str) -> Result<Value, ExportError> {
    parse_text("an event shape", text)
}

/// `request.userAttributes`: the given attributes, in name order.
fn attributes(fields: &EventFields) -> Value {
    let mut attributes = serde_json::Map::new();
    for (name, value) in &fields.user_attributes {
        attributes.insert(name.clone(), value.as_str().into());
    }
    Value::Object(attributes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typescript;

    const SOURCE: &str = include_str!("event.rs");

    #[test]
    fn the_typescript_union_lists_every_known_source() {
        assert_eq!(
            typescript::union(SOURCE, "TriggerSourceName"),
            TriggerSource::KNOWN
        );
    }

    #[test]
    fn the_fields_reader_knows_the_fields_the_types_declare() {
        assert_eq!(typescript::fields(SOURCE, "EventFields"), EVENT_FIELDS);
    }
}
