//! A model of the whole migration, checked by property: a small legacy pool (a collision pair,
//! `ß`, `İ`, ligature and fullwidth variants, an unverified e-mail that names someone else, an
//! alias that names someone's username, a disabled user, an SMS MFA user) that signed in with
//! plain usernames, e-mail as username or aliases; the ledger; and a new pool that behaves as
//! Cognito does (case-insensitive usernames; the migration trigger only for names it does not
//! have; post authentication and token generation after each sign-in). Random
//! sequences of sign-ins (right and wrong passwords, variants), forgot-password requests,
//! sign-ups (some naming a legacy user in `custom:legacy_username`), index re-runs and legacy
//! changes (disables, deletes, e-mail writes, group removals) run through the very
//! [`Invocation`] the Lambda runs, and after every step:
//!
//! - no new-pool username is bound to two legacy users, and no legacy user to two new-pool users;
//! - every new-pool user a migration created is named after a proven identifier of its legacy
//!   user and holds that user's password (or must reset it);
//! - groups only ever land on, or are added to the tokens of, the bound owner;
//! - a refused sign-in changes nothing but refusal records.

use std::collections::{BTreeMap, BTreeSet};

use cognito_migrate_core::event::{Password, TriggerEvent};
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::ledger::{LedgerEntry, MigrationState};
use cognito_migrate_core::migrate::{
    Challenge, FinalUserStatus, MigrationConfig, PasswordOutcome, refusal_is_recordable,
};
use cognito_migrate_core::trigger::{
    Answer, Context, Invocation, Outcome, Request, Verdict, WriteResult, filed_under,
};
use cognito_migrate_core::user::{LegacySignIn, LegacyUser};
use cognito_migrate_core::{canonical_username, match_key};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The legacy users: username, attributes, password, groups, disabled, SMS MFA.
type Seed = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static [&'static str],
    bool,
    bool,
);

const SEEDS: [Seed; 11] = [
    (
        "Name@Acme.com",
        &[("email", "Name@Acme.com"), ("email_verified", "true")],
        "pw-Name",
        &["admins"],
        false,
        false,
    ),
    (
        "name@acme.com",
        &[("email", "name@acme.com"), ("email_verified", "true")],
        "pw-name",
        &["staff"],
        false,
        false,
    ),
    (
        "strasse@acme.test",
        &[("email", "strasse@acme.test"), ("email_verified", "true")],
        "pw-strasse",
        &[],
        false,
        false,
    ),
    (
        "istanbul@acme.test",
        &[("email", "istanbul@acme.test"), ("email_verified", "true")],
        "pw-istanbul",
        &[],
        false,
        false,
    ),
    (
        "file@acme.test",
        &[("email", "file@acme.test"), ("email_verified", "true")],
        "pw-file",
        &[],
        false,
        false,
    ),
    (
        "victim",
        &[("email", "victim@acme.test"), ("email_verified", "true")],
        "pw-victim",
        &["finance"],
        false,
        false,
    ),
    (
        "mallory",
        &[("email", "VICTIM@acme.test")],
        "pw-mallory",
        &[],
        false,
        false,
    ),
    (
        "boss",
        &[("email", "boss@acme.test"), ("email_verified", "true")],
        "pw-boss",
        &["admins"],
        false,
        false,
    ),
    (
        "nick",
        &[("preferred_username", "Boss")],
        "pw-nick",
        &["staff"],
        false,
        false,
    ),
    (
        "dora",
        &[("email", "dora@acme.test"), ("email_verified", "true")],
        "pw-dora",
        &[],
        true,
        false,
    ),
    (
        "sam",
        &[
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
        ],
        "pw-sam",
        &[],
        false,
        true,
    ),
];

/// What people type: registered names, other cases, and variants that share a match key.
const TYPED: [&str; 22] = [
    "Name@Acme.com",
    "name@acme.com",
    "NAME@ACME.COM",
    "ｎａｍｅ@acme.com",
    "strasse@acme.test",
    "STRASSE@acme.test",
    "straße@acme.test",
    "istanbul@acme.test",
    "ISTANBUL@acme.test",
    "İstanbul@acme.test",
    "file@acme.test",
    "ﬁle@acme.test",
    "victim",
    "victim@acme.test",
    "VICTIM@acme.test",
    "mallory",
    "boss",
    "Boss",
    "nick",
    "dora",
    "+15550100",
    "stranger@acme.test",
];

const NOW: i64 = 1_764_201_600_000;

#[derive(Debug, Clone)]
enum Op {
    SignIn {
        typed: usize,
        password: usize,
    },
    ForgotPassword {
        typed: usize,
    },
    SignUp {
        username: usize,
        email: usize,
        claim: Option<usize>,
    },
    Reindex,
    Disable(usize),
    Delete(usize),
    SetEmail {
        user: usize,
        email: usize,
        verified: bool,
    },
    RemoveGroups(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let typed = 0..TYPED.len();
    let user = 0..SEEDS.len();
    prop_oneof![
        6 => (typed.clone(), 0..=SEEDS.len()).prop_map(|(typed, password)| Op::SignIn { typed, password }),
        2 => typed.clone().prop_map(|typed| Op::ForgotPassword { typed }),
        2 => (typed.clone(), typed.clone(), proptest::option::of(user.clone()))
            .prop_map(|(username, email, claim)| Op::SignUp { username, email, claim }),
        1 => Just(Op::Reindex),
        1 => user.clone().prop_map(Op::Disable),
        1 => user.clone().prop_map(Op::Delete),
        1 => (user.clone(), typed, any::<bool>())
            .prop_map(|(user, email, verified)| Op::SetEmail { user, email, verified }),
        1 => user.prop_map(Op::RemoveGroups),
    ]
}

/// A legacy user with its password.
#[derive(Debug, Clone)]
struct Legacy {
    user: LegacyUser,
    password: String,
}

/// A user of the new pool.
#[derive(Debug, Clone)]
struct NewUser {
    username: String,
    sub: String,
    attributes: BTreeMap<String, String>,
    /// `None`: must reset its password.
    password: Option<String>,
    groups: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct World {
    legacy: BTreeMap<String, Legacy>,
    ledger: Vec<LedgerEntry>,
    /// By canonical username: Cognito's case-insensitive name.
    new_pool: BTreeMap<String, NewUser>,
    new_groups: BTreeSet<String>,
    next_sub: u32,
    config: MigrationConfig,
}

fn event(name: &str, user_name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw["userName"] = user_name.into();
    raw
}

fn key(name: &str) -> Option<String> {
    canonical_username(name).ok().map(|c| c.as_str().to_owned())
}

impl World {
    fn new() -> Self {
        let mut legacy = BTreeMap::new();
        for (i, (name, attributes, password, groups, disabled, sms)) in SEEDS.iter().enumerate() {
            let mut all: BTreeMap<String, String> = attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            all.insert("sub".into(), format!("legacy-sub-{i}"));
            let mut user = LegacyUser::new(*name, all);
            user.groups = groups.iter().map(|g| (*g).to_owned()).collect();
            user.enabled = !disabled;
            user.mfa.sms = *sms;
            user.last_modified_ms = Some(i64::try_from(i).unwrap());
            legacy.insert(
                (*name).to_owned(),
                Legacy {
                    user,
                    password: (*password).to_owned(),
                },
            );
        }
        let mut world = Self {
            legacy,
            ledger: Vec::new(),
            new_pool: BTreeMap::new(),
            new_groups: BTreeSet::new(),
            next_sub: 0,
            config: MigrationConfig::default(),
        };
        world.reindex();
        world
    }

    /// `index`: every legacy user filed as it is now, states kept; deleted users stay.
    fn reindex(&mut self) {
        for legacy in self.legacy.values() {
            match self
                .ledger
                .iter_mut()
                .find(|e| e.user.username == legacy.user.username)
            {
                Some(entry) => entry.user = legacy.user.clone(),
                None => self.ledger.push(LedgerEntry::pending(legacy.user.clone())),
            }
        }
    }

    fn entry_mut(&mut self, legacy_username: &str) -> Option<&mut LedgerEntry> {
        self.ledger
            .iter_mut()
            .find(|e| e.user.username == legacy_username)
    }

    /// Runs one trigger invocation of `raw` against this world.
    fn invoke(&mut self, raw: Value) -> Outcome {
        let event = TriggerEvent::from_value(raw).unwrap();
        let config = self.config.clone();
        let context = Context {
            config: &config,
            new_user_pool_id: Some("us-east-1_New"),
            now_ms: NOW,
        };
        let mut invocation = Invocation::start(&event, context);
        while let Some(request) = invocation.request() {
            let answer = self.perform(&event, request);
            invocation.answer(answer);
        }
        invocation.finish()
    }

    fn perform(&mut self, event: &TriggerEvent, request: &Request) -> Answer {
        match request {
            Request::LedgerCandidates { keys } => Answer::Records(
                filed_under(&self.ledger, keys)
                    .into_iter()
                    .cloned()
                    .collect(),
            ),
            Request::LegacyUser { username } => {
                Answer::LegacyUser(self.legacy.get(username).map(|l| l.user.clone()))
            }
            Request::CheckPassword { username } => {
                let outcome = match self.legacy.get(username) {
                    None => PasswordOutcome::UserNotFound,
                    Some(l) if !l.user.enabled => PasswordOutcome::Disabled,
                    Some(l)
                        if Some(l.password.as_str()) != event.password().map(Password::expose) =>
                    {
                        PasswordOutcome::WrongPassword
                    }
                    Some(l) if l.user.mfa.sms => PasswordOutcome::Challenge(Challenge::SmsMfa),
                    Some(_) => PasswordOutcome::Accepted,
                };
                Answer::Password(outcome)
            }
            Request::LedgerRecord { legacy_username } => Answer::Record(
                self.ledger
                    .iter()
                    .find(|e| &e.user.username == legacy_username)
                    .cloned(),
            ),
            Request::RecordMigration { .. }
            | Request::ConfirmMigration { .. }
            | Request::RecordRefusal { .. } => self.write(request),
            Request::LegacyGroups { legacy_username } => Answer::LegacyGroups(
                self.legacy
                    .get(legacy_username)
                    .map(|l| {
                        l.user
                            .groups
                            .iter()
                            .map(|name| GroupSpec {
                                name: name.clone(),
                                description: None,
                                precedence: None,
                                role_arn: None,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            Request::NewPoolGroups { username, .. } => Answer::NewPoolGroups {
                existing: self.new_groups.clone(),
                memberships: key(username)
                    .and_then(|k| self.new_pool.get(&k))
                    .map(|u| u.groups.clone())
                    .unwrap_or_default(),
            },
            Request::ApplyGroups { username, plan, .. } => {
                for group in &plan.create {
                    self.new_groups.insert(group.name.clone());
                }
                let Some(user) = key(username).and_then(|k| self.new_pool.get_mut(&k)) else {
                    return Answer::Failed;
                };
                user.groups.extend(plan.add.iter().cloned());
                Answer::Done
            }
            Request::MarkGroupsCopied {
                legacy_username,
                at_ms,
            } => {
                if let Some(entry) = self.entry_mut(legacy_username) {
                    entry.groups_copied = true;
                    entry.groups_copied_at_ms = Some(*at_ms);
                }
                Answer::Done
            }
            // The new-pool users holding any of these alias values.
            Request::AliasHolders { aliases, .. } => Answer::NewPoolUsers(
                self.new_pool
                    .values()
                    .filter(|u| {
                        aliases
                            .iter()
                            .any(|(name, value)| u.attributes.get(name) == Some(value))
                    })
                    .map(|u| LegacyUser::new(&u.username, u.attributes.clone()))
                    .collect(),
            ),
        }
    }

    /// The ledger's conditional writes, as the adapter makes them.
    fn write(&mut self, request: &Request) -> Answer {
        match request {
            Request::RecordMigration {
                legacy_username,
                new_username,
                at_ms,
            } => {
                let claimed = self.ledger.iter().any(|e| {
                    &e.user.username != legacy_username
                        && e.state.bound_to() == Some(new_username.as_str())
                });
                if self.entry_mut(legacy_username).is_none() {
                    // Found by the exact lookup: the Lambda files it.
                    if let Some(l) = self.legacy.get(legacy_username) {
                        self.ledger.push(LedgerEntry::pending(l.user.clone()));
                    }
                }
                let Some(entry) = self.entry_mut(legacy_username) else {
                    return Answer::Migration(WriteResult::Conflict);
                };
                if claimed {
                    return Answer::Migration(WriteResult::Conflict);
                }
                Answer::Migration(match entry.state.approve(new_username, *at_ms) {
                    Ok(Some(state)) => {
                        entry.state = state;
                        WriteResult::Recorded
                    }
                    Ok(None) => WriteResult::AlreadyRecorded,
                    Err(_) => WriteResult::Conflict,
                })
            }
            Request::ConfirmMigration {
                legacy_username,
                new_username,
                new_sub,
                at_ms,
            } => {
                let Some(entry) = self.entry_mut(legacy_username) else {
                    return Answer::Failed;
                };
                match entry
                    .state
                    .confirm(new_username, new_sub.as_deref(), *at_ms)
                {
                    Ok(state) => {
                        entry.state = state;
                        Answer::Done
                    }
                    Err(_) => Answer::Failed,
                }
            }
            Request::RecordRefusal {
                legacy_usernames,
                reason,
                at_ms,
            } => {
                for name in legacy_usernames {
                    if let Some(entry) = self.entry_mut(name)
                        && refusal_is_recordable(&entry.state)
                    {
                        entry.state = MigrationState::Refused {
                            reason: *reason,
                            at_ms: *at_ms,
                        };
                    }
                }
                Answer::Done
            }
            _ => Answer::Failed,
        }
    }

    /// Post authentication, then token generation, for a new-pool user who signed in. Returns
    /// the groups the tokens carry.
    fn after_sign_in(&mut self, name: &str) -> BTreeSet<String> {
        let Some(user) = self.new_pool.get(name).cloned() else {
            return BTreeSet::new();
        };
        let mut attributes = user.attributes.clone();
        attributes.insert("sub".into(), user.sub.clone());
        let mut post = event("post-authentication", &user.username);
        post["request"]["userAttributes"] = json!(attributes);
        let outcome = self.invoke(post);
        if outcome.verdict == Verdict::GroupsCopied {
            check_owner(self, &user, "post authentication copied groups to");
        }
        let groups = self.new_pool[name].groups.clone();
        let mut tokens = event("token-generation-authentication", &user.username);
        tokens["request"]["userAttributes"] = json!(attributes);
        tokens["request"]["groupConfiguration"]["groupsToOverride"] = json!(groups);
        let outcome = self.invoke(tokens);
        let mut carried = groups;
        if outcome.verdict == Verdict::GroupsAdded {
            check_owner(self, &user, "token generation added groups for");
            if let Some(list) = outcome.response()["response"]["claimsOverrideDetails"]
                ["groupOverrideDetails"]["groupsToOverride"]
                .as_array()
            {
                carried = list
                    .iter()
                    .filter_map(|g| g.as_str().map(str::to_owned))
                    .collect();
            }
        }
        carried
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::SignIn { typed, password } => {
                let typed = TYPED[*typed];
                let password = SEEDS.get(*password).map_or("wrong", |s| s.2);
                self.sign_in(typed, password);
            }
            Op::ForgotPassword { typed } => {
                let typed = TYPED[*typed];
                let Some(name) = key(typed) else { return };
                if self.new_pool.contains_key(&name) {
                    return;
                }
                let before = self.ledger.clone();
                let outcome = self.invoke(event("user-migration-forgot-password", typed));
                match &outcome.approval {
                    Some(approval) => {
                        assert_eq!(approval.final_user_status, FinalUserStatus::ResetRequired);
                        self.create(&name, typed, &outcome, None);
                    }
                    None => assert_only_refusals(&before, &self.ledger),
                }
            }
            Op::SignUp {
                username,
                email,
                claim,
            } => {
                let username = TYPED[*username];
                let Some(name) = key(username) else { return };
                let mut raw = event("pre-sign-up", username);
                let mut attributes = json!({"email": TYPED[*email]});
                if let Some(claim) = claim {
                    attributes["custom:legacy_username"] = SEEDS[*claim].0.into();
                }
                raw["request"]["userAttributes"] = attributes.clone();
                let outcome = self.invoke(raw);
                if claim.is_some() {
                    assert!(
                        outcome.result.is_err(),
                        "a sign-up naming a legacy user goes on"
                    );
                }
                if outcome.result.is_ok() && !self.new_pool.contains_key(&name) {
                    self.next_sub += 1;
                    let attributes: BTreeMap<String, String> =
                        serde_json::from_value(attributes).unwrap();
                    self.new_pool.insert(
                        name,
                        NewUser {
                            username: username.to_owned(),
                            sub: format!("new-sub-{}", self.next_sub),
                            attributes,
                            password: Some(format!("own-{username}")),
                            groups: BTreeSet::new(),
                        },
                    );
                }
            }
            Op::Reindex => self.reindex(),
            Op::Disable(user) => {
                if let Some(l) = self.legacy.get_mut(SEEDS[*user].0) {
                    l.user.enabled = false;
                }
            }
            Op::Delete(user) => {
                self.legacy.remove(SEEDS[*user].0);
            }
            Op::SetEmail {
                user,
                email,
                verified,
            } => {
                if let Some(l) = self.legacy.get_mut(SEEDS[*user].0) {
                    let attributes = &mut l.user.attributes;
                    attributes.insert("email".into(), TYPED[*email].into());
                    attributes.insert("email_verified".into(), verified.to_string());
                }
            }
            Op::RemoveGroups(user) => {
                if let Some(l) = self.legacy.get_mut(SEEDS[*user].0) {
                    l.user.groups.clear();
                }
            }
        }
    }

    fn sign_in(&mut self, typed: &str, password: &str) {
        let Some(name) = key(typed) else { return };
        if let Some(user) = self.new_pool.get(&name) {
            // In the new pool: Cognito checks the password itself.
            if user.password.as_deref() == Some(password) {
                let tokens = self.after_sign_in(&name);
                check_token_groups(self, &name, &tokens);
            }
            return;
        }
        let before = self.ledger.clone();
        let mut raw = event("user-migration-authentication", typed);
        raw["request"]["password"] = password.into();
        let outcome = self.invoke(raw);
        let Some(approval) = &outcome.approval else {
            assert_only_refusals(&before, &self.ledger);
            return;
        };
        let legacy = &self.legacy[&approval.legacy_username];
        assert_eq!(
            legacy.password, password,
            "`{typed}` migrated `{}` with another user's password",
            approval.legacy_username
        );
        let reset = approval.final_user_status == FinalUserStatus::ResetRequired;
        let password = (!reset).then(|| password.to_owned());
        self.create(&name, typed, &outcome, password);
        if !reset {
            let tokens = self.after_sign_in(&name);
            check_token_groups(self, &name, &tokens);
        }
    }

    /// Cognito creates the user the trigger approved, under the name typed.
    fn create(&mut self, name: &str, typed: &str, outcome: &Outcome, password: Option<String>) {
        let approval = outcome.approval.as_ref().unwrap();
        let legacy = &self.legacy[&approval.legacy_username].user;
        assert!(
            legacy
                .sign_in_identifiers(&self.config.legacy_sign_in)
                .any(|(_, id)| key(id).as_deref() == Some(name)),
            "`{typed}` became the username `{name}`, which is no proven identifier of `{}`",
            legacy.username
        );
        self.next_sub += 1;
        self.new_pool.insert(
            name.to_owned(),
            NewUser {
                username: name.to_owned(),
                sub: format!("new-sub-{}", self.next_sub),
                attributes: approval.user_attributes.clone(),
                password,
                groups: BTreeSet::new(),
            },
        );
    }

    fn check_invariants(&self) {
        // One legacy user per new username, one new username per legacy user.
        let mut bound: BTreeMap<&str, &str> = BTreeMap::new();
        for entry in &self.ledger {
            if let Some(new_username) = entry.state.bound_to() {
                let previous = bound.insert(new_username, &entry.user.username);
                assert!(
                    previous.is_none(),
                    "`{new_username}` is bound to `{}` and `{}`",
                    previous.unwrap_or_default(),
                    entry.user.username
                );
            }
        }
        let mut holders: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, user) in &self.new_pool {
            if let Some(legacy) = user.attributes.get("custom:legacy_username") {
                let previous = holders.insert(legacy, name);
                assert!(
                    previous.is_none(),
                    "legacy user `{legacy}` lives in two new-pool users: `{}` and `{name}`",
                    previous.unwrap_or_default()
                );
            }
            if !user.groups.is_empty() {
                check_owner(self, user, "the new pool holds groups for");
            }
        }
    }
}

/// Groups reach a new-pool user only when the ledger binds a legacy user to it.
fn check_owner(world: &World, user: &NewUser, what: &str) {
    let legacy = user.attributes.get("custom:legacy_username");
    let bound = legacy.and_then(|l| {
        world
            .ledger
            .iter()
            .find(|e| &e.user.username == l)
            .and_then(|e| e.state.bound_to())
    });
    assert_eq!(
        bound.and_then(key),
        key(&user.username),
        "{what} `{}`, which is not the user `{legacy:?}` is bound to",
        user.username
    );
}

/// Tokens carry legacy groups only for the bound owner.
fn check_token_groups(world: &World, name: &str, tokens: &BTreeSet<String>) {
    let user = &world.new_pool[name];
    if !tokens.is_subset(&user.groups) {
        check_owner(world, user, "the tokens carry legacy groups for");
    }
}

/// A refused sign-in changes nothing but refusal records.
fn assert_only_refusals(before: &[LedgerEntry], after: &[LedgerEntry]) {
    assert_eq!(before.len(), after.len(), "a refusal filed a user");
    for (b, a) in before.iter().zip(after) {
        if b != a {
            assert_eq!(b.user, a.user);
            assert!(
                refusal_is_recordable(&b.state)
                    && matches!(a.state, MigrationState::Refused { .. }),
                "a refusal changed `{}` from {:?} to {:?}",
                b.user.username,
                b.state,
                a.state
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_sign_ins_sign_ups_and_legacy_changes_breaks_an_identity(
        legacy_pool in 0..3_usize,
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let mut world = World::new();
        // The legacy pool signed in with plain usernames, with e-mail as username, or with a
        // preferred_username alias: which values count changes, the invariants do not.
        world.config.legacy_sign_in = match legacy_pool {
            0 => LegacySignIn::default(),
            1 => LegacySignIn {
                username_attributes: vec!["email".into()],
                alias_attributes: Vec::new(),
            },
            _ => LegacySignIn {
                username_attributes: Vec::new(),
                alias_attributes: vec!["email".into(), "preferred_username".into()],
            },
        };
        for op in &ops {
            world.step(op);
            world.check_invariants();
        }
    }
}

#[test]
fn the_model_migrates_what_it_should() {
    // The model is no use if nothing ever migrates: the registered names and passwords do.
    let mut world = World::new();
    for (typed, password) in [
        ("NAME@ACME.COM", 1),
        ("Name@Acme.com", 0),
        ("STRASSE@acme.test", 2),
        ("victim@acme.test", 5),
        ("boss", 7),
        ("+15550100", 10),
    ] {
        world.step(&Op::SignIn {
            typed: TYPED.iter().position(|t| *t == typed).unwrap(),
            password,
        });
        world.check_invariants();
    }
    let names: BTreeSet<&str> = world.new_pool.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "name@acme.com",
            "strasse@acme.test",
            "victim@acme.test",
            "boss",
            "+15550100"
        ])
    );
    // The pair's second user lost the name to the first one to sign in.
    assert_eq!(
        world.new_pool["name@acme.com"].attributes["custom:legacy_username"],
        "name@acme.com"
    );
    assert_eq!(
        world.new_pool["boss"].groups,
        BTreeSet::from(["admins".to_owned()])
    );
    assert!(
        world
            .ledger
            .iter()
            .filter(|e| e.state.bound_to().is_some())
            .all(|e| e.state.is_done()),
        "every approval was confirmed by post authentication"
    );
    // The variants and the unverified e-mail migrate nobody.
    for typed in ["straße@acme.test", "ｎａｍｅ@acme.com", "VICTIM@acme.test"] {
        let mut other = World::new();
        other.sign_in(typed, "pw-mallory");
        other.sign_in(typed, "pw-strasse");
        other.sign_in(typed, "pw-name");
        assert!(
            other.new_pool.is_empty(),
            "{typed}: {:?}",
            other.new_pool.keys()
        );
    }
    assert_eq!(match_key("ｎａｍｅ@acme.com"), match_key("name@acme.com"));
}
