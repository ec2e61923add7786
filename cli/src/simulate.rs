//! `cognito-migrate simulate`: runs the trigger's decision offline, on a captured event and a
//! file of legacy users, with the password checks' outcomes assumed instead of made.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use cognito_migrate_core::event::{TriggerEvent, TriggerSource};
use cognito_migrate_core::migrate::MigrationConfig;
pub use cognito_migrate_core::simulate::AssumedOutcome;
use cognito_migrate_core::simulate::{Simulation, UnknownOutcome, simulate};
use serde::Serialize;
use serde_json::Value;

use crate::BadInput;
use crate::input;

/// Reads an outcome word (`ok`, `wrong`, ...).
pub fn parse_outcome(word: &str) -> Result<AssumedOutcome, String> {
    word.parse().map_err(|e: UnknownOutcome| e.to_string())
}

/// Parses `USERNAME=OUTCOME` (the last `=` splits: usernames may contain one).
pub fn parse_assume(text: &str) -> Result<(String, AssumedOutcome), String> {
    let (username, word) = text.rsplit_once('=').ok_or("expected USERNAME=OUTCOME")?;
    if username.is_empty() {
        return Err("the username is empty".into());
    }
    Ok((username.to_owned(), parse_outcome(word)?))
}

/// Everything a simulation needs besides the files.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Policy, schema and mapping.
    pub config: MigrationConfig,
    /// The outcome for users not named in `assume`.
    pub default_outcome: AssumedOutcome,
    /// Outcomes per legacy username.
    pub assume: BTreeMap<String, AssumedOutcome>,
}

/// The result, printed as text or as one JSON object: the core's simulation, plus what the
/// command read and had to assume.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The simulation.
    #[serde(flatten)]
    pub simulation: Simulation,
    /// Users read from the users file.
    pub legacy_users_read: usize,
    /// What the simulation had to assume or adjust.
    pub notes: Vec<String>,
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
pub fn run(event_path: &Path, users_path: &Path, setup: &Setup) -> Result<Report, BadInput> {
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
    let now_ms = crate::finish::now_ms();
    let mut simulation = simulate(&event, &entries, &setup.config, now_ms, |username| {
        setup
            .assume
            .get(username)
            .copied()
            .unwrap_or(setup.default_outcome)
    });
    if simulation.response.is_null() {
        notes.push("The trigger fails the request instead of returning the event.".into());
    }
    if !matches!(
        event.source(),
        TriggerSource::UserMigrationAuthentication
            | TriggerSource::UserMigrationForgotPassword
            | TriggerSource::PreSignUp(_)
            | TriggerSource::PostAuthentication
            | TriggerSource::TokenGeneration(_)
    ) {
        notes.push(format!(
            "{} is not handled by the trigger: the response is the event unchanged.",
            event.source()
        ));
    }
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
    Ok(Report {
        simulation,
        legacy_users_read: entries.len(),
        notes,
    })
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

/// The text report.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.simulation;
    let _ = writeln!(
        out,
        "Event: {} for `{}` (match key `{}`)",
        s.trigger_source, s.user_name, s.match_key
    );
    for note in &report.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    let _ = writeln!(
        out,
        "Legacy users read: {}; filed under the event's key: {}",
        report.legacy_users_read,
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
    for check in &s.checks {
        let _ = writeln!(
            out,
            "Assumed: the password check for `{}` gives `{}`",
            check.username, check.outcome
        );
    }
    let _ = writeln!(out);
    let decision = serde_json::to_value(s.decision).unwrap_or_default();
    let _ = write!(out, "Decision: {}", decision.as_str().unwrap_or_default());
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
    if let Some(explanation) = &s.explanation {
        match s.reason_code {
            Some(code) => {
                let _ = writeln!(out, "Reason: {code}: {explanation}");
            }
            None => {
                let _ = writeln!(out, "Reason: {explanation}");
            }
        }
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
