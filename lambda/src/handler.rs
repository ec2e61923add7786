//! The trigger: one handler for every Cognito trigger source it is attached to.
//!
//! Each invocation maps the event to the core's input, asks the core, carries out its plan and
//! returns the event. It fails closed: when configuration, the ledger or the legacy pool is not
//! available, or the deadline passes, a migration is refused (the event unchanged) and nothing
//! is half-written, because the ledger write comes after every check, in one transaction.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cognito_migrate_aws::AwsError;
use cognito_migrate_aws::clients::Clients;
use cognito_migrate_aws::ledger::{LedgerRecord, MigrationWrite, partition_key};
use cognito_migrate_core::attributes::LEGACY_USERNAME;
use cognito_migrate_core::event::{PreSignUpSource, TriggerEvent, TriggerSource, mask_identifier};
use cognito_migrate_core::groups::plan_groups;
use cognito_migrate_core::ledger::{LedgerEntry, MigrationState, directory_keys};
use cognito_migrate_core::migrate::{
    PasswordOutcome, ReasonCode, SignInMigration, Step, refusal_is_recordable,
};
use cognito_migrate_core::signup::{
    SIGN_UP_REFUSED_MESSAGE, SignUpDecision, decide_sign_up, sign_up_keys,
};
use cognito_migrate_core::{canonical_username, match_key};
use futures::StreamExt;
use serde_json::Value;

use crate::config::{Config, ConfigError};

/// The generic answer of a migration that cannot run; it says nothing about any account.
pub const UNAVAILABLE_MESSAGE: &str = "Migration is unavailable.";
/// The generic answer of a sign-up check that cannot run.
pub const SIGN_UP_UNAVAILABLE_MESSAGE: &str = "Sign-up is unavailable.";
/// The answer to an event that cannot be read.
pub const MALFORMED_EVENT_MESSAGE: &str = "The request could not be processed.";

/// How long after the group copy the token trigger still adds the legacy groups: Cognito runs
/// post authentication before generating that sign-in's tokens, and its group changes show
/// only in the next tokens.
pub const GROUPS_FRESH_MS: i64 = 60_000;

/// Group calls in flight at once during the copy.
const GROUP_CONCURRENCY: usize = 8;

/// What a failed invocation tells Cognito. Every message is generic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
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

/// What the handler runs with: the clients and configuration, or the configuration error that
/// makes every invocation fail closed.
#[derive(Debug)]
pub struct Deps {
    state: Result<Ready, ConfigError>,
}

/// A configured trigger.
#[derive(Debug)]
pub struct Ready {
    /// The configuration.
    pub config: Config,
    /// The clients.
    pub clients: Clients,
}

impl Deps {
    /// Reads the environment and builds the clients. A configuration error is logged once,
    /// naming the variable, and kept.
    pub async fn from_env() -> Self {
        match crate::config::from_env() {
            Ok(config) => {
                let sdk = cognito_migrate_aws::clients::load_sdk_config().await;
                let clients = Clients::from_config(&config, &sdk).await;
                Self::ready(config, clients)
            }
            Err(error) => Self::unconfigured(error),
        }
    }

    /// A trigger with these clients.
    #[must_use]
    pub fn ready(config: Config, clients: Clients) -> Self {
        Self {
            state: Ok(Ready { config, clients }),
        }
    }

    /// A trigger whose configuration is broken: every invocation fails closed.
    #[must_use]
    pub fn unconfigured(error: ConfigError) -> Self {
        tracing::error!(
            variable = error.variable,
            problem = %error.problem,
            "configuration error: every invocation fails closed until it is fixed"
        );
        Self { state: Err(error) }
    }

    /// The configuration, when it is valid.
    #[must_use]
    pub fn config(&self) -> Option<&Config> {
        self.state.as_ref().ok().map(|r| &r.config)
    }
}

/// Counters filled in as the invocation goes, readable even when the deadline cuts it short.
#[derive(Debug, Default)]
struct Progress {
    candidates: AtomicUsize,
    password_checks: AtomicUsize,
}

/// The result of one invocation, before it is logged.
struct Outcome {
    result: Result<Value, TriggerError>,
    /// What happened, as logged: `migrated`, `refused`, `allowed`, ...
    label: &'static str,
    reason: Option<&'static str>,
}

impl Outcome {
    fn unchanged(event: &TriggerEvent, label: &'static str, reason: Option<&'static str>) -> Self {
        Self {
            result: Ok(event.unchanged()),
            label,
            reason,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Handles one trigger invocation.
pub async fn handle(deps: &Deps, event: Value) -> Result<Value, TriggerError> {
    let started = Instant::now();
    let event = match TriggerEvent::from_value(event) {
        Ok(event) => event,
        Err(error) => {
            // The error names a field path, never a value; the event body is never logged.
            tracing::error!(error = %error, "malformed event");
            return Err(TriggerError::MalformedEvent);
        }
    };
    let progress = Progress::default();
    let outcome = match &deps.state {
        Err(_) => unconfigured(&event),
        Ok(ready) => {
            let deadline = ready.config.deadline();
            match tokio::time::timeout(deadline, dispatch(ready, &event, &progress)).await {
                Ok(outcome) => outcome,
                Err(_) => timed_out(&event),
            }
        }
    };
    log_decision(&event, &outcome, &progress, started.elapsed());
    outcome.result
}

fn log_decision(event: &TriggerEvent, outcome: &Outcome, progress: &Progress, elapsed: Duration) {
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        trigger = event.source().as_str(),
        user = %mask_identifier(event.user_name()),
        outcome = outcome.label,
        reason = outcome.reason.unwrap_or(""),
        candidates = progress.candidates.load(Ordering::Relaxed),
        password_checks = progress.password_checks.load(Ordering::Relaxed),
        elapsed_ms,
        "decision"
    );
}

fn is_migration(event: &TriggerEvent) -> bool {
    matches!(
        event.source(),
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword
    )
}

fn unconfigured(event: &TriggerEvent) -> Outcome {
    let result = match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            Err(TriggerError::Unavailable)
        }
        TriggerSource::PreSignUp(_) => Err(TriggerError::SignUpUnavailable),
        _ => Ok(event.unchanged()),
    };
    Outcome {
        result,
        label: "failed-closed",
        reason: Some("configuration"),
    }
}

fn timed_out(event: &TriggerEvent) -> Outcome {
    if is_migration(event) {
        return Outcome::unchanged(
            event,
            "refused",
            Some(ReasonCode::LegacyUnavailable.as_str()),
        );
    }
    match event.source() {
        TriggerSource::PreSignUp(PreSignUpSource::SignUp) => Outcome {
            result: Err(TriggerError::SignUpUnavailable),
            label: "failed-closed",
            reason: Some("deadline"),
        },
        _ => Outcome::unchanged(event, "unchanged", Some("deadline")),
    }
}

async fn dispatch(ready: &Ready, event: &TriggerEvent, progress: &Progress) -> Outcome {
    match event.source() {
        TriggerSource::UserMigrationAuthentication | TriggerSource::UserMigrationForgotPassword => {
            migrate(ready, event, progress).await
        }
        TriggerSource::PreSignUp(PreSignUpSource::SignUp) => sign_up(ready, event, progress).await,
        TriggerSource::PreSignUp(_) => Outcome::unchanged(event, "allowed", None),
        TriggerSource::PostAuthentication => post_authentication(ready, event).await,
        TriggerSource::TokenGeneration(_) => token_generation(ready, event).await,
        TriggerSource::Other(_) => {
            tracing::warn!(
                trigger = event.source().as_str(),
                "trigger source not handled; event returned unchanged"
            );
            Outcome::unchanged(event, "unchanged", Some("unhandled_source"))
        }
    }
}

fn log_aws(context: &'static str, error: &AwsError) {
    tracing::warn!(error = %error, "{context}");
}

/// A record for a user found by the exact fallback lookup, not in the ledger yet.
fn unindexed_record(user: cognito_migrate_core::user::LegacyUser) -> LedgerRecord {
    let keys: Vec<String> = directory_keys(&user).iter().map(partition_key).collect();
    let pk = partition_key(&match_key(&user.username));
    LedgerRecord {
        entry: LedgerEntry::pending(user),
        keys,
        pk,
        primary: true,
        indexed_at_ms: None,
        groups_copied_at_ms: None,
    }
}

/// Every ledger candidate for the event's identifier, or the exact legacy user when the ledger
/// has none; `None` when the ledger or the legacy pool failed (the caller fails closed).
async fn find_candidates(clients: &Clients, event: &TriggerEvent) -> Option<Vec<LedgerRecord>> {
    let key = match_key(event.user_name());
    if key.is_empty() {
        return Some(Vec::new());
    }
    let mut records = match clients.ledger.candidates(&key).await {
        Ok(records) => records,
        Err(error) => {
            log_aws("ledger query failed", &error);
            return None;
        }
    };
    if records.is_empty() {
        // Not indexed (a user created after the last index run): only the exact name can
        // be found in a case-sensitive pool.
        match clients.legacy.get_user(event.user_name()).await {
            Ok(Some(user)) => records.push(unindexed_record(user)),
            Ok(None) => {}
            Err(error) => {
                log_aws("legacy lookup failed", &error);
                return None;
            }
        }
    }
    Some(records)
}

/// Records an ambiguous refusal on the candidates the password (or, for forgot-password, the
/// identifier alone) fitted, so operators see the pair. A failure is logged, never fatal.
async fn record_ambiguity(
    clients: &Clients,
    event: &TriggerEvent,
    records: &[LedgerRecord],
    matched: &[String],
) {
    let forgot = event.source() == &TriggerSource::UserMigrationForgotPassword;
    let refused: Vec<&LedgerRecord> = records
        .iter()
        .filter(|r| refusal_is_recordable(&r.entry.state))
        .filter(|r| forgot || matched.contains(&r.entry.user.username))
        .collect();
    if let Err(error) = clients
        .ledger
        .record_refusal(&refused, ReasonCode::Ambiguous, now_ms())
        .await
    {
        log_aws("could not record the refusal", &error);
    }
}

async fn migrate(ready: &Ready, event: &TriggerEvent, progress: &Progress) -> Outcome {
    let clients = &ready.clients;
    let Some(records) = find_candidates(&ready.clients, event).await else {
        return Outcome::unchanged(
            event,
            "refused",
            Some(ReasonCode::LegacyUnavailable.as_str()),
        );
    };
    progress.candidates.store(records.len(), Ordering::Relaxed);

    let entries = records.iter().map(|r| r.entry.clone()).collect();
    let mut machine = SignInMigration::new(event, entries, &ready.config.migration);
    let mut matched: Vec<String> = Vec::new();
    while let Step::CheckPassword { username } = machine.next_step() {
        let username = username.to_owned();
        let outcome = match event.password() {
            Some(password) => match clients.legacy.check_password(&username, password).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    log_aws("legacy password check failed", &error);
                    return Outcome::unchanged(
                        event,
                        "refused",
                        Some(ReasonCode::LegacyUnavailable.as_str()),
                    );
                }
            },
            None => PasswordOutcome::WrongPassword,
        };
        progress.password_checks.fetch_add(1, Ordering::Relaxed);
        if outcome.password_matched() {
            matched.push(username);
        }
        machine.record(outcome);
    }
    let decision = machine.finish();

    let Some(approval) = &decision.approval else {
        let reason = decision.reason().unwrap_or(ReasonCode::WrongPassword);
        if reason == ReasonCode::Ambiguous {
            record_ambiguity(&ready.clients, event, &records, &matched).await;
        }
        return Outcome {
            result: Ok(decision.response),
            label: "refused",
            reason: Some(reason.as_str()),
        };
    };

    let Some(record) = records
        .iter()
        .find(|r| r.entry.user.username == approval.legacy_username)
    else {
        return Outcome::unchanged(event, "refused", Some("ledger_conflict"));
    };
    let Ok(new_username) = canonical_username(event.user_name()) else {
        return Outcome::unchanged(event, "refused", Some(ReasonCode::EmptyIdentifier.as_str()));
    };
    match clients
        .ledger
        .record_migration(record, new_username.as_str(), now_ms())
        .await
    {
        Ok(write) => Outcome {
            result: Ok(decision.response),
            label: match write {
                MigrationWrite::Recorded => "migrated",
                MigrationWrite::AlreadyRecorded => "migrated-again",
            },
            reason: None,
        },
        Err(AwsError::Conflict { .. }) => {
            // A concurrent invocation of the same sign-in (Cognito retrying, or a double
            // submit) may have recorded this very migration first: that is an approval too.
            let same = |state: &MigrationState| {
                matches!(state, MigrationState::Migrated { new_username: recorded, .. }
                    if recorded == new_username.as_str())
            };
            match clients.ledger.record(&approval.legacy_username).await {
                Ok(Some(current)) if same(&current.entry.state) => Outcome {
                    result: Ok(decision.response),
                    label: "migrated-again",
                    reason: None,
                },
                _ => Outcome::unchanged(event, "refused", Some("ledger_conflict")),
            }
        }
        Err(error) => {
            log_aws("could not record the migration", &error);
            Outcome::unchanged(event, "refused", Some("ledger_unavailable"))
        }
    }
}

async fn sign_up(ready: &Ready, event: &TriggerEvent, progress: &Progress) -> Outcome {
    let ledger = &ready.clients.ledger;
    let keys = sign_up_keys(event);
    let lookups = keys.iter().map(|key| ledger.candidates(key));
    let found: Vec<LedgerEntry> = match futures::future::try_join_all(lookups).await {
        Ok(pages) => pages.into_iter().flatten().map(|r| r.entry).collect(),
        Err(error) => {
            log_aws("ledger query failed", &error);
            return Outcome {
                result: Err(TriggerError::SignUpUnavailable),
                label: "failed-closed",
                reason: Some("ledger_unavailable"),
            };
        }
    };
    progress.candidates.store(found.len(), Ordering::Relaxed);
    match decide_sign_up(event, &found) {
        SignUpDecision::Allow => Outcome::unchanged(event, "allowed", None),
        SignUpDecision::Refuse { field, .. } => {
            tracing::info!(field = %field, "sign-up takes the identifier of a legacy user not migrated yet");
            Outcome {
                result: Err(TriggerError::SignUpRefused),
                label: "refused",
                reason: Some(ReasonCode::IdentifierTaken.as_str()),
            }
        }
    }
}

/// The migrated user's ledger record, from `custom:legacy_username`; otherwise the outcome to
/// return: the event unchanged, for a user that did not come from the legacy pool, one the
/// ledger does not have, or a ledger that cannot be read (logged with `on_failure`).
async fn migrated_record(
    ready: &Ready,
    event: &TriggerEvent,
    on_failure: &'static str,
) -> Result<LedgerRecord, Outcome> {
    let Some(legacy_username) = event.user_attributes().get(LEGACY_USERNAME) else {
        return Err(Outcome::unchanged(event, "unchanged", Some("not_migrated")));
    };
    match ready.clients.ledger.record(legacy_username).await {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(Outcome::unchanged(
            event,
            "unchanged",
            Some("not_in_ledger"),
        )),
        Err(error) => {
            log_aws(on_failure, &error);
            Err(Outcome::unchanged(
                event,
                "unchanged",
                Some("ledger_unavailable"),
            ))
        }
    }
}

async fn post_authentication(ready: &Ready, event: &TriggerEvent) -> Outcome {
    let record = match migrated_record(
        ready,
        event,
        "ledger read failed; groups are copied at a later sign-in",
    )
    .await
    {
        Ok(record) => record,
        Err(outcome) => return outcome,
    };
    if record.entry.groups_copied {
        return Outcome::unchanged(event, "unchanged", Some("groups_already_copied"));
    }
    let Some(pool_id) = ready
        .config
        .new_user_pool_id
        .as_deref()
        .or(event.user_pool_id())
    else {
        return Outcome::unchanged(event, "unchanged", Some("no_user_pool_id"));
    };
    match copy_groups(ready, event, &record, pool_id).await {
        Ok(()) => Outcome::unchanged(event, "groups-copied", None),
        Err(error) => {
            log_aws("group copy failed; retried at the next sign-in", &error);
            Outcome::unchanged(event, "unchanged", Some("groups_not_copied"))
        }
    }
}

async fn copy_groups(
    ready: &Ready,
    event: &TriggerEvent,
    record: &LedgerRecord,
    pool_id: &str,
) -> Result<(), AwsError> {
    let clients = &ready.clients;
    let legacy_groups = clients
        .legacy
        .groups_of(&record.entry.user.username)
        .await?;
    if !legacy_groups.is_empty() {
        let (existing, memberships) = futures::future::try_join(
            clients.new_pool.group_names(pool_id),
            clients.new_pool.groups_of(pool_id, event.user_name()),
        )
        .await?;
        let plan = plan_groups(&legacy_groups, &existing, &memberships);
        let created: Vec<Result<(), AwsError>> = futures::stream::iter(&plan.create)
            .map(|group| clients.new_pool.create_group(pool_id, group))
            .buffer_unordered(GROUP_CONCURRENCY)
            .collect()
            .await;
        created.into_iter().collect::<Result<(), AwsError>>()?;
        // The new pool's username, not the legacy one: in an email-as-username pool it is a UUID.
        let added: Vec<Result<(), AwsError>> = futures::stream::iter(&plan.add)
            .map(|group| {
                clients
                    .new_pool
                    .add_user_to_group(pool_id, event.user_name(), group)
            })
            .buffer_unordered(GROUP_CONCURRENCY)
            .collect()
            .await;
        added.into_iter().collect::<Result<(), AwsError>>()?;
    }
    clients.ledger.mark_groups_copied(record, now_ms()).await
}

async fn token_generation(ready: &Ready, event: &TriggerEvent) -> Outcome {
    let record = match migrated_record(
        ready,
        event,
        "ledger read failed; tokens keep the new pool's groups",
    )
    .await
    {
        Ok(record) => record,
        Err(outcome) => return outcome,
    };
    let copied_long_ago = record.entry.groups_copied
        && record
            .groups_copied_at_ms
            .is_none_or(|at| now_ms().saturating_sub(at) > GROUPS_FRESH_MS);
    if copied_long_ago {
        return Outcome::unchanged(event, "unchanged", Some("groups_already_copied"));
    }
    match cognito_migrate_core::groups::token_group_override(event, &record.entry.user.groups) {
        Some(response) => Outcome {
            result: Ok(response),
            label: "groups-overridden",
            reason: None,
        },
        None => Outcome::unchanged(event, "unchanged", Some("no_groups_to_add")),
    }
}
