//! The pre sign-up guard: a new sign-up must not take the identifier of a legacy user who has
//! not moved yet, or that user's first sign-in would land in a stranger's account.

use serde::Serialize;

use crate::event::{PreSignUpSource, TriggerEvent, TriggerSource};
use crate::keys::{MatchKey, match_key};
use crate::ledger::LedgerEntry;
use crate::migrate::is_generated_username;
use crate::user::{IDENTIFIER_ATTRIBUTES, LegacySignIn};

/// What the legacy identifiers the migration writes start with: `custom:legacy_sub`,
/// `custom:legacy_username`. No sign-up may set them.
pub const LEGACY_ATTRIBUTE_PREFIX: &str = "custom:legacy_";

/// The message a refused sign-up shows (Cognito prefixes it with `PreSignUp failed with error`).
/// It says no more than Cognito's own "already exists" answer would.
pub const SIGN_UP_REFUSED_MESSAGE: &str = "An account with this sign-in already exists. Sign in with your existing password, or reset it.";

/// The pre sign-up verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "verdict")]
pub enum SignUpDecision {
    /// Let Cognito go on (return the event unchanged).
    Allow,
    /// Fail the trigger: the sign-up sets an attribute only the migration writes
    /// (`custom:legacy_*`), which would claim a legacy user's groups.
    RefuseLegacyAttribute {
        /// The attribute.
        attribute: String,
    },
    /// Fail the trigger with [`SIGN_UP_REFUSED_MESSAGE`]: the username has the form a
    /// migration gives a legacy user whose own username the new pool refuses
    /// ([`is_generated_username`]); taken by a sign-up, it would make that migration fail.
    RefuseGeneratedUsername,
    /// Fail the trigger with [`SIGN_UP_REFUSED_MESSAGE`].
    Refuse {
        /// The legacy user whose identifier is taken (for logs, masked there).
        legacy_username: String,
        /// Which identifier of the sign-up collides (`username`, `email`, ...).
        field: String,
    },
}

/// The keys to look up for a sign-up: its username and identifier attributes.
#[must_use]
pub fn sign_up_keys(event: &TriggerEvent) -> Vec<MatchKey> {
    let mut keys: Vec<MatchKey> = Vec::new();
    let attributes = event.user_attributes();
    let values = std::iter::once(event.user_name()).chain(
        IDENTIFIER_ATTRIBUTES
            .iter()
            .filter_map(|&name| attributes.get(name).map(String::as_str)),
    );
    for value in values {
        let key = match_key(value);
        if !key.is_empty() && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// Decides a `PreSignUp_SignUp` event given the ledger entries found under [`sign_up_keys`].
/// Administrator-created users and federated sign-ins are allowed: the first is how the bulk
/// finish creates legacy users, the second cannot shadow a password account.
///
/// Only the legacy users' proven identifiers
/// ([`LegacyUser::sign_in_identifiers`](crate::user::LegacyUser::sign_in_identifiers)) block a
/// sign-up: an unverified e-mail address a legacy user once typed is not theirs to hold.
#[must_use]
pub fn decide_sign_up(
    event: &TriggerEvent,
    found: &[LedgerEntry],
    legacy: &LegacySignIn,
) -> SignUpDecision {
    if event.source() != &TriggerSource::PreSignUp(PreSignUpSource::SignUp) {
        return SignUpDecision::Allow;
    }
    let attributes = event.user_attributes();
    if let Some(attribute) = attributes
        .keys()
        .find(|name| name.starts_with(LEGACY_ATTRIBUTE_PREFIX))
    {
        return SignUpDecision::RefuseLegacyAttribute {
            attribute: attribute.clone(),
        };
    }
    if is_generated_username(event.user_name()) {
        return SignUpDecision::RefuseGeneratedUsername;
    }
    let fields: Vec<(&str, MatchKey)> = std::iter::once(("username", event.user_name()))
        .chain(
            IDENTIFIER_ATTRIBUTES
                .iter()
                .filter_map(|&name| attributes.get(name).map(|v| (name, v.as_str()))),
        )
        .map(|(field, value)| (field, match_key(value)))
        .filter(|(_, key)| !key.is_empty())
        .collect();
    for entry in found.iter().filter(|entry| !entry.state.is_done()) {
        for (_, identifier) in entry.user.sign_in_identifiers(legacy) {
            let key = match_key(identifier);
            if let Some((field, _)) = fields.iter().find(|(_, k)| *k == key) {
                return SignUpDecision::Refuse {
                    legacy_username: entry.user.username.clone(),
                    field: (*field).to_owned(),
                };
            }
        }
    }
    SignUpDecision::Allow
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::MigrationState;
    use crate::user::LegacyUser;

    fn event(source: &str, user_name: &str, email: &str) -> TriggerEvent {
        TriggerEvent::from_value(serde_json::json!({
            "version": "1", "triggerSource": source, "region": "us-east-1",
            "userPoolId": "p", "userName": user_name,
            "callerContext": {"awsSdkVersion": "x", "clientId": "c"},
            "request": {"userAttributes": {"email": email}, "validationData": null},
            "response": {"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}
        }))
        .unwrap()
    }

    fn legacy(state: MigrationState) -> LedgerEntry {
        LedgerEntry {
            user: LegacyUser::new(
                "Alice",
                [
                    ("email".to_owned(), "Alice@Acme.com".to_owned()),
                    ("email_verified".to_owned(), "true".to_owned()),
                ]
                .into(),
            ),
            state,
            groups_copied: false,
            groups_copied_at_ms: None,
        }
    }

    #[test]
    fn refuses_the_email_of_a_pending_legacy_user_in_any_case() {
        let e = event("PreSignUp_SignUp", "4b1c-uuid", "alice@ACME.com");
        assert_eq!(sign_up_keys(&e).len(), 2);
        assert_eq!(
            decide_sign_up(&e, &[legacy(MigrationState::Pending)], &PLAIN),
            SignUpDecision::Refuse {
                legacy_username: "Alice".into(),
                field: "email".into()
            }
        );
    }

    #[test]
    fn allows_fresh_identifiers_migrated_users_and_admin_creation() {
        let fresh = event("PreSignUp_SignUp", "bob", "bob@acme.com");
        assert_eq!(
            decide_sign_up(&fresh, &[legacy(MigrationState::Pending)], &PLAIN),
            SignUpDecision::Allow
        );
        let taken = event("PreSignUp_SignUp", "x", "alice@acme.com");
        let migrated = legacy(MigrationState::Migrated {
            new_username: "alice".into(),
            at_ms: 1,
            new_sub: None,
        });
        assert_eq!(
            decide_sign_up(&taken, &[migrated], &PLAIN),
            SignUpDecision::Allow
        );
        let admin = event("PreSignUp_AdminCreateUser", "alice", "alice@acme.com");
        assert_eq!(
            decide_sign_up(&admin, &[legacy(MigrationState::Pending)], &PLAIN),
            SignUpDecision::Allow
        );
    }

    #[test]
    fn refuses_a_sign_up_that_sets_a_legacy_attribute() {
        let mut raw = event("PreSignUp_SignUp", "evil", "evil@acme.com").unchanged();
        raw["request"]["userAttributes"]["custom:legacy_username"] = "Alice".into();
        let e = TriggerEvent::from_value(raw).unwrap();
        assert_eq!(
            decide_sign_up(&e, &[], &PLAIN),
            SignUpDecision::RefuseLegacyAttribute {
                attribute: "custom:legacy_username".into()
            }
        );
    }

    #[test]
    fn refuses_a_username_of_the_form_a_migration_generates() {
        for name in [
            "u-0d5e1c2a-77b4-4c1e-9f00-5a2b3c4d5e6f",
            "U-78C27C98D828B0EF",
        ] {
            let e = event("PreSignUp_SignUp", name, "stranger@evil.test");
            assert_eq!(
                decide_sign_up(&e, &[], &PLAIN),
                SignUpDecision::RefuseGeneratedUsername,
                "{name}"
            );
            // The bulk finish creates such users itself.
            let admin = event("PreSignUp_AdminCreateUser", name, "stranger@evil.test");
            assert_eq!(decide_sign_up(&admin, &[], &PLAIN), SignUpDecision::Allow);
        }
        let handle = event("PreSignUp_SignUp", "u-bob", "bob@acme.com");
        assert_eq!(decide_sign_up(&handle, &[], &PLAIN), SignUpDecision::Allow);
    }

    const PLAIN: LegacySignIn = LegacySignIn {
        username_attributes: Vec::new(),
        alias_attributes: Vec::new(),
    };

    #[test]
    fn an_unproven_value_blocks_nothing_unless_the_legacy_pool_signed_in_with_it() {
        let mut unverified = legacy(MigrationState::Pending);
        unverified.user.attributes.remove("email_verified");
        unverified
            .user
            .attributes
            .insert("preferred_username".into(), "ally".into());
        let by_email = event("PreSignUp_SignUp", "someone", "ALICE@acme.com");
        let by_nick = event("PreSignUp_SignUp", "Ally", "x@acme.com");
        for e in [&by_email, &by_nick] {
            assert_eq!(
                decide_sign_up(e, std::slice::from_ref(&unverified), &PLAIN),
                SignUpDecision::Allow
            );
        }
        let email_pool = LegacySignIn {
            username_attributes: vec!["email".into()],
            alias_attributes: Vec::new(),
        };
        assert!(matches!(
            decide_sign_up(&by_email, std::slice::from_ref(&unverified), &email_pool),
            SignUpDecision::Refuse { field, .. } if field == "email"
        ));
        let alias_pool = LegacySignIn {
            username_attributes: Vec::new(),
            alias_attributes: vec!["preferred_username".into()],
        };
        assert!(matches!(
            decide_sign_up(&by_nick, std::slice::from_ref(&unverified), &alias_pool),
            SignUpDecision::Refuse { field, .. } if field == "username"
        ));
    }

    #[test]
    fn refuses_a_username_equal_to_a_legacy_username() {
        let e = event("PreSignUp_SignUp", "ALICE", "other@acme.com");
        assert!(matches!(
            decide_sign_up(&e, &[legacy(MigrationState::Pending)], &PLAIN),
            SignUpDecision::Refuse { field, .. } if field == "username"
        ));
    }
}
