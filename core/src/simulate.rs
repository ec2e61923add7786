//! Offline simulation of what the trigger would answer: the Lambda's own [`Invocation`], driven
//! against assumed answers instead of AWS (the ledger entries stand for the ledger and the
//! legacy pool, password checks are assumed). Shared by `cognito-migrate simulate` and the
//! browser package.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use std::collections::BTreeSet;

use crate::event::TriggerEvent;
use crate::groups::{GroupPlan, GroupSpec};
use crate::keys::match_key;
use crate::ledger::{LedgerEntry, MigrationState};
use crate::migrate::{Approval, Challenge, MigrationConfig, PasswordOutcome};
use crate::reason::ReasonCode;
use crate::trigger::{Answer, Context, Invocation, Request, WriteResult, filed_under};

/// An assumed answer of the legacy pool to a password check, by its word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssumedOutcome {
    /// `ok`: tokens, the password is right.
    Ok,
    /// `wrong`: `NotAuthorizedException`.
    Wrong,
    /// `disabled`: `NotAuthorizedException: User is disabled.`
    Disabled,
    /// `not-found`: `UserNotFoundException`.
    NotFound,
    /// `reset-required`: `PasswordResetRequiredException`.
    ResetRequired,
    /// `not-confirmed`: `UserNotConfirmedException`.
    NotConfirmed,
    /// `sms-mfa`: right password, `SMS_MFA` challenge.
    SmsMfa,
    /// `totp-mfa`: right password, `SOFTWARE_TOKEN_MFA` challenge.
    TotpMfa,
    /// `select-mfa`: right password, `SELECT_MFA_TYPE` challenge.
    SelectMfa,
    /// `mfa-setup`: right password, `MFA_SETUP` challenge.
    MfaSetup,
    /// `new-password-required`: right temporary password, `NEW_PASSWORD_REQUIRED` challenge.
    NewPasswordRequired,
}

impl AssumedOutcome {
    /// Every outcome, in the order the words are listed.
    pub const ALL: [Self; 11] = [
        Self::Ok,
        Self::Wrong,
        Self::Disabled,
        Self::NotFound,
        Self::ResetRequired,
        Self::NotConfirmed,
        Self::SmsMfa,
        Self::TotpMfa,
        Self::SelectMfa,
        Self::MfaSetup,
        Self::NewPasswordRequired,
    ];

    /// The word: `ok`, `wrong`, `disabled`, ...
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Wrong => "wrong",
            Self::Disabled => "disabled",
            Self::NotFound => "not-found",
            Self::ResetRequired => "reset-required",
            Self::NotConfirmed => "not-confirmed",
            Self::SmsMfa => "sms-mfa",
            Self::TotpMfa => "totp-mfa",
            Self::SelectMfa => "select-mfa",
            Self::MfaSetup => "mfa-setup",
            Self::NewPasswordRequired => "new-password-required",
        }
    }

    /// The password check's outcome it stands for.
    #[must_use]
    pub fn outcome(self) -> PasswordOutcome {
        match self {
            Self::Ok => PasswordOutcome::Accepted,
            Self::Wrong => PasswordOutcome::WrongPassword,
            Self::Disabled => PasswordOutcome::Disabled,
            Self::NotFound => PasswordOutcome::UserNotFound,
            Self::ResetRequired => PasswordOutcome::ResetRequired,
            Self::NotConfirmed => PasswordOutcome::NotConfirmed,
            Self::SmsMfa => PasswordOutcome::Challenge(Challenge::SmsMfa),
            Self::TotpMfa => PasswordOutcome::Challenge(Challenge::SoftwareTokenMfa),
            Self::SelectMfa => PasswordOutcome::Challenge(Challenge::SelectMfaType),
            Self::MfaSetup => PasswordOutcome::Challenge(Challenge::MfaSetup),
            Self::NewPasswordRequired => PasswordOutcome::Challenge(Challenge::NewPasswordRequired),
        }
    }
}

impl fmt::Display for AssumedOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A word that names no outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not one of: ok, wrong, disabled, not-found, reset-required, not-confirmed, sms-mfa, totp-mfa, select-mfa, mfa-setup, new-password-required"
)]
pub struct UnknownOutcome(pub String);

impl FromStr for AssumedOutcome {
    type Err = UnknownOutcome;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let word = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|outcome| outcome.word() == word)
            .ok_or_else(|| UnknownOutcome(text.to_owned()))
    }
}

pub use crate::trigger::Verdict;

/// One password check the simulation assumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssumedCheck {
    /// The legacy username checked.
    pub username: String,
    /// The outcome assumed.
    pub outcome: &'static str,
}

/// The result of a simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    /// `triggerSource`.
    pub trigger_source: String,
    /// `userName`.
    pub user_name: String,
    /// Its match key.
    pub match_key: String,
    /// Legacy usernames the ledger returned, as the trigger read them.
    pub candidates: Vec<String>,
    /// What the trigger did.
    pub decision: Verdict,
    /// Why, for every outcome that is not an approval, an allowed sign-up or a group change.
    pub reason_code: Option<ReasonCode>,
    /// A plain-language explanation of the reason.
    pub explanation: Option<String>,
    /// The approved migration.
    pub approval: Option<Approval>,
    /// The password checks made, with their assumed outcomes.
    pub checks: Vec<AssumedCheck>,
    /// The group plan post authentication carries out.
    pub group_plan: Option<GroupPlan>,
    /// What the trigger writes to the ledger, in order.
    pub ledger_writes: Vec<String>,
    /// The steps, in plain language.
    pub trace: Vec<String>,
    /// What the client would see from Cognito.
    pub client_message: String,
    /// The event the trigger returns; `null` when it fails the request instead.
    pub response: Value,
    /// The ledger as the invocation left it, for a simulation of the next event.
    #[serde(skip)]
    pub ledger: Vec<LedgerEntry>,
}

/// The assumed world a simulation runs against: the ledger entries stand for both the ledger
/// and the legacy pool, writes change them, password checks are answered by `assume`.
struct AssumedWorld<'e, F> {
    entries: Vec<LedgerEntry>,
    assume: F,
    checks: Vec<AssumedCheck>,
    writes: Vec<String>,
    event: &'e TriggerEvent,
}

impl<F: FnMut(&str) -> AssumedOutcome> AssumedWorld<'_, F> {
    fn entry_mut(&mut self, legacy_username: &str) -> Option<&mut LedgerEntry> {
        self.entries
            .iter_mut()
            .find(|e| e.user.username == legacy_username)
    }

    fn perform(&mut self, request: &Request) -> Answer {
        match request {
            Request::LedgerCandidates { keys } => Answer::Records(
                filed_under(&self.entries, keys)
                    .into_iter()
                    .cloned()
                    .collect(),
            ),
            Request::LegacyUser { username } => Answer::LegacyUser(
                self.entries
                    .iter()
                    .find(|e| &e.user.username == username)
                    .map(|e| e.user.clone()),
            ),
            Request::CheckPassword { username } => {
                let assumed = (self.assume)(username);
                self.checks.push(AssumedCheck {
                    username: username.clone(),
                    outcome: assumed.word(),
                });
                Answer::Password(assumed.outcome())
            }
            Request::LedgerRecord { legacy_username } => Answer::Record(
                self.entries
                    .iter()
                    .find(|e| &e.user.username == legacy_username)
                    .cloned(),
            ),
            // The simulation has no new pool: nobody there holds an alias yet.
            Request::AliasHolders { .. } => Answer::NewPoolUsers(Vec::new()),
            Request::RecordMigration {
                legacy_username,
                new_username,
                at_ms,
            } => Answer::Migration(self.record_migration(legacy_username, new_username, *at_ms)),
            Request::ConfirmMigration {
                legacy_username,
                new_username,
                new_sub,
                at_ms,
            } => self.confirm_migration(legacy_username, new_username, new_sub.as_deref(), *at_ms),
            Request::RecordRefusal {
                legacy_usernames,
                reason,
                at_ms,
            } => {
                for name in legacy_usernames {
                    if let Some(entry) = self.entry_mut(name) {
                        entry.state = MigrationState::Refused {
                            reason: *reason,
                            at_ms: *at_ms,
                        };
                    }
                    self.writes
                        .push(format!("Record the refusal ({reason}) on `{name}`."));
                }
                Answer::Done
            }
            Request::LegacyGroups { legacy_username } => Answer::LegacyGroups(
                self.entries
                    .iter()
                    .find(|e| &e.user.username == legacy_username)
                    .map(|e| {
                        e.user
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
            Request::NewPoolGroups { .. } => Answer::NewPoolGroups {
                existing: BTreeSet::new(),
                memberships: self.memberships(),
            },
            Request::ApplyGroups { username, plan, .. } => {
                self.writes.push(format!(
                    "Create {} group(s) in the new pool and add `{username}` to {}.",
                    plan.create.len(),
                    plan.add.len()
                ));
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
                self.writes
                    .push(format!("Mark the groups of `{legacy_username}` copied."));
                Answer::Done
            }
        }
    }

    /// The new pool's groups of the user: the event's `groupsToOverride`.
    fn memberships(&self) -> BTreeSet<String> {
        // One insert at a time: collecting into a `BTreeSet` sorts first, which links a stable
        // sort into the WebAssembly module for a handful of names.
        let mut memberships = BTreeSet::new();
        for group in self.event.groups_to_override() {
            memberships.insert(group);
        }
        memberships
    }

    /// The ledger's conditional write ([`MigrationState::approve`]); the new username is
    /// claimed by one legacy user.
    fn record_migration(&mut self, legacy: &str, new_username: &str, at_ms: i64) -> WriteResult {
        let claimed_by_other = self
            .entries
            .iter()
            .any(|e| e.user.username != legacy && e.state.bound_to() == Some(new_username));
        let Some(entry) = self.entry_mut(legacy) else {
            return WriteResult::Conflict;
        };
        if claimed_by_other {
            return WriteResult::Conflict;
        }
        match entry.state.approve(new_username, at_ms) {
            Ok(Some(state)) => {
                entry.state = state;
                self.writes.push(format!(
                    "Record `{legacy}` as approved under `{new_username}` and claim that username for it."
                ));
                WriteResult::Recorded
            }
            Ok(None) => WriteResult::AlreadyRecorded,
            Err(_) => WriteResult::Conflict,
        }
    }

    /// Post authentication's confirmation ([`MigrationState::confirm`]).
    fn confirm_migration(
        &mut self,
        legacy: &str,
        new_username: &str,
        new_sub: Option<&str>,
        at_ms: i64,
    ) -> Answer {
        let Some(entry) = self.entry_mut(legacy) else {
            return Answer::Failed;
        };
        match entry.state.confirm(new_username, new_sub, at_ms) {
            Ok(state) => {
                entry.state = state;
                self.writes.push(format!(
                    "Record `{legacy}` as migrated to `{new_username}`, with its new sub."
                ));
                Answer::Done
            }
            Err(_) => Answer::Failed,
        }
    }
}

/// Simulates the trigger on `event`, with `entries` standing for the ledger and the legacy
/// pool, `assume` answering each password check, and `now_ms` as the current time. It runs
/// the very [`Invocation`] the Lambda runs.
pub fn simulate(
    event: &TriggerEvent,
    entries: &[LedgerEntry],
    config: &MigrationConfig,
    now_ms: i64,
    assume: impl FnMut(&str) -> AssumedOutcome,
) -> Simulation {
    let mut world = AssumedWorld {
        entries: entries.to_vec(),
        assume,
        checks: Vec::new(),
        writes: Vec::new(),
        event,
    };
    let mut invocation = Invocation::start(event, Context::new(config, now_ms));
    while let Some(request) = invocation.request() {
        let answer = world.perform(request);
        invocation.answer(answer);
    }
    let outcome = invocation.finish();
    Simulation {
        trigger_source: event.source().to_string(),
        user_name: event.user_name().to_owned(),
        match_key: match_key(event.user_name()).into_string(),
        candidates: outcome.candidates.clone(),
        decision: outcome.verdict,
        reason_code: outcome.reason,
        explanation: outcome.reason.map(|code| code.explain().to_owned()),
        client_message: outcome.client_message(event.source()),
        response: outcome.response(),
        approval: outcome.approval,
        checks: world.checks,
        group_plan: outcome.group_plan,
        ledger_writes: world.writes,
        trace: outcome.trace,
        ledger: world.entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signup::SIGN_UP_REFUSED_MESSAGE;
    use crate::user::LegacyUser;

    fn run(
        event: &TriggerEvent,
        entries: &[LedgerEntry],
        config: &MigrationConfig,
        assume: impl FnMut(&str) -> AssumedOutcome,
    ) -> Simulation {
        simulate(event, entries, config, 1_700_000_000_000, assume)
    }

    fn event(name: &str, user_name: &str) -> TriggerEvent {
        let path = format!(
            "{}/tests/fixtures/events/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        raw["userName"] = user_name.into();
        TriggerEvent::from_value(raw).unwrap()
    }

    fn pair() -> Vec<LedgerEntry> {
        ["Name@Acme.com", "name@acme.com", "other@acme.com"]
            .into_iter()
            .map(|name| {
                let mut user = LegacyUser::new(
                    name,
                    [
                        ("email".to_owned(), name.to_owned()),
                        ("email_verified".to_owned(), "true".to_owned()),
                    ]
                    .into(),
                );
                user.groups = vec!["staff".into()];
                LedgerEntry::pending(user)
            })
            .collect()
    }

    #[test]
    fn words_round_trip() {
        for outcome in AssumedOutcome::ALL {
            assert_eq!(outcome.word().parse::<AssumedOutcome>(), Ok(outcome));
            assert_eq!(outcome.to_string(), outcome.word());
        }
        assert_eq!(" OK ".parse::<AssumedOutcome>(), Ok(AssumedOutcome::Ok));
        assert!(
            "merge"
                .parse::<AssumedOutcome>()
                .unwrap_err()
                .to_string()
                .contains("not-found")
        );
    }

    #[test]
    fn each_password_reaches_its_own_owner() {
        let entries = pair();
        let config = MigrationConfig::default();
        let sim = run(
            &event("user-migration-authentication", "NAME@acme.com"),
            &entries,
            &config,
            |u| {
                if u == "name@acme.com" {
                    AssumedOutcome::Ok
                } else {
                    AssumedOutcome::Wrong
                }
            },
        );
        assert_eq!(sim.candidates, ["Name@Acme.com", "name@acme.com"]);
        assert_eq!(sim.decision, Verdict::Approved);
        assert_eq!(sim.approval.unwrap().legacy_username, "name@acme.com");
        assert_eq!(sim.checks.len(), 2);
        assert_eq!(sim.response["response"]["finalUserStatus"], "CONFIRMED");
    }

    #[test]
    fn a_shared_password_is_refused_with_its_reason() {
        let sim = run(
            &event("user-migration-authentication", "name@acme.com"),
            &pair(),
            &MigrationConfig::default(),
            |_| AssumedOutcome::Ok,
        );
        assert_eq!(sim.decision, Verdict::Refused);
        assert_eq!(sim.reason_code, Some(ReasonCode::Ambiguous));
        assert_eq!(
            sim.client_message,
            "NotAuthorizedException: Incorrect username or password."
        );
        assert!(sim.explanation.unwrap().contains("more than one"));
    }

    #[test]
    fn sign_ups_and_tokens_are_simulated() {
        let entries = pair();
        let config = MigrationConfig::default();
        let sim = run(&event("pre-sign-up", "someone"), &entries, &config, |_| {
            AssumedOutcome::Ok
        });
        assert_eq!(sim.decision, Verdict::Refused);
        assert_eq!(sim.reason_code, Some(ReasonCode::IdentifierTaken));
        assert_eq!(
            sim.explanation.as_deref(),
            Some(ReasonCode::IdentifierTaken.explain())
        );
        assert_eq!(sim.response, Value::Null);
        assert!(sim.client_message.contains(SIGN_UP_REFUSED_MESSAGE));
        let sim = run(
            &event("token-generation-authentication", "name@acme.com"),
            &pair_with_one_migrated(),
            &config,
            |_| AssumedOutcome::Ok,
        );
        assert_eq!(sim.decision, Verdict::GroupsAdded);
        assert_eq!(
            sim.response["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
            serde_json::json!(["staff"])
        );
        let sim = run(&event("custom-message", "x"), &entries, &config, |_| {
            AssumedOutcome::Ok
        });
        assert_eq!(sim.decision, Verdict::Unchanged);
        assert!(sim.checks.is_empty());
    }

    /// The pair, `Name@Acme.com` migrated to the new-pool user `name@acme.com`.
    fn pair_with_one_migrated() -> Vec<LedgerEntry> {
        let mut entries = pair();
        entries[0].state = MigrationState::Migrated {
            new_username: "name@acme.com".into(),
            at_ms: 1,
            new_sub: None,
        };
        entries
    }

    #[test]
    fn post_authentication_copies_the_groups_and_marks_them() {
        let entries = pair_with_one_migrated();
        let config = MigrationConfig::default();
        let sim = run(
            &event("post-authentication", "name@acme.com"),
            &entries,
            &config,
            |_| AssumedOutcome::Ok,
        );
        assert_eq!(sim.decision, Verdict::GroupsCopied, "{:?}", sim.trace);
        let plan = sim.group_plan.unwrap();
        assert_eq!(plan.add, ["staff"]);
        assert_eq!(sim.ledger_writes.len(), 2);
        assert_eq!(
            sim.response,
            event("post-authentication", "name@acme.com").unchanged()
        );
    }

    #[test]
    fn an_approval_claims_the_new_username_once() {
        let mut entries = pair();
        let config = MigrationConfig::default();
        let only = |name: &'static str| {
            move |u: &str| {
                if u == name {
                    AssumedOutcome::Ok
                } else {
                    AssumedOutcome::Wrong
                }
            }
        };
        let first = run(
            &event("user-migration-authentication", "name@acme.com"),
            &entries,
            &config,
            only("name@acme.com"),
        );
        assert_eq!(first.decision, Verdict::Approved);
        assert_eq!(first.ledger_writes.len(), 1);
        // The ledger as the first sign-in left it: the other user of the pair cannot take the
        // same new username.
        entries[1].state = MigrationState::Migrated {
            new_username: "name@acme.com".into(),
            at_ms: 1,
            new_sub: None,
        };
        let second = run(
            &event("user-migration-authentication", "NAME@ACME.COM"),
            &entries,
            &config,
            only("Name@Acme.com"),
        );
        assert_eq!(second.decision, Verdict::Refused);
        assert_eq!(second.reason_code, Some(ReasonCode::LedgerConflict));
    }
}
