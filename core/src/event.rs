//! Cognito user-pool trigger events: a typed view over the original JSON.
//!
//! The typed fields are read from the JSON; the JSON itself is kept untouched, and a response is
//! that same JSON with only `response.*` changed. Fields that no typed model knows (such as
//! `response.enableSMSMFA`) therefore travel back to Cognito exactly as they came.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// The trigger that produced an event, from its `triggerSource`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TriggerSource {
    /// `UserMigration_Authentication`: a sign-in with a password by someone not in the new pool.
    UserMigrationAuthentication,
    /// `UserMigration_ForgotPassword`: a forgot-password request by someone not in the new pool.
    UserMigrationForgotPassword,
    /// `PreSignUp_*`.
    PreSignUp(PreSignUpSource),
    /// `PostAuthentication_Authentication`.
    PostAuthentication,
    /// `TokenGeneration_*`.
    TokenGeneration(TokenGenerationSource),
    /// Any other trigger source, kept as sent.
    Other(String),
}

/// The variants of `PreSignUp_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PreSignUpSource {
    /// `PreSignUp_SignUp`: self-service sign-up.
    SignUp,
    /// `PreSignUp_AdminCreateUser`.
    AdminCreateUser,
    /// `PreSignUp_ExternalProvider`: first federated sign-in.
    ExternalProvider,
}

/// The variants of `TokenGeneration_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenGenerationSource {
    /// `TokenGeneration_HostedAuth`.
    HostedAuth,
    /// `TokenGeneration_Authentication`.
    Authentication,
    /// `TokenGeneration_NewPasswordChallenge`.
    NewPasswordChallenge,
    /// `TokenGeneration_AuthenticateDevice`.
    AuthenticateDevice,
    /// `TokenGeneration_RefreshTokens`.
    RefreshTokens,
}

impl TriggerSource {
    /// Reads a `triggerSource` string. Unknown values become [`TriggerSource::Other`].
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "UserMigration_Authentication" => Self::UserMigrationAuthentication,
            "UserMigration_ForgotPassword" => Self::UserMigrationForgotPassword,
            "PreSignUp_SignUp" => Self::PreSignUp(PreSignUpSource::SignUp),
            "PreSignUp_AdminCreateUser" => Self::PreSignUp(PreSignUpSource::AdminCreateUser),
            "PreSignUp_ExternalProvider" => Self::PreSignUp(PreSignUpSource::ExternalProvider),
            "PostAuthentication_Authentication" => Self::PostAuthentication,
            "TokenGeneration_HostedAuth" => {
                Self::TokenGeneration(TokenGenerationSource::HostedAuth)
            }
            "TokenGeneration_Authentication" => {
                Self::TokenGeneration(TokenGenerationSource::Authentication)
            }
            "TokenGeneration_NewPasswordChallenge" => {
                Self::TokenGeneration(TokenGenerationSource::NewPasswordChallenge)
            }
            "TokenGeneration_AuthenticateDevice" => {
                Self::TokenGeneration(TokenGenerationSource::AuthenticateDevice)
            }
            "TokenGeneration_RefreshTokens" => {
                Self::TokenGeneration(TokenGenerationSource::RefreshTokens)
            }
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire string Cognito uses.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::UserMigrationAuthentication => "UserMigration_Authentication",
            Self::UserMigrationForgotPassword => "UserMigration_ForgotPassword",
            Self::PreSignUp(PreSignUpSource::SignUp) => "PreSignUp_SignUp",
            Self::PreSignUp(PreSignUpSource::AdminCreateUser) => "PreSignUp_AdminCreateUser",
            Self::PreSignUp(PreSignUpSource::ExternalProvider) => "PreSignUp_ExternalProvider",
            Self::PostAuthentication => "PostAuthentication_Authentication",
            Self::TokenGeneration(TokenGenerationSource::HostedAuth) => {
                "TokenGeneration_HostedAuth"
            }
            Self::TokenGeneration(TokenGenerationSource::Authentication) => {
                "TokenGeneration_Authentication"
            }
            Self::TokenGeneration(TokenGenerationSource::NewPasswordChallenge) => {
                "TokenGeneration_NewPasswordChallenge"
            }
            Self::TokenGeneration(TokenGenerationSource::AuthenticateDevice) => {
                "TokenGeneration_AuthenticateDevice"
            }
            Self::TokenGeneration(TokenGenerationSource::RefreshTokens) => {
                "TokenGeneration_RefreshTokens"
            }
            Self::Other(other) => other,
        }
    }

    /// Every source this crate models, for builders and pickers.
    pub const KNOWN: [&'static str; 11] = [
        "UserMigration_Authentication",
        "UserMigration_ForgotPassword",
        "PreSignUp_SignUp",
        "PreSignUp_AdminCreateUser",
        "PreSignUp_ExternalProvider",
        "PostAuthentication_Authentication",
        "TokenGeneration_HostedAuth",
        "TokenGeneration_Authentication",
        "TokenGeneration_NewPasswordChallenge",
        "TokenGeneration_AuthenticateDevice",
        "TokenGeneration_RefreshTokens",
    ];
}

impl fmt::Display for TriggerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trigger event that cannot be read. Each variant names the JSON path at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The text is not JSON at all.
    #[error("the event is not valid JSON: {0}")]
    Json(String),
    /// The event is JSON but not an object.
    #[error("the event is not a JSON object")]
    NotAnObject,
    /// A required field is absent or null.
    #[error("the event has no `{0}`")]
    Missing(&'static str),
    /// A field has the wrong JSON type.
    #[error("`{field}` must be {expected}")]
    WrongType {
        /// JSON path of the field.
        field: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
}

/// A password taken from `request.password`. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    #[must_use]
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The password itself, for the one call that checks it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A parsed trigger event: typed fields plus the original JSON.
#[derive(Clone)]
pub struct TriggerEvent {
    raw: Map<String, Value>,
    source: TriggerSource,
    user_name: Option<String>,
    user_pool_id: Option<String>,
    client_id: Option<String>,
    password: Option<Password>,
    user_attributes: BTreeMap<String, String>,
    validation_data: BTreeMap<String, String>,
    client_metadata: BTreeMap<String, String>,
}

fn str_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &'static str,
) -> Result<Option<&'a str>, EventError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(EventError::WrongType {
            field: path,
            expected: "a string",
        }),
    }
}

fn object_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &'static str,
) -> Result<Option<&'a Map<String, Value>>, EventError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(EventError::WrongType {
            field: path,
            expected: "an object",
        }),
    }
}

fn string_map(
    object: Option<&Map<String, Value>>,
    key: &str,
    path: &'static str,
) -> Result<BTreeMap<String, String>, EventError> {
    let Some(object) = object else {
        return Ok(BTreeMap::new());
    };
    let Some(map) = object_field(object, key, path)? else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (name, value) in map {
        match value {
            Value::String(s) => {
                out.insert(name.clone(), s.clone());
            }
            Value::Null => {}
            _ => {
                return Err(EventError::WrongType {
                    field: path,
                    expected: "a map of strings",
                });
            }
        }
    }
    Ok(out)
}

impl TriggerEvent {
    /// Parses event JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, EventError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| EventError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Parses an event already read as JSON.
    pub fn from_value(value: Value) -> Result<Self, EventError> {
        let Value::Object(raw) = value else {
            return Err(EventError::NotAnObject);
        };
        let source = match raw.get("triggerSource") {
            None | Some(Value::Null) => return Err(EventError::Missing("triggerSource")),
            Some(Value::String(s)) => TriggerSource::parse(s),
            Some(_) => {
                return Err(EventError::WrongType {
                    field: "triggerSource",
                    expected: "a string",
                });
            }
        };
        let user_name = str_field(&raw, "userName", "userName")?.map(str::to_owned);
        let user_pool_id = str_field(&raw, "userPoolId", "userPoolId")?.map(str::to_owned);
        let caller = object_field(&raw, "callerContext", "callerContext")?;
        let client_id = match caller {
            Some(c) => str_field(c, "clientId", "callerContext.clientId")?.map(str::to_owned),
            None => None,
        };
        let request = object_field(&raw, "request", "request")?;
        let password = match request {
            Some(r) => str_field(r, "password", "request.password")?.map(Password::new),
            None => None,
        };
        let user_attributes = string_map(request, "userAttributes", "request.userAttributes")?;
        let validation_data = string_map(request, "validationData", "request.validationData")?;
        let client_metadata = string_map(request, "clientMetadata", "request.clientMetadata")?;
        object_field(&raw, "response", "response")?;

        let needs_user = matches!(
            source,
            TriggerSource::UserMigrationAuthentication
                | TriggerSource::UserMigrationForgotPassword
                | TriggerSource::PreSignUp(_)
                | TriggerSource::PostAuthentication
                | TriggerSource::TokenGeneration(_)
        );
        if needs_user && user_name.as_deref().is_none_or(str::is_empty) {
            return Err(EventError::Missing("userName"));
        }
        if source == TriggerSource::UserMigrationAuthentication && password.is_none() {
            return Err(EventError::Missing("request.password"));
        }

        Ok(Self {
            raw,
            source,
            user_name,
            user_pool_id,
            client_id,
            password,
            user_attributes,
            validation_data,
            client_metadata,
        })
    }

    /// The trigger source.
    #[must_use]
    pub fn source(&self) -> &TriggerSource {
        &self.source
    }

    /// `userName` as sent (empty for sources that carry none).
    #[must_use]
    pub fn user_name(&self) -> &str {
        self.user_name.as_deref().unwrap_or_default()
    }

    /// `userPoolId`, when present.
    #[must_use]
    pub fn user_pool_id(&self) -> Option<&str> {
        self.user_pool_id.as_deref()
    }

    /// `callerContext.clientId`, when present.
    #[must_use]
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// `request.password` (sign-in migration only).
    #[must_use]
    pub fn password(&self) -> Option<&Password> {
        self.password.as_ref()
    }

    /// `request.userAttributes` (sign-up, post authentication, token generation).
    #[must_use]
    pub fn user_attributes(&self) -> &BTreeMap<String, String> {
        &self.user_attributes
    }

    /// `request.validationData`: the `ClientMetadata` of the sign-in call.
    #[must_use]
    pub fn validation_data(&self) -> &BTreeMap<String, String> {
        &self.validation_data
    }

    /// `request.clientMetadata`.
    #[must_use]
    pub fn client_metadata(&self) -> &BTreeMap<String, String> {
        &self.client_metadata
    }

    /// `request.groupConfiguration.groupsToOverride` of a token-generation event.
    #[must_use]
    pub fn groups_to_override(&self) -> Vec<String> {
        self.raw
            .get("request")
            .and_then(|r| r.get("groupConfiguration"))
            .and_then(|g| g.get("groupsToOverride"))
            .and_then(Value::as_array)
            .map(|groups| {
                groups
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The event exactly as received.
    #[must_use]
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// The event exactly as received, as a JSON value: the answer that refuses a migration.
    #[must_use]
    pub fn unchanged(&self) -> Value {
        Value::Object(self.raw.clone())
    }

    /// The event with the given `response` fields set and everything else echoed verbatim.
    /// Fields of `response` not named keep their original value.
    #[must_use]
    pub fn with_response(&self, fields: Map<String, Value>) -> Value {
        let mut raw = self.raw.clone();
        let response = raw
            .entry("response")
            .or_insert_with(|| Value::Object(Map::new()));
        if !response.is_object() {
            *response = Value::Object(Map::new());
        }
        if let Value::Object(response) = response {
            for (key, value) in fields {
                response.insert(key, value);
            }
        }
        Value::Object(raw)
    }
}

impl fmt::Debug for TriggerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TriggerEvent")
            .field("source", &self.source)
            .field("user_name", &self.user_name)
            .field("user_pool_id", &self.user_pool_id)
            .field("client_id", &self.client_id)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("user_attributes", &self.user_attributes)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for TriggerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} for {}",
            self.source,
            mask_identifier(self.user_name())
        )
    }
}

/// Masks an identifier for logs: its first character, its length, and the domain of an e-mail
/// address (`N…(14)@acme.com`). Enough to correlate, not enough to identify.
#[must_use]
pub fn mask_identifier(identifier: &str) -> String {
    let (local, domain) = match identifier.rsplit_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (identifier, None),
    };
    let first: String = local.chars().take(1).collect();
    let count = identifier.chars().count();
    match domain {
        Some(domain) => format!("{first}\u{2026}({count})@{domain}"),
        None => format!("{first}\u{2026}({count})"),
    }
}

#[cfg(test)]
pub(crate) mod tests;
