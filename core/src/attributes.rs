//! Mapping a legacy user's attributes to the new pool's `userAttributes`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::user::LegacyUser;

/// Cognito's limit on one attribute value, in bytes.
pub const MAX_ATTRIBUTE_BYTES: usize = 2048;

/// The custom attribute that keeps the legacy `sub` (create it immutable).
pub const LEGACY_SUB: &str = "custom:legacy_sub";
/// The custom attribute that keeps the legacy username with its original case.
pub const LEGACY_USERNAME: &str = "custom:legacy_username";

/// The attributes the new pool's schema has, by their full names (`custom:` prefix included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TargetSchema {
    attributes: BTreeSet<String>,
}

impl TargetSchema {
    /// A schema with exactly these attribute names.
    pub fn new<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        // One insert at a time: collecting into a `BTreeSet` sorts first, which links a stable
        // sort into the WebAssembly module for nothing (schemas have a few dozen names).
        let mut attributes = BTreeSet::new();
        for name in names {
            attributes.insert(name.into());
        }
        Self { attributes }
    }

    /// The standard attributes every pool has, plus the two legacy custom attributes.
    #[must_use]
    pub fn standard_with_legacy() -> Self {
        Self::new(
            STANDARD_ATTRIBUTES
                .iter()
                .copied()
                .chain([LEGACY_SUB, LEGACY_USERNAME]),
        )
    }

    /// True when the schema has this attribute.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.attributes.contains(name)
    }

    /// The attribute names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(String::as_str)
    }
}

/// Cognito's standard attributes (`OpenID Connect` claims) and the verification flags.
pub const STANDARD_ATTRIBUTES: [&str; 19] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Operator-configured renames and drops, applied before the schema filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttributeMapping {
    /// Legacy name to new name (e.g. `custom:dept` to `custom:department`).
    pub renames: BTreeMap<String, String>,
    /// Legacy names never copied.
    pub drops: BTreeSet<String>,
}

/// An attribute set that Cognito would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    /// A value is longer than Cognito accepts.
    #[error("attribute `{name}` is {bytes} bytes long; Cognito accepts at most 2048")]
    TooLong {
        /// The attribute (new name).
        name: String,
        /// Its length in bytes.
        bytes: usize,
    },
}

/// Attributes Cognito owns: never returned in a migration response.
fn is_reserved(name: &str) -> bool {
    name == "sub" || name == "identities" || name.starts_with("cognito:")
}

/// The new pool's `userAttributes` for a legacy user.
///
/// - `sub`, `identities` and `cognito:*` are never copied (Cognito assigns its own).
/// - Renames and drops from `mapping` apply first; then only attributes in `schema` are kept.
/// - `email_verified` and `phone_number_verified` are copied as the legacy pool had them, and
///   only alongside the attribute they verify: a flag is never invented.
/// - `custom:legacy_sub` and `custom:legacy_username` are added when the schema has them.
/// - Any value over 2,048 bytes is an error naming the attribute.
pub fn map_attributes(
    user: &LegacyUser,
    schema: &TargetSchema,
    mapping: &AttributeMapping,
) -> Result<BTreeMap<String, String>, AttributeError> {
    let mut out = BTreeMap::new();
    for (name, value) in &user.attributes {
        if is_reserved(name) || mapping.drops.contains(name) {
            continue;
        }
        let target = mapping.renames.get(name).unwrap_or(name);
        if is_reserved(target) || !schema.contains(target) {
            continue;
        }
        out.insert(target.clone(), value.clone());
    }
    for (flag, attribute) in [
        ("email_verified", "email"),
        ("phone_number_verified", "phone_number"),
    ] {
        match out.get(flag).map(String::as_str) {
            Some("true") if out.contains_key(attribute) => {}
            Some(_) => {
                // Anything but an honest "true" next to its attribute carries no information
                // Cognito needs; an unverified address is simply unverified.
                out.remove(flag);
            }
            None => {}
        }
    }
    if schema.contains(LEGACY_SUB)
        && let Some(sub) = user.sub()
    {
        out.insert(LEGACY_SUB.to_owned(), sub.to_owned());
    }
    if schema.contains(LEGACY_USERNAME) {
        out.insert(LEGACY_USERNAME.to_owned(), user.username.clone());
    }
    if let Some((name, value)) = out
        .iter()
        .find(|(_, value)| value.len() > MAX_ATTRIBUTE_BYTES)
    {
        return Err(AttributeError::TooLong {
            name: name.clone(),
            bytes: value.len(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(attributes: &[(&str, &str)]) -> LegacyUser {
        LegacyUser::new(
            "Name@Acme.com",
            attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn never_copies_reserved_attributes() {
        let schema = TargetSchema::new(["sub", "identities", "cognito:user_status", "email"]);
        let mapped = map_attributes(
            &user(&[
                ("sub", "s-1"),
                ("identities", "[]"),
                ("cognito:user_status", "x"),
                ("email", "a@b.c"),
            ]),
            &schema,
            &AttributeMapping::default(),
        )
        .unwrap();
        assert_eq!(mapped.keys().collect::<Vec<_>>(), ["email"]);
    }

    #[test]
    fn keeps_only_schema_attributes_and_adds_legacy_identifiers() {
        let mapped = map_attributes(
            &user(&[("sub", "s-1"), ("email", "a@b.c"), ("custom:tier", "gold")]),
            &TargetSchema::standard_with_legacy(),
            &AttributeMapping::default(),
        )
        .unwrap();
        assert_eq!(mapped.get("email").map(String::as_str), Some("a@b.c"));
        assert!(!mapped.contains_key("custom:tier"));
        assert_eq!(mapped.get(LEGACY_SUB).map(String::as_str), Some("s-1"));
        assert_eq!(
            mapped.get(LEGACY_USERNAME).map(String::as_str),
            Some("Name@Acme.com")
        );
    }

    #[test]
    fn copies_verified_flags_honestly() {
        let schema = TargetSchema::standard_with_legacy();
        let none = AttributeMapping::default();
        let unverified = map_attributes(
            &user(&[("email", "a@b.c"), ("email_verified", "false")]),
            &schema,
            &none,
        )
        .unwrap();
        assert!(!unverified.contains_key("email_verified"));
        let verified = map_attributes(
            &user(&[("email", "a@b.c"), ("email_verified", "true")]),
            &schema,
            &none,
        )
        .unwrap();
        assert_eq!(
            verified.get("email_verified").map(String::as_str),
            Some("true")
        );
        let absent = map_attributes(&user(&[("email", "a@b.c")]), &schema, &none).unwrap();
        assert!(!absent.contains_key("email_verified"));
        let orphan =
            map_attributes(&user(&[("phone_number_verified", "true")]), &schema, &none).unwrap();
        assert!(!orphan.contains_key("phone_number_verified"));
    }

    #[test]
    fn applies_renames_and_drops() {
        let schema = TargetSchema::new(["custom:department", "nickname", "email"]);
        let mapping = AttributeMapping {
            renames: [("custom:dept".to_owned(), "custom:department".to_owned())].into(),
            drops: ["nickname".to_owned()].into(),
        };
        let mapped = map_attributes(
            &user(&[
                ("custom:dept", "ops"),
                ("nickname", "n"),
                ("email", "a@b.c"),
            ]),
            &schema,
            &mapping,
        )
        .unwrap();
        assert_eq!(
            mapped.get("custom:department").map(String::as_str),
            Some("ops")
        );
        assert!(!mapped.contains_key("nickname"));
        assert!(!mapped.contains_key("custom:dept"));
    }

    #[test]
    fn refuses_values_over_the_limit() {
        let long = "x".repeat(MAX_ATTRIBUTE_BYTES + 1);
        let err = map_attributes(
            &user(&[("name", &long)]),
            &TargetSchema::standard_with_legacy(),
            &AttributeMapping::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            AttributeError::TooLong {
                name: "name".into(),
                bytes: 2049
            }
        );
        let exact = "y".repeat(MAX_ATTRIBUTE_BYTES);
        assert!(
            map_attributes(
                &user(&[("name", &exact)]),
                &TargetSchema::standard_with_legacy(),
                &AttributeMapping::default()
            )
            .is_ok()
        );
    }
}
