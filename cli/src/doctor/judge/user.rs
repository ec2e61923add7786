//! What would happen to one identifier's sign-in: its candidates in the ledger, whether the
//! new pool already has it, and the core's decision with every password assumed wrong.

use std::fmt::Write as _;

use cognito_migrate_aws::ledger::LedgerRecord;
use cognito_migrate_core::event::TriggerEvent;
use cognito_migrate_core::match_key;
use cognito_migrate_core::migrate::{MigrationConfig, PasswordOutcome, decide_with};
use serde::Serialize;
use serde_json::json;

/// One legacy user filed under the identifier's key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CandidateView {
    pub(crate) username: String,
    pub(crate) state: &'static str,
    pub(crate) enabled: bool,
    pub(crate) status: String,
}

/// What would happen to one identifier's sign-in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserView {
    pub(crate) identifier: String,
    pub(crate) match_key: String,
    /// `None` when the ledger could not be read.
    pub(crate) candidates: Option<Vec<CandidateView>>,
    /// The new pool's status of a user with this identifier, when there is one.
    pub(crate) in_new_pool: Option<String>,
    /// Whether Cognito would invoke the migration trigger for this identifier.
    pub(crate) trigger_fires: bool,
    pub(crate) verdict: String,
}

/// What would happen to `identifier`'s sign-in: its ledger candidates (`None`: the ledger
/// could not be read) and its status in the new pool, when it is there.
pub(crate) fn user_view(
    identifier: &str,
    new_pool_id: &str,
    new_client_id: Option<&str>,
    records: Option<&[LedgerRecord]>,
    in_new_pool: Option<String>,
    config: &MigrationConfig,
) -> UserView {
    let key = match_key(identifier);
    let candidates = records.map(|records| {
        records
            .iter()
            .map(|r| CandidateView {
                username: r.entry.user.username.clone(),
                state: r.entry.state.name(),
                enabled: r.entry.user.enabled,
                status: r.entry.user.status.as_str().to_owned(),
            })
            .collect::<Vec<_>>()
    });
    let verdict = if let Some(status) = &in_new_pool {
        format!(
            "a user with this identifier exists in the new pool ({status}): Cognito signs in against it and never invokes the migration trigger"
        )
    } else if let Some(records) = records {
        core_verdict(identifier, new_pool_id, new_client_id, records, config)
    } else {
        "the ledger could not be read, so the candidates are unknown".into()
    };
    UserView {
        identifier: identifier.to_owned(),
        match_key: key.as_str().to_owned(),
        candidates,
        trigger_fires: in_new_pool.is_none(),
        in_new_pool,
        verdict,
    }
}

/// The core's decision for a sign-in whose password is not known: which candidates it would
/// check, or why it refuses before any check.
pub(crate) fn core_verdict(
    identifier: &str,
    new_pool_id: &str,
    new_client_id: Option<&str>,
    records: &[LedgerRecord],
    config: &MigrationConfig,
) -> String {
    let event = json!({
        "version": "1",
        "triggerSource": "UserMigration_Authentication",
        "userPoolId": new_pool_id,
        "userName": identifier,
        "callerContext": {"awsSdkVersion": "cognito-migrate-doctor", "clientId": new_client_id},
        // Required by the event parser; every check below is answered without it.
        "request": {"password": "(not checked)", "validationData": null, "clientMetadata": null},
        "response": {},
    });
    let Ok(event) = TriggerEvent::from_value(event) else {
        return "the identifier does not make a valid trigger event".into();
    };
    let mut checked = Vec::new();
    let decision = decide_with(
        &event,
        records.iter().map(|r| r.entry.clone()).collect(),
        config,
        |username| {
            checked.push(format!("`{username}`"));
            PasswordOutcome::WrongPassword
        },
    );
    if checked.is_empty() {
        return match decision.reason() {
            Some(reason) => format!(
                "refused before any password check: {} ({})",
                reason.as_str(),
                reason.explain()
            ),
            None => "no password check needed".into(),
        };
    }
    let mut verdict = format!(
        "{} candidate(s) ({}); a password check decides",
        checked.len(),
        checked.join(", ")
    );
    if checked.len() > 1 {
        let _ = write!(
            verdict,
            "; a password that fits more than one is handled by the collision policy `{}`",
            config.policy.collision
        );
    }
    verdict
}
