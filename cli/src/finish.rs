//! `cognito-migrate finish`: creates the legacy users still waiting in the new pool, without a
//! password, copies their groups and marks them finished in the ledger.
//!
//! Safe to interrupt and re-run: the ledger mark comes last, and a name that already exists in
//! the new pool is completed only when it carries this user's `custom:legacy_sub` (an earlier
//! run created it); otherwise it is someone else's and is listed as a conflict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use cognito_migrate_aws::AwsError;
use cognito_migrate_aws::cli::import_job as csv_job;
use cognito_migrate_aws::cli::legacy_scan::LegacyScan;
use cognito_migrate_aws::cli::new_pool::Created;
use cognito_migrate_aws::clients::{self, LegacyAccess, SdkConfig};
use cognito_migrate_aws::ledger::{Ledger, LedgerRecord};
use cognito_migrate_aws::limiter::Limiter;
use cognito_migrate_aws::new_pool::NewPool;
use cognito_migrate_aws::retry::Backoff;
use cognito_migrate_core::attributes::{AttributeMapping, LEGACY_SUB, TargetSchema};
use cognito_migrate_core::finish::csv::{
    CsvHeader, CsvUser, MAX_BYTES_PER_FILE, MAX_USERS_PER_FILE, write_files,
};
use cognito_migrate_core::finish::{self as plan, FinishPlan, Method, SkipReason};
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::ledger::FinishMethod;
use futures::StreamExt as _;
use tokio::sync::Mutex;

use crate::BadInput;
use crate::args::{FinishArgs, FinishMethodArg};
use crate::progress;

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What happened to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Created now, groups copied, marked finished.
    Created,
    /// Found created by an earlier run (its legacy sub matches), completed now.
    Resumed,
    /// The new pool's name belongs to someone else.
    Conflict(String),
    /// The ledger changed meanwhile (the user signed in and migrated): left as it is.
    Changed,
    /// A call failed; the user stays waiting.
    Failed(String),
    /// Not attempted (the run stopped early).
    NotStarted,
    /// Created, then the run stopped before its groups and ledger mark.
    Interrupted,
}

/// The categories `finish` calls into.
#[derive(Debug)]
struct Limiters {
    /// `UserCreation`: `AdminCreateUser`.
    creation: Limiter,
    /// `UserUpdate`: `AdminAddUserToGroup`; `AdminGetUser` (`UserRead`, 120/s) shares it to stay
    /// well clear of its own quota.
    update: Limiter,
    /// `UserPoolResourceUpdate`: `CreateGroup`, `CreateUserImportJob`, `StartUserImportJob`.
    resource: Limiter,
}

struct Run {
    ledger: Ledger,
    new_pool: NewPool,
    new_pool_id: String,
    limiters: Limiters,
    backoff: Backoff,
    retries: AtomicU64,
    legacy_groups: BTreeMap<String, GroupSpec>,
    existing_groups: Mutex<BTreeSet<String>>,
    schema: TargetSchema,
    mapping: AttributeMapping,
    stop_after: Option<usize>,
    created: AtomicUsize,
}

/// The whole command.
pub async fn command(
    sdk: &SdkConfig,
    access: &LegacyAccess,
    args: &FinishArgs,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let ledger = Ledger::new(clients::dynamodb_client(sdk), &args.table);
    let counting = ledger.has_counters().await?;
    let ledger = ledger.with_counters(counting);
    let records = ledger
        .scan_users(args.segments)
        .await
        .context("reading the ledger")?;
    let entries: Vec<_> = records.iter().map(|r| r.entry.clone()).collect();
    let plan = plan::plan(&entries);
    let method = match args.method {
        FinishMethodArg::Auto => plan::choose_method(plan.create.len(), args.csv_threshold),
        FinishMethodArg::Csv => Method::CsvImport,
        FinishMethodArg::AdminCreateUser => Method::AdminCreateUser,
    };
    let by_name: BTreeMap<&str, &LedgerRecord> = records
        .iter()
        .map(|r| (r.entry.user.username.as_str(), r))
        .collect();
    let todo: Vec<&LedgerRecord> = plan
        .create
        .iter()
        .filter_map(|name| by_name.get(name.as_str()).copied())
        .collect();
    let schema = TargetSchema::standard_with_legacy();
    let mapping = AttributeMapping::default();

    print!("{}", render_plan(&plan, method, args.dry_run));
    if args.dry_run {
        print!("{}", render_first(&todo, &schema, &mapping, args.show));
        println!("nothing was changed (--dry-run)");
        return Ok(ExitCode::SUCCESS);
    }
    let import_role = match (method, &args.import_role_arn) {
        (Method::CsvImport, None) => {
            return Err(BadInput(
                "a CSV import needs --import-role-arn (the role Cognito writes the job's CloudWatch logs with), or use --method admin-create-user".into(),
            )
            .into());
        }
        (_, role) => role.clone(),
    };

    let legacy_groups = legacy_groups(sdk, access, &args.legacy_pool_id)
        .await
        .context("listing the legacy pool's groups")?;
    let new_pool = NewPool::new(clients::cognito_client(sdk));
    let existing = new_pool
        .group_names(&args.new_pool_id)
        .await
        .context("listing the new pool's groups")?;
    let run = Run {
        ledger,
        new_pool,
        new_pool_id: args.new_pool_id.clone(),
        limiters: Limiters {
            creation: Limiter::new(args.rate),
            update: Limiter::new(args.update_rate),
            resource: Limiter::new(args.resource_rate),
        },
        backoff: Backoff::default(),
        retries: AtomicU64::new(0),
        legacy_groups,
        existing_groups: Mutex::new(existing),
        schema,
        mapping,
        stop_after: args.stop_after,
        created: AtomicUsize::new(0),
    };
    let bar = progress::users_bar(Some(todo.len() as u64), "finishing");
    let concurrency = usize::from(args.concurrency);
    let outcomes: Vec<(&LedgerRecord, Outcome)> = match (method, import_role) {
        (Method::CsvImport, Some(role)) => run.csv_import(&todo, &role, &bar, concurrency).await?,
        _ => run.one_by_one(todo.clone(), &bar, concurrency).await,
    };
    bar.finish_and_clear();
    let (text, complete) = render_outcomes(&outcomes, &run, started.elapsed());
    print!("{text}");
    Ok(if complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What the CSV import path plans before it writes files.
struct CsvPlan<'r> {
    users: Vec<CsvUser>,
    subs: BTreeMap<String, String>,
    by_name: BTreeMap<String, &'r LedgerRecord>,
    outcomes: Vec<(&'r LedgerRecord, Outcome)>,
}

/// The legacy pool's groups by name, with description, precedence and role.
async fn legacy_groups(
    sdk: &SdkConfig,
    access: &LegacyAccess,
    pool_id: &str,
) -> Result<BTreeMap<String, GroupSpec>, AwsError> {
    let scan = LegacyScan::new(clients::legacy_client(sdk, access, pool_id).await, pool_id);
    Ok(scan
        .group_specs()
        .await?
        .into_iter()
        .map(|group| (group.name.clone(), group))
        .collect())
}

impl Run {
    async fn finish_one(&self, record: &LedgerRecord) -> Outcome {
        let user = &record.entry.user;
        let Ok(new_name) = plan::new_username(user) else {
            return Outcome::Failed("no canonical username".into());
        };
        let attributes = match plan::attributes(user, &self.schema, &self.mapping) {
            Ok(attributes) => attributes,
            Err(error) => return Outcome::Failed(error.to_string()),
        };
        if self
            .stop_after
            .is_some_and(|stop| self.created.load(Ordering::SeqCst) >= stop)
        {
            return Outcome::NotStarted;
        }
        let created = self
            .backoff
            .run(&self.retries, || async {
                self.limiters.creation.acquire().await;
                self.new_pool
                    .create_user(&self.new_pool_id, &new_name, &attributes)
                    .await
            })
            .await;
        let outcome = match created {
            Ok(Created::Created) => {
                let count = self.created.fetch_add(1, Ordering::SeqCst) + 1;
                if self.stop_after.is_some_and(|stop| count >= stop) {
                    return Outcome::Interrupted;
                }
                Outcome::Created
            }
            Ok(Created::Exists) => {
                let found = self
                    .backoff
                    .run(&self.retries, || async {
                        self.limiters.update.acquire().await;
                        self.new_pool
                            .user_attributes(&self.new_pool_id, &new_name)
                            .await
                    })
                    .await;
                match found {
                    Ok(Some(found))
                        if user.sub().is_some()
                            && found.get(LEGACY_SUB).map(String::as_str) == user.sub() =>
                    {
                        Outcome::Resumed
                    }
                    Ok(_) => {
                        return Outcome::Conflict(format!(
                            "`{new_name}` exists in the new pool and is not this user"
                        ));
                    }
                    Err(error) => return Outcome::Failed(error.to_string()),
                }
            }
            Err(error) => return Outcome::Failed(error.to_string()),
        };
        match self
            .complete(record, &new_name, FinishMethod::AdminCreateUser)
            .await
        {
            Ok(()) => outcome,
            Err(other) => other,
        }
    }

    /// Groups, then the ledger mark (last, so an interrupted user is found again next run).
    async fn complete(
        &self,
        record: &LedgerRecord,
        new_name: &str,
        method: FinishMethod,
    ) -> Result<(), Outcome> {
        for group in &record.entry.user.groups {
            self.ensure_group(group).await.map_err(failed)?;
            self.backoff
                .run(&self.retries, || async {
                    self.limiters.update.acquire().await;
                    self.new_pool
                        .add_user_to_group(&self.new_pool_id, new_name, group)
                        .await
                })
                .await
                .map_err(failed)?;
        }
        let now = now_ms();
        let groups_copied = !record.entry.user.groups.is_empty();
        match self
            .backoff
            .run(&self.retries, || {
                self.ledger
                    .record_finish(record, method, now, groups_copied)
            })
            .await
        {
            Ok(()) => Ok(()),
            Err(AwsError::Conflict { .. }) => Err(Outcome::Changed),
            Err(error) => Err(failed(error)),
        }
    }

    /// The CSV path: files built from the pool's header, one import job each, then groups and
    /// the ledger mark for the users each job really imported.
    /// Each user's row data, or why it has none.
    fn csv_plan<'r>(&self, todo: &[&'r LedgerRecord], bar: &indicatif::ProgressBar) -> CsvPlan<'r> {
        let mut outcomes = Vec::new();
        let mut users = Vec::new();
        let mut subs = BTreeMap::new();
        let mut by_name: BTreeMap<String, &'r LedgerRecord> = BTreeMap::new();
        for &record in todo {
            let user = &record.entry.user;
            let planned = plan::new_username(user)
                .map_err(|e| e.to_string())
                .and_then(|name| {
                    let attributes = plan::attributes(user, &self.schema, &self.mapping)
                        .map_err(|e| e.to_string())?;
                    Ok((name, attributes))
                });
            match planned {
                Ok((name, attributes)) => {
                    subs.insert(name.clone(), user.sub().unwrap_or_default().to_owned());
                    by_name.insert(name.clone(), record);
                    users.push(CsvUser {
                        username: name,
                        attributes,
                        sms_mfa: user.mfa.sms,
                    });
                }
                Err(why) => {
                    bar.inc(1);
                    outcomes.push((record, Outcome::Failed(why)));
                }
            }
        }
        CsvPlan {
            users,
            subs,
            by_name,
            outcomes,
        }
    }

    /// Finishes these users with `AdminCreateUser`, a few at a time.
    async fn one_by_one<'r>(
        &self,
        records: Vec<&'r LedgerRecord>,
        bar: &indicatif::ProgressBar,
        concurrency: usize,
    ) -> Vec<(&'r LedgerRecord, Outcome)> {
        futures::stream::iter(records)
            .map(|record| async move {
                let outcome = self.finish_one(record).await;
                bar.inc(1);
                (record, outcome)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }

    async fn csv_import<'r>(
        &self,
        todo: &[&'r LedgerRecord],
        logs_role_arn: &str,
        bar: &indicatif::ProgressBar,
        concurrency: usize,
    ) -> anyhow::Result<Vec<(&'r LedgerRecord, Outcome)>> {
        self.limiters.update.acquire().await;
        let header = CsvHeader::new(
            self.new_pool
                .csv_header(&self.new_pool_id)
                .await
                .context("reading the new pool's CSV header")?,
        )
        .context("the new pool's CSV header")?;
        let CsvPlan {
            users,
            subs,
            by_name,
            mut outcomes,
        } = self.csv_plan(todo, bar);
        let import = write_files(&header, users, MAX_USERS_PER_FILE, MAX_BYTES_PER_FILE);
        // Users Cognito's import format cannot carry (a comma escaped ambiguously, a line break,
        // a username with a space, ...) are created one by one instead.
        if !import.unwritable.is_empty() {
            eprintln!(
                "{} user(s) the CSV format cannot carry are created with AdminCreateUser instead",
                import.unwritable.len()
            );
        }
        let records: Vec<&'r LedgerRecord> = import
            .unwritable
            .iter()
            .filter_map(|u| by_name.get(&u.username).copied())
            .collect();
        outcomes.extend(self.one_by_one(records, bar, concurrency).await);
        let files = import.files;
        let uploader = csv_job::Uploader::new().context("setting up HTTPS for the upload")?;
        let settings = csv_job::JobSettings {
            logs_role_arn: logs_role_arn.to_owned(),
            job_name_prefix: format!("cognito-migrate-{}", now_ms()),
            poll_first: Duration::from_secs(5),
            poll_max: Duration::from_secs(60),
            timeout: Duration::from_secs(6 * 3600),
        };
        for (index, file) in files.iter().enumerate() {
            bar.set_message(format!("import job {} of {}", index + 1, files.len()));
            let result = csv_job::import_file(
                &self.new_pool,
                &self.new_pool_id,
                &settings,
                index,
                file,
                &subs,
                &uploader,
                (&self.limiters.resource, &self.limiters.update),
            )
            .await;
            if let Some(problem) = &result.problem {
                eprintln!(
                    "import job {} ({}): {problem}",
                    index + 1,
                    result.job_id.as_deref().unwrap_or("not created")
                );
            }
            let done: Vec<(&'r LedgerRecord, Outcome)> = futures::stream::iter(result.users)
                .filter_map(|(name, presence)| {
                    let record = by_name.get(&name).copied();
                    async move { record.map(|record| (name, presence, record)) }
                })
                .map(|(name, presence, record)| async move {
                    let outcome = match presence {
                        csv_job::Presence::Imported => {
                            match self.complete(record, &name, FinishMethod::CsvImport).await {
                                Ok(()) => Outcome::Created,
                                Err(other) => other,
                            }
                        }
                        csv_job::Presence::Missing => {
                            Outcome::Failed("not imported: it stays waiting".into())
                        }
                        csv_job::Presence::SomeoneElse => Outcome::Conflict(format!(
                            "`{name}` exists in the new pool and is not this user"
                        )),
                        csv_job::Presence::Unknown(why) => Outcome::Failed(why),
                    };
                    bar.inc(1);
                    (record, outcome)
                })
                .buffer_unordered(concurrency)
                .collect()
                .await;
            outcomes.extend(done);
        }
        Ok(outcomes)
    }

    async fn ensure_group(&self, name: &str) -> Result<(), AwsError> {
        let mut existing = self.existing_groups.lock().await;
        if existing.contains(name) {
            return Ok(());
        }
        // A group the legacy pool no longer lists is created bare rather than lost.
        let spec = self.legacy_groups.get(name).cloned().unwrap_or(GroupSpec {
            name: name.to_owned(),
            description: None,
            precedence: None,
            role_arn: None,
        });
        self.backoff
            .run(&self.retries, || async {
                self.limiters.resource.acquire().await;
                self.new_pool.create_group(&self.new_pool_id, &spec).await
            })
            .await?;
        existing.insert(name.to_owned());
        Ok(())
    }
}

#[expect(clippy::needless_pass_by_value, reason = "used as map_err(failed)")]
fn failed(error: AwsError) -> Outcome {
    Outcome::Failed(error.to_string())
}

fn method_word(method: Method) -> &'static str {
    match method {
        Method::CsvImport => "csv",
        Method::AdminCreateUser => "admin-create-user",
    }
}

fn skip_line(reason: &SkipReason) -> String {
    match reason {
        SkipReason::Ambiguous => "refused as ambiguous: decide who is who first".into(),
        SkipReason::Collision { key, members } => {
            format!("collision on `{key}` with {}", members.join(", "))
        }
        SkipReason::Disabled => "disabled in the legacy pool".into(),
        SkipReason::ExternalProvider => "federated: signs in through its provider".into(),
        SkipReason::NoUsername => "no usable username".into(),
    }
}

fn render_plan(plan: &FinishPlan, method: Method, dry_run: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "finish{}: {} users to create with {}; {} already in the new pool; {} skipped",
        if dry_run { " (dry run)" } else { "" },
        plan.create.len(),
        method_word(method),
        plan.done,
        plan.skipped.len()
    );
    for skipped in &plan.skipped {
        let _ = writeln!(
            out,
            "  skip {}: {}",
            skipped.username,
            skip_line(&skipped.reason)
        );
    }
    out
}

fn render_first(
    todo: &[&LedgerRecord],
    schema: &TargetSchema,
    mapping: &AttributeMapping,
    show: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "first {} of {}:", show.min(todo.len()), todo.len());
    for record in todo.iter().take(show) {
        let user = &record.entry.user;
        let name = plan::new_username(user).unwrap_or_default();
        let attributes = plan::attributes(user, schema, mapping).map_or_else(
            |e| format!("refused: {e}"),
            |a| a.keys().cloned().collect::<Vec<_>>().join(", "),
        );
        let _ = writeln!(
            out,
            "  {} -> {name} [{}] attributes: {attributes}; groups: {}",
            user.username,
            record.entry.state.name(),
            if user.groups.is_empty() {
                "none".to_owned()
            } else {
                user.groups.join(", ")
            }
        );
    }
    out
}

fn render_outcomes(
    outcomes: &[(&LedgerRecord, Outcome)],
    run: &Run,
    elapsed: Duration,
) -> (String, bool) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = String::new();
    for (record, outcome) in outcomes {
        let name = &record.entry.user.username;
        let label = match outcome {
            Outcome::Created => "created",
            Outcome::Resumed => "resumed",
            Outcome::Conflict(why) => {
                let _ = writeln!(out, "  conflict {name}: {why}");
                "conflicts"
            }
            Outcome::Changed => {
                let _ = writeln!(out, "  changed {name}: migrated meanwhile, left as it is");
                "changed"
            }
            Outcome::Failed(why) => {
                let _ = writeln!(out, "  failed {name}: {why}");
                "failed"
            }
            Outcome::NotStarted => "not started",
            Outcome::Interrupted => "interrupted",
        };
        *counts.entry(label).or_insert(0) += 1;
    }
    let get = |label: &str| counts.get(label).copied().unwrap_or(0);
    let finished = get("created") + get("resumed");
    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    let rate = finished as f64 / elapsed.as_secs_f64().max(1e-3);
    let _ = writeln!(
        out,
        "finish: {} created, {} resumed from an earlier run, {} conflicts, {} changed meanwhile, {} failed, {} interrupted, {} not started; {:.1} s, {rate:.0} users/s, {} retries",
        get("created"),
        get("resumed"),
        get("conflicts"),
        get("changed"),
        get("failed"),
        get("interrupted"),
        get("not started"),
        elapsed.as_secs_f64(),
        run.retries.load(Ordering::Relaxed),
    );
    if get("interrupted") + get("not started") > 0 {
        let _ = writeln!(
            out,
            "stopped early (--stop-after): run finish again to complete; nobody is created twice"
        );
    }
    let complete = finished + get("changed") == outcomes.len();
    (out, complete)
}
