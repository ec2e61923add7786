//! The bulk finish at the end of the window: which legacy users still waiting can be created in
//! the new pool without a password, which must be left alone, and what to create for each.
//!
//! - [`plan`]: the users to create and the ones skipped, with why.
//! - [`csv`]: the file of a Cognito CSV user import job.

pub mod csv;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::attributes::{AttributeError, AttributeMapping, TargetSchema, map_attributes};
use crate::keys::{KeyError, canonical_username};
use crate::ledger::{LedgerEntry, MigrationState, directory_keys};
use crate::migrate::ReasonCode;
use crate::user::{LegacyUser, UserStatus};

/// Why a user waiting for the finish is left out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "why",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum SkipReason {
    /// A sign-in's password fitted this user and another: an operator decides who is who.
    Ambiguous,
    /// The user shares a case-insensitive key with other legacy users and the group is not
    /// settled: creating it could give one person's name to another.
    Collision {
        /// The shared key.
        key: String,
        /// Every legacy username of the group, the user included.
        members: Vec<String>,
    },
    /// Disabled in the legacy pool: disabled users never move.
    Disabled,
    /// A federated user: it comes back through its identity provider, not a password reset.
    ExternalProvider,
    /// Its username has no canonical form (empty once trimmed).
    NoUsername,
}

/// One user left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    /// The legacy username.
    pub username: String,
    /// Why.
    #[serde(flatten)]
    pub reason: SkipReason,
}

/// What the finish will do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishPlan {
    /// Legacy usernames to create in the new pool, sorted.
    pub create: Vec<String>,
    /// Users waiting but left out, sorted by username.
    pub skipped: Vec<Skipped>,
    /// Users already in the new pool (migrated or finished).
    pub done: usize,
    /// Users approved at a sign-in whose new-pool user never signed in to confirm it (Cognito
    /// may not have created it: a timeout, or a response it rejected), sorted: the finish
    /// looks each one up in the new pool under the approved username.
    pub approved: Vec<String>,
}

/// True for the states the finish moves: `pending`, and refusals other than ambiguity (a
/// refusal such as a temporary password or a refused second factor only meant the user could
/// not move with its password; the finish creates it without one).
#[must_use]
pub fn is_waiting(state: &MigrationState) -> bool {
    match state {
        MigrationState::Pending => true,
        MigrationState::Refused { reason, .. } => *reason != ReasonCode::Ambiguous,
        MigrationState::Approved { .. }
        | MigrationState::Migrated { .. }
        | MigrationState::Finished { .. } => false,
    }
}

/// Decides, over every user of the ledger, who the finish creates.
///
/// Collision groups join users that share any directory key (username, `email`,
/// `preferred_username`, `phone_number`), transitively. A group with two or more users is
/// settled only when at most one of its users is not in the new pool *and* none of them is in
/// it: any other mix means the remaining users' names are taken or disputed, so every waiting
/// member is skipped and listed.
#[must_use]
pub fn plan(entries: &[LedgerEntry]) -> FinishPlan {
    let groups = collision_groups(entries);
    let mut plan = FinishPlan::default();
    for (index, entry) in entries.iter().enumerate() {
        let user = &entry.user;
        if entry.state.is_done() {
            plan.done += 1;
            continue;
        }
        if let MigrationState::Approved { .. } = entry.state {
            plan.approved.push(user.username.clone());
            continue;
        }
        let skip = |reason| Skipped {
            username: user.username.clone(),
            reason,
        };
        if matches!(
            entry.state,
            MigrationState::Refused {
                reason: ReasonCode::Ambiguous,
                ..
            }
        ) {
            plan.skipped.push(skip(SkipReason::Ambiguous));
        } else if let Some((key, members)) = groups.get(&index) {
            plan.skipped.push(skip(SkipReason::Collision {
                key: key.clone(),
                members: members.clone(),
            }));
        } else if !user.enabled {
            plan.skipped.push(skip(SkipReason::Disabled));
        } else if user.status == UserStatus::ExternalProvider {
            plan.skipped.push(skip(SkipReason::ExternalProvider));
        } else if canonical_username(&user.username).is_err() {
            plan.skipped.push(skip(SkipReason::NoUsername));
        } else {
            plan.create.push(user.username.clone());
        }
    }
    plan.create.sort();
    plan.approved.sort();
    plan.skipped.sort_by(|a, b| a.username.cmp(&b.username));
    plan
}

/// The representative of `i`'s set (union-find with path halving).
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// For each user in an unsettled collision group: one shared key and the group's usernames.
fn collision_groups(entries: &[LedgerEntry]) -> BTreeMap<usize, (String, Vec<String>)> {
    // Union-find over users joined by any shared key.
    let mut parent: Vec<usize> = (0..entries.len()).collect();
    let mut first_with_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut shared: BTreeMap<usize, String> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        for key in directory_keys(&entry.user) {
            let key = key.into_string();
            match first_with_key.get(&key) {
                Some(&other) => {
                    let (a, b) = (root(&mut parent, index), root(&mut parent, other));
                    parent[a] = b;
                    shared.entry(index).or_insert_with(|| key.clone());
                    shared.entry(other).or_insert(key);
                }
                None => {
                    first_with_key.insert(key, index);
                }
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for index in 0..entries.len() {
        let r = root(&mut parent, index);
        members.entry(r).or_default().push(index);
    }
    let mut out = BTreeMap::new();
    for group in members.values().filter(|g| g.len() > 1) {
        let names: Vec<String> = group
            .iter()
            .filter_map(|&i| entries.get(i).map(|e| e.user.username.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let key = group
            .iter()
            .find_map(|i| shared.get(i).cloned())
            .unwrap_or_default();
        for &index in group {
            out.insert(index, (key.clone(), names.clone()));
        }
    }
    out
}

/// The username a finished user gets in the new pool: the canonical form of its legacy
/// username, as a sign-in with that name would have given it.
pub fn new_username(user: &LegacyUser) -> Result<String, KeyError> {
    canonical_username(&user.username).map(|name| name.as_str().to_owned())
}

/// The attributes a finished user gets: exactly the trigger's mapping, so a user created in
/// bulk looks like one who signed in.
pub fn attributes(
    user: &LegacyUser,
    schema: &TargetSchema,
    mapping: &AttributeMapping,
) -> Result<BTreeMap<String, String>, AttributeError> {
    map_attributes(user, schema, mapping)
}

/// How to create the users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// A CSV user import job: cheap for many users, no per-user quota.
    CsvImport,
    /// One `AdminCreateUser` each.
    AdminCreateUser,
}

/// `auto`: a CSV import for more than `threshold` users, `AdminCreateUser` otherwise.
#[must_use]
pub fn choose_method(users: usize, threshold: usize) -> Method {
    if users > threshold {
        Method::CsvImport
    } else {
        Method::AdminCreateUser
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, email: Option<&str>, state: MigrationState) -> LedgerEntry {
        let mut attributes = BTreeMap::from([("sub".to_owned(), format!("sub-{name}"))]);
        if let Some(email) = email {
            attributes.insert("email".into(), email.into());
        }
        LedgerEntry {
            user: LegacyUser::new(name, attributes),
            state,
            groups_copied: false,
            groups_copied_at_ms: None,
        }
    }

    #[test]
    fn waiting_users_are_created_and_everyone_else_is_explained() {
        let migrated = MigrationState::Migrated {
            new_username: "x".into(),
            at_ms: 1,
            new_sub: None,
        };
        let mut disabled = entry("off", None, MigrationState::Pending);
        disabled.user.enabled = false;
        let entries = vec![
            entry("alice", Some("alice@a.com"), MigrationState::Pending),
            entry("Bob", Some("bob@a.com"), MigrationState::Pending),
            entry("bob", Some("other@a.com"), MigrationState::Pending),
            entry("Carol", None, migrated.clone()),
            entry("carol", None, MigrationState::Pending),
            entry("dan", Some("DAN@a.com"), migrated),
            entry(
                "erin",
                None,
                MigrationState::Refused {
                    reason: ReasonCode::Ambiguous,
                    at_ms: 1,
                },
            ),
            entry(
                "fay",
                None,
                MigrationState::Refused {
                    reason: ReasonCode::TemporaryPasswordRefused,
                    at_ms: 1,
                },
            ),
            // Joined to alice through its email only.
            entry("zed", Some("Alice@A.com"), MigrationState::Pending),
            disabled,
        ];
        let plan = plan(&entries);
        assert_eq!(plan.create, ["fay"]);
        assert_eq!(plan.done, 2);
        let skipped: Vec<(&str, &SkipReason)> = plan
            .skipped
            .iter()
            .map(|s| (s.username.as_str(), &s.reason))
            .collect();
        assert_eq!(skipped.len(), 7);
        let why = |name: &str| {
            skipped
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, r)| (*r).clone())
                .unwrap()
        };
        assert_eq!(
            why("Bob"),
            SkipReason::Collision {
                key: "bob".into(),
                members: vec!["Bob".into(), "bob".into()]
            }
        );
        assert!(matches!(why("bob"), SkipReason::Collision { .. }));
        assert!(matches!(why("alice"), SkipReason::Collision { members, .. }
            if members == ["alice", "zed"]));
        assert!(matches!(why("zed"), SkipReason::Collision { .. }));
        // carol's name is taken in the new pool by Carol, who migrated.
        assert!(matches!(why("carol"), SkipReason::Collision { .. }));
        assert_eq!(why("erin"), SkipReason::Ambiguous);
        assert_eq!(why("off"), SkipReason::Disabled);
    }

    #[test]
    fn picks_a_method_by_size() {
        assert_eq!(choose_method(10_000, 10_000), Method::AdminCreateUser);
        assert_eq!(choose_method(10_001, 10_000), Method::CsvImport);
        assert_eq!(
            new_username(&LegacyUser::new(" Name@Acme.COM", BTreeMap::new())).unwrap(),
            "name@acme.com"
        );
    }
}
