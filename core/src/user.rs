//! Legacy user records, read from the JSON that the Cognito API (and `aws cognito-idp`) prints.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A legacy user's `UserStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserStatus {
    /// `UNCONFIRMED`: signed up, never confirmed.
    Unconfirmed,
    /// `CONFIRMED`.
    Confirmed,
    /// `ARCHIVED`.
    Archived,
    /// `COMPROMISED`.
    Compromised,
    /// `UNKNOWN`.
    Unknown,
    /// `RESET_REQUIRED`: must reset the password before signing in.
    ResetRequired,
    /// `FORCE_CHANGE_PASSWORD`: created by an administrator, still on a temporary password.
    ForceChangePassword,
    /// `EXTERNAL_PROVIDER`: a federated user; has no password in the pool.
    ExternalProvider,
    /// Any other value, kept as sent.
    Other(String),
}

impl UserStatus {
    /// Reads a status string.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        match text {
            "UNCONFIRMED" => Self::Unconfirmed,
            "CONFIRMED" => Self::Confirmed,
            "ARCHIVED" => Self::Archived,
            "COMPROMISED" => Self::Compromised,
            "UNKNOWN" => Self::Unknown,
            "RESET_REQUIRED" => Self::ResetRequired,
            "FORCE_CHANGE_PASSWORD" => Self::ForceChangePassword,
            "EXTERNAL_PROVIDER" => Self::ExternalProvider,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unconfirmed => "UNCONFIRMED",
            Self::Confirmed => "CONFIRMED",
            Self::Archived => "ARCHIVED",
            Self::Compromised => "COMPROMISED",
            Self::Unknown => "UNKNOWN",
            Self::ResetRequired => "RESET_REQUIRED",
            Self::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            Self::ExternalProvider => "EXTERNAL_PROVIDER",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for UserStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UserStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// The second factors a legacy user has set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MfaSettings {
    /// SMS MFA is enabled (`SMS_MFA` in `UserMFASettingList`, or an `SMS` entry in `MFAOptions`).
    pub sms: bool,
    /// TOTP MFA is enabled (`SOFTWARE_TOKEN_MFA`). Its secret cannot be read from Cognito.
    pub totp: bool,
}

impl MfaSettings {
    /// True when any second factor is set up.
    #[must_use]
    pub fn any(&self) -> bool {
        self.sms || self.totp
    }
}

/// A user of the legacy pool, as far as the migration needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyUser {
    /// The legacy username, exactly as stored (case-sensitive pool).
    pub username: String,
    /// Every attribute, `sub` included.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// False for a disabled user.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// `UserStatus`.
    pub status: UserStatus,
    /// Second factors.
    #[serde(default)]
    pub mfa: MfaSettings,
    /// Names of the legacy groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// `UserLastModifiedDate`, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_ms: Option<i64>,
    /// `UserCreateDate`, milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ms: Option<i64>,
}

fn enabled_default() -> bool {
    true
}

/// A legacy user record that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRecordError {
    /// The record is not a JSON object.
    #[error("the user record is not a JSON object")]
    NotAnObject,
    /// The record has no `Username`.
    #[error("the user record has no `Username`")]
    MissingUsername,
    /// A field has the wrong type.
    #[error("`{0}` has the wrong type")]
    WrongType(&'static str),
}

impl LegacyUser {
    /// A confirmed, enabled user with the given attributes and nothing else.
    #[must_use]
    pub fn new(username: impl Into<String>, attributes: BTreeMap<String, String>) -> Self {
        Self {
            username: username.into(),
            attributes,
            enabled: true,
            status: UserStatus::Confirmed,
            mfa: MfaSettings::default(),
            groups: Vec::new(),
            last_modified_ms: None,
            created_ms: None,
        }
    }

    /// The legacy `sub`.
    #[must_use]
    pub fn sub(&self) -> Option<&str> {
        self.attribute("sub")
    }

    /// One attribute's value.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The `email`, when present.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        self.attribute("email")
    }

    /// True when `email` is present and `email_verified` is `"true"`.
    #[must_use]
    pub fn email_verified(&self) -> bool {
        self.email().is_some() && self.attribute("email_verified") == Some("true")
    }

    /// True when `phone_number` is present and `phone_number_verified` is `"true"`.
    #[must_use]
    pub fn phone_verified(&self) -> bool {
        self.attribute("phone_number").is_some()
            && self.attribute("phone_number_verified") == Some("true")
    }

    /// The identifiers someone may type to sign in as this user: the username, then `email`,
    /// `preferred_username` and `phone_number` where present.
    pub fn identifiers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        std::iter::once(("username", self.username.as_str())).chain(
            IDENTIFIER_ATTRIBUTES
                .iter()
                .filter_map(|&name| self.attribute(name).map(|value| (name, value))),
        )
    }

    /// The identifiers that prove who this user is: the names the legacy pool itself accepted
    /// at sign-in, plus verified contact values. That is the username; `email` and
    /// `phone_number` when the pool signs in with them as usernames (verified or not: there
    /// they were the sign-in name), otherwise only when verified; `preferred_username` only when
    /// the pool lists it as an alias. A value that does not count is kept as data, but never
    /// finds this user and never blocks a sign-up.
    pub fn sign_in_identifiers<'a>(
        &'a self,
        pool: &'a LegacySignIn,
    ) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        self.identifiers()
            .filter(move |(name, _)| self.proves(name, pool) != Proof::None)
    }

    /// How strongly one of this user's identifiers proves it is this user.
    #[must_use]
    pub fn proves(&self, name: &str, pool: &LegacySignIn) -> Proof {
        let listed = |names: &[String]| names.iter().any(|n| n == name);
        match name {
            "username" => Proof::Verified,
            "email" | "phone_number" => {
                let verified = if name == "email" {
                    self.email_verified()
                } else {
                    self.phone_verified()
                };
                if verified {
                    Proof::Verified
                } else if listed(&pool.username_attributes) {
                    Proof::Unverified
                } else {
                    Proof::None
                }
            }
            "preferred_username" if listed(&pool.alias_attributes) => Proof::Unverified,
            _ => Proof::None,
        }
    }

    /// Reads one user as the Cognito API prints it: a `ListUsers` entry (`Attributes`,
    /// `MFAOptions`) or an `AdminGetUser` answer (`UserAttributes`, `UserMFASettingList`).
    /// Dates may be numbers (seconds since the epoch) or RFC 3339 strings.
    pub fn from_aws_json(value: &Value) -> Result<Self, UserRecordError> {
        let object = value.as_object().ok_or(UserRecordError::NotAnObject)?;
        let username = match object.get("Username") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_) | Value::Null) | None => {
                return Err(UserRecordError::MissingUsername);
            }
            Some(_) => return Err(UserRecordError::WrongType("Username")),
        };
        let mut attributes = BTreeMap::new();
        for field in ["Attributes", "UserAttributes"] {
            match object.get(field) {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        let name = item.get("Name").and_then(Value::as_str);
                        let value = item.get("Value").and_then(Value::as_str);
                        match (name, value) {
                            (Some(name), Some(value)) => {
                                attributes.insert(name.to_owned(), value.to_owned());
                            }
                            (Some(_), None) => {}
                            _ => return Err(UserRecordError::WrongType("Attributes")),
                        }
                    }
                }
                Some(_) => return Err(UserRecordError::WrongType("Attributes")),
            }
        }
        let enabled = match object.get("Enabled") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(UserRecordError::WrongType("Enabled")),
        };
        let status = match object.get("UserStatus") {
            None | Some(Value::Null) => UserStatus::Unknown,
            Some(Value::String(s)) => UserStatus::parse(s),
            Some(_) => return Err(UserRecordError::WrongType("UserStatus")),
        };
        let mut mfa = MfaSettings::default();
        if let Some(Value::Array(options)) = object.get("MFAOptions") {
            for option in options {
                if option.get("DeliveryMedium").and_then(Value::as_str) == Some("SMS") {
                    mfa.sms = true;
                }
            }
        }
        if let Some(Value::Array(list)) = object.get("UserMFASettingList") {
            for setting in list.iter().filter_map(Value::as_str) {
                match setting {
                    "SMS_MFA" => mfa.sms = true,
                    "SOFTWARE_TOKEN_MFA" => mfa.totp = true,
                    _ => {}
                }
            }
        }
        let groups = match object.get("Groups") {
            Some(Value::Array(groups)) => groups
                .iter()
                .filter_map(|g| g.as_str().or_else(|| g.get("GroupName")?.as_str()))
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            username,
            attributes,
            enabled,
            status,
            mfa,
            groups,
            last_modified_ms: object.get("UserLastModifiedDate").and_then(timestamp_ms),
            created_ms: object.get("UserCreateDate").and_then(timestamp_ms),
        })
    }
}

/// How the legacy pool let its users sign in: its `UsernameAttributes` and `AliasAttributes`
/// (`DescribeUserPool`), recorded in the ledger by `index`. The default, a pool of plain
/// usernames, counts only usernames and verified contact values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LegacySignIn {
    /// `UsernameAttributes`: `email`, `phone_number`.
    pub username_attributes: Vec<String>,
    /// `AliasAttributes`: `email`, `phone_number`, `preferred_username`.
    pub alias_attributes: Vec<String>,
}

/// How strongly a value proves who a legacy user is (see [`LegacyUser::sign_in_identifiers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proof {
    /// Not a sign-in identifier of this user.
    None,
    /// A name the legacy pool accepted at sign-in without verifying it (an unverified e-mail in
    /// an e-mail-as-username pool, a `preferred_username` alias).
    Unverified,
    /// The username, or a verified e-mail address or phone number.
    Verified,
}

/// Attributes that can serve as sign-in identifiers in a pool with aliases.
pub const IDENTIFIER_ATTRIBUTES: [&str; 3] = ["email", "preferred_username", "phone_number"];

/// Reads a Cognito timestamp: seconds since the epoch as a number, or an RFC 3339 string.
#[must_use]
pub fn timestamp_ms(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => {
            let seconds = n.as_f64()?;
            if seconds.is_finite() && seconds.abs() < 1e12 {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "bounded above; sub-millisecond precision is not needed"
                )]
                Some((seconds * 1000.0).round() as i64)
            } else {
                None
            }
        }
        Value::String(s) => parse_rfc3339_ms(s),
        _ => None,
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` into milliseconds since the epoch.
fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let slice = bytes.get(range)?;
        if slice.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(slice).ok()?.parse().ok()
        } else {
            None
        }
    };
    let year = digits(0..4)?;
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    let hour = digits(11..13)?;
    let minute = digits(14..16)?;
    let second = digits(17..19)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = bytes.get(19..)?;
    let mut millis = 0;
    if rest.first() == Some(&b'.') {
        let fraction: Vec<u8> = rest[1..]
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        let mut scaled = 0i64;
        for (i, d) in fraction.iter().take(3).enumerate() {
            scaled += i64::from(d - b'0') * [100, 10, 1][i];
        }
        millis = scaled;
        rest = &rest[1 + fraction.len()..];
    }
    let offset_minutes = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let value = |a: u8, b: u8| -> Option<i64> {
                if a.is_ascii_digit() && b.is_ascii_digit() {
                    Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
                } else {
                    None
                }
            };
            let total = value(*h1, *h2)? * 60 + value(*m1, *m2)?;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_list_users_entry() {
        let user = LegacyUser::from_aws_json(&json!({
            "Username": "Name@Acme.com",
            "Attributes": [
                {"Name": "sub", "Value": "1111"},
                {"Name": "email", "Value": "Name@Acme.com"},
                {"Name": "email_verified", "Value": "true"}
            ],
            "UserCreateDate": "2019-03-01T10:00:00.123000+00:00",
            "UserLastModifiedDate": 1_551_434_400.5,
            "Enabled": false,
            "UserStatus": "FORCE_CHANGE_PASSWORD",
            "MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
        }))
        .unwrap();
        assert_eq!(user.username, "Name@Acme.com");
        assert_eq!(user.sub(), Some("1111"));
        assert!(user.email_verified());
        assert!(!user.enabled);
        assert_eq!(user.status, UserStatus::ForceChangePassword);
        assert!(user.mfa.sms);
        assert_eq!(user.created_ms, Some(1_551_434_400_123));
        assert_eq!(user.last_modified_ms, Some(1_551_434_400_500));
    }

    #[test]
    fn reads_an_admin_get_user_answer() {
        let user = LegacyUser::from_aws_json(&json!({
            "Username": "bob",
            "UserAttributes": [{"Name": "phone_number", "Value": "+15550100"}],
            "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"],
            "UserStatus": "CONFIRMED"
        }))
        .unwrap();
        assert!(user.mfa.totp && !user.mfa.sms);
        assert!(user.enabled);
        assert!(!user.phone_verified());
    }

    #[test]
    fn refuses_broken_records() {
        assert_eq!(
            LegacyUser::from_aws_json(&json!([])),
            Err(UserRecordError::NotAnObject)
        );
        assert_eq!(
            LegacyUser::from_aws_json(&json!({"Attributes": []})),
            Err(UserRecordError::MissingUsername)
        );
        assert_eq!(
            LegacyUser::from_aws_json(&json!({"Username": "a", "Enabled": "yes"})),
            Err(UserRecordError::WrongType("Enabled"))
        );
    }

    #[test]
    fn parses_timestamps() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2000-03-01T00:00:00+01:00"),
            Some(951_865_200_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T12:30:15.5Z"),
            Some(1_709_209_815_500)
        );
        assert_eq!(parse_rfc3339_ms("not a date"), None);
        assert_eq!(parse_rfc3339_ms("2024-13-01T00:00:00Z"), None);
    }
}
