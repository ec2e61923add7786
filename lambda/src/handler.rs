//! The trigger: one handler for every Cognito trigger source it is attached to.
//!
//! The decisions are the core's ([`cognito_migrate_core::trigger::Invocation`], the same one the
//! simulator drives): the handler performs each request the invocation makes (a ledger query, a
//! legacy lookup, a password check, an alias lookup in the new pool, a ledger write, a group
//! copy), hands back the answer, and
//! returns what the invocation decided. It fails closed: when configuration, the ledger or the
//! legacy pool is not available, or the deadline passes, a migration is refused (the event
//! unchanged) and nothing is half-written, because the ledger write comes after every check, in
//! one transaction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cognito_migrate_core::event::{TriggerEvent, TriggerSource, mask_identifier};
use cognito_migrate_core::groups::GroupPlan;
use cognito_migrate_core::ledger::{LedgerEntry, directory_keys};
use cognito_migrate_core::match_key;
use cognito_migrate_core::migrate::MigrationConfig;
use cognito_migrate_core::reason::ReasonCode;
use cognito_migrate_core::trigger::{
    self, Answer, Context, Invocation, Outcome, Request, WriteResult,
};
use cognito_migrate_core::user::LegacyUser;
use futures::StreamExt;
use serde_json::Value;

use cognito_migrate_aws::AwsError;
use cognito_migrate_aws::clients::Clients;
use cognito_migrate_aws::ledger::{LedgerRecord, MigrationWrite, partition_key};

use crate::config::{Config, ConfigError};

pub use cognito_migrate_core::trigger::Failure as TriggerError;

/// The generic answer of a migration that cannot run; it says nothing about any account.
pub const UNAVAILABLE_MESSAGE: &str = "Migration is unavailable.";
/// The generic answer of a sign-up check that cannot run.
pub const SIGN_UP_UNAVAILABLE_MESSAGE: &str = "Sign-up is unavailable.";
/// The answer to an event that cannot be read.
pub const MALFORMED_EVENT_MESSAGE: &str = "The request could not be processed.";

/// Group calls in flight at once during the copy.
const GROUP_CONCURRENCY: usize = 8;

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
    /// The migration settings completed with the legacy pool's sign-in settings, once read from
    /// the ledger (they never change: Cognito fixes them when a pool is created).
    recorded: tokio::sync::OnceCell<MigrationConfig>,
}

impl Ready {
    /// The migration settings with the legacy pool's sign-in settings as `index` recorded them.
    /// Until they are recorded (or when the ledger cannot say), only usernames and verified
    /// e-mail addresses and phone numbers count as identifiers: never more than the legacy
    /// pool allowed.
    async fn migration(&self) -> &MigrationConfig {
        if let Some(config) = self.recorded.get() {
            return config;
        }
        match self.clients.ledger.legacy_sign_in().await {
            Ok(Some(sign_in)) => {
                let mut config = self.config.migration.clone();
                config.legacy_sign_in = sign_in;
                self.recorded.get_or_init(|| async { config }).await
            }
            Ok(None) => {
                tracing::warn!(
                    "the ledger has no record of the legacy pool's sign-in settings (run index): only usernames and verified e-mail addresses and phone numbers count"
                );
                &self.config.migration
            }
            Err(error) => {
                log_aws("reading the legacy pool's sign-in settings failed", &error);
                &self.config.migration
            }
        }
    }
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
            state: Ok(Ready {
                config,
                clients,
                recorded: tokio::sync::OnceCell::new(),
            }),
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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Handles one trigger invocation: the event to return, or the generic failure to answer with.
pub async fn handle(deps: &Deps, event: Value) -> Result<Value, TriggerError> {
    let event = match TriggerEvent::from_value(event) {
        Ok(event) => event,
        Err(error) => {
            // The error names a field path, never a value; the event body is never logged.
            tracing::error!(
                error = %error,
                reason = ReasonCode::MalformedEvent.as_str(),
                "malformed event"
            );
            return Err(TriggerError::MalformedEvent);
        }
    };
    decide(deps, &event).await.result
}

/// Runs one invocation of a parsed event to its outcome, within the configured deadline, and
/// logs the decision (masked: never a password, a token or a whole identifier).
pub async fn decide(deps: &Deps, event: &TriggerEvent) -> Outcome {
    let started = Instant::now();
    let progress = Progress::default();
    let outcome = match &deps.state {
        Err(_) => trigger::unconfigured(event),
        Ok(ready) => {
            let deadline = ready.config.deadline();
            let outcome = match tokio::time::timeout(deadline, run(ready, event, &progress)).await {
                Ok(outcome) => outcome,
                Err(_) => trigger::timed_out(event),
            };
            // A refused sign-in comes back no sooner than the floor the core set, whatever the
            // work behind it; approvals are never held.
            // (A zero sleep is not free: tokio's timer fires it on its next tick, up to 1 ms on.)
            let hold = Duration::from_millis(outcome.hold_ms).saturating_sub(started.elapsed());
            if !hold.is_zero() {
                tokio::time::sleep(hold).await;
            }
            outcome
        }
    };
    log_decision(event, &outcome, &progress, started.elapsed());
    outcome
}

fn log_decision(event: &TriggerEvent, outcome: &Outcome, progress: &Progress, elapsed: Duration) {
    let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    if outcome.reason == Some(ReasonCode::UnhandledSource) {
        tracing::warn!(
            trigger = event.source().as_str(),
            "trigger source not handled; event returned unchanged"
        );
    }
    tracing::info!(
        trigger = event.source().as_str(),
        user = %mask_identifier(event.user_name()),
        outcome = outcome.verdict.as_str(),
        reason = outcome.reason.map_or("", ReasonCode::as_str),
        candidates = progress.candidates.load(Ordering::Relaxed),
        password_checks = progress.password_checks.load(Ordering::Relaxed),
        elapsed_ms,
        "decision"
    );
}

fn log_aws(context: &'static str, error: &AwsError) {
    tracing::warn!(error = %error, "{context}");
}

/// A record for a user found by the exact fallback lookup, not in the ledger yet.
fn unindexed_record(user: LegacyUser) -> LedgerRecord {
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

/// Drives the core's invocation: each request performed against AWS, each answer handed back.
async fn run(ready: &Ready, event: &TriggerEvent, progress: &Progress) -> Outcome {
    // Only migrations and sign-ups ask which identifiers count.
    let config = match event.source() {
        TriggerSource::UserMigrationAuthentication
        | TriggerSource::UserMigrationForgotPassword
        | TriggerSource::PreSignUp(_) => ready.migration().await,
        _ => &ready.config.migration,
    };
    let context = Context {
        config,
        new_user_pool_id: ready.config.new_user_pool_id.as_deref(),
        now_ms: now_ms(),
    };
    let mut invocation = Invocation::start(event, context);
    let mut adapter = Adapter {
        clients: &ready.clients,
        event,
        records: HashMap::new(),
    };
    while let Some(request) = invocation.request() {
        // Boxed: one future type for every request keeps the invocation's future shallow.
        let answer = Box::pin(adapter.perform(request)).await;
        invocation.answer(answer);
        progress
            .candidates
            .store(invocation.candidate_count(), Ordering::Relaxed);
        progress
            .password_checks
            .store(invocation.password_checks(), Ordering::Relaxed);
    }
    invocation.finish()
}

/// What the handler keeps between requests: the ledger records read, by legacy username, so
/// that a write updates every copy of the very record the decision was made on.
struct Adapter<'a> {
    clients: &'a Clients,
    event: &'a TriggerEvent,
    records: HashMap<String, LedgerRecord>,
}

impl Adapter<'_> {
    fn keep(&mut self, record: LedgerRecord) -> LedgerEntry {
        let entry = record.entry.clone();
        self.records
            .entry(entry.user.username.clone())
            .or_insert(record);
        entry
    }

    async fn perform(&mut self, request: &Request) -> Answer {
        match request {
            Request::LedgerCandidates { .. }
            | Request::LegacyUser { .. }
            | Request::CheckPassword { .. }
            | Request::LedgerRecord { .. } => self.read(request).await,
            Request::RecordMigration { .. }
            | Request::ConfirmMigration { .. }
            | Request::RecordRefusal { .. }
            | Request::MarkGroupsCopied { .. } => self.write(request).await,
            Request::AliasHolders {
                user_pool_id,
                aliases,
            } => alias_holders(self.clients, user_pool_id, aliases).await,
            Request::LegacyGroups { .. }
            | Request::NewPoolGroups { .. }
            | Request::ApplyGroups { .. } => self.groups(request).await,
        }
    }

    /// The reads: ledger, legacy pool, password checks.
    async fn read(&mut self, request: &Request) -> Answer {
        let clients = self.clients;
        match request {
            Request::LedgerCandidates { keys } => {
                let lookups = keys.iter().map(|key| clients.ledger.candidates(key));
                match futures::future::try_join_all(lookups).await {
                    Ok(pages) => Answer::Records(
                        pages
                            .into_iter()
                            .flatten()
                            .map(|record| self.keep(record))
                            .collect(),
                    ),
                    Err(error) => {
                        log_aws("ledger query failed", &error);
                        Answer::Failed
                    }
                }
            }
            Request::LegacyUser { username } => match clients.legacy.get_user(username).await {
                Ok(Some(user)) => {
                    self.keep(unindexed_record(user.clone()));
                    Answer::LegacyUser(Some(user))
                }
                Ok(None) => Answer::LegacyUser(None),
                Err(error) => {
                    log_aws("legacy lookup failed", &error);
                    Answer::Failed
                }
            },
            Request::CheckPassword { username } => {
                let Some(password) = self.event.password() else {
                    return Answer::Failed;
                };
                match clients.legacy.check_password(username, password).await {
                    Ok(outcome) => Answer::Password(outcome),
                    Err(error) => {
                        log_aws("legacy password check failed", &error);
                        Answer::Failed
                    }
                }
            }
            Request::LedgerRecord { legacy_username } => {
                match clients.ledger.record(legacy_username).await {
                    Ok(Some(record)) => {
                        // A fresh read replaces what was kept: a write after it must see it.
                        self.records.remove(legacy_username);
                        Answer::Record(Some(self.keep(record)))
                    }
                    Ok(None) => Answer::Record(None),
                    Err(error) => {
                        log_aws("ledger read failed", &error);
                        Answer::Failed
                    }
                }
            }
            _ => Answer::Failed,
        }
    }

    /// The ledger writes.
    async fn write(&mut self, request: &Request) -> Answer {
        let clients = self.clients;
        match request {
            Request::RecordMigration {
                legacy_username,
                new_username,
                at_ms,
            } => {
                let Some(record) = self.records.get(legacy_username) else {
                    return Answer::Migration(WriteResult::Conflict);
                };
                match clients
                    .ledger
                    .record_migration(record, new_username, *at_ms)
                    .await
                {
                    Ok(MigrationWrite::Recorded) => Answer::Migration(WriteResult::Recorded),
                    Ok(MigrationWrite::AlreadyRecorded) => {
                        Answer::Migration(WriteResult::AlreadyRecorded)
                    }
                    Err(AwsError::Conflict { .. }) => Answer::Migration(WriteResult::Conflict),
                    Err(error) => {
                        log_aws("could not record the migration", &error);
                        Answer::Failed
                    }
                }
            }
            Request::ConfirmMigration {
                legacy_username,
                new_username,
                new_sub,
                at_ms,
            } => {
                let Some(record) = self.records.get(legacy_username) else {
                    return Answer::Failed;
                };
                match clients
                    .ledger
                    .confirm_migration(record, new_username, new_sub.as_deref(), *at_ms)
                    .await
                {
                    Ok(()) => Answer::Done,
                    Err(error) => {
                        log_aws("could not confirm the migration", &error);
                        Answer::Failed
                    }
                }
            }
            Request::RecordRefusal {
                legacy_usernames,
                reason,
                at_ms,
            } => {
                let refused: Vec<&LedgerRecord> = legacy_usernames
                    .iter()
                    .filter_map(|name| self.records.get(name))
                    .collect();
                if let Err(error) = clients
                    .ledger
                    .record_refusal(&refused, *reason, *at_ms)
                    .await
                {
                    log_aws("could not record the refusal", &error);
                }
                Answer::Done
            }
            Request::MarkGroupsCopied {
                legacy_username,
                at_ms,
            } => {
                let Some(record) = self.records.get(legacy_username) else {
                    return Answer::Failed;
                };
                match clients.ledger.mark_groups_copied(record, *at_ms).await {
                    Ok(()) => Answer::Done,
                    Err(error) => {
                        log_aws("could not mark the groups copied", &error);
                        Answer::Failed
                    }
                }
            }
            _ => Answer::Failed,
        }
    }

    /// The group copy.
    async fn groups(&mut self, request: &Request) -> Answer {
        let clients = self.clients;
        match request {
            Request::LegacyGroups { legacy_username } => {
                match clients.legacy.groups_of(legacy_username).await {
                    Ok(groups) => Answer::LegacyGroups(groups),
                    Err(error) => {
                        log_aws(
                            "legacy groups could not be read; retried at the next sign-in",
                            &error,
                        );
                        Answer::Failed
                    }
                }
            }
            Request::NewPoolGroups {
                user_pool_id,
                username,
            } => match futures::future::try_join(
                clients.new_pool.group_names(user_pool_id),
                clients.new_pool.groups_of(user_pool_id, username),
            )
            .await
            {
                Ok((existing, memberships)) => Answer::NewPoolGroups {
                    existing,
                    memberships,
                },
                Err(error) => {
                    log_aws(
                        "new pool groups could not be read; retried at the next sign-in",
                        &error,
                    );
                    Answer::Failed
                }
            },
            Request::ApplyGroups {
                user_pool_id,
                username,
                plan,
            } => match apply_groups(clients, user_pool_id, username, plan).await {
                Ok(()) => Answer::Done,
                Err(error) => {
                    log_aws("group copy failed; retried at the next sign-in", &error);
                    Answer::Failed
                }
            },
            _ => Answer::Failed,
        }
    }
}

/// The new-pool users holding any of the alias values, one `ListUsers` call an alias, at once.
async fn alias_holders(clients: &Clients, pool_id: &str, aliases: &[(String, String)]) -> Answer {
    let lookups = aliases
        .iter()
        .map(|(attribute, value)| clients.new_pool.users_with(pool_id, attribute, value));
    match futures::future::try_join_all(lookups).await {
        Ok(found) => Answer::NewPoolUsers(found.into_iter().flatten().collect()),
        Err(error) => {
            log_aws("the new pool could not say who holds an alias", &error);
            Answer::Failed
        }
    }
}

/// Creates the plan's groups, then adds the user to the plan's groups, a few calls at a time.
async fn apply_groups(
    clients: &Clients,
    pool_id: &str,
    username: &str,
    plan: &GroupPlan,
) -> Result<(), AwsError> {
    let created: Vec<Result<(), AwsError>> = futures::stream::iter(&plan.create)
        .map(|group| clients.new_pool.create_group(pool_id, group))
        .buffer_unordered(GROUP_CONCURRENCY)
        .collect()
        .await;
    created.into_iter().collect::<Result<(), AwsError>>()?;
    let added: Vec<Result<(), AwsError>> = futures::stream::iter(&plan.add)
        .map(|group| clients.new_pool.add_user_to_group(pool_id, username, group))
        .buffer_unordered(GROUP_CONCURRENCY)
        .collect()
        .await;
    added.into_iter().collect()
}
