//! `simulateTrigger`: what the trigger Lambda decides for an event, with the legacy pool's
//! answers to password checks assumed instead of asked.
//!
//! The decisions are the core's (`decide_with`, `decide_sign_up`, `token_group_override`); this
//! module only reads the input, files the legacy users under their keys as the ledger would,
//! and reports the outcome.

use std::borrow::Cow;
use std::collections::BTreeMap;

use cognito_migrate_core::attributes::{AttributeMapping, TargetSchema};
use cognito_migrate_core::event::{TriggerEvent, TriggerSource};
use cognito_migrate_core::groups::token_group_override;
use cognito_migrate_core::ledger::{LedgerEntry, directory_keys};
use cognito_migrate_core::migrate::{
    Approval, Challenge, MigrationConfig, PasswordOutcome, ReasonCode, TargetSchemaOrDefault,
    decide_with,
};
use cognito_migrate_core::policy::Policy;
use cognito_migrate_core::signup::{
    SIGN_UP_REFUSED_MESSAGE, SignUpDecision, decide_sign_up, sign_up_keys,
};
use cognito_migrate_core::user::LegacyUser;
use cognito_migrate_core::{MatchKey, match_key};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::code::ErrorCode;
use crate::error::ExportError;
use crate::serialize::{from_js, to_js};

#[wasm_bindgen(typescript_custom_section)]
const SIMULATE_TYPES: &str = r#"
/** An assumed answer of the legacy pool to a password check. */
export type PasswordOutcomeWord =
  | "ok"
  | "wrong"
  | "disabled"
  | "not-found"
  | "reset-required"
  | "not-confirmed"
  | "sms-mfa"
  | "totp-mfa"
  | "select-mfa"
  | "mfa-setup"
  | "new-password-required";

/** The operator's policy (every field optional; omitted ones take the safe defaults). */
export interface PolicyJson {
  collision?: "refuse" | "most-recent";
  mfa?: "refuse" | "reset-required" | "sms";
  temporaryPassword?: "refuse" | "reset-required";
  maxCandidates?: number;
  deadlineMs?: number;
}

export interface SimulationInput {
  /** The trigger event, as Cognito sends it (see `buildEvent`). */
  event: object;
  /** Legacy users as `list-users` or `admin-get-user` prints them (`Username`, `Attributes`, ...). */
  legacyUsers: object[];
  /** Legacy username (exact case) to the assumed answer to its password check. */
  passwordOutcomes?: Record<string, PasswordOutcomeWord>;
  /** The answer for users not in `passwordOutcomes` (default `"ok"`). */
  defaultOutcome?: PasswordOutcomeWord;
  /** The new pool's attribute names (default: the standard ones plus `custom:legacy_sub` and `custom:legacy_username`). */
  schema?: string[];
  policy?: PolicyJson;
  /** Attribute renames and drops. */
  mapping?: { renames?: Record<string, string>; drops?: string[] };
}

export interface SimulatedCheck {
  username: string;
  outcome: PasswordOutcomeWord;
}

export interface SimulatedApproval {
  legacyUsername: string;
  finalUserStatus: "CONFIRMED" | "RESET_REQUIRED";
  enableSmsMfa: boolean;
  userAttributes: Record<string, string>;
}

export interface SimulationResult {
  triggerSource: string;
  /** The match key of `userName`. */
  matchKey: string;
  /** Legacy usernames filed under the event's key(s), as the ledger would return them. */
  candidates: string[];
  decision: "approved" | "refused" | "allowed" | "groups-added" | "unchanged";
  /** A migration refusal's reason code (`wrong_password`, `ambiguous`, ...). */
  reasonCode: string | null;
  /** Why, in plain language, for operators. */
  explanation: string | null;
  /** What a client would get from Cognito. */
  clientMessage: string;
  /** Each step of the decision, in plain language. */
  trace: string[];
  /** How many password checks were made. */
  passwordChecks: number;
  /** The checks, with the answers assumed. */
  checks: SimulatedCheck[];
  approval: SimulatedApproval | null;
  /** The event the trigger returns; `null` when it fails the request instead. */
  response: TriggerEventJson | null;
}
"#;

/// `simulateTrigger`'s argument.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SimulationInput {
    event: Value,
    legacy_users: Option<Vec<Value>>,
    password_outcomes: Option<BTreeMap<String, String>>,
    default_outcome: Option<String>,
    schema: Option<Vec<String>>,
    policy: Option<Policy>,
    mapping: Option<AttributeMapping>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SimulatedCheck {
    username: String,
    outcome: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SimulatedApproval {
    legacy_username: String,
    final_user_status: &'static str,
    enable_sms_mfa: bool,
    user_attributes: BTreeMap<String, String>,
}

impl From<Approval> for SimulatedApproval {
    fn from(approval: Approval) -> Self {
        Self {
            legacy_username: approval.legacy_username,
            final_user_status: approval.final_user_status.as_str(),
            enable_sms_mfa: approval.enable_sms_mfa,
            user_attributes: approval.user_attributes,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SimulationResult {
    trigger_source: String,
    match_key: String,
    candidates: Vec<String>,
    decision: &'static str,
    reason_code: Option<&'static str>,
    explanation: Option<String>,
    client_message: Cow<'static, str>,
    trace: Vec<String>,
    password_checks: usize,
    checks: Vec<SimulatedCheck>,
    approval: Option<SimulatedApproval>,
    response: Option<Value>,
}

/// The outcome words, as the CLI's `--assume` spells them.
const OUTCOME_WORDS: [&str; 11] = [
    "ok",
    "wrong",
    "disabled",
    "not-found",
    "reset-required",
    "not-confirmed",
    "sms-mfa",
    "totp-mfa",
    "select-mfa",
    "mfa-setup",
    "new-password-required",
];

fn outcome(word: &str) -> Option<PasswordOutcome> {
    Some(match word {
        "ok" => PasswordOutcome::Accepted,
        "wrong" => PasswordOutcome::WrongPassword,
        "disabled" => PasswordOutcome::Disabled,
        "not-found" => PasswordOutcome::UserNotFound,
        "reset-required" => PasswordOutcome::ResetRequired,
        "not-confirmed" => PasswordOutcome::NotConfirmed,
        "sms-mfa" => PasswordOutcome::Challenge(Challenge::SmsMfa),
        "totp-mfa" => PasswordOutcome::Challenge(Challenge::SoftwareTokenMfa),
        "select-mfa" => PasswordOutcome::Challenge(Challenge::SelectMfaType),
        "mfa-setup" => PasswordOutcome::Challenge(Challenge::MfaSetup),
        "new-password-required" => PasswordOutcome::Challenge(Challenge::NewPasswordRequired),
        _ => return None,
    })
}

fn invalid_outcome(message: &str) -> ExportError {
    ExportError::new("INVALID_OUTCOME", message)
}

fn check_word(word: &str, whose: &str) -> Result<(), ExportError> {
    if outcome(word).is_some() {
        Ok(())
    } else {
        Err(invalid_outcome(&format!(
            "{whose}: `{word}` is not one of: {}",
            OUTCOME_WORDS.join(", ")
        )))
    }
}

/// Runs the trigger's decision for `input.event` against `input.legacyUsers`, with each
/// password check answered by `input.passwordOutcomes` (or `defaultOutcome`).
///
/// `UserMigration_*` events run the migration state machine, `PreSignUp_*` the sign-up guard,
/// `TokenGeneration_*` the legacy group override (the legacy user is the one named by
/// `custom:legacy_username`, or the only one filed under `userName`); other events come back
/// unchanged. Throws `INVALID_INPUT`, `INVALID_EVENT`, `INVALID_USER` (with `index`) or
/// `INVALID_OUTCOME`.
#[wasm_bindgen(js_name = simulateTrigger, unchecked_return_type = "SimulationResult")]
pub fn simulate_trigger(
    #[wasm_bindgen(unchecked_param_type = "SimulationInput")] input: &JsValue,
) -> Result<JsValue, ExportError> {
    let input: SimulationInput = from_js("simulateTrigger input", input)?;
    let event = TriggerEvent::from_value(input.event)?;
    let mut entries = Vec::new();
    for (index, record) in input.legacy_users.unwrap_or_default().iter().enumerate() {
        let user = LegacyUser::from_aws_json(record).map_err(|error| {
            let exported =
                ExportError::new(error.code(), &format!("legacyUsers[{index}]: {error}"))
                    .with("index", index);
            match error.field() {
                Some(field) => exported.with("field", field),
                None => exported,
            }
        })?;
        entries.push(LedgerEntry::pending(user));
    }
    let outcomes = input.password_outcomes.unwrap_or_default();
    for (username, word) in &outcomes {
        check_word(word, &format!("passwordOutcomes[`{username}`]"))?;
        if !entries.iter().any(|entry| &entry.user.username == username) {
            return Err(invalid_outcome(&format!(
                "passwordOutcomes names `{username}`, which is not among legacyUsers"
            )));
        }
    }
    let default_word = input.default_outcome.unwrap_or_else(|| "ok".to_owned());
    check_word(&default_word, "defaultOutcome")?;
    let config = MigrationConfig {
        policy: input.policy.unwrap_or_default(),
        schema: input
            .schema
            .map(|names| TargetSchemaOrDefault(TargetSchema::new(names)))
            .unwrap_or_default(),
        mapping: input.mapping.unwrap_or_default(),
    };

    let result = match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            migration(&event, &entries, &config, |username| {
                outcomes.get(username).unwrap_or(&default_word).clone()
            })
        }
        TriggerSource::PreSignUp(_) => sign_up(&event, &entries),
        TriggerSource::TokenGeneration(_) => token_generation(&event, &entries),
        other => {
            let mut result = base(&event, Vec::new());
            result.trace.push(format!(
                "{other}: the trigger changes nothing for this source; the event is returned unchanged."
            ));
            result.client_message = "No change from the trigger.".into();
            result
        }
    };
    to_js(&result)
}

/// The entries the ledger returns for `keys`: those filed under any of them.
fn filed_under<'a>(entries: &'a [LedgerEntry], keys: &[MatchKey]) -> Vec<&'a LedgerEntry> {
    entries
        .iter()
        .filter(|entry| {
            directory_keys(&entry.user)
                .iter()
                .any(|key| keys.contains(key))
        })
        .collect()
}

fn base(event: &TriggerEvent, candidates: Vec<String>) -> SimulationResult {
    SimulationResult {
        trigger_source: event.source().to_string(),
        match_key: match_key(event.user_name()).into_string(),
        candidates,
        decision: "unchanged",
        reason_code: None,
        explanation: None,
        client_message: Cow::Borrowed(""),
        trace: Vec::new(),
        password_checks: 0,
        checks: Vec::new(),
        approval: None,
        response: Some(event.unchanged()),
    }
}

fn names(entries: &[&LedgerEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| entry.user.username.clone())
        .collect()
}

fn migration(
    event: &TriggerEvent,
    entries: &[LedgerEntry],
    config: &MigrationConfig,
    word_for: impl Fn(&str) -> String,
) -> SimulationResult {
    let key = match_key(event.user_name());
    let candidates = filed_under(entries, std::slice::from_ref(&key));
    let mut result = base(event, names(&candidates));
    let mut checks = Vec::new();
    let decision = decide_with(
        event,
        candidates.into_iter().cloned().collect(),
        config,
        |username| {
            let word = word_for(username);
            let assumed = outcome(&word).unwrap_or(PasswordOutcome::WrongPassword);
            checks.push(SimulatedCheck {
                username: username.to_owned(),
                outcome: word,
            });
            assumed
        },
    );
    result.client_message = decision.client_message(event.source()).into();
    result.decision = if decision.approval.is_some() {
        "approved"
    } else {
        "refused"
    };
    result.reason_code = decision.refusal.map(ReasonCode::as_str);
    result.explanation = decision.refusal.map(|code| code.explain().to_owned());
    result.password_checks = decision.password_checks;
    result.checks = checks;
    result.trace = decision.trace;
    result.approval = decision.approval.map(SimulatedApproval::from);
    result.response = Some(decision.response);
    result
}

fn sign_up(event: &TriggerEvent, entries: &[LedgerEntry]) -> SimulationResult {
    let keys = sign_up_keys(event);
    let found = filed_under(entries, &keys);
    let mut result = base(event, names(&found));
    let listed: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
    result.trace.push(format!(
        "The sign-up's identifiers have the key(s) {}.",
        listed.join(", ")
    ));
    let owned: Vec<LedgerEntry> = found.into_iter().cloned().collect();
    for entry in &owned {
        result.trace.push(format!(
            "Legacy user `{}` ({}) is filed under one of them.",
            entry.user.username,
            entry.state.name()
        ));
    }
    match decide_sign_up(event, &owned) {
        SignUpDecision::Allow => {
            result.decision = "allowed";
            result.trace.push(
                "No legacy user who has not moved yet holds these identifiers: the sign-up goes on."
                    .to_owned(),
            );
            result.client_message = "The sign-up goes on as if there were no trigger.".into();
        }
        SignUpDecision::Refuse {
            legacy_username,
            field,
        } => {
            result.decision = "refused";
            result.explanation = Some(format!(
                "The sign-up's {field} belongs to a legacy user who has not moved yet."
            ));
            result.trace.push(format!(
                "The sign-up's {field} belongs to legacy user `{legacy_username}`, who has not moved yet: refuse, or that user's first sign-in would land in this account."
            ));
            result
                .trace
                .push("The trigger fails the request.".to_owned());
            result.client_message = format!(
                "UserLambdaValidationException: PreSignUp failed with error {SIGN_UP_REFUSED_MESSAGE}"
            )
            .into();
            result.response = None;
        }
    }
    result
}

fn token_generation(event: &TriggerEvent, entries: &[LedgerEntry]) -> SimulationResult {
    let key = match_key(event.user_name());
    let candidates = filed_under(entries, std::slice::from_ref(&key));
    let mut result = base(event, names(&candidates));
    let legacy_name = event.user_attributes().get("custom:legacy_username");
    let user = match (legacy_name, candidates.as_slice()) {
        (Some(name), _) => entries.iter().find(|entry| &entry.user.username == name),
        (None, [only]) => Some(*only),
        (None, _) => None,
    };
    result.client_message = "The tokens carry the groups the new pool has.".into();
    let Some(user) = user else {
        result.trace.push(match legacy_name {
            Some(name) => format!("The user's custom:legacy_username `{name}` is not among the legacy users."),
            None => "The event carries no custom:legacy_username and its userName does not name exactly one legacy user.".to_owned(),
        });
        return result;
    };
    result.trace.push(format!(
        "The legacy user is `{}`, in groups: {}.",
        user.user.username,
        if user.user.groups.is_empty() {
            "none".to_owned()
        } else {
            user.user.groups.join(", ")
        }
    ));
    if let Some(response) = token_group_override(event, &user.user.groups) {
        result.decision = "groups-added";
        result
            .trace
            .push("The legacy groups are added to the groups of the first tokens.".to_owned());
        result.client_message =
            "The tokens carry the new pool's groups plus the legacy ones.".into();
        result.response = Some(response);
    } else {
        result
            .trace
            .push("Nothing to add: the event is returned unchanged.".to_owned());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_word_is_read_and_listed_in_the_typescript_union() {
        for word in OUTCOME_WORDS {
            assert!(outcome(word).is_some(), "{word}");
            // The typescript_custom_section is not a Rust constant: read the source.
            assert!(
                include_str!("simulate.rs").contains(&format!("  | \"{word}\"")),
                "{word}"
            );
        }
        assert!(outcome("OK").is_none());
    }
}
