//! Reads the facts the audit needs from one user object, without building a `serde_json::Value`.
//!
//! A million users do not fit the time budget through `Value` (every field allocated, then
//! dropped), so this reader borrows strings from the input and skips the fields the audit does
//! not use. It follows [`LegacyUser::from_aws_json`] to the letter: same fields, same precedence
//! when a key repeats (the last one wins), `UserAttributes` read after `Attributes`, and the same
//! errors in the same order. A property test holds the two readers together.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::user::{LegacyUser, UserRecordError, UserStatus};

/// What the audit looks at in one legacy user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent yes/no facts about one user"
)]
pub(super) struct UserFacts<'a> {
    pub username: Cow<'a, str>,
    pub email: Option<Cow<'a, str>>,
    /// The `email_verified` attribute is exactly `"true"`.
    pub email_verified: bool,
    pub preferred_username: Option<Cow<'a, str>>,
    /// A `phone_number` is present and `phone_number_verified` is exactly `"true"`.
    pub phone_verified: bool,
    /// An `identities` attribute links the user to an external provider.
    pub linked_identities: bool,
    pub enabled: bool,
    pub status: UserStatus,
    pub mfa: bool,
}

impl<'a> UserFacts<'a> {
    /// The facts of a user that was already read.
    pub fn of(user: &'a LegacyUser) -> Self {
        Self {
            username: Cow::Borrowed(&user.username),
            email: user.email().map(Cow::Borrowed),
            email_verified: user.attribute("email_verified") == Some("true"),
            preferred_username: user.attribute("preferred_username").map(Cow::Borrowed),
            phone_verified: user.phone_verified(),
            linked_identities: user.attribute("identities").is_some_and(links_identities),
            enabled: user.enabled,
            status: user.status.clone(),
            mfa: user.mfa.any(),
        }
    }
}

/// An `identities` value that names at least one provider (`[]` and blanks name none).
fn links_identities(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && value != "[]"
}

/// Why one user object could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RecordError {
    /// Not well-formed JSON. `line` counts from 1 within the object; `message` is `serde_json`'s
    /// fixed description of the fault, which never quotes the input.
    Syntax { line: usize, message: String },
    /// Well-formed, but not a user record.
    Invalid(UserRecordError),
}

/// Reads one user object (the text of a single JSON object).
pub(super) fn parse_user(text: &str) -> Result<UserFacts<'_>, RecordError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let raw = deserializer
        .deserialize_any(RawUserVisitor {
            stop_at_users: false,
        })
        .map_err(|error| syntax_error(&error))?;
    deserializer.end().map_err(|error| syntax_error(&error))?;
    raw.into_facts().map_err(RecordError::Invalid)
}

/// Reads the user object that `text` starts with, in the same single pass that finds where
/// it ends: the user and the length of its text. `None` when that object is not complete in
/// `text`, is not well-formed or not a readable user, or has a `Users` key (it may be a page);
/// the caller then finds the object's end itself and reads it with [`parse_user`].
pub(super) fn parse_leading_user(text: &str) -> Option<(UserFacts<'_>, usize)> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<LeadingUser<'_>>();
    let LeadingUser(raw) = stream.next()?.ok()?;
    let length = stream.byte_offset();
    raw.into_facts().ok().map(|facts| (facts, length))
}

/// A user object read by [`parse_leading_user`]: gives up at a `Users` key.
struct LeadingUser<'a>(RawUser<'a>);

impl<'de> de::Deserialize<'de> for LeadingUser<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_map(RawUserVisitor {
                stop_at_users: true,
            })
            .map(LeadingUser)
    }
}
fn syntax_error(error: &serde_json::Error) -> RecordError {
    let full = error.to_string();
    // Syntax and end-of-input messages are fixed phrases; anything else (a data error, which
    // the loose readers below never raise) could quote a value, so it is not passed on.
    let message = if error.is_syntax() || error.is_eof() {
        match full.rfind(" at line ") {
            Some(cut) => full.get(..cut).unwrap_or(&full).to_owned(),
            None => full,
        }
    } else {
        "unreadable value".to_owned()
    };
    RecordError::Syntax {
        line: error.line().max(1),
        message,
    }
}

/// Any JSON value, keeping only what a field check needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Loose<'a> {
    #[default]
    Absent,
    Null,
    Bool(bool),
    Str(Cow<'a, str>),
    Other,
}

impl<'a> Loose<'a> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

impl<'de> de::Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_str(LooseVisitor)? {
            Loose::Str(s) => Ok(Key(s)),
            // serde_json object keys are always strings.
            _ => Ok(Key(Cow::Borrowed(""))),
        }
    }
}

/// The audited attributes of one `Attributes` / `UserAttributes` array.
#[derive(Debug, Default)]
struct AttributeFacts<'a> {
    email: Option<Cow<'a, str>>,
    email_verified: Option<Cow<'a, str>>,
    preferred_username: Option<Cow<'a, str>>,
    phone_number: Option<Cow<'a, str>>,
    phone_number_verified: Option<Cow<'a, str>>,
    identities: Option<Cow<'a, str>>,
}

impl<'a> AttributeFacts<'a> {
    fn set(&mut self, name: &str, value: Cow<'a, str>) {
        let slot = match name {
            "email" => &mut self.email,
            "email_verified" => &mut self.email_verified,
            "preferred_username" => &mut self.preferred_username,
            "phone_number" => &mut self.phone_number,
            "phone_number_verified" => &mut self.phone_number_verified,
            "identities" => &mut self.identities,
            _ => return,
        };
        *slot = Some(value);
    }

    /// Applies `later` over `self`, as inserting both arrays into one map in order would.
    fn then(self, later: Self) -> Self {
        Self {
            email: later.email.or(self.email),
            email_verified: later.email_verified.or(self.email_verified),
            preferred_username: later.preferred_username.or(self.preferred_username),
            phone_number: later.phone_number.or(self.phone_number),
            phone_number_verified: later.phone_number_verified.or(self.phone_number_verified),
            identities: later.identities.or(self.identities),
        }
    }
}

/// An `Attributes` field: absent or null, a readable list, or something that is not one.
#[derive(Debug, Default)]
enum AttributeList<'a> {
    #[default]
    Absent,
    List(AttributeFacts<'a>),
    Broken,
}

struct AttributeListVisitor;

impl<'de> Visitor<'de> for AttributeListVisitor {
    type Value = AttributeList<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of attributes")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(AttributeList::Absent)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(AttributeList::Absent)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(AttributeList::Broken)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(AttributeList::Broken)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(AttributeList::Broken)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(AttributeList::Broken)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(AttributeList::Broken)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(AttributeList::Broken)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut facts = AttributeFacts::default();
        let mut broken = false;
        while let Some(item) = seq.next_element::<AttributeItem<'de>>()? {
            // Keep reading after a bad item: the rest must still be well-formed JSON.
            match (item.name.into_str(), item.value.into_str()) {
                (Some(name), Some(value)) => facts.set(&name, value),
                (Some(_), None) => {}
                (None, _) => broken = true,
            }
        }
        Ok(if broken {
            AttributeList::Broken
        } else {
            AttributeList::List(facts)
        })
    }
}

impl<'de> de::Deserialize<'de> for AttributeList<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AttributeListVisitor)
    }
}

/// One `{"Name": …, "Value": …}` entry; anything that is not an object has neither.
#[derive(Default)]
struct AttributeItem<'a> {
    name: Loose<'a>,
    value: Loose<'a>,
}

struct AttributeItemVisitor;

impl<'de> Visitor<'de> for AttributeItemVisitor {
    type Value = AttributeItem<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut item = AttributeItem::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "Name" => item.name = map.next_value()?,
                "Value" => item.value = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(item)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        LooseVisitor.visit_seq(seq)?;
        Ok(AttributeItem::default())
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(AttributeItem::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(AttributeItem::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(AttributeItem::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(AttributeItem::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(AttributeItem::default())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(AttributeItem::default())
    }
}

impl<'de> de::Deserialize<'de> for AttributeItem<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AttributeItemVisitor)
    }
}

/// True when a list holds an entry (read as `T`) for which the function holds; anything but a
/// list holds none.
struct AnyEntry<T, F>(F, PhantomData<T>);

impl<T, F> AnyEntry<T, F> {
    fn new(matches: F) -> Self {
        Self(matches, PhantomData)
    }
}

impl<'de, T: de::Deserialize<'de>, F: Fn(T) -> bool> DeserializeSeed<'de> for AnyEntry<T, F> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: de::Deserialize<'de>, F: Fn(T) -> bool> Visitor<'de> for AnyEntry<T, F> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(entry) = seq.next_element::<T>()? {
            found |= (self.0)(entry);
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        LooseVisitor.visit_map(map)?;
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// `MFAOptions` entries are objects; only their `DeliveryMedium` matters.
struct SmsOption(bool);

impl<'de> de::Deserialize<'de> for SmsOption {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SmsOptionVisitor;
        impl<'de> Visitor<'de> for SmsOptionVisitor {
            type Value = SmsOption;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an MFA option")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SmsOption, A::Error> {
                let mut medium = Loose::Absent;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    if key == "DeliveryMedium" {
                        medium = map.next_value()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(SmsOption(medium.as_str() == Some("SMS")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<SmsOption, A::Error> {
                LooseVisitor.visit_seq(seq)?;
                Ok(SmsOption(false))
            }
            fn visit_bool<E>(self, _: bool) -> Result<SmsOption, E> {
                Ok(SmsOption(false))
            }
            fn visit_i64<E>(self, _: i64) -> Result<SmsOption, E> {
                Ok(SmsOption(false))
            }
            fn visit_u64<E>(self, _: u64) -> Result<SmsOption, E> {
                Ok(SmsOption(false))
            }
            fn visit_f64<E>(self, _: f64) -> Result<SmsOption, E> {
                Ok(SmsOption(false))
            }
            fn visit_str<E>(self, _: &str) -> Result<SmsOption, E> {
                Ok(SmsOption(false))
            }
            fn visit_unit<E>(self) -> Result<SmsOption, E> {
                Ok(SmsOption(false))
            }
        }
        deserializer.deserialize_any(SmsOptionVisitor)
    }
}

/// Every field the audit reads, as found; checked afterwards in `from_aws_json`'s order.
#[derive(Debug, Default)]
struct RawUser<'a> {
    username: Loose<'a>,
    attributes: AttributeList<'a>,
    user_attributes: AttributeList<'a>,
    enabled: Loose<'a>,
    status: Loose<'a>,
    mfa_options_sms: bool,
    mfa_setting: bool,
}

impl<'a> RawUser<'a> {
    fn into_facts(self) -> Result<UserFacts<'a>, UserRecordError> {
        let username = match self.username {
            Loose::Str(s) if !s.is_empty() => s,
            Loose::Str(_) | Loose::Absent | Loose::Null => {
                return Err(UserRecordError::MissingUsername);
            }
            Loose::Bool(_) | Loose::Other => return Err(UserRecordError::WrongType("Username")),
        };
        let mut attributes = AttributeFacts::default();
        for list in [self.attributes, self.user_attributes] {
            match list {
                AttributeList::Absent => {}
                AttributeList::List(facts) => attributes = attributes.then(facts),
                AttributeList::Broken => return Err(UserRecordError::WrongType("Attributes")),
            }
        }
        let enabled = match self.enabled {
            Loose::Absent | Loose::Null => true,
            Loose::Bool(b) => b,
            Loose::Str(_) | Loose::Other => return Err(UserRecordError::WrongType("Enabled")),
        };
        let status = match self.status {
            Loose::Absent | Loose::Null => UserStatus::Unknown,
            Loose::Str(s) => UserStatus::parse(&s),
            Loose::Bool(_) | Loose::Other => {
                return Err(UserRecordError::WrongType("UserStatus"));
            }
        };
        Ok(UserFacts {
            username,
            email_verified: attributes.email_verified.as_deref() == Some("true"),
            email: attributes.email,
            preferred_username: attributes.preferred_username,
            phone_verified: attributes.phone_number.is_some()
                && attributes.phone_number_verified.as_deref() == Some("true"),
            linked_identities: attributes
                .identities
                .as_deref()
                .is_some_and(links_identities),
            enabled,
            status,
            mfa: self.mfa_options_sms || self.mfa_setting,
        })
    }
}

struct RawUserVisitor {
    /// Fail at a `Users` key rather than read past a whole page.
    stop_at_users: bool,
}

impl<'de> Visitor<'de> for RawUserVisitor {
    type Value = RawUser<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a user object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawUser::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "Username" => raw.username = map.next_value()?,
                "Attributes" => raw.attributes = map.next_value()?,
                "UserAttributes" => raw.user_attributes = map.next_value()?,
                "Enabled" => raw.enabled = map.next_value()?,
                "UserStatus" => raw.status = map.next_value()?,
                "MFAOptions" => {
                    raw.mfa_options_sms =
                        map.next_value_seed(AnyEntry::new(|SmsOption(sms)| sms))?;
                }
                "Users" if self.stop_at_users => {
                    return Err(de::Error::custom("a page, not a user"));
                }
                "UserMFASettingList" => {
                    raw.mfa_setting = map.next_value_seed(AnyEntry::new(|entry: Loose<'de>| {
                        matches!(entry.as_str(), Some("SMS_MFA" | "SOFTWARE_TOKEN_MFA"))
                    }))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_audited_fields() {
        let facts = parse_user(
            r#"{"Username": "Ann", "Attributes": [
                {"Name": "email", "Value": "Ann@X.com"},
                {"Name": "email_verified", "Value": "false"},
                {"Name": "identities", "Value": "[{\"providerName\":\"Google\"}]"}
            ], "Enabled": false, "UserStatus": "RESET_REQUIRED",
            "MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]}"#,
        )
        .unwrap();
        assert_eq!(facts.username, "Ann");
        assert_eq!(facts.email.as_deref(), Some("Ann@X.com"));
        assert!(!facts.email_verified && facts.linked_identities && facts.mfa && !facts.enabled);
        assert_eq!(facts.status, UserStatus::ResetRequired);
        // Escaped strings are read too (owned instead of borrowed).
        let facts = parse_user(r#"{"Username": "\u0041nn"}"#).unwrap();
        assert_eq!(facts.username, "Ann");
    }

    #[test]
    fn reports_syntax_errors_without_quoting_input() {
        let Err(RecordError::Syntax { line, message }) =
            parse_user("{\"Username\": \"secret@x.com\",\n \"Enabled\": tru }")
        else {
            panic!("expected a syntax error");
        };
        assert_eq!(line, 2);
        assert!(!message.contains("secret"), "{message}");
        assert!(!message.contains("at line"), "{message}");
    }
}
