//! `simulateTrigger`: what the trigger Lambda decides for an event, with the legacy pool's
//! answers to password checks assumed instead of asked.
//!
//! The simulation is the core's (`cognito_migrate_core::simulate`), shared with the CLI; this
//! module only reads the input and shapes the result for JavaScript.

use std::collections::BTreeSet;

use cognito_migrate_core::attributes::{AttributeMapping, TargetSchema};
use cognito_migrate_core::event::TriggerEvent;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::migrate::{Approval, MigrationConfig, ReasonCode, TargetSchemaOrDefault};
use cognito_migrate_core::policy::Policy;
use cognito_migrate_core::simulate::{AssumedCheck, AssumedOutcome, Simulation, Verdict, simulate};
use cognito_migrate_core::user::{LegacySignIn, LegacyUser};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::code::ErrorCode;
use crate::error::ExportError;
use crate::input::{Fields, from_js};
use crate::serialize::to_js;

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
  /** The least time a refusal takes in the Lambda; the simulator does not wait. */
  refusalFloorMs?: number;
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
  /** The new pool's `UsernameAttributes` (`email`, `phone_number`), as `NEW_POOL_USERNAME_ATTRIBUTES`. */
  newPoolUsernameAttributes?: ("email" | "phone_number")[];
  /** The new pool's `AliasAttributes`, as `NEW_POOL_ALIAS_ATTRIBUTES` (never with `newPoolUsernameAttributes`). */
  newPoolAliasAttributes?: ("email" | "phone_number" | "preferred_username")[];
  /** How the legacy pool let users sign in (its `UsernameAttributes` and `AliasAttributes`), which decides which identifiers count: by default only usernames and verified e-mail addresses and phone numbers. */
  legacySignIn?: {
    usernameAttributes?: ("email" | "phone_number")[];
    aliasAttributes?: ("email" | "phone_number" | "preferred_username")[];
  };
}

/** Why the trigger did not approve, allow or change anything: logged by the Lambda, shown to operators, never to end users. */
export type ReasonCode =
  | "not_a_migration_event"
  | "empty_identifier"
  | "no_candidates"
  | "already_migrated"
  | "disabled"
  | "too_many_candidates"
  | "wrong_password"
  | "not_confirmed"
  | "legacy_reset_required"
  | "external_provider"
  | "ambiguous"
  | "mfa_refused"
  | "mfa_not_restorable"
  | "temporary_password_refused"
  | "no_verified_contact"
  | "attributes_rejected"
  | "unsupported_challenge"
  | "legacy_unavailable"
  | "identifier_taken"
  | "identifier_variant"
  | "identifier_owned"
  | "alias_taken"
  | "not_owner"
  | "legacy_attribute_in_sign_up"
  | "ledger_conflict"
  | "ledger_unavailable"
  | "not_migrated"
  | "not_in_ledger"
  | "groups_already_copied"
  | "groups_not_copied"
  | "no_groups_to_add"
  | "no_user_pool_id"
  | "unhandled_source"
  | "configuration"
  | "deadline"
  | "malformed_event"
  | "gone";

export interface SimulatedCheck {
  username: string;
  outcome: PasswordOutcomeWord;
}

export interface SimulatedApproval {
  legacyUsername: string;
  finalUserStatus: "CONFIRMED" | "RESET_REQUIRED";
  enableSmsMfa: boolean;
  userAttributes: Record<string, string>;
  /** The new pool's username the ledger records: the response's `userAttributes.username`, else the typed identifier canonicalised. */
  newUsername: string;
}

export interface SimulationResult {
  triggerSource: string;
  /** The match key of `userName`. */
  matchKey: string;
  /** Legacy usernames filed under the event's key(s), as the ledger would return them. */
  candidates: string[];
  decision:
    | "approved"
    | "approved-again"
    | "refused"
    | "allowed"
    | "groups-copied"
    | "groups-added"
    | "unchanged"
    | "failed-closed";
  /** Why the trigger refused (`identifier_taken` for a sign-up, the others for a migration). */
  reasonCode: ReasonCode | null;
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SimulationResult {
    trigger_source: String,
    match_key: String,
    candidates: Vec<String>,
    decision: Verdict,
    reason_code: Option<&'static str>,
    explanation: Option<String>,
    client_message: String,
    trace: Vec<String>,
    password_checks: usize,
    /// The core's checks already serialise as the JS shape (`username`, `outcome`).
    checks: Vec<AssumedCheck>,
    /// The core's approval already serialises as the JS shape (`SimulatedApproval`).
    approval: Option<Approval>,
    /// `null` when the trigger fails the request: the core's `Value::Null`.
    response: Value,
}

impl From<Simulation> for SimulationResult {
    fn from(simulation: Simulation) -> Self {
        Self {
            trigger_source: simulation.trigger_source,
            match_key: simulation.match_key,
            candidates: simulation.candidates,
            decision: simulation.decision,
            reason_code: simulation.reason_code.map(ReasonCode::as_str),
            explanation: simulation.explanation,
            client_message: simulation.client_message,
            trace: simulation.trace,
            password_checks: simulation.checks.len(),
            checks: simulation.checks,
            approval: simulation.approval,
            response: simulation.response,
        }
    }
}

/// The fields of `SimulationInput`.
const INPUT_FIELDS: &[&str] = &[
    "event",
    "legacyUsers",
    "passwordOutcomes",
    "defaultOutcome",
    "schema",
    "policy",
    "mapping",
    "newPoolUsernameAttributes",
    "newPoolAliasAttributes",
    "legacySignIn",
];

/// The fields of `PolicyJson`.
const POLICY_FIELDS: &[&str] = &[
    "collision",
    "mfa",
    "temporaryPassword",
    "maxCandidates",
    "deadlineMs",
    "refusalFloorMs",
];

/// `input.policy`: each field given replaces its default.
fn policy(input: &Fields) -> Result<Policy, ExportError> {
    let mut policy = Policy::default();
    let Some(given) = input.object("policy", POLICY_FIELDS)? else {
        return Ok(policy);
    };
    if let Some(collision) = given.word("collision")? {
        policy.collision = collision;
    }
    if let Some(mfa) = given.word("mfa")? {
        policy.mfa = mfa;
    }
    if let Some(temporary) = given.word("temporaryPassword")? {
        policy.temporary_password = temporary;
    }
    if let Some(most) = given.whole_number("maxCandidates")? {
        policy.max_candidates = usize::try_from(most).unwrap_or(usize::MAX);
    }
    if let Some(deadline) = given.whole_number("deadlineMs")? {
        policy.deadline_ms = deadline;
    }
    if let Some(floor) = given.whole_number("refusalFloorMs")? {
        policy.refusal_floor_ms = floor;
    }
    Ok(policy)
}

/// `input.mapping`.
fn mapping(input: &Fields) -> Result<AttributeMapping, ExportError> {
    let Some(given) = input.object("mapping", &["renames", "drops"])? else {
        return Ok(AttributeMapping::default());
    };
    let mut drops = BTreeSet::new();
    for name in given.strings("drops")?.unwrap_or_default() {
        drops.insert(name);
    }
    Ok(AttributeMapping {
        renames: given.string_map("renames")?.unwrap_or_default(),
        drops,
    })
}

/// `input.legacySignIn`.
fn legacy_sign_in(input: &Fields) -> Result<LegacySignIn, ExportError> {
    let Some(given) = input.object("legacySignIn", &["usernameAttributes", "aliasAttributes"])?
    else {
        return Ok(LegacySignIn::default());
    };
    Ok(LegacySignIn {
        username_attributes: given.strings("usernameAttributes")?.unwrap_or_default(),
        alias_attributes: given.strings("aliasAttributes")?.unwrap_or_default(),
    })
}

fn outcome(word: &str, whose: &str) -> Result<AssumedOutcome, ExportError> {
    word.parse()
        .map_err(|error| ExportError::new("INVALID_OUTCOME", &format!("{whose}: {error}")))
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
    let input = from_js("simulateTrigger input", input)?;
    let input = Fields::new("simulateTrigger input".to_owned(), &input, INPUT_FIELDS)?;
    let event = TriggerEvent::from_value(input.required("event")?.clone())?;
    let mut entries = Vec::new();
    for (index, record) in input.list("legacyUsers")?.into_iter().flatten().enumerate() {
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
    // A list, not a map: the names are unique already, and a second map type would link its
    // own copy of the B-tree code.
    let mut outcomes: Vec<(String, AssumedOutcome)> = Vec::new();
    for (username, word) in input.string_map("passwordOutcomes")?.unwrap_or_default() {
        let assumed = outcome(&word, &format!("passwordOutcomes[`{username}`]"))?;
        if !entries.iter().any(|entry| entry.user.username == username) {
            return Err(ExportError::new(
                "INVALID_OUTCOME",
                &format!("passwordOutcomes names `{username}`, which is not among legacyUsers"),
            ));
        }
        outcomes.push((username, assumed));
    }
    let default = match input.string("defaultOutcome")? {
        Some(word) => outcome(word, "defaultOutcome")?,
        None => AssumedOutcome::Ok,
    };
    let config = MigrationConfig {
        policy: policy(&input)?,
        schema: input
            .strings("schema")?
            .map(|names| TargetSchemaOrDefault(TargetSchema::new(names)))
            .unwrap_or_default(),
        mapping: mapping(&input)?,
        new_pool_username_attributes: input
            .strings("newPoolUsernameAttributes")?
            .unwrap_or_default(),
        new_pool_alias_attributes: input.strings("newPoolAliasAttributes")?.unwrap_or_default(),
        legacy_sign_in: legacy_sign_in(&input)?,
    };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "Date.now() is a whole number of milliseconds, far inside i64"
    )]
    let now_ms = js_sys::Date::now() as i64;
    let simulation = simulate(&event, &entries, &config, now_ms, |username| {
        outcomes
            .iter()
            .find(|(name, _)| name == username)
            .map_or(default, |&(_, assumed)| assumed)
    });
    to_js(&SimulationResult::from(simulation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typescript;

    const SOURCE: &str = include_str!("simulate.rs");

    #[test]
    fn the_input_reader_knows_the_fields_the_types_declare() {
        assert_eq!(typescript::fields(SOURCE, "SimulationInput"), INPUT_FIELDS);
        assert_eq!(typescript::fields(SOURCE, "PolicyJson"), POLICY_FIELDS);
    }

    #[test]
    fn the_typescript_union_lists_every_outcome_word() {
        let words: Vec<&str> = AssumedOutcome::ALL.iter().map(|o| o.word()).collect();
        assert_eq!(typescript::union(SOURCE, "PasswordOutcomeWord"), words);
    }

    #[test]
    fn the_typescript_union_lists_every_reason_code() {
        let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(typescript::union(SOURCE, "ReasonCode"), codes);
    }
}
