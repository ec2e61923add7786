//! Offline simulation of what the trigger would answer: the same decisions as the Lambda, with
//! the legacy pool's answers to password checks assumed instead of asked. Shared by
//! `cognito-migrate simulate` and the browser package.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

use crate::event::{TriggerEvent, TriggerSource};
use crate::groups::token_group_override;
use crate::keys::{MatchKey, match_key};
use crate::ledger::{LedgerEntry, directory_keys};
use crate::migrate::{
    Approval, Challenge, MigrationConfig, PasswordOutcome, ReasonCode, decide_with,
};
use crate::signup::{SIGN_UP_REFUSED_MESSAGE, SignUpDecision, decide_sign_up, sign_up_keys};

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

/// What the simulated trigger did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A migration was approved.
    Approved,
    /// A migration or a sign-up was refused.
    Refused,
    /// A sign-up goes on.
    Allowed,
    /// Legacy groups were added to the tokens.
    GroupsAdded,
    /// The event comes back unchanged.
    Unchanged,
}

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
    /// Legacy usernames filed under the event's key(s), as the ledger would return them.
    pub candidates: Vec<String>,
    /// What the trigger did.
    pub decision: Verdict,
    /// The refusal's reason code, for migrations.
    pub reason_code: Option<ReasonCode>,
    /// A plain-language explanation of the refusal.
    pub explanation: Option<String>,
    /// The approved migration.
    pub approval: Option<Approval>,
    /// The password checks made, with their assumed outcomes.
    pub checks: Vec<AssumedCheck>,
    /// The steps, in plain language.
    pub trace: Vec<String>,
    /// What the client would see from Cognito.
    pub client_message: String,
    /// The event the trigger returns; `null` when it fails the request instead.
    pub response: Value,
}

/// Simulates the trigger on `event`, with `entries` standing for the ledger and `assume`
/// answering each password check.
pub fn simulate(
    event: &TriggerEvent,
    entries: &[LedgerEntry],
    config: &MigrationConfig,
    assume: impl FnMut(&str) -> AssumedOutcome,
) -> Simulation {
    match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            migration(event, entries, config, assume)
        }
        TriggerSource::PreSignUp(_) => sign_up(event, entries),
        TriggerSource::TokenGeneration(_) => token_generation(event, entries),
        TriggerSource::PostAuthentication | TriggerSource::Other(_) => unchanged(event),
    }
}

/// The entries the ledger would return for `keys`: those filed under any of them.
fn filed_under<'a>(entries: &'a [LedgerEntry], keys: &[MatchKey]) -> Vec<&'a LedgerEntry> {
    entries
        .iter()
        .filter(|e| directory_keys(&e.user).iter().any(|k| keys.contains(k)))
        .collect()
}

fn base(event: &TriggerEvent, candidates: &[&LedgerEntry]) -> Simulation {
    Simulation {
        trigger_source: event.source().to_string(),
        user_name: event.user_name().to_owned(),
        match_key: match_key(event.user_name()).into_string(),
        candidates: candidates.iter().map(|e| e.user.username.clone()).collect(),
        decision: Verdict::Unchanged,
        reason_code: None,
        explanation: None,
        approval: None,
        checks: Vec::new(),
        trace: Vec::new(),
        client_message: String::new(),
        response: event.unchanged(),
    }
}

fn migration(
    event: &TriggerEvent,
    entries: &[LedgerEntry],
    config: &MigrationConfig,
    mut assume: impl FnMut(&str) -> AssumedOutcome,
) -> Simulation {
    let key = match_key(event.user_name());
    let candidates = filed_under(entries, std::slice::from_ref(&key));
    let mut simulation = base(event, &candidates);
    let mut checks = Vec::new();
    let decision = decide_with(
        event,
        candidates.into_iter().cloned().collect(),
        config,
        |username| {
            let assumed = assume(username);
            checks.push(AssumedCheck {
                username: username.to_owned(),
                outcome: assumed.word(),
            });
            assumed.outcome()
        },
    );
    decision
        .client_message(event.source())
        .clone_into(&mut simulation.client_message);
    simulation.decision = if decision.approval.is_some() {
        Verdict::Approved
    } else {
        Verdict::Refused
    };
    simulation.reason_code = decision.refusal;
    simulation.explanation = decision.refusal.map(|code| code.explain().to_owned());
    simulation.checks = checks;
    simulation.trace = decision.trace;
    simulation.response = decision.response;
    simulation.approval = decision.approval;
    simulation
}

fn sign_up(event: &TriggerEvent, entries: &[LedgerEntry]) -> Simulation {
    let keys = sign_up_keys(event);
    let found = filed_under(entries, &keys);
    let mut simulation = base(event, &found);
    let names: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    simulation.trace.push(format!(
        "The sign-up's identifiers have the key(s) {}.",
        names.join(", ")
    ));
    let owned: Vec<LedgerEntry> = found.into_iter().cloned().collect();
    for entry in &owned {
        simulation.trace.push(format!(
            "Legacy user `{}` ({}) is filed under one of them.",
            entry.user.username,
            entry.state.name()
        ));
    }
    match decide_sign_up(event, &owned) {
        SignUpDecision::Allow => {
            simulation.decision = Verdict::Allowed;
            simulation.trace.push(
                "No legacy user who has not moved yet holds these identifiers: the sign-up goes on."
                    .into(),
            );
            simulation.client_message = "The sign-up goes on as if there were no trigger.".into();
        }
        SignUpDecision::Refuse {
            legacy_username,
            field,
        } => {
            simulation.decision = Verdict::Refused;
            simulation.reason_code = Some(ReasonCode::IdentifierTaken);
            simulation.explanation = Some(ReasonCode::IdentifierTaken.explain().to_owned());
            simulation.trace.push(format!(
                "The sign-up's {field} belongs to legacy user `{legacy_username}`, who has not moved yet: refuse, or that user's first sign-in would land in this account. The trigger fails the request instead of returning the event."
            ));
            simulation.client_message = format!(
                "UserLambdaValidationException: PreSignUp failed with error {SIGN_UP_REFUSED_MESSAGE}"
            );
            simulation.response = Value::Null;
        }
    }
    simulation
}

fn token_generation(event: &TriggerEvent, entries: &[LedgerEntry]) -> Simulation {
    let key = match_key(event.user_name());
    let candidates = filed_under(entries, std::slice::from_ref(&key));
    let mut simulation = base(event, &candidates);
    let legacy_name = event
        .user_attributes()
        .get(crate::attributes::LEGACY_USERNAME);
    let user = match legacy_name {
        Some(name) => entries.iter().find(|e| &e.user.username == name),
        None if candidates.len() == 1 => candidates.first().copied(),
        None => None,
    };
    simulation.client_message = "The tokens carry the groups the new pool has.".into();
    let Some(user) = user else {
        simulation.trace.push(match legacy_name {
            Some(name) => format!("The user's custom:legacy_username `{name}` is not among the legacy users."),
            None => "The event carries no custom:legacy_username and its userName does not name exactly one legacy user.".into(),
        });
        return simulation;
    };
    simulation.trace.push(format!(
        "The legacy user is `{}`, in groups: {}.",
        user.user.username,
        user.user.groups.join(", ")
    ));
    if let Some(response) = token_group_override(event, &user.user.groups) {
        simulation.decision = Verdict::GroupsAdded;
        simulation
            .trace
            .push("The legacy groups are added to the first tokens' groups.".into());
        simulation.client_message =
            "The tokens carry the new pool's groups plus the legacy ones.".into();
        simulation.response = response;
    } else {
        simulation
            .trace
            .push("Nothing to add: the event is returned unchanged.".into());
    }
    simulation
}

fn unchanged(event: &TriggerEvent) -> Simulation {
    let mut simulation = base(event, &[]);
    simulation.trace.push(format!(
        "{}: the simulation models UserMigration_*, PreSignUp_* and TokenGeneration_* events; this one is returned unchanged.",
        event.source()
    ));
    simulation.client_message = "No change from the trigger.".into();
    simulation
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::LegacyUser;

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
        let sim = simulate(
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
        let sim = simulate(
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
        let sim = simulate(&event("pre-sign-up", "someone"), &entries, &config, |_| {
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
        let sim = simulate(
            &event("token-generation-authentication", "name@acme.com"),
            &entries,
            &config,
            |_| AssumedOutcome::Ok,
        );
        assert_eq!(sim.decision, Verdict::GroupsAdded);
        assert_eq!(
            sim.response["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
            serde_json::json!(["staff"])
        );
        let sim = simulate(&event("custom-message", "x"), &entries, &config, |_| {
            AssumedOutcome::Ok
        });
        assert_eq!(sim.decision, Verdict::Unchanged);
        assert!(sim.checks.is_empty());
    }
}
