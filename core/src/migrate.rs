//! The sign-in and forgot-password migration, as a small state machine without I/O.
//!
//! The adapter builds a [`SignInMigration`] from the event and the ledger's candidates, then
//! loops: while [`SignInMigration::next_step`] asks for a password check, it checks that
//! candidate's password against the legacy pool and hands the [`PasswordOutcome`] to
//! [`SignInMigration::record`]. When the machine is done, [`SignInMigration::finish`] returns
//! the [`Decision`]: the response to send back, or a refusal (the event unchanged, so the client
//! sees the same generic failure whatever the reason) with an internal [`ReasonCode`].
//!
//! ```
//! use cognito_migrate_core::event::TriggerEvent;
//! use cognito_migrate_core::ledger::LedgerEntry;
//! use cognito_migrate_core::migrate::{MigrationConfig, PasswordOutcome, SignInMigration, Step};
//! use cognito_migrate_core::user::LegacyUser;
//!
//! let event = TriggerEvent::from_json_str(r#"{
//!     "version": "1", "triggerSource": "UserMigration_Authentication", "region": "us-east-1",
//!     "userPoolId": "us-east-1_new", "userName": "name@acme.com",
//!     "callerContext": {"awsSdkVersion": "x", "clientId": "c"},
//!     "request": {"password": "correct horse", "validationData": null},
//!     "response": {"userAttributes": null, "finalUserStatus": null, "messageAction": null,
//!                  "desiredDeliveryMediums": null, "forceAliasCreation": null,
//!                  "enableSMSMFA": null}
//! }"#).unwrap();
//! let legacy = LegacyUser::new("Name@Acme.com", [("sub".into(), "old".into())].into());
//! let config = MigrationConfig::default();
//! let mut migration = SignInMigration::new(&event, vec![LedgerEntry::pending(legacy)], &config);
//! while let Step::CheckPassword { username } = migration.next_step() {
//!     assert_eq!(username, "Name@Acme.com");
//!     migration.record(PasswordOutcome::Accepted);
//! }
//! let decision = migration.finish();
//! assert_eq!(decision.response()["response"]["finalUserStatus"], "CONFIRMED");
//! assert_eq!(decision.response()["response"]["userAttributes"]["custom:legacy_sub"], "old");
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::attributes::{AttributeMapping, TargetSchema, map_attributes};
use crate::event::{TriggerEvent, TriggerSource};
use crate::keys::{canonical_username, match_key};
use crate::ledger::{LedgerEntry, MigrationState};
use crate::policy::{CollisionPolicy, MfaPolicy, Policy, TemporaryPasswordPolicy};
use crate::user::{LegacySignIn, LegacyUser, Proof, UserStatus};

mod password;
mod shape;

pub use crate::reason::ReasonCode;
pub use password::{Challenge, PasswordOutcome};
pub use shape::{
    active_aliases, generated_username, holds_alias, is_email_format, is_generated_username,
    is_phone_format,
};

/// `response.finalUserStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FinalUserStatus {
    /// The user may sign in with the password just typed.
    Confirmed,
    /// The user must reset its password first.
    ResetRequired,
}

impl FinalUserStatus {
    /// The wire string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "CONFIRMED",
            Self::ResetRequired => "RESET_REQUIRED",
        }
    }
}

/// What the migration needs besides the event and the candidates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MigrationConfig {
    /// The operator's policy.
    pub policy: Policy,
    /// The new pool's attribute names.
    pub schema: TargetSchemaOrDefault,
    /// Renames and drops.
    pub mapping: AttributeMapping,
    /// The new pool's `UsernameAttributes` (`email`, `phone_number`): in such a pool Cognito
    /// generates each username, and a user is known by these attributes instead.
    pub new_pool_username_attributes: Vec<String>,
    /// The new pool's `AliasAttributes` (`email`, `phone_number`, `preferred_username`): a user
    /// signs in with its username or one of these, once set (and, for e-mail and phone,
    /// verified). Excludes [`Self::new_pool_username_attributes`], as in Cognito.
    pub new_pool_alias_attributes: Vec<String>,
    /// How the legacy pool let users sign in, which decides which identifiers count.
    pub legacy_sign_in: LegacySignIn,
}

/// A target schema that defaults to the standard attributes plus the legacy custom ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TargetSchemaOrDefault(pub TargetSchema);

impl Default for TargetSchemaOrDefault {
    fn default() -> Self {
        Self(TargetSchema::standard_with_legacy())
    }
}

/// A migration the core approves.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    /// The legacy user being migrated.
    pub legacy_username: String,
    /// Its status in the new pool.
    pub final_user_status: FinalUserStatus,
    /// True when SMS MFA is turned on for the new user.
    pub enable_sms_mfa: bool,
    /// The attributes the new user gets, with `username` when the response names the new
    /// user's username (an alias pool).
    pub user_attributes: BTreeMap<String, String>,
    /// The new pool's username the ledger records and claims: the username the response names,
    /// else the typed identifier canonicalised (in a pool with `UsernameAttributes`, the
    /// e-mail or phone the user signs in with).
    pub new_username: String,
}

/// The end of a migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Approved, or `None` when refused.
    pub approval: Option<Approval>,
    /// Why it was refused, when it was.
    pub refusal: Option<ReasonCode>,
    /// The event to return to Cognito.
    pub response: Value,
    /// Each step, in plain language, for simulators and operators (never logged: it names users).
    pub trace: Vec<String>,
    /// How many password checks were made.
    pub password_checks: usize,
}

impl Decision {
    /// The event to return to Cognito.
    #[must_use]
    pub fn response(&self) -> &Value {
        &self.response
    }

    /// The refusal's reason, if refused.
    #[must_use]
    pub fn reason(&self) -> Option<ReasonCode> {
        self.refusal
    }

    /// What a client would see from Cognito after this decision, for the given trigger.
    #[must_use]
    pub fn client_message(&self, source: &TriggerSource) -> &'static str {
        client_message(self.approval.as_ref(), source)
    }
}

/// What a client would see from Cognito after a migration approved (or refused, `None`) for
/// an event of `source`.
#[must_use]
pub fn client_message(approval: Option<&Approval>, source: &TriggerSource) -> &'static str {
    match (approval, source) {
        (None, TriggerSource::UserMigrationForgotPassword) => {
            "The same answer as for an unknown user: UserNotFoundException, or with PreventUserExistenceErrors a simulated code delivery. No code is sent."
        }
        (None, _) => "NotAuthorizedException: Incorrect username or password.",
        (Some(_), TriggerSource::UserMigrationForgotPassword) => {
            "The user is created as RESET_REQUIRED and a verification code is sent to its verified e-mail address or phone number."
        }
        (Some(a), _) if a.final_user_status == FinalUserStatus::ResetRequired => {
            "PasswordResetRequiredException: Password reset required for the user"
        }
        (Some(a), _) if a.enable_sms_mfa => {
            "The user is created and asked for the SMS code (SMS_MFA challenge) before receiving tokens."
        }
        (Some(_), _) => "Signed in: the user is created in the new pool and receives tokens.",
    }
}

/// What the adapter must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// Check the event's password against this legacy user (`ADMIN_USER_PASSWORD_AUTH`).
    CheckPassword {
        /// The legacy username, exactly as stored.
        username: &'a str,
    },
    /// Nothing more: call [`SignInMigration::finish`].
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Authentication,
    ForgotPassword,
}

/// The migration of one sign-in or forgot-password request.
#[derive(Debug, Clone)]
pub struct SignInMigration<'a> {
    event: &'a TriggerEvent,
    kind: Option<Kind>,
    config: &'a MigrationConfig,
    /// Candidates to check, exact-case matches first.
    queue: Vec<LegacyUser>,
    /// Candidates approved before under a new username that no sign-in confirmed: legacy
    /// username to that new username, the only one they may be approved under again.
    bound: BTreeMap<String, String>,
    outcomes: Vec<PasswordOutcome>,
    trace: Vec<String>,
    early: Option<ReasonCode>,
}

impl<'a> SignInMigration<'a> {
    /// Starts a migration. `candidates` are the ledger entries filed under
    /// `match_key(event.userName)` (or the exact lookup's result); entries whose identifiers do
    /// not share that key are ignored.
    #[must_use]
    pub fn new(
        event: &'a TriggerEvent,
        candidates: Vec<LedgerEntry>,
        config: &'a MigrationConfig,
    ) -> Self {
        let kind = match event.source() {
            TriggerSource::UserMigrationAuthentication => Some(Kind::Authentication),
            TriggerSource::UserMigrationForgotPassword => Some(Kind::ForgotPassword),
            _ => None,
        };
        let mut machine = Self {
            event,
            kind,
            config,
            queue: Vec::new(),
            bound: BTreeMap::new(),
            outcomes: Vec::new(),
            trace: Vec::new(),
            early: None,
        };
        machine.early = machine.select(kind, candidates).err();
        machine
    }

    fn note(&mut self, line: impl Into<String>) {
        self.trace.push(line.into());
    }

    /// Filters and orders the candidates; an early refusal when none can be checked.
    fn select(
        &mut self,
        kind: Option<Kind>,
        candidates: Vec<LedgerEntry>,
    ) -> Result<(), ReasonCode> {
        let Some(kind) = kind else {
            self.note(format!(
                "{} is not a migration trigger.",
                self.event.source()
            ));
            return Err(ReasonCode::NotAMigrationEvent);
        };
        let typed = self.event.user_name().to_owned();
        let key = match_key(&typed);
        if key.is_empty() {
            self.note(
                "The identifier is empty once white space and invisible characters are removed.",
            );
            return Err(ReasonCode::EmptyIdentifier);
        }
        self.note(format!(
            "The typed identifier `{typed}` has the match key `{key}`."
        ));

        // A username outranks an alias: when the typed identifier is someone's username, only
        // its holder(s) can migrate under it, never a user whose e-mail, phone or preferred
        // username happens to collide with it.
        let owned = candidates
            .iter()
            .any(|entry| match_key(&entry.user.username) == key);
        // Likewise a verified holder outranks the unverified ones.
        let verified_holder = self.has_verified_holder(&candidates, &key);
        let mut seen = std::collections::BTreeSet::new();
        let mut skipped = Vec::new();
        let mut exact = Vec::new();
        let mut others = Vec::new();
        for entry in candidates {
            if !seen.insert(entry.user.username.clone()) {
                continue;
            }
            if owned && match_key(&entry.user.username) != key {
                self.note(format!(
                    "`{}` has this identifier only as an alias, and it is another user's username; skipped.",
                    entry.user.username
                ));
                skipped.push(ReasonCode::IdentifierOwned);
                continue;
            }
            match self.screen(kind, &key, entry) {
                Ok(user)
                    if user
                        .sign_in_identifiers(&self.config.legacy_sign_in)
                        .any(|(_, id)| id == typed) =>
                {
                    exact.push(user);
                }
                // Kept ordered by username as they come: `seen` makes usernames unique, and an
                // ordered insert links far less code into the WebAssembly module than a sort.
                Ok(user) => {
                    let at =
                        others.partition_point(|other: &LegacyUser| other.username < user.username);
                    others.insert(at, user);
                }
                Err(reason) => skipped.extend(reason),
            }
        }
        let (exact, others) =
            self.outrank_unverified(verified_holder, &key, &typed, exact, others, &mut skipped);
        let exact_count = exact.len();
        self.queue = exact;
        self.queue.extend(others);

        if self.queue.is_empty() {
            // The most telling reason among the skipped candidates.
            let reason = [
                ReasonCode::Disabled,
                ReasonCode::LegacyResetRequired,
                ReasonCode::ExternalProvider,
                ReasonCode::AlreadyMigrated,
                ReasonCode::IdentifierOwned,
            ]
            .into_iter()
            .find(|reason| skipped.contains(reason));
            return Err(reason.unwrap_or_else(|| {
                self.note("No legacy user has this identifier in any case.");
                ReasonCode::NoCandidates
            }));
        }
        let names: Vec<String> = self
            .queue
            .iter()
            .map(|u| format!("`{}`", u.username))
            .collect();
        self.note(format!(
            "{} candidate(s): {} ({} with the exact case typed).",
            self.queue.len(),
            names.join(", "),
            exact_count
        ));
        match kind {
            Kind::Authentication if self.queue.len() > self.config.policy.max_candidates => {
                self.note(format!(
                    "That is more than the {} candidates one sign-in may check.",
                    self.config.policy.max_candidates
                ));
                Err(ReasonCode::TooManyCandidates)
            }
            Kind::ForgotPassword if self.queue.len() > 1 => {
                self.note("A forgot-password request has no password to tell candidates apart.");
                Err(ReasonCode::Ambiguous)
            }
            _ => Ok(()),
        }
    }

    /// True when a legacy user among `candidates` proved the identifier under `key`, whether
    /// or not it can migrate now (migrated already, disabled): the identifier stays its.
    fn has_verified_holder(&self, candidates: &[LedgerEntry], key: &crate::keys::MatchKey) -> bool {
        let legacy = &self.config.legacy_sign_in;
        candidates
            .iter()
            .any(|entry| proof_of(&entry.user, key, legacy) == Proof::Verified)
    }

    /// A value held verified outranks the same value held unverified: when some legacy user
    /// proved the typed identifier, the candidates that hold it unverified are skipped.
    fn outrank_unverified(
        &mut self,
        verified_holder: bool,
        key: &crate::keys::MatchKey,
        typed: &str,
        exact: Vec<LegacyUser>,
        others: Vec<LegacyUser>,
        skipped: &mut Vec<ReasonCode>,
    ) -> (Vec<LegacyUser>, Vec<LegacyUser>) {
        let legacy = &self.config.legacy_sign_in;
        if !verified_holder {
            return (exact, others);
        }
        let proof = |user: &LegacyUser| proof_of(user, key, legacy);
        let (weak, strong): (Vec<_>, Vec<_>) = exact
            .into_iter()
            .chain(others)
            .partition(|u| proof(u) == Proof::Unverified);
        for user in weak {
            self.note(format!(
                "`{}` holds this identifier unverified, and another user holds it verified; skipped.",
                user.username
            ));
            skipped.push(ReasonCode::IdentifierOwned);
        }
        strong
            .into_iter()
            .partition(|u| u.sign_in_identifiers(legacy).any(|(_, id)| id == typed))
    }

    /// Keeps a candidate worth a password check, or says why not (`None`: not a candidate at
    /// all).
    fn screen(
        &mut self,
        kind: Kind,
        key: &crate::keys::MatchKey,
        entry: LedgerEntry,
    ) -> Result<LegacyUser, Option<ReasonCode>> {
        let user = entry.user;
        let name = user.username.clone();
        if !user.identifiers().any(|(_, id)| match_key(id) == *key) {
            self.note(format!("`{name}` no longer has this identifier; skipped."));
            return Err(None);
        }
        if !user
            .sign_in_identifiers(&self.config.legacy_sign_in)
            .any(|(_, id)| match_key(id) == *key)
        {
            self.note(format!(
                "`{name}` holds this identifier only as a value it never proved (an unverified e-mail or phone, or a name the legacy pool did not sign in with); skipped."
            ));
            return Err(None);
        }
        let unconfirmed = matches!(entry.state, MigrationState::Approved { .. });
        if let Some(bound) = entry.state.bound_to()
            && (canonical_username(self.event.user_name()).is_ok_and(|c| c.as_str() == bound)
                || (unconfirmed && self.shape().renames()))
        {
            // Cognito invokes the trigger only for users it does not have: a migration
            // recorded under this very identifier did not complete (a timeout or a retry), so
            // the same legacy user may be migrated again. Where the recorded name need not be
            // the one typed (and may come from attributes the index has stale), an approval no
            // sign-in confirmed stays a candidate too: the ledger's conditional write approves
            // it again only under the same name.
            self.note(format!(
                "`{name}` was approved for this identifier before but is not in the new pool yet; it stays a candidate."
            ));
            self.bound.insert(name.clone(), bound.to_owned());
        } else if entry.state.is_done() || entry.state.bound_to().is_some() {
            self.note(format!(
                "`{name}` is already in the new pool, or approved under another username; skipped."
            ));
            return Err(Some(ReasonCode::AlreadyMigrated));
        }
        if !user.enabled {
            self.note(format!(
                "`{name}` is disabled; disabled users are never migrated."
            ));
            return Err(Some(ReasonCode::Disabled));
        }
        if user.status == UserStatus::ExternalProvider {
            self.note(format!(
                "`{name}` is a federated user without a password; skipped."
            ));
            return Err(Some(ReasonCode::ExternalProvider));
        }
        if kind == Kind::Authentication && user.status == UserStatus::ResetRequired {
            self.note(format!(
                "`{name}` must reset its password in the legacy pool; only forgot-password can migrate it."
            ));
            return Err(Some(ReasonCode::LegacyResetRequired));
        }
        Ok(user)
    }

    /// What to do next.
    #[must_use]
    pub fn next_step(&self) -> Step<'_> {
        if self.early.is_some() || self.kind != Some(Kind::Authentication) {
            return Step::Done;
        }
        match self.queue.get(self.outcomes.len()) {
            Some(user) => Step::CheckPassword {
                username: &user.username,
            },
            None => Step::Done,
        }
    }

    /// Records the outcome of the check [`Self::next_step`] asked for. Ignored when no check
    /// was asked for.
    pub fn record(&mut self, outcome: PasswordOutcome) {
        let Step::CheckPassword { username } = self.next_step() else {
            return;
        };
        let line = match &outcome {
            PasswordOutcome::Accepted => {
                format!("The legacy pool accepted the password for `{username}`.")
            }
            PasswordOutcome::WrongPassword => format!("The password is wrong for `{username}`."),
            PasswordOutcome::Disabled => format!("The legacy pool says `{username}` is disabled."),
            PasswordOutcome::UserNotFound => format!("The legacy pool no longer has `{username}`."),
            PasswordOutcome::ResetRequired => {
                format!("The legacy pool requires `{username}` to reset its password.")
            }
            PasswordOutcome::NotConfirmed => format!("`{username}` never confirmed its sign-up."),
            PasswordOutcome::Challenge(challenge) => {
                format!(
                    "The password is right for `{username}`, and the legacy pool asks for {}.",
                    challenge.as_str()
                )
            }
        };
        self.note(line);
        self.outcomes.push(outcome);
    }

    /// The plain-language steps so far.
    #[must_use]
    pub fn trace(&self) -> &[String] {
        &self.trace
    }

    /// Ends the migration. Call once [`Self::next_step`] is [`Step::Done`]; a check never made
    /// counts as a wrong password.
    #[must_use]
    pub fn finish(mut self) -> Decision {
        let result = match (self.early, self.kind) {
            (Some(reason), _) => Err(reason),
            (None, None) => Err(ReasonCode::NotAMigrationEvent),
            (None, Some(Kind::ForgotPassword)) => self.decide_forgot_password(),
            (None, Some(Kind::Authentication)) => self.decide_authentication(),
        };
        let password_checks = self.outcomes.len();
        match result.and_then(|(user, status, sms)| self.approve(&user, status, sms)) {
            Ok(approval) => {
                let mut fields = Map::new();
                fields.insert(
                    "userAttributes".into(),
                    serde_json::to_value(&approval.user_attributes).unwrap_or_default(),
                );
                fields.insert(
                    "finalUserStatus".into(),
                    approval.final_user_status.as_str().into(),
                );
                fields.insert("messageAction".into(), "SUPPRESS".into());
                fields.insert("forceAliasCreation".into(), false.into());
                if approval.enable_sms_mfa {
                    fields.insert("enableSMSMFA".into(), true.into());
                }
                self.note(format!(
                    "Migrate `{}` as {}{}.",
                    approval.legacy_username,
                    approval.final_user_status.as_str(),
                    if approval.enable_sms_mfa {
                        " with SMS MFA"
                    } else {
                        ""
                    }
                ));
                Decision {
                    response: self.event.with_response(fields),
                    approval: Some(approval),
                    refusal: None,
                    trace: self.trace,
                    password_checks,
                }
            }
            Err(reason) => {
                self.note(format!(
                    "Refused ({reason}): {} The event is returned unchanged.",
                    reason.explain()
                ));
                Decision {
                    response: self.event.unchanged(),
                    approval: None,
                    refusal: Some(reason),
                    trace: self.trace,
                    password_checks,
                }
            }
        }
    }

    fn decide_forgot_password(
        &mut self,
    ) -> Result<(LegacyUser, FinalUserStatus, bool), ReasonCode> {
        let user = self
            .queue
            .first()
            .cloned()
            .ok_or(ReasonCode::NoCandidates)?;
        // The second factor follows the MFA policy as at sign-in: a reset proves only the
        // mailbox or phone, never the factor.
        if !user.mfa.any() {
            return Ok((user, FinalUserStatus::ResetRequired, false));
        }
        match self.config.policy.mfa {
            MfaPolicy::Refuse => {
                self.note(format!(
                    "`{}` has a second factor and the MFA policy refuses such migrations.",
                    user.username
                ));
                Err(ReasonCode::MfaRefused)
            }
            MfaPolicy::ResetRequired => Ok((user, FinalUserStatus::ResetRequired, false)),
            MfaPolicy::Sms if user.mfa.sms && user.phone_verified() => {
                self.note(format!(
                    "`{}` keeps SMS MFA on its verified phone.",
                    user.username
                ));
                Ok((user, FinalUserStatus::ResetRequired, true))
            }
            MfaPolicy::Sms => {
                self.note(format!(
                    "`{}` has a second factor that cannot be kept (TOTP, or SMS without a verified phone).",
                    user.username
                ));
                Err(ReasonCode::MfaNotRestorable)
            }
        }
    }

    fn decide_authentication(&mut self) -> Result<(LegacyUser, FinalUserStatus, bool), ReasonCode> {
        let matched: Vec<usize> = (0..self.queue.len())
            .filter(|&i| {
                self.outcomes
                    .get(i)
                    .is_some_and(PasswordOutcome::password_matched)
            })
            .collect();
        let chosen = match matched.as_slice() {
            [] => {
                let any = |o: &PasswordOutcome| self.outcomes.iter().any(|x| x == o);
                return Err(if any(&PasswordOutcome::Disabled) {
                    ReasonCode::Disabled
                } else if any(&PasswordOutcome::NotConfirmed) {
                    ReasonCode::NotConfirmed
                } else if any(&PasswordOutcome::ResetRequired) {
                    ReasonCode::LegacyResetRequired
                } else {
                    ReasonCode::WrongPassword
                });
            }
            [only] => *only,
            several => self.break_tie(several)?,
        };
        let user = self
            .queue
            .get(chosen)
            .cloned()
            .ok_or(ReasonCode::WrongPassword)?;
        let outcome = self
            .outcomes
            .get(chosen)
            .cloned()
            .unwrap_or(PasswordOutcome::WrongPassword);
        let policy = &self.config.policy;
        let keep_sms = policy.mfa == MfaPolicy::Sms && user.mfa.sms;
        match outcome {
            PasswordOutcome::Accepted | PasswordOutcome::Challenge(Challenge::MfaSetup) => {
                Ok((user, FinalUserStatus::Confirmed, keep_sms))
            }
            PasswordOutcome::Challenge(Challenge::NewPasswordRequired) => {
                match policy.temporary_password {
                    TemporaryPasswordPolicy::Refuse => Err(ReasonCode::TemporaryPasswordRefused),
                    TemporaryPasswordPolicy::ResetRequired => {
                        Ok((user, FinalUserStatus::ResetRequired, false))
                    }
                }
            }
            PasswordOutcome::Challenge(
                challenge @ (Challenge::SmsMfa
                | Challenge::SoftwareTokenMfa
                | Challenge::SelectMfaType),
            ) => match policy.mfa {
                MfaPolicy::Refuse => Err(ReasonCode::MfaRefused),
                MfaPolicy::ResetRequired => Ok((user, FinalUserStatus::ResetRequired, false)),
                MfaPolicy::Sms => {
                    let has_sms = challenge == Challenge::SmsMfa || user.mfa.sms;
                    if has_sms {
                        Ok((user, FinalUserStatus::Confirmed, true))
                    } else {
                        Err(ReasonCode::MfaNotRestorable)
                    }
                }
            },
            PasswordOutcome::Challenge(Challenge::Other(_)) => {
                Err(ReasonCode::UnsupportedChallenge)
            }
            PasswordOutcome::WrongPassword
            | PasswordOutcome::Disabled
            | PasswordOutcome::UserNotFound
            | PasswordOutcome::ResetRequired
            | PasswordOutcome::NotConfirmed => Err(ReasonCode::WrongPassword),
        }
    }

    fn break_tie(&mut self, several: &[usize]) -> Result<usize, ReasonCode> {
        let names: Vec<String> = several
            .iter()
            .filter_map(|&i| self.queue.get(i))
            .map(|u| format!("`{}`", u.username))
            .collect();
        self.note(format!(
            "The password fits {} legacy users: {}.",
            several.len(),
            names.join(", ")
        ));
        if self.config.policy.collision == CollisionPolicy::Refuse {
            return Err(ReasonCode::Ambiguous);
        }
        let stamp = |i: usize| self.queue.get(i).and_then(|u| u.last_modified_ms);
        let mut best: Option<(usize, i64)> = None;
        let mut tie = false;
        for &i in several {
            let Some(at) = stamp(i) else {
                return Err(ReasonCode::Ambiguous);
            };
            match best {
                Some((_, top)) if at == top => tie = true,
                Some((_, top)) if at < top => {}
                _ => {
                    best = Some((i, at));
                    tie = false;
                }
            }
        }
        match best {
            Some((i, _)) if !tie => {
                self.note("The collision policy picks the one modified most recently.");
                Ok(i)
            }
            _ => Err(ReasonCode::Ambiguous),
        }
    }

    /// No variant usernames: the new pool creates the user under the name as typed
    /// (canonicalised), so the typed name must be, once canonicalised, one of the identifiers
    /// the user registered, not merely share its match key (`straße` for `strasse`, a
    /// fullwidth or dotted-capital form).
    /// Returns the typed name canonicalised and which identifier of the user it is.
    fn registered_as_typed(
        &mut self,
        user: &LegacyUser,
    ) -> Result<(crate::keys::CanonicalUsername, &'static str), ReasonCode> {
        let typed =
            canonical_username(self.event.user_name()).map_err(|_| ReasonCode::EmptyIdentifier)?;
        let key = match_key(self.event.user_name());
        let registered = user
            .sign_in_identifiers(&self.config.legacy_sign_in)
            .filter(|(_, id)| match_key(id) == key)
            .find(|(_, id)| canonical_username(id).is_ok_and(|c| c == typed))
            .map(|(name, _)| name);
        if let Some(name) = registered {
            return Ok((typed, name));
        }
        self.note(format!(
            "`{}` was typed as `{}`, a variant of how it is registered; it must be typed as registered.",
            user.username,
            typed.as_str()
        ));
        Err(ReasonCode::IdentifierVariant)
    }

    fn shape(&self) -> shape::Shape<'a> {
        shape::Shape {
            username_attributes: &self.config.new_pool_username_attributes,
            alias_attributes: &self.config.new_pool_alias_attributes,
        }
    }

    /// Maps attributes and checks what the final status needs.
    fn approve(
        &mut self,
        user: &LegacyUser,
        status: FinalUserStatus,
        sms: bool,
    ) -> Result<Approval, ReasonCode> {
        let (typed, typed_as) = self.registered_as_typed(user)?;
        let mut attributes = map_attributes(user, &self.config.schema.0, &self.config.mapping)
            .map_err(|e| {
                self.note(format!("The new pool would reject the attributes: {e}."));
                ReasonCode::AttributesRejected
            })?;
        // A preferred_username alias signs its holder in with nothing to verify: the new pool
        // gets one only where the legacy pool signed in with it too, or a name anyone typed into
        // a profile (another user's username, say) would sign in as this user.
        let alias = "preferred_username";
        if self.shape().aliases(alias)
            && user.proves(alias, &self.config.legacy_sign_in) == Proof::None
            && attributes.remove(alias).is_some()
        {
            self.note(format!(
                "`{}` has a {alias} the legacy pool never signed in with: it is left out.",
                user.username
            ));
        }
        let named = self.shape().name(
            user,
            self.event.user_name(),
            &typed,
            typed_as,
            &mut attributes,
            &mut self.trace,
        )?;
        if let Some(bound) = self.bound.get(&user.username)
            && *bound != named.recorded
        {
            let line = format!(
                "`{}` was approved under `{bound}` before, and this sign-in would name it `{}`: only the first can be approved again.",
                user.username, named.recorded
            );
            self.note(line);
            return Err(ReasonCode::AlreadyMigrated);
        }
        let verified = |name: &str, flag: &str| {
            attributes.contains_key(name)
                && attributes.get(flag).map(String::as_str) == Some("true")
        };
        if status == FinalUserStatus::ResetRequired
            && !verified("email", "email_verified")
            && !verified("phone_number", "phone_number_verified")
        {
            self.note(format!(
                "`{}` has no verified e-mail address or phone number to receive a reset code.",
                user.username
            ));
            return Err(ReasonCode::NoVerifiedContact);
        }
        if sms && !attributes.contains_key("phone_number") {
            self.note(format!(
                "`{}` has SMS MFA but no phone number the new pool accepts.",
                user.username
            ));
            return Err(ReasonCode::MfaNotRestorable);
        }
        Ok(Approval {
            legacy_username: user.username.clone(),
            final_user_status: status,
            enable_sms_mfa: sms,
            user_attributes: attributes,
            new_username: named.recorded,
        })
    }
}

/// Runs a whole migration with a synchronous password check: for simulators, tests and
/// benchmarks. The adapter runs the same machine with real, asynchronous checks.
pub fn decide_with(
    event: &TriggerEvent,
    candidates: Vec<LedgerEntry>,
    config: &MigrationConfig,
    mut check: impl FnMut(&str) -> PasswordOutcome,
) -> Decision {
    let mut machine = SignInMigration::new(event, candidates, config);
    while let Step::CheckPassword { username } = machine.next_step() {
        let outcome = check(username);
        machine.record(outcome);
    }
    machine.finish()
}

/// How strongly `user` proves an identifier under `key`.
pub(crate) fn proof_of(
    user: &LegacyUser,
    key: &crate::keys::MatchKey,
    legacy: &LegacySignIn,
) -> Proof {
    user.identifiers()
        .filter(|(_, id)| match_key(id) == *key)
        .map(|(name, _)| user.proves(name, legacy))
        .max()
        .unwrap_or(Proof::None)
}

/// True when the ledger state lets a refusal be recorded without hiding a migration: only
/// pending users (and users refused before) take a `Refused` state.
#[must_use]
pub fn refusal_is_recordable(state: &MigrationState) -> bool {
    matches!(
        state,
        MigrationState::Pending | MigrationState::Refused { .. }
    )
}

#[cfg(test)]
mod tests;
