//! The bulk finish at the end of the window: which legacy users still waiting can be created in
//! the new pool without a password, which must be left alone, and what to create for each.
//!
//! - [`plan`]: from the ledger, the users to create and the ones skipped, with why.
//! - [`live_check`]: the user as the legacy pool has it now, or why it is skipped.
//! - [`prepare`]: what to create for one user: the trigger's attributes and second factor,
//!   under the trigger's configuration.
//! - [`FinishReport`]: what a run did, as a table and as JSON.
//! - [`csv`]: the file of a Cognito CSV user import job.

pub mod csv;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::attributes::{AttributeError, AttributeMapping, TargetSchema, map_attributes};
use crate::keys::{KeyError, canonical_username};
use crate::ledger::{LedgerEntry, MigrationState, directory_keys};
use crate::migrate::{MigrationConfig, ReasonCode};
use crate::policy::MfaPolicy;
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
    /// No longer in the legacy pool: deleted since the index, or its name now answers for
    /// another user (another `sub`).
    Gone,
    /// It has a second factor the MFA policy does not let it keep, as at sign-in:
    /// `mfa_refused` or `mfa_not_restorable`.
    MfaPolicy {
        /// The trigger's reason for the same user.
        reason: ReasonCode,
    },
    /// The new pool would refuse its attributes.
    Unwritable {
        /// Which attribute and why.
        problem: String,
    },
}

impl SkipReason {
    /// The report's row for this reason.
    #[must_use]
    pub fn category(&self) -> &'static str {
        match self {
            Self::Collision { .. } => "collision",
            Self::Gone => "gone",
            Self::Disabled => "disabled",
            Self::MfaPolicy { .. } => "mfa-policy",
            Self::Unwritable { .. } => "unwritable",
            Self::Ambiguous => "ambiguous",
            Self::ExternalProvider => "external-provider",
            Self::NoUsername => "no-username",
        }
    }

    /// One line for an operator.
    #[must_use]
    pub fn explain(&self) -> String {
        match self {
            Self::Ambiguous => "refused as ambiguous: decide who is who first".into(),
            Self::Collision { key, members } => {
                format!("collision on `{key}` with {}", members.join(", "))
            }
            Self::Disabled => "disabled in the legacy pool".into(),
            Self::ExternalProvider => "federated: signs in through its provider".into(),
            Self::NoUsername => "no usable username".into(),
            Self::Gone => "no longer in the legacy pool".into(),
            Self::MfaPolicy { reason } => format!("MFA policy ({reason}): {}", reason.explain()),
            Self::Unwritable { problem } => format!("the new pool would refuse it: {problem}"),
        }
    }
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

/// What a ledger state means for the finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stance {
    /// In the new pool already.
    Done,
    /// Waiting: the finish creates it unless something else stops it.
    Waiting,
    /// Left alone, for this reason.
    Skip(SkipReason),
    /// Approved at a sign-in, never confirmed by the new-pool user's sign-in: the finish looks
    /// it up in the new pool under the approved username.
    Approved,
}

/// The finish's reading of every ledger state, in one place.
///
/// `pending` waits, and so do refusals other than ambiguity and `gone` (a refusal such as a
/// temporary password or a refused second factor only meant the user could not move with its
/// password; the finish creates it without one, under the same MFA policy). An ambiguous user
/// waits for an operator; a `gone` user was found deleted from the legacy pool by an earlier
/// finish.
#[must_use]
pub fn stance(state: &MigrationState) -> Stance {
    match state {
        MigrationState::Refused {
            reason: ReasonCode::Ambiguous,
            ..
        } => Stance::Skip(SkipReason::Ambiguous),
        MigrationState::Refused {
            reason: ReasonCode::Gone,
            ..
        } => Stance::Skip(SkipReason::Gone),
        MigrationState::Pending | MigrationState::Refused { .. } => Stance::Waiting,
        MigrationState::Approved { .. } => Stance::Approved,
        MigrationState::Migrated { .. } | MigrationState::Finished { .. } => Stance::Done,
    }
}

/// True for the states the finish moves (see [`stance`]).
#[must_use]
pub fn is_waiting(state: &MigrationState) -> bool {
    stance(state) == Stance::Waiting
}

/// Decides, over every user of the ledger, who the finish creates.
///
/// Collision groups join users that share any directory key (username, `email`,
/// `preferred_username`, `phone_number`), transitively. A group with two or more users is
/// settled only when at most one of its users is not in the new pool *and* none of them is in
/// it: any other mix means the remaining users' names are taken or disputed, so every waiting
/// member is skipped and listed.
///
/// Whether a user is disabled, federated or has a second factor is decided later, by
/// [`prepare`], on the user as the legacy pool has it at the time of the finish.
#[must_use]
pub fn plan(entries: &[LedgerEntry]) -> FinishPlan {
    let groups = collision_groups(entries);
    let mut plan = FinishPlan::default();
    for (index, entry) in entries.iter().enumerate() {
        let user = &entry.user;
        let skip = |reason| Skipped {
            username: user.username.clone(),
            reason,
        };
        match stance(&entry.state) {
            Stance::Done => plan.done += 1,
            Stance::Approved => plan.approved.push(user.username.clone()),
            Stance::Skip(reason) => plan.skipped.push(skip(reason)),
            Stance::Waiting => {
                if let Some((key, members)) = groups.get(&index) {
                    plan.skipped.push(skip(SkipReason::Collision {
                        key: key.clone(),
                        members: members.clone(),
                    }));
                } else if canonical_username(&user.username).is_err() {
                    plan.skipped.push(skip(SkipReason::NoUsername));
                } else {
                    plan.create.push(user.username.clone());
                }
            }
        }
    }
    plan.create.sort();
    plan.approved.sort();
    plan.skipped.sort_by(|a, b| a.username.cmp(&b.username));
    plan
}

/// The user as the legacy pool has it now (`live`, from `AdminGetUser` by the ledger's
/// username, with its groups), checked against the ledger's record of it (`known`).
///
/// - No answer, an answer for another username (the name now an alias of someone else) or
///   for another `sub` (deleted and recreated under the same name): [`SkipReason::Gone`].
/// - Disabled: [`SkipReason::Disabled`].
/// - Otherwise the live user, whose attributes, second factors and groups the finish uses.
pub fn live_check(known: &LegacyUser, live: Option<LegacyUser>) -> Result<LegacyUser, SkipReason> {
    let live = live.ok_or(SkipReason::Gone)?;
    let same_sub = match (known.sub(), live.sub()) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    if live.username != known.username || !same_sub {
        return Err(SkipReason::Gone);
    }
    if !live.enabled {
        return Err(SkipReason::Disabled);
    }
    Ok(live)
}

/// The second factor a finished user gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MfaPlan {
    /// It had none.
    None,
    /// SMS MFA, on the verified phone number it brings.
    Sms,
    /// Created without the second factor it had: it enrols again.
    Dropped,
}

/// The finish's MFA decision, the trigger's for the same user and policy (as on a
/// forgot-password migration, which proves no factor either):
///
/// - no second factor: none;
/// - `refuse`: any second factor is refused (`mfa_refused`);
/// - `reset-required`: created without its factors, listed to enrol again;
/// - `sms` (the default): SMS MFA is kept when the user has it, a verified phone number, and
///   the phone number among the new attributes; anything else (TOTP alone, SMS without a
///   verified phone) cannot be carried (`mfa_not_restorable`).
pub fn mfa_plan(
    user: &LegacyUser,
    policy: MfaPolicy,
    attributes: &BTreeMap<String, String>,
) -> Result<MfaPlan, ReasonCode> {
    if !user.mfa.any() {
        return Ok(MfaPlan::None);
    }
    match policy {
        MfaPolicy::Refuse => Err(ReasonCode::MfaRefused),
        MfaPolicy::ResetRequired => Ok(MfaPlan::Dropped),
        MfaPolicy::Sms
            if user.mfa.sms && user.phone_verified() && attributes.contains_key("phone_number") =>
        {
            Ok(MfaPlan::Sms)
        }
        MfaPolicy::Sms => Err(ReasonCode::MfaNotRestorable),
    }
}

/// What the finish creates for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Creation {
    /// The new pool's username.
    pub new_username: String,
    /// Its attributes: the trigger's mapping under the trigger's configuration.
    pub attributes: BTreeMap<String, String>,
    /// Its second factor.
    pub mfa: MfaPlan,
    /// True when it loses a second factor it had (TOTP, or everything under
    /// `reset-required`): it is listed to enrol again.
    pub reenrol: bool,
}

impl Creation {
    /// True when SMS MFA is turned on for the new user.
    #[must_use]
    pub fn sms_mfa(&self) -> bool {
        self.mfa == MfaPlan::Sms
    }
}

/// Decides what to create for `user` (as [`live_check`] returned it) under the trigger's
/// configuration, or why it is skipped: disabled, federated, no usable username, attributes
/// the new pool would refuse, or a second factor the MFA policy does not let it keep.
pub fn prepare(user: &LegacyUser, config: &MigrationConfig) -> Result<Creation, SkipReason> {
    if !user.enabled {
        return Err(SkipReason::Disabled);
    }
    if user.status == UserStatus::ExternalProvider {
        return Err(SkipReason::ExternalProvider);
    }
    let new_username = new_username(user).map_err(|_| SkipReason::NoUsername)?;
    let attributes = attributes(user, &config.schema.0, &config.mapping).map_err(|e| {
        SkipReason::Unwritable {
            problem: e.to_string(),
        }
    })?;
    let mfa = mfa_plan(user, config.policy.mfa, &attributes)
        .map_err(|reason| SkipReason::MfaPolicy { reason })?;
    let reenrol = mfa == MfaPlan::Dropped || (mfa == MfaPlan::Sms && user.mfa.totp);
    Ok(Creation {
        new_username,
        attributes,
        mfa,
        reenrol,
    })
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

/// A user the run could not finish, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unfinished {
    /// The legacy username.
    pub username: String,
    /// Why.
    pub why: String,
}

/// What one run of the finish did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishReport {
    /// True for a dry run: nothing was changed.
    pub dry_run: bool,
    /// How users were created.
    pub method: Method,
    /// Users created by this run.
    pub created: usize,
    /// Users an earlier, interrupted run created (their legacy `sub` matches), completed now.
    pub resumed: usize,
    /// Users in the new pool before the run (migrated at sign-in or finished before).
    pub already_present: usize,
    /// Users left alone, with why.
    pub skipped: Vec<Skipped>,
    /// Users whose new username another user of the new pool holds.
    pub conflicts: Vec<String>,
    /// Users who migrated at sign-in while the run worked on them: left as they are.
    pub changed: Vec<String>,
    /// Users a call failed for: they stay waiting.
    pub failed: Vec<Unfinished>,
    /// Users not reached because the run stopped early.
    pub not_started: usize,
    /// Created users who lost a second factor they had and must enrol again.
    pub reenrol: Vec<String>,
    /// Users the CSV format could not carry, created with `AdminCreateUser` instead.
    pub csv_unwritable: usize,
}

/// The skip rows of the report, always in this order (a row with no user still shows).
pub const SKIP_CATEGORIES: [&str; 8] = [
    "collision",
    "gone",
    "disabled",
    "mfa-policy",
    "unwritable",
    "ambiguous",
    "external-provider",
    "no-username",
];

impl FinishReport {
    /// An empty report.
    #[must_use]
    pub fn new(method: Method, dry_run: bool) -> Self {
        Self {
            dry_run,
            method,
            created: 0,
            resumed: 0,
            already_present: 0,
            skipped: Vec::new(),
            conflicts: Vec::new(),
            changed: Vec::new(),
            failed: Vec::new(),
            not_started: 0,
            reenrol: Vec::new(),
            csv_unwritable: 0,
        }
    }

    /// Skipped users by [`SkipReason::category`], every category of [`SKIP_CATEGORIES`]
    /// present.
    #[must_use]
    pub fn skipped_by(&self) -> BTreeMap<&'static str, usize> {
        let mut counts: BTreeMap<&'static str, usize> =
            SKIP_CATEGORIES.iter().map(|c| (*c, 0)).collect();
        for skipped in &self.skipped {
            *counts.entry(skipped.reason.category()).or_insert(0) += 1;
        }
        counts
    }

    /// True when every user the run could finish is finished: nothing failed, conflicted or
    /// was left unstarted.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.conflicts.is_empty() && self.failed.is_empty() && self.not_started == 0
    }

    /// The report as JSON: these fields plus `skippedBy`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "skippedBy".into(),
                serde_json::to_value(self.skipped_by()).unwrap_or(serde_json::Value::Null),
            );
        }
        value
    }

    /// The table printed at the end of a run.
    #[must_use]
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, usize)> = vec![
            (
                if self.dry_run {
                    "to create".to_owned()
                } else {
                    "created".to_owned()
                },
                self.created,
            ),
            ("resumed from an earlier run".into(), self.resumed),
            ("already present".into(), self.already_present),
        ];
        let by = self.skipped_by();
        for category in SKIP_CATEGORIES {
            rows.push((
                format!("skipped: {category}"),
                by.get(category).copied().unwrap_or(0),
            ));
        }
        rows.extend([
            ("conflict in the new pool".to_owned(), self.conflicts.len()),
            ("migrated meanwhile".to_owned(), self.changed.len()),
            ("failed".to_owned(), self.failed.len()),
            ("not started".to_owned(), self.not_started),
            ("to enrol MFA again".to_owned(), self.reenrol.len()),
        ]);
        let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (label, count) in rows {
            let _ = writeln!(out, "  {label:<width$}  {count:>8}");
        }
        out
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
        // Disabled or not is read live: the ledger's word is not the last.
        assert_eq!(plan.create, ["fay", "off"]);
        assert_eq!(plan.done, 2);
        let skipped: Vec<(&str, &SkipReason)> = plan
            .skipped
            .iter()
            .map(|s| (s.username.as_str(), &s.reason))
            .collect();
        assert_eq!(skipped.len(), 6);
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

    fn legacy(name: &str, pairs: &[(&str, &str)]) -> LegacyUser {
        let mut attributes: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        attributes
            .entry("sub".into())
            .or_insert_with(|| format!("sub-{name}"));
        LegacyUser::new(name, attributes)
    }

    fn config(pairs: &[(&str, &str)]) -> MigrationConfig {
        crate::settings::migration_from_lookup(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap()
    }

    /// The trigger's forgot-password decision for `user`: a migration that proves no factor,
    /// as the finish does not.
    fn trigger(user: &LegacyUser, config: &MigrationConfig) -> crate::migrate::Decision {
        let mut raw = crate::event::tests::fixture("user-migration-forgot-password");
        raw["userName"] = user.username.clone().into();
        let event = crate::event::TriggerEvent::from_value(raw).unwrap();
        crate::migrate::decide_with(
            &event,
            vec![LedgerEntry::pending(user.clone())],
            config,
            |_| crate::migrate::PasswordOutcome::WrongPassword,
        )
    }

    /// Users with a verified contact (a reset needs one, at sign-in as after the finish) and
    /// every kind of attribute and second factor.
    fn users() -> Vec<LegacyUser> {
        let contact = [("email", "a@example.com"), ("email_verified", "true")];
        let with = |name: &str, extra: &[(&str, &str)]| {
            let mut pairs = contact.to_vec();
            pairs.extend_from_slice(extra);
            legacy(name, &pairs)
        };
        let phone = [
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
        ];
        let mut sms = with("Sms@Example.com", &phone);
        sms.mfa.sms = true;
        let mut totp = with("Totp@Example.com", &[]);
        totp.mfa.totp = true;
        let mut both = with("Both@Example.com", &phone);
        both.mfa = crate::user::MfaSettings {
            sms: true,
            totp: true,
        };
        let mut unverified_phone = with(
            "Unverified@Example.com",
            &[
                ("phone_number", "+15550101"),
                ("phone_number_verified", "false"),
            ],
        );
        unverified_phone.mfa.sms = true;
        vec![
            with(
                "Plain@Example.com",
                &[
                    ("given_name", "Ann, \"A\""),
                    ("nickname", "annie"),
                    ("custom:dept", "ops"),
                    ("custom:tier", "gold"),
                    ("locale", "fr"),
                    ("email_verified", "true"),
                ],
            ),
            sms,
            totp,
            both,
            unverified_phone,
        ]
    }

    #[test]
    fn the_finish_creates_what_the_trigger_would_approve() {
        let configs = [
            config(&[]),
            config(&[
                (
                    "TARGET_SCHEMA",
                    "email,email_verified,custom:department,custom:legacy_sub,custom:legacy_username",
                ),
                ("ATTRIBUTE_RENAMES", "custom:dept=custom:department"),
                ("ATTRIBUTE_DROPS", "nickname,locale"),
            ]),
            config(&[("MFA_POLICY", "refuse")]),
            config(&[
                ("MFA_POLICY", "reset-required"),
                ("ATTRIBUTE_DROPS", "phone_number"),
            ]),
            // A schema without the phone number: SMS MFA cannot be kept.
            config(&[("TARGET_SCHEMA", "email,email_verified,custom:legacy_sub")]),
        ];
        let mut approved = 0;
        let mut refused = 0;
        for config in &configs {
            for user in users() {
                let decision = trigger(&user, config);
                let prepared = prepare(&user, config);
                match (&decision.approval, &prepared) {
                    (Some(approval), Ok(creation)) => {
                        approved += 1;
                        assert_eq!(creation.attributes, approval.user_attributes, "{user:?}");
                        assert_eq!(creation.sms_mfa(), approval.enable_sms_mfa, "{user:?}");
                        assert_eq!(
                            creation.reenrol,
                            user.mfa.totp || (user.mfa.any() && !approval.enable_sms_mfa),
                            "{user:?}"
                        );
                    }
                    (None, Err(SkipReason::MfaPolicy { reason })) => {
                        refused += 1;
                        assert_eq!(decision.refusal, Some(*reason), "{user:?}");
                    }
                    other => panic!("{user:?} under {config:?}: {other:?}"),
                }
            }
        }
        assert!(approved >= 10 && refused >= 5, "{approved} {refused}");
        // The renames, drops and the short schema did apply.
        let mapped = prepare(&users()[0], &configs[1]).unwrap().attributes;
        assert_eq!(
            mapped.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "custom:department",
                "custom:legacy_sub",
                "custom:legacy_username",
                "email",
                "email_verified"
            ]
        );
    }

    #[test]
    fn second_factors_follow_the_mfa_policy() {
        let users = users();
        let decide = |user: &LegacyUser, policy: &str| {
            prepare(user, &config(&[("MFA_POLICY", policy)])).map(|c| (c.mfa, c.reenrol))
        };
        let (none, sms, totp, both, unverified) =
            (&users[0], &users[1], &users[2], &users[3], &users[4]);
        assert_eq!(decide(none, "refuse"), Ok((MfaPlan::None, false)));
        assert_eq!(decide(sms, "sms"), Ok((MfaPlan::Sms, false)));
        assert_eq!(decide(both, "sms"), Ok((MfaPlan::Sms, true)));
        assert_eq!(
            decide(totp, "sms"),
            Err(SkipReason::MfaPolicy {
                reason: ReasonCode::MfaNotRestorable
            })
        );
        assert_eq!(
            decide(unverified, "sms"),
            Err(SkipReason::MfaPolicy {
                reason: ReasonCode::MfaNotRestorable
            })
        );
        for user in [sms, totp] {
            assert_eq!(
                decide(user, "refuse"),
                Err(SkipReason::MfaPolicy {
                    reason: ReasonCode::MfaRefused
                })
            );
            assert_eq!(decide(user, "reset-required"), Ok((MfaPlan::Dropped, true)));
        }
    }

    #[test]
    fn the_live_read_has_the_last_word() {
        let known = legacy("Ann", &[("email", "a@x.com")]);
        assert_eq!(live_check(&known, None), Err(SkipReason::Gone));
        let alias = legacy("Other", &[("sub", "sub-Ann")]);
        assert_eq!(live_check(&known, Some(alias)), Err(SkipReason::Gone));
        let recreated = legacy("Ann", &[("sub", "another")]);
        assert_eq!(live_check(&known, Some(recreated)), Err(SkipReason::Gone));
        let mut disabled = legacy("Ann", &[]);
        disabled.enabled = false;
        assert_eq!(
            live_check(&known, Some(disabled)),
            Err(SkipReason::Disabled)
        );
        let moved = legacy("Ann", &[("email", "new@x.com")]);
        let live = live_check(&known, Some(moved)).unwrap();
        assert_eq!(live.attribute("email"), Some("new@x.com"));
        let mut federated = legacy("Fed", &[]);
        federated.status = UserStatus::ExternalProvider;
        assert_eq!(
            prepare(&federated, &MigrationConfig::default()),
            Err(SkipReason::ExternalProvider)
        );
        let long = legacy("Long", &[("name", &"x".repeat(3000))]);
        assert!(matches!(
            prepare(&long, &MigrationConfig::default()),
            Err(SkipReason::Unwritable { .. })
        ));
    }

    #[test]
    fn every_ledger_state_has_one_reading() {
        let refused = |reason| MigrationState::Refused { reason, at_ms: 1 };
        assert_eq!(stance(&MigrationState::Pending), Stance::Waiting);
        assert_eq!(stance(&refused(ReasonCode::MfaRefused)), Stance::Waiting);
        assert_eq!(
            stance(&refused(ReasonCode::Ambiguous)),
            Stance::Skip(SkipReason::Ambiguous)
        );
        assert_eq!(
            stance(&refused(ReasonCode::Gone)),
            Stance::Skip(SkipReason::Gone)
        );
        assert_eq!(
            stance(&MigrationState::Finished {
                method: crate::ledger::FinishMethod::CsvImport,
                at_ms: 1
            }),
            Stance::Done
        );
        assert!(!is_waiting(&refused(ReasonCode::Gone)));
    }

    #[test]
    fn the_report_counts_every_row_and_reads_as_json() {
        let mut report = FinishReport::new(Method::AdminCreateUser, false);
        report.created = 3;
        report.already_present = 2;
        for (name, reason) in [
            ("a", SkipReason::Gone),
            ("b", SkipReason::Gone),
            ("c", SkipReason::Disabled),
            (
                "d",
                SkipReason::MfaPolicy {
                    reason: ReasonCode::MfaRefused,
                },
            ),
        ] {
            report.skipped.push(Skipped {
                username: name.into(),
                reason,
            });
        }
        report.reenrol.push("e".into());
        let table = report.table();
        assert!(
            table.contains("created ") && table.contains("       3\n"),
            "{table}"
        );
        let row = |label: &str| {
            table
                .lines()
                .find(|l| l.trim_start().starts_with(label))
                .and_then(|l| l.split_whitespace().last())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("{label} in {table}"))
        };
        assert_eq!(row("skipped: gone"), 2);
        assert_eq!(row("skipped: collision"), 0);
        assert_eq!(row("skipped: mfa-policy"), 1);
        assert_eq!(row("to enrol MFA again"), 1);
        let json = report.to_json();
        assert_eq!(json["skippedBy"]["gone"], 2);
        assert_eq!(json["skippedBy"]["unwritable"], 0);
        assert_eq!(json["skipped"][3]["why"], "mfa-policy");
        assert_eq!(json["skipped"][3]["reason"], "mfa_refused");
        assert_eq!(json["method"], "admin-create-user");
        assert!(report.complete());
    }
}
