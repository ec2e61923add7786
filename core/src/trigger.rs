//! One decision path for every trigger source: the Lambda and the simulator drive the same
//! [`Invocation`].
//!
//! An invocation asks for what it needs one [`Request`] at a time (a ledger query, a legacy
//! lookup, a password check, a ledger write, a group copy) and takes each [`Answer`]; when it
//! asks for nothing more, [`Invocation::finish`] returns the [`Outcome`]: the event to return or
//! the [`Failure`] to fail with, a [`Verdict`], and a [`ReasonCode`] for everything that is not
//! an approval. The adapter performs the requests and nothing else: the Lambda against AWS, the
//! simulator ([`crate::simulate`]) against assumed answers. The current time comes in with the
//! [`Context`]; nothing here reads a clock.
//!
//! ```
//! use cognito_migrate_core::event::TriggerEvent;
//! use cognito_migrate_core::ledger::LedgerEntry;
//! use cognito_migrate_core::migrate::{MigrationConfig, PasswordOutcome};
//! use cognito_migrate_core::trigger::{Answer, Context, Invocation, Request, Verdict, WriteResult};
//! use cognito_migrate_core::user::LegacyUser;
//!
//! let event = TriggerEvent::from_json_str(r#"{
//!     "version": "1", "triggerSource": "UserMigration_Authentication", "region": "us-east-1",
//!     "userPoolId": "us-east-1_new", "userName": "name@acme.com",
//!     "callerContext": {"awsSdkVersion": "x", "clientId": "c"},
//!     "request": {"password": "correct horse", "validationData": null},
//!     "response": {}
//! }"#).unwrap();
//! let config = MigrationConfig::default();
//! let mut invocation = Invocation::start(&event, Context::new(&config, 1_700_000_000_000));
//! while let Some(request) = invocation.request() {
//!     let answer = match request {
//!         Request::LedgerCandidates { .. } => Answer::Records(vec![LedgerEntry::pending(
//!             LegacyUser::new("Name@Acme.com", Default::default()),
//!         )]),
//!         Request::CheckPassword { .. } => Answer::Password(PasswordOutcome::Accepted),
//!         // Before approving, the legacy user is read again: the index may be stale.
//!         Request::LegacyUser { .. } => Answer::LegacyUser(Some(LegacyUser::new(
//!             "Name@Acme.com",
//!             Default::default(),
//!         ))),
//!         Request::RecordMigration { new_username, .. } => {
//!             assert_eq!(new_username, "name@acme.com");
//!             Answer::Migration(WriteResult::Recorded)
//!         }
//!         other => panic!("not asked here: {other:?}"),
//!     };
//!     invocation.answer(answer);
//! }
//! let outcome = invocation.finish();
//! assert_eq!(outcome.verdict, Verdict::Approved);
//! assert_eq!(outcome.reason, None);
//! ```

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::attributes::LEGACY_USERNAME;
use crate::event::{PreSignUpSource, TriggerEvent, TriggerSource};
use crate::groups::{GroupPlan, GroupSpec, token_group_override};
use crate::keys::{MatchKey, canonical_username, match_key};
use crate::ledger::{LedgerEntry, MigrationState};
use crate::migrate::{Approval, MigrationConfig, PasswordOutcome};
use crate::reason::ReasonCode;
use crate::signup::{SIGN_UP_REFUSED_MESSAGE, SignUpDecision, decide_sign_up, sign_up_keys};
use crate::user::LegacyUser;

mod migration;
mod post_authentication;

use migration::MigrationPhase;

/// How long after the group copy the token trigger still adds the legacy groups: Cognito runs
/// post authentication before generating that sign-in's tokens, and its group changes show
/// only in the next tokens.
pub const GROUPS_FRESH_MS: i64 = 60_000;

/// Why an invocation fails the request instead of returning the event. Every message is
/// generic: Cognito shows it to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// A migration could not run (configuration).
    #[error("Migration is unavailable.")]
    Unavailable,
    /// A sign-up would shadow a legacy user who has not moved yet.
    #[error("{}", SIGN_UP_REFUSED_MESSAGE)]
    SignUpRefused,
    /// The sign-up check could not run.
    #[error("Sign-up is unavailable.")]
    SignUpUnavailable,
    /// The event cannot be read.
    #[error("The request could not be processed.")]
    MalformedEvent,
}

/// What the invocation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A migration was approved and recorded.
    Approved,
    /// A migration recorded before for the same new username was approved again (Cognito
    /// retried, or a double submit).
    ApprovedAgain,
    /// A migration or a sign-up was refused.
    Refused,
    /// A sign-up goes on.
    Allowed,
    /// The legacy groups were copied into the new pool.
    GroupsCopied,
    /// Legacy groups were added to the tokens.
    GroupsAdded,
    /// The event comes back unchanged.
    Unchanged,
    /// The invocation could not decide and failed closed.
    FailedClosed,
}

impl Verdict {
    /// The verdict as logged: `approved`, `refused`, ...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::ApprovedAgain => "approved-again",
            Self::Refused => "refused",
            Self::Allowed => "allowed",
            Self::GroupsCopied => "groups-copied",
            Self::GroupsAdded => "groups-added",
            Self::Unchanged => "unchanged",
            Self::FailedClosed => "failed-closed",
        }
    }
}

/// What the invocation knows besides the event.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Policy, schema and mapping.
    pub config: &'a MigrationConfig,
    /// The new pool, when configured (otherwise the event's `userPoolId`).
    pub new_user_pool_id: Option<&'a str>,
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: i64,
}

impl<'a> Context<'a> {
    /// A context without a configured new pool.
    #[must_use]
    pub fn new(config: &'a MigrationConfig, now_ms: i64) -> Self {
        Self {
            config,
            new_user_pool_id: None,
            now_ms,
        }
    }
}

/// What the adapter must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Every ledger record filed under any of these keys (one query a key).
    LedgerCandidates {
        /// The keys.
        keys: Vec<MatchKey>,
    },
    /// The legacy user with exactly this username, if any (`AdminGetUser`).
    LegacyUser {
        /// The username, exactly as typed.
        username: String,
    },
    /// Check the event's password against this legacy user (`ADMIN_USER_PASSWORD_AUTH`).
    CheckPassword {
        /// The legacy username, exactly as stored.
        username: String,
    },
    /// The ledger record of one legacy user.
    LedgerRecord {
        /// The legacy username.
        legacy_username: String,
    },
    /// The new-pool users that hold any of these alias values (`ListUsers` filtered on each
    /// attribute), so that a migration Cognito would refuse for a taken alias is refused here,
    /// before the ledger records it.
    AliasHolders {
        /// The new pool.
        user_pool_id: String,
        /// `(attribute, value)` pairs.
        aliases: Vec<(String, String)>,
    },
    /// Record the approval of a legacy user under a new username, in one conditional write
    /// that also claims the new username for that legacy user alone
    /// ([`MigrationState::approve`]).
    RecordMigration {
        /// The legacy username.
        legacy_username: String,
        /// The new pool's username.
        new_username: String,
        /// When.
        at_ms: i64,
    },
    /// Confirm an approval: the new-pool user signed in ([`MigrationState::confirm`]).
    ConfirmMigration {
        /// The legacy username.
        legacy_username: String,
        /// The approved new username.
        new_username: String,
        /// The new-pool user's `sub`.
        new_sub: Option<String>,
        /// When.
        at_ms: i64,
    },
    /// Record a refusal on these legacy users, so operators see it; best effort.
    RecordRefusal {
        /// The legacy usernames.
        legacy_usernames: Vec<String>,
        /// Why.
        reason: ReasonCode,
        /// When.
        at_ms: i64,
    },
    /// Every group of a legacy user, all pages, with description, precedence and role.
    LegacyGroups {
        /// The legacy username.
        legacy_username: String,
    },
    /// The new pool's group names and the user's memberships there.
    NewPoolGroups {
        /// The new pool.
        user_pool_id: String,
        /// The new pool's username.
        username: String,
    },
    /// Create the plan's groups, then add the user to the plan's groups.
    ApplyGroups {
        /// The new pool.
        user_pool_id: String,
        /// The new pool's username.
        username: String,
        /// What to create and add.
        plan: GroupPlan,
    },
    /// Mark the legacy user's groups as copied.
    MarkGroupsCopied {
        /// The legacy username.
        legacy_username: String,
        /// When.
        at_ms: i64,
    },
}

/// What a conditional migration write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteResult {
    /// The state became `approved`.
    Recorded,
    /// It already was `approved` to the same username: nothing changed.
    AlreadyRecorded,
    /// The condition failed: the record or the new username's claim changed meanwhile.
    Conflict,
}

/// The adapter's answer to a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Ledger records, for [`Request::LedgerCandidates`].
    Records(Vec<LedgerEntry>),
    /// The legacy user, for [`Request::LegacyUser`].
    LegacyUser(Option<LegacyUser>),
    /// The password check, for [`Request::CheckPassword`].
    Password(PasswordOutcome),
    /// One record, for [`Request::LedgerRecord`].
    Record(Option<LedgerEntry>),
    /// The new-pool users found, for [`Request::AliasHolders`], read as user records.
    NewPoolUsers(Vec<LegacyUser>),
    /// The write, for [`Request::RecordMigration`].
    Migration(WriteResult),
    /// The legacy groups, for [`Request::LegacyGroups`].
    LegacyGroups(Vec<GroupSpec>),
    /// The new pool's groups, for [`Request::NewPoolGroups`].
    NewPoolGroups {
        /// Every group name of the pool.
        existing: BTreeSet<String>,
        /// The user's groups.
        memberships: BTreeSet<String>,
    },
    /// A request with nothing to report was carried out.
    Done,
    /// The request failed or timed out; the adapter has logged why.
    Failed,
}

/// The end of an invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// What happened.
    pub verdict: Verdict,
    /// Why, for everything that is not an approval, an allowed sign-up or a group change.
    pub reason: Option<ReasonCode>,
    /// The event to return to Cognito, or the failure to answer with.
    #[serde(serialize_with = "serialize_result")]
    pub result: Result<Value, Failure>,
    /// The approved migration.
    pub approval: Option<Approval>,
    /// The legacy users the ledger (or the exact lookup) returned.
    pub candidates: Vec<String>,
    /// How many password checks were made.
    pub password_checks: usize,
    /// The group plan carried out by post authentication.
    pub group_plan: Option<GroupPlan>,
    /// Each step, in plain language, for simulators and operators (never logged: it names
    /// users).
    pub trace: Vec<String>,
    /// The least time, in milliseconds from the start of the invocation, before the answer is
    /// returned: the refusal floor of a refused sign-in (`Policy::refusal_floor_ms`), so that
    /// refusals cannot be told apart by how fast they come; 0 for everything else.
    #[serde(skip)]
    pub hold_ms: u64,
}

fn serialize_result<S: serde::Serializer>(
    result: &Result<Value, Failure>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match result {
        Ok(value) => value.serialize(serializer),
        Err(_) => serializer.serialize_none(),
    }
}

impl Outcome {
    fn new(verdict: Verdict, reason: Option<ReasonCode>, result: Result<Value, Failure>) -> Self {
        Self {
            verdict,
            reason,
            result,
            approval: None,
            candidates: Vec::new(),
            password_checks: 0,
            group_plan: None,
            trace: Vec::new(),
            hold_ms: 0,
        }
    }

    /// The event to return, `null` when the invocation fails the request.
    #[must_use]
    pub fn response(&self) -> Value {
        self.result.clone().unwrap_or(Value::Null)
    }

    /// What a client would see from Cognito after this outcome of an event of `source`.
    #[must_use]
    pub fn client_message(&self, source: &TriggerSource) -> String {
        if let Err(failure) = &self.result {
            let trigger = match source {
                TriggerSource::PreSignUp(_) => "PreSignUp",
                _ => "UserMigration",
            };
            return format!("UserLambdaValidationException: {trigger} failed with error {failure}");
        }
        match (self.verdict, source) {
            (
                Verdict::Approved | Verdict::ApprovedAgain | Verdict::Refused,
                TriggerSource::UserMigrationAuthentication
                | TriggerSource::UserMigrationForgotPassword,
            ) => crate::migrate::client_message(self.approval.as_ref(), source).to_owned(),
            (Verdict::Allowed, _) => "The sign-up goes on as if there were no trigger.".into(),
            (Verdict::GroupsCopied, _) => {
                "Signed in; the legacy groups are now in the new pool and show in the next tokens."
                    .into()
            }
            (Verdict::GroupsAdded, _) => {
                "The tokens carry the new pool's groups plus the legacy ones.".into()
            }
            (_, TriggerSource::TokenGeneration(_)) => {
                "The tokens carry the groups the new pool has.".into()
            }
            _ => "No change from the trigger.".into(),
        }
    }
}

/// The outcome of an invocation whose configuration is broken: migrations and sign-ups fail
/// closed, everything else comes back unchanged.
#[must_use]
pub fn unconfigured(event: &TriggerEvent) -> Outcome {
    let result = match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            Err(Failure::Unavailable)
        }
        TriggerSource::PreSignUp(_) => Err(Failure::SignUpUnavailable),
        _ => Ok(event.unchanged()),
    };
    Outcome::new(
        Verdict::FailedClosed,
        Some(ReasonCode::Configuration),
        result,
    )
}

/// The outcome of an invocation cut short by its own deadline: a migration is refused (the
/// event unchanged, which the client sees as a wrong password), a sign-up fails closed,
/// anything else comes back unchanged.
#[must_use]
pub fn timed_out(event: &TriggerEvent) -> Outcome {
    match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            Outcome::new(
                Verdict::Refused,
                Some(ReasonCode::Deadline),
                Ok(event.unchanged()),
            )
        }
        TriggerSource::PreSignUp(PreSignUpSource::SignUp) => Outcome::new(
            Verdict::FailedClosed,
            Some(ReasonCode::Deadline),
            Err(Failure::SignUpUnavailable),
        ),
        _ => Outcome::new(
            Verdict::Unchanged,
            Some(ReasonCode::Deadline),
            Ok(event.unchanged()),
        ),
    }
}

/// Where the invocation stands.
#[derive(Debug)]
enum Phase<'a> {
    /// Waiting for the answer to `pending`.
    Migration(MigrationPhase<'a>),
    SignUp,
    PostAuthentication(post_authentication::Phase),
    TokenGeneration,
    TokenGroups,
    Done(Box<Outcome>),
}

/// One trigger invocation, from the event to its [`Outcome`].
#[derive(Debug)]
pub struct Invocation<'a> {
    event: &'a TriggerEvent,
    context: Context<'a>,
    phase: Phase<'a>,
    pending: Option<Request>,
    candidates: Vec<LedgerEntry>,
    /// Legacy users the password fitted.
    matched: Vec<(String, PasswordOutcome)>,
    password_checks: usize,
    group_plan: Option<GroupPlan>,
    /// The approval was confirmed by a live read of the legacy user.
    live_checked: bool,
    trace: Vec<String>,
}

impl<'a> Invocation<'a> {
    /// Starts the invocation of `event`.
    #[must_use]
    pub fn start(event: &'a TriggerEvent, context: Context<'a>) -> Self {
        let mut invocation = Self {
            event,
            context,
            phase: Phase::TokenGeneration,
            pending: None,
            candidates: Vec::new(),
            matched: Vec::new(),
            password_checks: 0,
            group_plan: None,
            live_checked: false,
            trace: Vec::new(),
        };
        invocation.phase = invocation.first_phase();
        invocation
    }

    fn first_phase(&mut self) -> Phase<'a> {
        match self.event.source() {
            TriggerSource::UserMigrationAuthentication
            | TriggerSource::UserMigrationForgotPassword => {
                let key = match_key(self.event.user_name());
                if key.is_empty() {
                    return self.check(Vec::new());
                }
                self.ask(Request::LedgerCandidates { keys: vec![key] });
                Phase::Migration(MigrationPhase::Candidates)
            }
            TriggerSource::PreSignUp(PreSignUpSource::SignUp) => {
                let keys = sign_up_keys(self.event);
                let names: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
                self.note(format!(
                    "The sign-up's identifiers have the key(s) {}.",
                    names.join(", ")
                ));
                if keys.is_empty() {
                    return self.decide_sign_up(&[]);
                }
                self.ask(Request::LedgerCandidates { keys });
                Phase::SignUp
            }
            TriggerSource::PreSignUp(_) => {
                self.note(
                    "Users created by an administrator or a federated sign-in cannot shadow a legacy account: the sign-up goes on.",
                );
                self.done(Verdict::Allowed, None)
            }
            TriggerSource::PostAuthentication => match self.legacy_record_request() {
                Ok(()) => Phase::PostAuthentication(post_authentication::Phase::Record),
                Err(phase) => phase,
            },
            TriggerSource::TokenGeneration(_) => match self.legacy_record_request() {
                Ok(()) => Phase::TokenGeneration,
                Err(phase) => phase,
            },
            TriggerSource::Other(_) => {
                self.note(format!(
                    "{}: this function does not handle it; the event is returned unchanged.",
                    self.event.source()
                ));
                self.done(Verdict::Unchanged, Some(ReasonCode::UnhandledSource))
            }
        }
    }

    /// What the adapter must do next; `None` once the invocation is decided.
    #[must_use]
    pub fn request(&self) -> Option<&Request> {
        self.pending.as_ref()
    }

    /// How many legacy candidates were found so far.
    #[must_use]
    pub fn candidate_count(&self) -> usize {
        self.candidates.len()
    }

    /// How many password checks were answered so far.
    #[must_use]
    pub fn password_checks(&self) -> usize {
        self.password_checks
    }

    /// Takes the answer to [`Self::request`]. An answer of the wrong kind counts as a failure.
    pub fn answer(&mut self, answer: Answer) {
        if self.pending.take().is_none() {
            return;
        }
        let phase = std::mem::replace(&mut self.phase, Phase::TokenGeneration);
        self.phase = match phase {
            Phase::Migration(phase) => self.migration(phase, answer),
            Phase::SignUp => {
                if let Answer::Records(found) = answer {
                    self.set_candidates(found.clone());
                    self.decide_sign_up(&found)
                } else {
                    self.note("The ledger could not be read: the sign-up fails closed.");
                    self.finish_with(Outcome::new(
                        Verdict::FailedClosed,
                        Some(ReasonCode::LedgerUnavailable),
                        Err(Failure::SignUpUnavailable),
                    ))
                }
            }
            Phase::PostAuthentication(phase) => self.post_authentication(phase, answer),
            Phase::TokenGeneration => self.token_generation(answer),
            Phase::TokenGroups => self.token_groups(answer),
            done @ Phase::Done(_) => done,
        };
    }

    /// The outcome. Call once [`Self::request`] is `None`; a request left unanswered counts as
    /// failed.
    #[must_use]
    pub fn finish(mut self) -> Outcome {
        while self.pending.is_some() {
            self.answer(Answer::Failed);
        }
        match self.phase {
            Phase::Done(outcome) => {
                let mut outcome = *outcome;
                outcome.candidates = self
                    .candidates
                    .iter()
                    .map(|e| e.user.username.clone())
                    .collect();
                outcome.password_checks = self.password_checks;
                outcome.group_plan = self.group_plan;
                outcome.trace = self.trace;
                let sign_in = matches!(
                    self.event.source(),
                    TriggerSource::UserMigrationAuthentication
                        | TriggerSource::UserMigrationForgotPassword
                );
                if sign_in && outcome.verdict == Verdict::Refused {
                    outcome.hold_ms = self.context.config.policy.refusal_floor_ms;
                }
                outcome
            }
            _ => Outcome::new(
                Verdict::FailedClosed,
                Some(ReasonCode::Deadline),
                Ok(self.event.unchanged()),
            ),
        }
    }

    fn ask(&mut self, request: Request) {
        self.pending = Some(request);
    }

    fn note(&mut self, line: impl Into<String>) {
        self.trace.push(line.into());
    }

    fn set_candidates(&mut self, found: Vec<LedgerEntry>) {
        let mut seen = BTreeSet::new();
        self.candidates = found
            .into_iter()
            .filter(|e| seen.insert(e.user.username.clone()))
            .collect();
    }

    fn done(&mut self, verdict: Verdict, reason: Option<ReasonCode>) -> Phase<'a> {
        self.finish_with(Outcome::new(verdict, reason, Ok(self.event.unchanged())))
    }

    fn finish_with(&mut self, outcome: Outcome) -> Phase<'a> {
        self.pending = None;
        Phase::Done(Box::new(outcome))
    }

    // --- pre sign-up ---

    fn decide_sign_up(&mut self, found: &[LedgerEntry]) -> Phase<'a> {
        for entry in found {
            self.note(format!(
                "Legacy user `{}` ({}) is filed under one of them.",
                entry.user.username,
                entry.state.name()
            ));
        }
        match decide_sign_up(self.event, found, &self.context.config.legacy_sign_in) {
            SignUpDecision::Allow => {
                self.note(
                    "No legacy user who has not moved yet holds these identifiers: the sign-up goes on.",
                );
                self.done(Verdict::Allowed, None)
            }
            SignUpDecision::RefuseLegacyAttribute { attribute } => {
                self.note(format!(
                    "The sign-up sets {attribute}, which only the migration writes: refused, or it could claim a legacy user's groups."
                ));
                self.finish_with(Outcome::new(
                    Verdict::Refused,
                    Some(ReasonCode::LegacyAttributeInSignUp),
                    Err(Failure::SignUpRefused),
                ))
            }
            SignUpDecision::RefuseGeneratedUsername => {
                self.note(
                    "The sign-up's username has the form the migration gives legacy users whose own username the new pool refuses: refused, or such a user's migration would find it taken.",
                );
                self.finish_with(Outcome::new(
                    Verdict::Refused,
                    Some(ReasonCode::IdentifierTaken),
                    Err(Failure::SignUpRefused),
                ))
            }
            SignUpDecision::Refuse {
                legacy_username,
                field,
            } => {
                self.note(format!(
                    "The sign-up's {field} belongs to legacy user `{legacy_username}`, who has not moved yet: refuse, or that user's first sign-in would land in this account. The trigger fails the request instead of returning the event."
                ));
                self.finish_with(Outcome::new(
                    Verdict::Refused,
                    Some(ReasonCode::IdentifierTaken),
                    Err(Failure::SignUpRefused),
                ))
            }
        }
    }

    // --- after sign-in: the migrated user's record ---

    /// Asks for the ledger record named by the user's `custom:legacy_username`, or ends the
    /// invocation for a user that did not come from the legacy pool.
    fn legacy_record_request(&mut self) -> Result<(), Phase<'a>> {
        let Some(legacy_username) = self.event.user_attributes().get(LEGACY_USERNAME).cloned()
        else {
            self.note(
                "The user carries no custom:legacy_username: it did not come from the legacy pool.",
            );
            return Err(self.done(Verdict::Unchanged, Some(ReasonCode::NotMigrated)));
        };
        self.ask(Request::LedgerRecord { legacy_username });
        Ok(())
    }

    /// The record answered for [`Self::legacy_record_request`], or the end of the invocation.
    fn legacy_record(&mut self, answer: Answer) -> Result<LedgerEntry, Phase<'a>> {
        match answer {
            Answer::Record(Some(entry)) => {
                self.note(format!(
                    "The legacy user is `{}` ({}), in groups: {}.",
                    entry.user.username,
                    entry.state.name(),
                    entry.user.groups.join(", ")
                ));
                self.candidates = vec![entry.clone()];
                if !self.is_owner(&entry) {
                    self.note("The legacy user was not migrated to this new-pool user: nothing of it reaches this one.");
                    return Err(self.done(Verdict::Unchanged, Some(ReasonCode::NotOwner)));
                }
                Ok(entry)
            }
            Answer::Record(None) => {
                self.note("The ledger has no record of the user's custom:legacy_username.");
                Err(self.done(Verdict::Unchanged, Some(ReasonCode::NotInLedger)))
            }
            _ => {
                self.note("The ledger could not be read: the event is returned unchanged.");
                Err(self.done(Verdict::Unchanged, Some(ReasonCode::LedgerUnavailable)))
            }
        }
    }

    /// True when the legacy record is bound to this very new-pool user: once confirmed, the
    /// event user's `sub` is the one recorded; before, the event's username is the new username
    /// the approval recorded, or, in a pool that signs in with e-mail or phone as username
    /// (where Cognito generates the username), the event user's value of that attribute is.
    fn is_owner(&self, entry: &LedgerEntry) -> bool {
        let new_username = match &entry.state {
            MigrationState::Migrated {
                new_sub: Some(bound),
                ..
            } => {
                return self.event.user_attributes().get("sub") == Some(bound);
            }
            MigrationState::Approved { new_username, .. }
            | MigrationState::Migrated { new_username, .. } => new_username,
            _ => return false,
        };
        let same =
            |value: &str| canonical_username(value).is_ok_and(|c| c.as_str() == new_username);
        same(self.event.user_name())
            || self
                .context
                .config
                .new_pool_username_attributes
                .iter()
                .filter_map(|name| self.event.user_attributes().get(name))
                .any(|value| same(value))
    }

    // --- pre token generation ---

    fn token_generation(&mut self, answer: Answer) -> Phase<'a> {
        let entry = match self.legacy_record(answer) {
            Ok(entry) => entry,
            Err(phase) => return phase,
        };
        let copied_long_ago = entry.groups_copied
            && entry
                .groups_copied_at_ms
                .is_none_or(|at| self.context.now_ms.saturating_sub(at) > GROUPS_FRESH_MS);
        if copied_long_ago {
            self.note("The groups were copied into the new pool at an earlier sign-in: the tokens carry them already.");
            return self.done(Verdict::Unchanged, Some(ReasonCode::GroupsAlreadyCopied));
        }
        // The groups the legacy pool has now, never the ones the index saw: a membership
        // removed since must not reach a token.
        self.ask(Request::LegacyGroups {
            legacy_username: entry.user.username,
        });
        Phase::TokenGroups
    }

    fn token_groups(&mut self, answer: Answer) -> Phase<'a> {
        let Answer::LegacyGroups(groups) = answer else {
            self.note(
                "The legacy groups could not be read: the tokens keep the new pool's groups.",
            );
            return self.done(Verdict::Unchanged, Some(ReasonCode::LegacyUnavailable));
        };
        // In name order, whatever order the legacy pool lists them in (an ordered insert links
        // far less code into the WebAssembly module than a sort).
        let mut names: Vec<String> = Vec::with_capacity(groups.len());
        for group in groups {
            let at = names.partition_point(|name| *name < group.name);
            names.insert(at, group.name);
        }
        if let Some(response) = token_group_override(self.event, &names) {
            self.note(format!(
                "The legacy groups, read now ({}), are added to the first tokens' groups.",
                names.join(", ")
            ));
            self.finish_with(Outcome::new(Verdict::GroupsAdded, None, Ok(response)))
        } else {
            self.note("Nothing to add: the event is returned unchanged.");
            self.done(Verdict::Unchanged, Some(ReasonCode::NoGroupsToAdd))
        }
    }
}

/// The candidates a ledger filed under `keys` returns: for adapters that hold the ledger in
/// memory (the simulator, tests).
#[must_use]
pub fn filed_under<'e>(entries: &'e [LedgerEntry], keys: &[MatchKey]) -> Vec<&'e LedgerEntry> {
    entries
        .iter()
        .filter(|e| {
            crate::ledger::directory_keys(&e.user)
                .iter()
                .any(|k| keys.contains(k))
        })
        .collect()
}

#[cfg(test)]
mod tests;
