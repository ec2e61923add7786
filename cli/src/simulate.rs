//! `cognito-migrate simulate`: runs the trigger's decision offline, on a captured event and a
//! file of legacy users, with the password checks' outcomes assumed instead of made.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use cognito_migrate_core::event::{TriggerEvent, TriggerSource};
use cognito_migrate_core::groups::token_group_override;
use cognito_migrate_core::ledger::{LedgerEntry, directory_keys};
use cognito_migrate_core::migrate::{
    Approval, Challenge, MigrationConfig, PasswordOutcome, decide_with,
};
use cognito_migrate_core::signup::{
    SIGN_UP_REFUSED_MESSAGE, SignUpDecision, decide_sign_up, sign_up_keys,
};
use cognito_migrate_core::{MatchKey, match_key};
use serde::Serialize;
use serde_json::Value;

use crate::BadInput;
use crate::input;

/// An assumed answer of the legacy pool to a password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Assumed {
    /// Tokens: the password is right.
    Ok,
    /// `NotAuthorizedException`: wrong password.
    Wrong,
    /// `NotAuthorizedException: User is disabled.`
    Disabled,
    /// `UserNotFoundException`.
    NotFound,
    /// `PasswordResetRequiredException`.
    ResetRequired,
    /// `UserNotConfirmedException`.
    NotConfirmed,
    /// Right password, `SMS_MFA` challenge.
    SmsMfa,
    /// Right password, `SOFTWARE_TOKEN_MFA` challenge.
    TotpMfa,
    /// Right password, `SELECT_MFA_TYPE` challenge.
    SelectMfa,
    /// Right password, `MFA_SETUP` challenge.
    MfaSetup,
    /// Right temporary password, `NEW_PASSWORD_REQUIRED` challenge.
    NewPasswordRequired,
}

impl Assumed {
    fn outcome(self) -> PasswordOutcome {
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

    fn word(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// Parses `USERNAME=OUTCOME` (the last `=` splits: usernames may contain one).
pub fn parse_assume(text: &str) -> Result<(String, Assumed), String> {
    let (username, word) = text.rsplit_once('=').ok_or("expected USERNAME=OUTCOME")?;
    if username.is_empty() {
        return Err("the username is empty".into());
    }
    let outcome = <Assumed as clap::ValueEnum>::from_str(word, true).map_err(|_| {
        let words: Vec<String> = <Assumed as clap::ValueEnum>::value_variants()
            .iter()
            .map(|a| a.word())
            .collect();
        format!("`{word}` is not one of: {}", words.join(", "))
    })?;
    Ok((username.to_owned(), outcome))
}

/// Everything a simulation needs besides the files.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Policy, schema and mapping.
    pub config: MigrationConfig,
    /// The outcome for users not named in `assume`.
    pub default_outcome: Assumed,
    /// Outcomes per legacy username.
    pub assume: BTreeMap<String, Assumed>,
}

/// Why a migration was refused.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// The reason code.
    pub code: String,
    /// Its explanation.
    pub explanation: String,
}

/// One password check the simulation assumed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssumedCheck {
    /// The legacy username checked.
    pub username: String,
    /// The outcome assumed.
    pub outcome: String,
}

/// The result, printed as text or as one JSON object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulation {
    /// `triggerSource`.
    pub trigger_source: String,
    /// `userName`.
    pub user_name: String,
    /// Its match key.
    pub match_key: String,
    /// Users read from the users file.
    pub legacy_users_read: usize,
    /// Usernames filed under the event's key(s), as the ledger would return them.
    pub candidates: Vec<String>,
    /// `approved`, `refused`, `allowed`, `groups-added` or `unchanged`.
    pub decision: String,
    /// The refusal's reason.
    pub reason: Option<Reason>,
    /// The approved migration.
    pub approval: Option<Approval>,
    /// The password checks made, with their assumed outcomes.
    pub password_checks: Vec<AssumedCheck>,
    /// The steps, in plain language.
    pub trace: Vec<String>,
    /// What the client would see.
    pub client_message: String,
    /// What the simulation had to assume or adjust.
    pub notes: Vec<String>,
    /// The event the trigger returns (`null` when it fails the request instead).
    pub response: Value,
}

const PASSWORD_PLACEHOLDER: &str = "<password unknown>";

/// How the event's password was handled.
enum PasswordFix {
    Kept,
    Inserted { was_null: bool },
}

fn looks_redacted(password: &str) -> bool {
    let lower = password.trim().to_ascii_lowercase();
    lower.is_empty()
        || lower.chars().all(|c| c == '*')
        || [
            "redacted",
            "[redacted]",
            "<redacted>",
            "hidden",
            "***redacted***",
            "xxx",
        ]
        .contains(&lower.as_str())
}

/// Reads the event file and runs the simulation.
pub fn run(event_path: &Path, users_path: &Path, setup: &Setup) -> Result<Simulation, BadInput> {
    let text = input::read_text(event_path)?;
    let found = input::find_event(event_path, &text)?;
    let mut notes: Vec<String> = found
        .note
        .into_iter()
        .map(|n| format!("Input: {n}"))
        .collect();
    let mut value = found.value;
    let fix = fix_password(&mut value, &mut notes);
    let event = TriggerEvent::from_value(value).map_err(|e| {
        BadInput(format!(
            "{}: not a trigger event Cognito sends: {e}",
            event_path.display()
        ))
    })?;
    let entries = input::read_users(users_path)?;
    let mut unknown: Vec<&str> = setup
        .assume
        .keys()
        .map(String::as_str)
        .filter(|name| !entries.iter().any(|e| e.user.username == *name))
        .collect();
    unknown.dedup();
    if !unknown.is_empty() {
        return Err(BadInput(format!(
            "--assume names user(s) not in {}: {}",
            users_path.display(),
            unknown
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut simulation = match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            migration(&event, &entries, setup)
        }
        TriggerSource::PreSignUp(_) => sign_up(&event, &entries),
        TriggerSource::TokenGeneration(_) => token_generation(&event, &entries),
        other => unchanged(&event, &entries, other),
    };
    if let PasswordFix::Inserted { was_null } = fix
        && let Some(request) = simulation
            .response
            .get_mut("request")
            .and_then(Value::as_object_mut)
    {
        // The response echoes the event as received, so the placeholder must not show in it.
        if was_null {
            request.insert("password".into(), Value::Null);
        } else {
            request.remove("password");
        }
    }
    notes.append(&mut simulation.notes);
    simulation.notes = notes;
    Ok(simulation)
}

/// Inserts a placeholder password where a captured sign-in event has none, so that the core
/// parses it; the assumed outcomes stand in for the password anyway.
fn fix_password(value: &mut Value, notes: &mut Vec<String>) -> PasswordFix {
    if value.get("triggerSource").and_then(Value::as_str) != Some("UserMigration_Authentication") {
        return PasswordFix::Kept;
    }
    let Some(event) = value.as_object_mut() else {
        return PasswordFix::Kept;
    };
    let request = event
        .entry("request")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    let Some(request) = request.as_object_mut() else {
        return PasswordFix::Kept;
    };
    match request.get("password") {
        Some(Value::String(password)) => {
            if looks_redacted(password) {
                notes.push(format!(
                    "request.password is `{password}`, which looks redacted; the password is unknown, so the assumed outcomes decide."
                ));
            }
            PasswordFix::Kept
        }
        Some(Value::Null) | None => {
            let was_null = request.contains_key("password");
            request.insert(
                "password".into(),
                Value::String(PASSWORD_PLACEHOLDER.into()),
            );
            notes.push(
                "request.password is missing (a redacted capture?); a placeholder was inserted so that the event parses, and the assumed outcomes decide. The response shows the event as captured."
                    .to_owned(),
            );
            PasswordFix::Inserted { was_null }
        }
        Some(_) => PasswordFix::Kept,
    }
}

/// The entries the ledger would return for `key`: those filed under it.
fn filed_under<'a>(entries: &'a [LedgerEntry], keys: &[MatchKey]) -> Vec<&'a LedgerEntry> {
    entries
        .iter()
        .filter(|e| directory_keys(&e.user).iter().any(|k| keys.contains(k)))
        .collect()
}

fn base(event: &TriggerEvent, entries: &[LedgerEntry], candidates: &[&LedgerEntry]) -> Simulation {
    Simulation {
        trigger_source: event.source().to_string(),
        user_name: event.user_name().to_owned(),
        match_key: match_key(event.user_name()).into_string(),
        legacy_users_read: entries.len(),
        candidates: candidates.iter().map(|e| e.user.username.clone()).collect(),
        decision: "unchanged".into(),
        reason: None,
        approval: None,
        password_checks: Vec::new(),
        trace: Vec::new(),
        client_message: String::new(),
        notes: Vec::new(),
        response: event.unchanged(),
    }
}

fn migration(event: &TriggerEvent, entries: &[LedgerEntry], setup: &Setup) -> Simulation {
    let key = match_key(event.user_name());
    let candidates = filed_under(entries, std::slice::from_ref(&key));
    let mut simulation = base(event, entries, &candidates);
    let mut checks = Vec::new();
    let decision = decide_with(
        event,
        candidates.into_iter().cloned().collect(),
        &setup.config,
        |username| {
            let assumed = setup
                .assume
                .get(username)
                .copied()
                .unwrap_or(setup.default_outcome);
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
        "approved"
    } else {
        "refused"
    }
    .into();
    simulation.reason = decision.refusal.map(|code| Reason {
        code: code.as_str().into(),
        explanation: code.explain().into(),
    });
    simulation.password_checks = checks;
    simulation.trace = decision.trace;
    simulation.response = decision.response;
    simulation.approval = decision.approval;
    simulation
}

fn sign_up(event: &TriggerEvent, entries: &[LedgerEntry]) -> Simulation {
    let keys = sign_up_keys(event);
    let found = filed_under(entries, &keys);
    let mut simulation = base(event, entries, &found);
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
            simulation.decision = "allowed".into();
            simulation.trace.push("No legacy user who has not moved yet holds these identifiers: the sign-up goes on.".into());
            simulation.client_message = "The sign-up goes on as if there were no trigger.".into();
        }
        SignUpDecision::Refuse {
            legacy_username,
            field,
        } => {
            simulation.decision = "refused".into();
            simulation.trace.push(format!(
                "The sign-up's {field} belongs to legacy user `{legacy_username}`, who has not moved yet: refuse, or that user's first sign-in would land in this account."
            ));
            simulation.client_message = format!(
                "UserLambdaValidationException: PreSignUp failed with error {SIGN_UP_REFUSED_MESSAGE}"
            );
            simulation.response = Value::Null;
            simulation
                .notes
                .push("The trigger fails the request instead of returning the event.".into());
        }
    }
    simulation
}

fn token_generation(event: &TriggerEvent, entries: &[LedgerEntry]) -> Simulation {
    let key = match_key(event.user_name());
    let candidates = filed_under(entries, std::slice::from_ref(&key));
    let mut simulation = base(event, entries, &candidates);
    let legacy_name = event.user_attributes().get("custom:legacy_username");
    let user = match legacy_name {
        Some(name) => entries.iter().find(|e| &e.user.username == name),
        None if candidates.len() == 1 => candidates.first().copied(),
        None => None,
    };
    let Some(user) = user else {
        simulation.trace.push(match legacy_name {
            Some(name) => format!("The user's custom:legacy_username `{name}` is not in the users file."),
            None => "The event carries no custom:legacy_username and its userName does not name exactly one legacy user.".into(),
        });
        simulation.client_message = "The tokens carry the groups the new pool has.".into();
        return simulation;
    };
    simulation.trace.push(format!(
        "The legacy user is `{}`, in groups: {:?}.",
        user.user.username, user.user.groups
    ));
    if let Some(response) = token_group_override(event, &user.user.groups) {
        simulation.decision = "groups-added".into();
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
        simulation.client_message = "The tokens carry the groups the new pool has.".into();
    }
    simulation
}

fn unchanged(event: &TriggerEvent, entries: &[LedgerEntry], source: &TriggerSource) -> Simulation {
    let mut simulation = base(event, entries, &[]);
    simulation.trace.push(format!(
        "{source}: simulate models UserMigration_*, PreSignUp_* and TokenGeneration_* events; this one is returned unchanged."
    ));
    simulation.notes.push(format!(
        "{source} is not simulated: the response is the event unchanged."
    ));
    simulation.client_message = "No change from the trigger.".into();
    simulation
}

/// The text report.
#[must_use]
pub fn render(simulation: &Simulation) -> String {
    let mut out = String::new();
    let s = simulation;
    let _ = writeln!(
        out,
        "Event: {} for `{}` (match key `{}`)",
        s.trigger_source, s.user_name, s.match_key
    );
    for note in &s.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    let _ = writeln!(
        out,
        "Legacy users read: {}; filed under the event's key: {}",
        s.legacy_users_read,
        if s.candidates.is_empty() {
            "none".to_owned()
        } else {
            s.candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    for check in &s.password_checks {
        let _ = writeln!(
            out,
            "Assumed: the password check for `{}` gives `{}`",
            check.username, check.outcome
        );
    }
    let _ = writeln!(out);
    let _ = write!(out, "Decision: {}", s.decision);
    if let Some(approval) = &s.approval {
        let _ = write!(
            out,
            ": migrate `{}` as {}{}",
            approval.legacy_username,
            approval.final_user_status.as_str(),
            if approval.enable_sms_mfa {
                " with SMS MFA"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out);
    if let Some(reason) = &s.reason {
        let _ = writeln!(out, "Reason: {}: {}", reason.code, reason.explanation);
    }
    let _ = writeln!(out, "\nTrace:");
    for (i, step) in s.trace.iter().enumerate() {
        let _ = writeln!(out, "  {}. {step}", i + 1);
    }
    let _ = writeln!(out, "\nThe client sees: {}", s.client_message);
    let _ = writeln!(out, "\nResponse event:");
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&s.response).unwrap_or_default()
    );
    out
}
