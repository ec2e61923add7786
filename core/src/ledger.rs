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
    /// Approved on a sign-in or forgot-password request: the new username is claimed for this
    /// user and Cognito is creating it. Until the new-pool user's first post authentication
    /// confirms it, no sign-up may take the user's identifiers and `finish` checks the new pool.
    Approved {
        /// The username the new pool gives the user.
        new_username: String,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
    },
    /// Migrated: the new-pool user signed in (confirmed by post authentication).
    Migrated {
        /// The username the new pool gave the user.
        new_username: String,
        /// When, in milliseconds since the Unix epoch.
        at_ms: i64,
        /// The new pool's `sub` of the user, when confirmed by post authentication.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        new_sub: Option<String>,
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

    /// The new username this user is bound to: approved or migrated under it.
    #[must_use]
    pub fn bound_to(&self) -> Option<&str> {
        match self {
            Self::Approved { new_username, .. } | Self::Migrated { new_username, .. } => {
                Some(new_username)
            }
            _ => None,
        }
    }

    /// The state a sign-in approved under `new_username` writes: over `pending` and `refused`,
    /// and over a binding to the same username (Cognito invokes the trigger only for users it
    /// does not have, so that migration did not complete). `Ok(None)` when the record already
    /// says approved to it; [`Conflict`] when the user is bound elsewhere or finished.
    pub fn approve(&self, new_username: &str, at_ms: i64) -> Result<Option<Self>, Conflict> {
        match self {
            Self::Approved {
                new_username: bound,
                ..
            } if bound == new_username => Ok(None),
            Self::Pending | Self::Refused { .. } => Ok(Some(Self::Approved {
                new_username: new_username.to_owned(),
                at_ms,
            })),
            Self::Migrated {
                new_username: bound,
                ..
            } if bound == new_username => Ok(Some(Self::Approved {
                new_username: new_username.to_owned(),
                at_ms,
            })),
            Self::Approved { .. } | Self::Migrated { .. } | Self::Finished { .. } => Err(Conflict),
        }
    }

    /// The state post authentication writes to confirm an approval under `new_username`:
    /// `migrated`, with the new-pool user's `sub`. Only from `approved` to that username.
    pub fn confirm(
        &self,
        new_username: &str,
        new_sub: Option<&str>,
        at_ms: i64,
    ) -> Result<Self, Conflict> {
        match self {
            Self::Approved {
                new_username: bound,
                ..
            } if bound == new_username => Ok(Self::Migrated {
                new_username: new_username.to_owned(),
                at_ms,
                new_sub: new_sub.map(str::to_owned),
            }),
            _ => Err(Conflict),
        }
    }

    /// The state's name: `pending`, `approved`, `migrated`, `refused` or `finished`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved { .. } => "approved",
            Self::Migrated { .. } => "migrated",
            Self::Refused { .. } => "refused",
            Self::Finished { .. } => "finished",
        }
    }
}

/// A state change the record does not allow (see [`MigrationState::approve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict;

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
            new_sub: None,
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

    #[test]
    fn a_binding_is_approved_then_confirmed_and_never_moves() {
        let approved = MigrationState::Pending.approve("ana", 1).unwrap().unwrap();
        assert_eq!(approved.name(), "approved");
        assert!(!approved.is_done());
        assert_eq!(approved.bound_to(), Some("ana"));
        assert_eq!(approved.approve("ana", 2), Ok(None));
        assert_eq!(approved.approve("other", 2), Err(Conflict));
        assert_eq!(approved.confirm("other", Some("s"), 3), Err(Conflict));
        let migrated = approved.confirm("ana", Some("new-sub"), 3).unwrap();
        assert!(migrated.is_done());
        assert_eq!(
            serde_json::to_value(&migrated).unwrap(),
            serde_json::json!({"state": "migrated", "newUsername": "ana", "atMs": 3, "newSub": "new-sub"})
        );
        assert_eq!(migrated.confirm("ana", Some("x"), 4), Err(Conflict));
        assert_eq!(migrated.approve("other", 4), Err(Conflict));
        // Cognito asks again only when it does not have the user: approved again.
        assert_eq!(
            migrated.approve("ana", 4).unwrap().unwrap().name(),
            "approved"
        );
        let finished = MigrationState::Finished {
            method: FinishMethod::AdminCreateUser,
            at_ms: 1,
        };
        assert_eq!(finished.approve("ana", 4), Err(Conflict));
    }
}
