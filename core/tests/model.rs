//! A model of the whole migration, checked by property: a small legacy pool (a collision pair,
//! `ß`, `İ`, ligature and fullwidth variants, an unverified e-mail that names someone else, an
//! alias that names someone's username and one that names someone's address, a disabled user,
//! an SMS MFA user) that signed in with plain usernames, e-mail as username or aliases; the
//! ledger; and a new pool that behaves as Cognito does for its shape, drawn per case too: plain
//! usernames, e-mail (and phone) as username with generated usernames, or a username with
//! e-mail, `preferred_username` (and phone) aliases. Cognito's rules are the model's:
//! case-insensitive names; the migration trigger only for identifiers it cannot find; a
//! verified alias, or a username attribute, belongs to one user at most; no username in an
//! alias's format; post authentication and token generation after each sign-in. Random sequences of sign-ins (right and wrong passwords, variants, retried or
//! lost responses), forgot-password requests, sign-ups in the pool's form (some naming a legacy
//! user in `custom:legacy_username`), index re-runs and legacy changes (disables, deletes,
//! e-mail writes, group removals) run through the very [`Invocation`] the Lambda runs, and after
//! every step:
//!
//! - no new-pool username is bound to two legacy users, and no legacy user to two new-pool users;
//! - every identifier the new pool signs in with names one user at most, and once it names a
//!   person it never names another;
//! - every user a migration created signs in only with proven identifiers of its legacy user
//!   (or a generated username), none that another legacy user holds more strongly, has an
//!   e-mail or phone verified only where the legacy pool verified that value for that user
//!   (where reset codes go), and holds that user's password (or must reset it);
//! - a sign-up never signs in with an identifier of a legacy user who has not moved yet;
//! - a migration retried, or lost and tried again, names the same new user;
//! - groups only ever land on, or are added to the tokens of, the person they were migrated for;
//! - a refused sign-in changes nothing but refusal records.

use std::collections::{BTreeMap, BTreeSet};

use cognito_migrate_core::event::{Password, TriggerEvent};
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::ledger::{LedgerEntry, MigrationState};
use cognito_migrate_core::migrate::{
    Approval, Challenge, FinalUserStatus, MigrationConfig, PasswordOutcome, generated_username,
    is_email_format, is_phone_format, refusal_is_recordable,
};
use cognito_migrate_core::trigger::{
    Answer, Context, Invocation, Outcome, Request, Verdict, WriteResult, filed_under,
};
use cognito_migrate_core::user::{LegacySignIn, LegacyUser, Proof};
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
        &[
            ("email", "file@acme.test"),
            ("email_verified", "true"),
            ("preferred_username", "Phil"),
        ],
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
        &[
            ("email", "VICTIM@acme.test"),
            ("preferred_username", "dora@acme.test"),
        ],
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
const TYPED: [&str; 23] = [
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
    "stranger",
];

/// The typed values in e-mail format: the addresses sign-ups give and legacy profiles take
/// (Cognito refuses anything else as an e-mail address).
fn emails() -> Vec<&'static str> {
    TYPED.into_iter().filter(|t| is_email_format(t)).collect()
}

const NOW: i64 = 1_764_201_600_000;

/// The new pool's sign-in shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Usernames only: a migrated user is named as typed.
    Plain,
    /// `UsernameAttributes`: users sign in with e-mail (and phone); Cognito names every user.
    ByAttribute { phone: bool },
    /// `AliasAttributes`: a username, and e-mail, `preferred_username` (and phone) as aliases.
    Aliases { phone: bool },
}

const SHAPES: [Shape; 5] = [
    Shape::Plain,
    Shape::ByAttribute { phone: false },
    Shape::ByAttribute { phone: true },
    Shape::Aliases { phone: false },
    Shape::Aliases { phone: true },
];

impl Shape {
    /// The attributes a user signs in with besides its username.
    fn sign_in_attributes(self) -> &'static [&'static str] {
        match self {
            Self::Plain => &[],
            Self::ByAttribute { phone: false } => &["email"],
            Self::ByAttribute { phone: true } => &["email", "phone_number"],
            Self::Aliases { phone: false } => &["email", "preferred_username"],
            Self::Aliases { phone: true } => &["email", "preferred_username", "phone_number"],
        }
    }

    /// The trigger's settings for this pool.
    fn configure(self, config: &mut MigrationConfig) {
        let names: Vec<String> = self
            .sign_in_attributes()
            .iter()
            .map(|&n| n.to_owned())
            .collect();
        match self {
            Self::Plain => {}
            Self::ByAttribute { .. } => config.new_pool_username_attributes = names,
            Self::Aliases { .. } => config.new_pool_alias_attributes = names,
        }
    }

    /// True when Cognito refuses `name` as a username: an e-mail or phone alias keeps that format.
    fn refuses_username(self, name: &str) -> bool {
        matches!(self, Self::Aliases { phone } if is_email_format(name) || (phone && is_phone_format(name)))
    }

    /// True when `attribute`, set, signs its user in: an alias e-mail or phone only once verified.
    fn signs_in_with(self, attribute: &str, attributes: &BTreeMap<String, String>) -> bool {
        if !self.sign_in_attributes().contains(&attribute) || !attributes.contains_key(attribute) {
            return false;
        }
        let needs_verifying =
            matches!(self, Self::Aliases { .. }) && attribute != "preferred_username";
        !needs_verifying || verified(attributes, attribute)
    }
}

/// True when `attributes` hold `attribute` verified.
fn verified(attributes: &BTreeMap<String, String>, attribute: &str) -> bool {
    attributes
        .get(&format!("{attribute}_verified"))
        .map(String::as_str)
        == Some("true")
}

/// How Cognito carries out an approved migration.
#[derive(Debug, Clone, Copy)]
enum Delivery {
    /// It creates the user.
    Once,
    /// It timed out waiting, invokes the trigger again, and creates the user from that answer.
    Retried,
    /// It never creates the user (the answer came too late).
    Lost,
}

#[derive(Debug, Clone)]
enum Op {
    SignIn {
        typed: usize,
        password: usize,
        delivery: Delivery,
    },
    ForgotPassword {
        typed: usize,
        delivery: Delivery,
    },
    /// A sign-up in the shape's form; `username` and `email` pick from what the shape allows.
    SignUp {
        username: usize,
        email: usize,
        claim: Option<usize>,
        confirmed: bool,
    },
    Reindex,
    Disable(usize),
    Delete(usize),
    /// A legacy profile's address changes; `email` picks from [`emails`].
    SetEmail {
        user: usize,
        email: usize,
        verified: bool,
    },
    RemoveGroups(usize),
}

fn delivery() -> impl Strategy<Value = Delivery> {
    prop_oneof![
        4 => Just(Delivery::Once),
        1 => Just(Delivery::Retried),
        1 => Just(Delivery::Lost),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let typed = 0..TYPED.len();
    let user = 0..SEEDS.len();
    prop_oneof![
        6 => (typed.clone(), 0..=SEEDS.len(), delivery())
            .prop_map(|(typed, password, delivery)| Op::SignIn { typed, password, delivery }),
        2 => (typed.clone(), delivery())
            .prop_map(|(typed, delivery)| Op::ForgotPassword { typed, delivery }),
        2 => (typed.clone(), typed.clone(), proptest::option::of(user.clone()), any::<bool>())
            .prop_map(|(username, email, claim, confirmed)| Op::SignUp { username, email, claim, confirmed }),
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

/// Who a new-pool user is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Person {
    /// The legacy user a migration created it for.
    Legacy(String),
    /// The n-th sign-up.
    SignUp(u32),
}

/// A user of the new pool.
#[derive(Debug, Clone)]
struct NewUser {
    /// Canonical: Cognito's case-insensitive name.
    username: String,
    sub: String,
    attributes: BTreeMap<String, String>,
    /// `None`: must reset its password.
    password: Option<String>,
    groups: BTreeSet<String>,
    person: Person,
}

#[derive(Debug, Clone)]
struct World {
    legacy: BTreeMap<String, Legacy>,
    ledger: Vec<LedgerEntry>,
    /// By username.
    new_pool: BTreeMap<String, NewUser>,
    new_groups: BTreeSet<String>,
    next_sub: u32,
    shape: Shape,
    config: MigrationConfig,
    /// The person each identifier first signed in as.
    named: BTreeMap<String, Person>,
    /// The new username each legacy user was first approved under.
    approved: BTreeMap<String, String>,
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

/// The groups a legacy user was seeded with: all it ever had (legacy changes only remove).
fn seed_groups(legacy_username: &str) -> BTreeSet<String> {
    SEEDS
        .iter()
        .find(|s| s.0 == legacy_username)
        .map(|s| s.3.iter().map(|g| (*g).to_owned()).collect())
        .unwrap_or_default()
}

impl World {
    fn new(shape: Shape, legacy_sign_in: LegacySignIn) -> Self {
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
        let mut config = MigrationConfig {
            legacy_sign_in,
            ..MigrationConfig::default()
        };
        shape.configure(&mut config);
        let mut world = Self {
            legacy,
            ledger: Vec::new(),
            new_pool: BTreeMap::new(),
            new_groups: BTreeSet::new(),
            next_sub: 0,
            shape,
            config,
            named: BTreeMap::new(),
            approved: BTreeMap::new(),
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

    fn entry(&self, legacy_username: &str) -> Option<&LedgerEntry> {
        self.ledger
            .iter()
            .find(|e| e.user.username == legacy_username)
    }

    fn entry_mut(&mut self, legacy_username: &str) -> Option<&mut LedgerEntry> {
        self.ledger
            .iter_mut()
            .find(|e| e.user.username == legacy_username)
    }

    // --- the new pool, as Cognito keeps it ---

    /// The identifiers `user` signs in with, canonical: its username first, then the
    /// attributes the shape signs in with.
    fn sign_in_ids(&self, user: &NewUser) -> Vec<String> {
        let attributes = self
            .shape
            .sign_in_attributes()
            .iter()
            .filter(|&&name| self.shape.signs_in_with(name, &user.attributes))
            .filter_map(|&name| key(&user.attributes[name]));
        std::iter::once(user.username.clone())
            .chain(attributes)
            .collect()
    }

    /// The username of the user Cognito signs `typed` in as: by username first, then by the
    /// shape's attributes.
    fn lookup(&self, typed: &str) -> Option<String> {
        let name = key(typed)?;
        if self.new_pool.contains_key(&name) {
            return Some(name);
        }
        self.new_pool
            .values()
            .find(|u| self.sign_in_ids(u).contains(&name))
            .map(|u| u.username.clone())
    }

    /// Why Cognito refuses to create `user`, if it does: a username in an alias's format, or
    /// an identifier another user signs in with (a username, a verified alias, a username
    /// attribute), with that user. Usernames and preferred usernames count as one namespace:
    /// which of two users such a name would sign in is not documented.
    fn refuses(&self, user: &NewUser) -> Option<(String, Option<&NewUser>)> {
        if self.shape.refuses_username(&user.username) {
            return Some((format!("`{}` has an alias's format", user.username), None));
        }
        let ids = self.sign_in_ids(user);
        self.new_pool.values().find_map(|other| {
            let id = self
                .sign_in_ids(other)
                .into_iter()
                .find(|id| ids.contains(id))?;
            Some((
                format!("`{id}` already signs `{}` in", other.username),
                Some(other),
            ))
        })
    }

    /// A fresh `sub`; in a pool that names its users, their username too.
    fn fresh_sub(&mut self) -> String {
        self.next_sub += 1;
        format!("new-sub-{}", self.next_sub)
    }

    // --- the trigger ---

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
            Request::LedgerRecord { legacy_username } => {
                Answer::Record(self.entry(legacy_username).cloned())
            }
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
            // `ListUsers` filtered on each attribute: every user holding the value, verified
            // or not, case-insensitively (the pool is).
            Request::AliasHolders { aliases, .. } => Answer::NewPoolUsers(
                self.new_pool
                    .values()
                    .filter(|u| {
                        aliases.iter().any(|(name, value)| {
                            let value = key(value);
                            value.is_some() && u.attributes.get(name).and_then(|v| key(v)) == value
                        })
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
                if self.entry(legacy_username).is_none() {
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
            self.check_owner(&user, "post authentication copied groups to");
        }
        let groups = self.new_pool[name].groups.clone();
        let mut tokens = event("token-generation-authentication", &user.username);
        tokens["request"]["userAttributes"] = json!(attributes);
        tokens["request"]["groupConfiguration"]["groupsToOverride"] = json!(groups);
        let outcome = self.invoke(tokens);
        let mut carried = groups;
        if outcome.verdict == Verdict::GroupsAdded {
            self.check_owner(&user, "token generation added groups for");
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
        self.check_token_groups(name, &carried);
        carried
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::SignIn {
                typed,
                password,
                delivery,
            } => {
                let password = SEEDS.get(password).map_or("wrong", |s| s.2);
                self.sign_in(TYPED[typed], password, delivery);
            }
            Op::ForgotPassword { typed, delivery } => {
                let typed = TYPED[typed];
                if key(typed).is_none() || self.lookup(typed).is_some() {
                    // Cognito resets the password of the user it has: no trigger.
                    return;
                }
                let raw = event("user-migration-forgot-password", typed);
                if let Some(outcome) = self.run_migration(raw, delivery) {
                    let approval = outcome.approval.as_ref().unwrap();
                    assert_eq!(approval.final_user_status, FinalUserStatus::ResetRequired);
                    self.create(typed, &outcome, None);
                }
            }
            Op::SignUp {
                username,
                email,
                claim,
                confirmed,
            } => self.sign_up(username, email, claim, confirmed),
            Op::Reindex => self.reindex(),
            Op::Disable(user) => {
                if let Some(l) = self.legacy.get_mut(SEEDS[user].0) {
                    l.user.enabled = false;
                }
            }
            Op::Delete(user) => {
                self.legacy.remove(SEEDS[user].0);
            }
            Op::SetEmail {
                user,
                email,
                verified,
            } => {
                // Cognito takes only an address in e-mail format.
                let emails = emails();
                if let Some(l) = self.legacy.get_mut(SEEDS[user].0) {
                    let attributes = &mut l.user.attributes;
                    attributes.insert("email".into(), emails[email % emails.len()].into());
                    attributes.insert("email_verified".into(), verified.to_string());
                }
            }
            Op::RemoveGroups(user) => {
                if let Some(l) = self.legacy.get_mut(SEEDS[user].0) {
                    l.user.groups.clear();
                }
            }
        }
    }

    fn sign_in(&mut self, typed: &str, password: &str, delivery: Delivery) {
        if key(typed).is_none() {
            return;
        }
        if let Some(name) = self.lookup(typed) {
            // In the new pool: Cognito checks the password itself.
            if self.new_pool[&name].password.as_deref() == Some(password) {
                self.after_sign_in(&name);
            }
            return;
        }
        let mut raw = event("user-migration-authentication", typed);
        raw["request"]["password"] = password.into();
        let Some(outcome) = self.run_migration(raw, delivery) else {
            return;
        };
        let approval = outcome.approval.as_ref().unwrap();
        let legacy = &self.legacy[&approval.legacy_username];
        assert_eq!(
            legacy.password, password,
            "`{typed}` migrated `{}` with another user's password",
            approval.legacy_username
        );
        let reset = approval.final_user_status == FinalUserStatus::ResetRequired;
        let password = (!reset).then(|| password.to_owned());
        if let Some(name) = self.create(typed, &outcome, password)
            && !reset
        {
            self.after_sign_in(&name);
        }
    }

    /// Runs the migration trigger on `raw` as Cognito delivers it. Returns the approval
    /// Cognito carries out, if any.
    fn run_migration(&mut self, raw: Value, delivery: Delivery) -> Option<Outcome> {
        let before = self.ledger.clone();
        let outcome = self.invoke(raw.clone());
        let Some(approval) = &outcome.approval else {
            assert_only_refusals(&before, &self.ledger);
            return None;
        };
        let first = self
            .approved
            .entry(approval.legacy_username.clone())
            .or_insert_with(|| approval.new_username.clone());
        assert_eq!(
            *first, approval.new_username,
            "`{}` was approved under two new usernames",
            approval.legacy_username
        );
        match delivery {
            Delivery::Once => Some(outcome),
            Delivery::Lost => None,
            Delivery::Retried => {
                let again = self.invoke(raw);
                let retried = again
                    .approval
                    .as_ref()
                    .expect("a retried migration is approved again");
                assert_eq!(again.verdict, Verdict::ApprovedAgain);
                assert_eq!(retried.legacy_username, approval.legacy_username);
                assert_eq!(
                    (
                        &retried.new_username,
                        retried.user_attributes.get("username")
                    ),
                    (
                        &approval.new_username,
                        approval.user_attributes.get("username")
                    ),
                    "a retried migration names another user"
                );
                Some(again)
            }
        }
    }

    /// Cognito creates the user the trigger approved, named as the shape names it. Returns its
    /// username, `None` when Cognito refuses.
    fn create(
        &mut self,
        typed: &str,
        outcome: &Outcome,
        password: Option<String>,
    ) -> Option<String> {
        let approval = outcome.approval.as_ref().unwrap();
        let mut attributes = approval.user_attributes.clone();
        let named = attributes.remove("username");
        let typed_key = key(typed).unwrap();
        let sub = self.fresh_sub();
        let username = match self.shape {
            Shape::Plain => {
                assert!(
                    named.is_none(),
                    "a response names a username in a pool of plain usernames"
                );
                typed_key
            }
            Shape::ByAttribute { .. } => {
                assert!(
                    named.is_none(),
                    "a response names a username in a pool that names its users itself"
                );
                sub.clone()
            }
            Shape::Aliases { .. } => match named {
                Some(name) => {
                    assert!(
                        self.shape.sign_in_attributes().iter().any(|&a| attributes
                            .get(a)
                            .and_then(|v| key(v))
                            .as_ref()
                            == Some(&typed_key)),
                        "the response names its own username, but `{typed}` is on no alias attribute"
                    );
                    key(&name).unwrap()
                }
                None => typed_key,
            },
        };
        let user = NewUser {
            username,
            sub,
            attributes,
            password,
            groups: BTreeSet::new(),
            person: Person::Legacy(approval.legacy_username.clone()),
        };
        if let Some((why, holder)) = self.refuses(&user) {
            // Only a migration of someone already in the pool (a retry of one approved but
            // not yet confirmed) may fail there, and it changes nothing.
            assert!(
                holder.is_some_and(|h| h.person == user.person),
                "the trigger approved `{typed}` for `{}`, which Cognito refuses: {why}",
                approval.legacy_username
            );
            return None;
        }
        self.check_migrated(&user, approval);
        let name = user.username.clone();
        self.new_pool.insert(name.clone(), user);
        Some(name)
    }

    /// A sign-up in the shape's form: any name in a pool of plain usernames, an e-mail address
    /// where e-mail is the username, a name in no alias's format in an alias pool. `confirmed`:
    /// the person proved the address with the code Cognito sent.
    fn sign_up(&mut self, username: usize, email: usize, claim: Option<usize>, confirmed: bool) {
        let emails = emails();
        let email = emails[email % emails.len()];
        let sub = self.fresh_sub();
        let typed_name = match self.shape {
            Shape::Plain => TYPED[username],
            Shape::ByAttribute { .. } => sub.as_str(),
            Shape::Aliases { .. } => {
                let names: Vec<&str> = TYPED
                    .into_iter()
                    .filter(|n| !self.shape.refuses_username(n))
                    .collect();
                names[username % names.len()]
            }
        };
        let Some(name) = key(typed_name) else { return };
        let mut attributes = BTreeMap::from([("email".to_owned(), email.to_owned())]);
        let mut user = NewUser {
            username: name,
            sub: sub.clone(),
            attributes: attributes.clone(),
            password: Some(format!("own-{sub}")),
            groups: BTreeSet::new(),
            person: Person::SignUp(self.next_sub),
        };
        if self.refuses(&user).is_some() {
            return;
        }
        let mut raw = event("pre-sign-up", typed_name);
        if let Some(claim) = claim {
            attributes.insert("custom:legacy_username".into(), SEEDS[claim].0.into());
        }
        raw["request"]["userAttributes"] = json!(attributes);
        let outcome = self.invoke(raw);
        if claim.is_some() {
            assert!(
                outcome.result.is_err(),
                "a sign-up naming a legacy user goes on"
            );
        }
        if outcome.result.is_err() {
            return;
        }
        if confirmed {
            let mut proved = user.clone();
            proved
                .attributes
                .insert("email_verified".into(), "true".into());
            // Confirming an address another user signs in with fails (`AliasExistsException`).
            if self.refuses(&proved).is_none() {
                user = proved;
            }
        }
        self.check_signed_up(&user);
        self.new_pool.insert(user.username.clone(), user);
    }

    // --- what must hold ---

    /// A user a migration creates signs in only with proven identifiers of its legacy user (or
    /// the username generated for it), receives codes only where the legacy pool verified that
    /// very value for that user, and signs in with the name the ledger binds.
    fn check_migrated(&self, user: &NewUser, approval: &Approval) {
        let legacy = &self.legacy[&approval.legacy_username].user;
        let proven: BTreeSet<String> = legacy
            .sign_in_identifiers(&self.config.legacy_sign_in)
            .filter_map(|(_, id)| key(id))
            .collect();
        let generated = match self.shape {
            Shape::ByAttribute { .. } => user.sub.clone(),
            _ => generated_username(legacy),
        };
        let ids = self.sign_in_ids(user);
        for id in &ids {
            assert!(
                proven.contains(id) || (*id == user.username && *id == generated),
                "`{}` signs in as `{id}`, which is no proven identifier of `{}`",
                user.username,
                legacy.username
            );
        }
        // Nor with one another legacy user holds more strongly, as the legacy pool ranked
        // them: a username, then a verified value, then an unverified one.
        for id in ids.iter().filter(|id| **id != generated) {
            let mine = self.strength(legacy, id);
            for other in self
                .ledger
                .iter()
                .filter(|e| e.user.username != legacy.username)
            {
                assert!(
                    self.strength(&other.user, id) <= mine,
                    "`{}` signs in as `{id}`, which `{}` holds more strongly than `{}`",
                    user.username,
                    other.user.username,
                    legacy.username
                );
            }
        }
        for attribute in ["email", "phone_number"] {
            if verified(&user.attributes, attribute) {
                let value = user.attributes.get(attribute).and_then(|v| key(v));
                let legacy_verified = match attribute {
                    "email" => legacy.email_verified(),
                    _ => legacy.phone_verified(),
                };
                assert!(
                    legacy_verified
                        && value.is_some()
                        && value == legacy.attribute(attribute).and_then(key),
                    "`{}` receives codes at {attribute} {value:?}, which `{}` never verified",
                    user.username,
                    legacy.username
                );
            }
        }
        assert!(
            ids.contains(&approval.new_username),
            "the ledger binds `{}` to `{}`, a name `{}` does not sign in with",
            legacy.username,
            approval.new_username,
            user.username
        );
    }

    /// How strongly `user` holds the identifier `id` (canonical): 3 as its username, 2 as a
    /// verified value, 1 as a value the legacy pool signed in with unverified, 0 not at all.
    fn strength(&self, user: &LegacyUser, id: &str) -> u8 {
        user.identifiers()
            .filter(|(_, value)| key(value).as_deref() == Some(id))
            .map(
                |(name, _)| match (name, user.proves(name, &self.config.legacy_sign_in)) {
                    ("username", _) => 3,
                    (_, Proof::Verified) => 2,
                    (_, Proof::Unverified) => 1,
                    (_, Proof::None) => 0,
                },
            )
            .max()
            .unwrap_or(0)
    }

    /// A sign-up never signs in with a proven identifier of a legacy user who has not moved yet.
    fn check_signed_up(&self, user: &NewUser) {
        let ids = self.sign_in_ids(user);
        for entry in self.ledger.iter().filter(|e| !e.state.is_done()) {
            for (_, id) in entry.user.sign_in_identifiers(&self.config.legacy_sign_in) {
                assert!(
                    !key(id).is_some_and(|id| ids.contains(&id)),
                    "a sign-up signs in as `{id}`, an identifier of `{}`, who has not moved yet",
                    entry.user.username
                );
            }
        }
    }

    /// Groups reach a new-pool user only when it is the person they were migrated for and the
    /// ledger binds that legacy user to it.
    fn check_owner(&self, user: &NewUser, what: &str) {
        let legacy = user.attributes.get("custom:legacy_username");
        assert!(
            matches!(&user.person, Person::Legacy(l) if Some(l) == legacy),
            "{what} `{}` ({:?}), which was not migrated for `{legacy:?}`",
            user.username,
            user.person
        );
        let owns = match legacy.and_then(|l| self.entry(l)).map(|e| &e.state) {
            Some(MigrationState::Migrated {
                new_sub: Some(sub), ..
            }) => *sub == user.sub,
            Some(state) => state
                .bound_to()
                .is_some_and(|bound| self.sign_in_ids(user).iter().any(|id| id == bound)),
            None => false,
        };
        assert!(
            owns,
            "{what} `{}`, which the ledger does not bind `{legacy:?}` to",
            user.username
        );
    }

    /// Tokens carry legacy groups only for the bound owner, and only its own.
    fn check_token_groups(&self, name: &str, tokens: &BTreeSet<String>) {
        let user = &self.new_pool[name];
        if !tokens.is_subset(&user.groups) {
            self.check_owner(user, "the tokens carry legacy groups for");
        }
        let mut own = user.groups.clone();
        if let Person::Legacy(legacy) = &user.person {
            own.extend(seed_groups(legacy));
        }
        assert!(
            tokens.is_subset(&own),
            "the tokens of `{}` carry another person's groups: {tokens:?}",
            user.username
        );
    }

    fn check_invariants(&mut self) {
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
        let mut signs_in: BTreeMap<String, &str> = BTreeMap::new();
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
                self.check_owner(user, "the new pool holds groups for");
                let own = match &user.person {
                    Person::Legacy(legacy) => seed_groups(legacy),
                    Person::SignUp(_) => BTreeSet::new(),
                };
                assert!(
                    user.groups.is_subset(&own),
                    "`{name}` holds another person's groups: {:?}",
                    user.groups
                );
            }
            for id in self.sign_in_ids(user) {
                let previous = signs_in.insert(id.clone(), name);
                assert!(
                    previous.is_none_or(|p| p == name),
                    "`{id}` signs in both `{}` and `{name}`",
                    previous.unwrap_or_default()
                );
            }
        }
        // Once an identifier signs a person in, it never signs in another.
        for typed in TYPED {
            let Some(found) = self.lookup(typed) else {
                continue;
            };
            let person = self.new_pool[&found].person.clone();
            let first = self
                .named
                .entry(key(typed).unwrap())
                .or_insert_with(|| person.clone());
            assert_eq!(*first, person, "`{typed}` moved from one person to another");
        }
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

/// How the legacy pool signed in: plain usernames, e-mail as username, or aliases.
fn legacy_sign_in(shape: usize) -> LegacySignIn {
    match shape {
        0 => LegacySignIn::default(),
        1 => LegacySignIn {
            username_attributes: vec!["email".into()],
            alias_attributes: Vec::new(),
        },
        _ => LegacySignIn {
            username_attributes: Vec::new(),
            alias_attributes: vec!["email".into(), "preferred_username".into()],
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_sequence_of_sign_ins_sign_ups_and_legacy_changes_breaks_an_identity(
        legacy_pool in 0..3_usize,
        new_pool in 0..SHAPES.len(),
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        // Which legacy values count, and how the new pool names and finds users, change with
        // the shapes; the invariants do not.
        let mut world = World::new(SHAPES[new_pool], legacy_sign_in(legacy_pool));
        for op in &ops {
            world.step(op);
            world.check_invariants();
        }
    }
}

/// Signs in with each `(typed, seed whose password)`, checking the invariants after each.
fn sign_in_all(world: &mut World, attempts: &[(&str, usize)]) {
    for &(typed, password) in attempts {
        world.step(&Op::SignIn {
            typed: TYPED.iter().position(|t| *t == typed).unwrap(),
            password,
            delivery: Delivery::Once,
        });
        world.check_invariants();
    }
}

#[test]
fn the_model_migrates_what_it_should() {
    // The model is no use if nothing ever migrates: the registered names and passwords do.
    let mut world = World::new(Shape::Plain, LegacySignIn::default());
    sign_in_all(
        &mut world,
        &[
            ("NAME@ACME.COM", 1),
            ("Name@Acme.com", 0),
            ("STRASSE@acme.test", 2),
            ("victim@acme.test", 5),
            ("boss", 7),
            ("+15550100", 10),
        ],
    );
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
        let mut other = World::new(Shape::Plain, LegacySignIn::default());
        for password in ["pw-mallory", "pw-strasse", "pw-name"] {
            other.sign_in(typed, password, Delivery::Once);
        }
        assert!(
            other.new_pool.is_empty(),
            "{typed}: {:?}",
            other.new_pool.keys()
        );
    }
    assert_eq!(match_key("ｎａｍｅ@acme.com"), match_key("name@acme.com"));
}

#[test]
fn the_model_names_users_as_each_shape_does() {
    // E-mail as username: Cognito generates the username, the user signs in with its address,
    // and the groups follow the generated name.
    let mut world = World::new(Shape::ByAttribute { phone: true }, LegacySignIn::default());
    sign_in_all(&mut world, &[("victim@acme.test", 5), ("+15550100", 10)]);
    let victim = &world.new_pool[&world.lookup("victim@acme.test").unwrap()];
    assert!(victim.username.starts_with("new-sub-"));
    assert_eq!(victim.groups, BTreeSet::from(["finance".to_owned()]));
    assert!(world.lookup("+15550100").is_some());
    assert!(
        world
            .ledger
            .iter()
            .filter(|e| e.state.bound_to().is_some())
            .all(|e| e.state.is_done())
    );

    // Aliases: a username of its own, the address typed on the e-mail alias, verified only
    // because the legacy pool verified it; a username in e-mail format becomes `u-<sub>`.
    let mut world = World::new(Shape::Aliases { phone: false }, LegacySignIn::default());
    sign_in_all(
        &mut world,
        &[("victim@acme.test", 5), ("Name@Acme.com", 0), ("boss", 7)],
    );
    let victim = &world.new_pool["victim"];
    assert_eq!(victim.attributes["email"], "victim@acme.test");
    assert_eq!(victim.attributes["email_verified"], "true");
    assert_eq!(
        world.lookup("Name@Acme.com").as_deref(),
        Some("u-legacy-sub-0")
    );
    assert_eq!(world.lookup("boss").as_deref(), Some("boss"));
    assert_eq!(
        world.new_pool["boss"].groups,
        BTreeSet::from(["admins".to_owned()])
    );
    // A sign-up in that pool is named without an address's format, and the address it proved
    // stays unverified while another user signs in with it.
    let names: Vec<&str> = TYPED.into_iter().filter(|t| !is_email_format(t)).collect();
    let emails = emails();
    world.sign_up(
        names.iter().position(|n| *n == "stranger").unwrap(),
        emails
            .iter()
            .position(|e| *e == "victim@acme.test")
            .unwrap(),
        None,
        true,
    );
    let stranger = &world.new_pool["stranger"];
    assert_eq!(stranger.attributes["email"], "victim@acme.test");
    assert!(!verified(&stranger.attributes, "email"));
    assert_eq!(world.lookup("victim@acme.test").as_deref(), Some("victim"));
}
