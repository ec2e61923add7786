//! The migration ledger's data: what is known of each legacy user and how far its migration got.
//!
//! The ledger is both the case-insensitive directory of the legacy pool and the record of each
//! user's migration. A user is filed under the [`MatchKey`] of each of its identifiers
//! ([`directory_keys`]), so one read by key returns every candidate for a typed identifier.

use serde::{Deserialize, Serialize};

use crate::keys::{MatchKey, match_key};
use crate::migrate::ReasonCode;
use crate::user::LegacyUser;

/// How a user was moved in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinishMethod {
    /// A Cognito CSV user import job.
    CsvImport,
    /// `AdminCreateUser` with `MessageAction=SUPPRESS`.
    AdminCreateUser,
}

/// Where one legacy user's migration stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "state",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum MigrationState {
    /// Not migrated yet.
    Pending,
    /// Migrated on a sign-in or forgot-password request.
    Migrated {
        /// The username the new pool gave the user.
        new_username: String,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// A migration was refused for a reason an operator should see (ambiguity, for example).
    /// The user stays eligible: a later sign-in may still migrate it.
    Refused {
        /// Why.
        reason: ReasonCode,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// Created in the new pool in bulk, without a password.
    Finished {
        /// How.
        method: FinishMethod,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
}

impl MigrationState {
    /// True once the user exists in the new pool.
    #[must_use]
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Migrated { .. } | Self::Finished { .. })
    }

    /// The state's name: `pending`, `migrated`, `refused` or `finished`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Migrated { .. } => "migrated",
            Self::Refused { .. } => "refused",
            Self::Finished { .. } => "finished",
        }
    }
}

/// One legacy user as the ledger knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    /// The legacy user, as last indexed.
    pub user: LegacyUser,
    /// Its migration state.
    pub state: MigrationState,
    /// True once the user's groups exist in the new pool.
    #[serde(default)]
    pub groups_copied: bool,
    /// When the groups were copied, in milliseconds since the Unix epoch, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_copied_at_ms: Option<i64>,
}

impl LedgerEntry {
    /// A user not migrated yet.
    #[must_use]
    pub fn pending(user: LegacyUser) -> Self {
        Self {
            user,
            state: MigrationState::Pending,
            groups_copied: false,
            groups_copied_at_ms: None,
        }
    }
}

/// The distinct, non-empty keys a user is filed under: those of its username, `email`,
/// `preferred_username` and `phone_number`.
#[must_use]
pub fn directory_keys(user: &LegacyUser) -> Vec<MatchKey> {
    let mut keys: Vec<MatchKey> = Vec::with_capacity(3);
    for (_, identifier) in user.identifiers() {
        let key = match_key(identifier);
        if !key.is_empty() && !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_a_user_under_each_distinct_identifier_key() {
        let user = LegacyUser::new(
            "Name@Acme.com",
            [
                ("email".to_owned(), "NAME@acme.com".to_owned()),
                ("preferred_username".to_owned(), "Nick".to_owned()),
            ]
            .into(),
        );
        let keys: Vec<String> = directory_keys(&user)
            .into_iter()
            .map(MatchKey::into_string)
            .collect();
        assert_eq!(keys, ["name@acme.com", "nick"]);
    }

    #[test]
    fn states_serialise_with_a_tag() {
        let state = MigrationState::Migrated {
            new_username: "n@a.com".into(),
            at_ms: 5,
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "migrated", "newUsername": "n@a.com", "atMs": 5})
        );
        assert_eq!(
            serde_json::from_value::<MigrationState>(json).unwrap(),
            state
        );
        assert!(state.is_done());
        assert!(!MigrationState::Pending.is_done());
    }
}
