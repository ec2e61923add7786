//! `cognito-migrate finish`: creates the legacy users still waiting in the new pool, without a
//! password, copies their groups and marks them finished in the ledger.
//!
//! Each user is read from the legacy pool first and built by the core exactly as the trigger
//! would build it, under the trigger's own variables: attributes, second factor, groups.
//!
//! Safe to interrupt and re-run: the ledger mark comes last, and a name that already exists in
//! the new pool is completed only when it carries this user's `custom:legacy_sub` (an earlier
//! run created it); otherwise it is someone else's and is listed as a conflict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
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
use cognito_migrate_aws::legacy_pool::LegacyPool;
use cognito_migrate_aws::limiter::Limiter;
use cognito_migrate_aws::new_pool::NewPool;
use cognito_migrate_aws::retry::Backoff;
use cognito_migrate_core::attributes::LEGACY_SUB;
use cognito_migrate_core::finish::csv::{
    CsvFile, CsvHeader, CsvUser, MAX_BYTES_PER_FILE, MAX_USERS_PER_FILE, write_files,
};
use cognito_migrate_core::finish::{
    self as plan, Creation, FinishPlan, FinishReport, Method, SkipReason, Skipped, Unfinished,
};
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::ledger::FinishMethod;
use cognito_migrate_core::migrate::{MigrationConfig, ReasonCode};
use cognito_migrate_core::settings::LegacyPoolConfig;
use cognito_migrate_core::user::LegacyUser;
use futures::StreamExt as _;
use tokio::sync::Mutex;

use crate::BadInput;
use crate::args::{FinishArgs, FinishMethodArg};
use crate::{config, progress, status};

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
    /// Created now, groups copied, marked finished; `reenrol` when it lost a second factor.
    Created { reenrol: bool },
    /// Found created by an earlier run (its legacy sub matches), completed now.
    Resumed { reenrol: bool },
    /// A dry run would create it.
    Planned { reenrol: bool },
    /// Left alone after its live read or the core's decision.
    Skipped(SkipReason),
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
    /// `UserRead` on the legacy pool: the live `AdminGetUser` and `AdminListGroupsForUser`.
    read: Limiter,
}

/// A user read live from the legacy pool, and what to create for it.
struct Ready {
    /// The live user, its groups included.
    user: LegacyUser,
    creation: Creation,
}

struct Run {
    ledger: Ledger,
    legacy: LegacyPool,
    new_pool: NewPool,
    new_pool_id: String,
    limiters: Limiters,
    backoff: Backoff,
    retries: AtomicU64,
    legacy_groups: BTreeMap<String, GroupSpec>,
    existing_groups: Mutex<BTreeSet<String>>,
    config: MigrationConfig,
    /// A dry run: reads only, nothing is changed.
    rehearsal: bool,
    stop_after: Option<usize>,
    created: AtomicUsize,
}

/// The whole command.
#[expect(
    clippy::too_many_lines,
    reason = "the run's steps in order, each a few lines"
)]
pub async fn command(
    sdk: &SdkConfig,
    access: &LegacyAccess,
    args: &FinishArgs,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let config = config::migration_config(args.config.as_deref())?;
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
    if args.write_csv.is_some() && method != Method::CsvImport {
        return Err(BadInput(format!(
            "--write-csv writes the files of a CSV import; this run creates users with {} (use --method csv)",
            method_word(method)
        ))
        .into());
    }
    let by_name: BTreeMap<&str, &LedgerRecord> = records
        .iter()
        .map(|r| (r.entry.user.username.as_str(), r))
        .collect();
    // Approved users whose new-pool user never signed in come last, under the approved name:
    // created if Cognito never did, resumed (their groups and the ledger mark) if it did.
    let todo: Vec<&LedgerRecord> = plan
        .create
        .iter()
        .chain(&plan.approved)
        .filter_map(|name| by_name.get(name.as_str()).copied())
        .collect();
    let mut report = FinishReport::new(method, args.dry_run);
    report.already_present = plan.done;
    report.skipped.clone_from(&plan.skipped);

    print!("{}", render_plan(&plan, method, args.dry_run));
    let reads_live = !args.dry_run || args.write_csv.is_some();
    if !reads_live {
        // A plain dry run reads the ledger only: the users as the index saw them.
        print!("{}", render_first(&todo, &config, args.show));
        let outcomes: Vec<(&LedgerRecord, Outcome)> = todo
            .iter()
            .map(|&record| {
                let outcome = match plan::prepare(&record.entry.user, &config) {
                    Ok(creation) => Outcome::Planned {
                        reenrol: creation.reenrol,
                    },
                    Err(reason) => Outcome::Skipped(reason),
                };
                (record, outcome)
            })
            .collect();
        return conclude(report, &outcomes, &ledger, args, started.elapsed(), 0).await;
    }
    let import_role = match (method, &args.import_role_arn) {
        (Method::CsvImport, None) if !args.dry_run => {
            return Err(BadInput(
                "a CSV import needs --import-role-arn (the role Cognito writes the job's CloudWatch logs with), or use --method admin-create-user".into(),
            )
            .into());
        }
        (_, role) => role.clone(),
    };

    let new_pool = NewPool::new(clients::cognito_client(sdk));
    let (legacy_groups, existing) = if args.dry_run {
        (BTreeMap::new(), BTreeSet::new())
    } else {
        (
            legacy_groups(sdk, access, &args.legacy_pool_id)
                .await
                .context("listing the legacy pool's groups")?,
            new_pool
                .group_names(&args.new_pool_id)
                .await
                .context("listing the new pool's groups")?,
        )
    };
    let run = Run {
        ledger,
        legacy: legacy_reader(sdk, access, &args.legacy_pool_id).await,
        new_pool,
        new_pool_id: args.new_pool_id.clone(),
        limiters: Limiters {
            creation: Limiter::new(args.rate),
            update: Limiter::new(args.update_rate),
            resource: Limiter::new(args.resource_rate),
            read: Limiter::new(args.read_rate),
        },
        backoff: Backoff::default(),
        retries: AtomicU64::new(0),
        legacy_groups,
        existing_groups: Mutex::new(existing),
        config,
        rehearsal: args.dry_run,
        stop_after: args.stop_after,
        created: AtomicUsize::new(0),
    };
    let bar = progress::users_bar(Some(todo.len() as u64), "finishing");
    let concurrency = usize::from(args.concurrency);
    let outcomes: Vec<(&LedgerRecord, Outcome)> = match method {
        Method::CsvImport => {
            let csv = CsvRun {
                logs_role_arn: import_role.as_deref(),
                header_file: args.csv_header.as_deref(),
                write_to: args.write_csv.as_deref(),
            };
            let (outcomes, unwritable) = run.csv_import(&todo, &csv, &bar, concurrency).await?;
            report.csv_unwritable = unwritable;
            outcomes
        }
        Method::AdminCreateUser => run.one_by_one(todo.clone(), &bar, concurrency).await,
    };
    bar.finish_and_clear();
    let retries = run.retries.load(Ordering::Relaxed);
    conclude(
        report,
        &outcomes,
        &run.ledger,
        args,
        started.elapsed(),
        retries,
    )
    .await
}

/// The legacy pool, for its reads only (`AdminGetUser`, `AdminListGroupsForUser`): the calls
/// the trigger reads a user with. No password is checked here, so no app client is named.
async fn legacy_reader(sdk: &SdkConfig, access: &LegacyAccess, pool_id: &str) -> LegacyPool {
    LegacyPool::new(
        clients::legacy_client(sdk, access, pool_id).await,
        &LegacyPoolConfig {
            user_pool_id: pool_id.to_owned(),
            client_id: String::new(),
            client_secret: None,
            region: None,
            role_arn: None,
            endpoint_url: None,
        },
    )
}

/// Fills the report from the outcomes, prints the lists and the table, writes the JSON report
/// when asked, and gives the exit status.
async fn conclude(
    mut report: FinishReport,
    outcomes: &[(&LedgerRecord, Outcome)],
    ledger: &Ledger,
    args: &FinishArgs,
    elapsed: Duration,
    retries: u64,
) -> anyhow::Result<ExitCode> {
    let text = render_outcomes(outcomes, &mut report, elapsed, retries);
    print!("{text}");
    print!("{}", report.table());
    if args.dry_run {
        println!("nothing was changed (--dry-run)");
    }
    if let Some(path) = &args.report {
        let mut json = report.to_json();
        if ledger.counts()
            && let Some(object) = json.as_object_mut()
        {
            // The figures `status --json` shows, read after the run.
            let figures = status::run(ledger, now_ms(), status::RATE_DAYS).await?;
            object.insert("ledger".into(), serde_json::to_value(figures)?);
        }
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(if report.complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// How the CSV path runs.
struct CsvRun<'a> {
    /// The import job's logs role; `None` only in a dry run.
    logs_role_arn: Option<&'a str>,
    /// A saved `GetCSVHeader` line, instead of the call.
    header_file: Option<&'a Path>,
    /// Where to write the files.
    write_to: Option<&'a Path>,
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

/// Writes the import files into `dir` as `file-001.csv`, ...; returns their paths.
fn write_csv_files(dir: &Path, files: &[CsvFile]) -> anyhow::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let path = dir.join(format!("file-{:03}.csv", index + 1));
            std::fs::write(&path, &file.text)
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

impl Run {
    /// Reads the user from the legacy pool and decides what to create, or why not. A user found
    /// gone is marked so in the ledger (not in a dry run).
    async fn read_and_prepare(&self, record: &LedgerRecord) -> Result<Ready, Outcome> {
        let username = &record.entry.user.username;
        let live = self
            .backoff
            .run(&self.retries, || async {
                self.limiters.read.acquire().await;
                self.legacy.get_user(username).await
            })
            .await
            .map_err(failed)?;
        match plan::live_check(&record.entry.user, live) {
            Err(SkipReason::Gone) => {
                if !self.rehearsal {
                    self.mark_gone(record).await?;
                }
                Err(Outcome::Skipped(SkipReason::Gone))
            }
            Err(reason) => Err(Outcome::Skipped(reason)),
            Ok(mut user) => {
                let groups = self
                    .backoff
                    .run(&self.retries, || async {
                        self.limiters.read.acquire().await;
                        self.legacy.groups_of(username).await
                    })
                    .await
                    .map_err(failed)?;
                user.groups = groups.into_iter().map(|g| g.name).collect();
                let mut creation = plan::prepare(&user, &self.config).map_err(Outcome::Skipped)?;
                if let Some(approved) = record.entry.state.bound_to() {
                    approved.clone_into(&mut creation.new_username);
                }
                Ok(Ready { user, creation })
            }
        }
    }

    /// Records the user as refused with the reason `gone`, so later runs skip it without a read.
    async fn mark_gone(&self, record: &LedgerRecord) -> Result<(), Outcome> {
        let now = now_ms();
        let records = [record];
        match self
            .backoff
            .run(&self.retries, || {
                self.ledger.record_refusal(&records, ReasonCode::Gone, now)
            })
            .await
        {
            Ok(()) => Ok(()),
            Err(AwsError::Conflict { .. }) => Err(Outcome::Changed),
            Err(error) => Err(failed(error)),
        }
    }

    async fn finish_one(&self, record: &LedgerRecord, ready: &Ready) -> Outcome {
        let user = &record.entry.user;
        let creation = &ready.creation;
        let new_name = &creation.new_username;
        let reenrol = creation.reenrol;
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
                    .create_user(&self.new_pool_id, new_name, &creation.attributes)
                    .await
            })
            .await;
        let outcome = match created {
            Ok(Created::Created) => {
                let count = self.created.fetch_add(1, Ordering::SeqCst) + 1;
                if self.stop_after.is_some_and(|stop| count >= stop) {
                    return Outcome::Interrupted;
                }
                Outcome::Created { reenrol }
            }
            Ok(Created::Exists) => {
                let found = self
                    .backoff
                    .run(&self.retries, || async {
                        self.limiters.update.acquire().await;
                        self.new_pool
                            .user_attributes(&self.new_pool_id, new_name)
                            .await
                    })
                    .await;
                match found {
                    Ok(Some(found))
                        if user.sub().is_some()
                            && found.get(LEGACY_SUB).map(String::as_str) == user.sub() =>
                    {
                        Outcome::Resumed { reenrol }
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
        if creation.sms_mfa() {
            // After the creation, before the ledger mark: a run stopped in between sets it
            // again when it resumes the user.
            let set = self
                .backoff
                .run(&self.retries, || async {
                    self.limiters.update.acquire().await;
                    self.new_pool
                        .enable_sms_mfa(&self.new_pool_id, new_name)
                        .await
                })
                .await;
            if let Err(error) = set {
                return failed(error);
            }
        }
        match self
            .complete(
                record,
                &ready.user.groups,
                new_name,
                FinishMethod::AdminCreateUser,
            )
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
        groups: &[String],
        new_name: &str,
        method: FinishMethod,
    ) -> Result<(), Outcome> {
        for group in groups {
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
        let groups_copied = !groups.is_empty();
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

    /// Reads and prepares these users, a few at a time.
    async fn read_all<'r>(
        &self,
        records: &[&'r LedgerRecord],
        concurrency: usize,
    ) -> Vec<(&'r LedgerRecord, Result<Ready, Outcome>)> {
        futures::stream::iter(records.iter().copied())
            .map(|record| async move { (record, self.read_and_prepare(record).await) })
            .buffered(concurrency)
            .collect()
            .await
    }

    /// Finishes these users with `AdminCreateUser`, a few at a time, each read live first.
    async fn one_by_one<'r>(
        &self,
        records: Vec<&'r LedgerRecord>,
        bar: &indicatif::ProgressBar,
        concurrency: usize,
    ) -> Vec<(&'r LedgerRecord, Outcome)> {
        futures::stream::iter(records)
            .map(|record| async move {
                let outcome = match self.read_and_prepare(record).await {
                    Ok(ready) => self.finish_one(record, &ready).await,
                    Err(outcome) => outcome,
                };
                bar.inc(1);
                (record, outcome)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }

    /// Finishes users already read with `AdminCreateUser`.
    async fn create_ready<'r>(
        &self,
        ready: Vec<(&'r LedgerRecord, &Ready)>,
        bar: &indicatif::ProgressBar,
        concurrency: usize,
    ) -> Vec<(&'r LedgerRecord, Outcome)> {
        futures::stream::iter(ready)
            .map(|(record, ready)| async move {
                let outcome = if self.rehearsal {
                    Outcome::Planned {
                        reenrol: ready.creation.reenrol,
                    }
                } else {
                    self.finish_one(record, ready).await
                };
                bar.inc(1);
                (record, outcome)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }

    /// The new pool's CSV header: from a saved file, or `GetCSVHeader`.
    async fn csv_header(&self, file: Option<&Path>) -> anyhow::Result<CsvHeader> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("reading {}: {e}", path.display())))?;
            let line = text.lines().next().unwrap_or_default();
            return CsvHeader::parse(line)
                .map_err(|e| BadInput(format!("{}: {e}", path.display())).into());
        }
        self.limiters.update.acquire().await;
        CsvHeader::new(
            self.new_pool
                .csv_header(&self.new_pool_id)
                .await
                .context("reading the new pool's CSV header")?,
        )
        .context("the new pool's CSV header")
    }

    /// The CSV path: each user read live, files built from the pool's header (written out when
    /// asked), one import job each, then groups and the ledger mark for the users each job
    /// really imported. Users the format cannot carry are created one by one. Also returns how
    /// many those were.
    async fn csv_import<'r>(
        &self,
        todo: &[&'r LedgerRecord],
        csv: &CsvRun<'_>,
        bar: &indicatif::ProgressBar,
        concurrency: usize,
    ) -> anyhow::Result<(Vec<(&'r LedgerRecord, Outcome)>, usize)> {
        let header = self.csv_header(csv.header_file).await?;
        let mut outcomes = Vec::new();
        let mut ready: BTreeMap<String, (&'r LedgerRecord, Ready)> = BTreeMap::new();
        for (record, read) in self.read_all(todo, concurrency).await {
            match read {
                Ok(user) => {
                    ready.insert(user.creation.new_username.clone(), (record, user));
                }
                Err(outcome) => {
                    bar.inc(1);
                    outcomes.push((record, outcome));
                }
            }
        }
        let subs: BTreeMap<String, String> = ready
            .iter()
            .map(|(name, (record, _))| {
                (
                    name.clone(),
                    record.entry.user.sub().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let users = ready.iter().map(|(name, (_, user))| CsvUser {
            username: name.clone(),
            attributes: user.creation.attributes.clone(),
            sms_mfa: user.creation.sms_mfa(),
        });
        let import = write_files(&header, users, MAX_USERS_PER_FILE, MAX_BYTES_PER_FILE);
        if let Some(dir) = csv.write_to {
            for path in write_csv_files(dir, &import.files)? {
                println!("wrote {}", path.display());
            }
        }
        // Users Cognito's import format cannot carry (a comma escaped ambiguously, a line break,
        // a username with a space, ...) are created one by one instead.
        if !import.unwritable.is_empty() {
            eprintln!(
                "{} user(s) the CSV format cannot carry are created with AdminCreateUser instead",
                import.unwritable.len()
            );
        }
        let one_by_one: Vec<(&'r LedgerRecord, &Ready)> = import
            .unwritable
            .iter()
            .filter_map(|u| ready.get(&u.username).map(|(r, user)| (*r, user)))
            .collect();
        outcomes.extend(self.create_ready(one_by_one, bar, concurrency).await);
        let Some(logs_role_arn) = csv.logs_role_arn.filter(|_| !self.rehearsal) else {
            // A dry run stops here: the files are written, nothing is uploaded.
            for file in &import.files {
                for name in &file.usernames {
                    if let Some((record, user)) = ready.get(name) {
                        bar.inc(1);
                        outcomes.push((
                            *record,
                            Outcome::Planned {
                                reenrol: user.creation.reenrol,
                            },
                        ));
                    }
                }
            }
            return Ok((outcomes, import.unwritable.len()));
        };
        outcomes.extend(
            self.run_jobs(
                &import.files,
                &ready,
                &subs,
                logs_role_arn,
                bar,
                concurrency,
            )
            .await?,
        );
        Ok((outcomes, import.unwritable.len()))
    }

    /// One import job per file, then groups and the ledger mark for each user a job really
    /// imported.
    async fn run_jobs<'r>(
        &self,
        files: &[CsvFile],
        ready: &BTreeMap<String, (&'r LedgerRecord, Ready)>,
        subs: &BTreeMap<String, String>,
        logs_role_arn: &str,
        bar: &indicatif::ProgressBar,
        concurrency: usize,
    ) -> anyhow::Result<Vec<(&'r LedgerRecord, Outcome)>> {
        let mut outcomes = Vec::new();
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
                subs,
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
                .filter_map(|(name, presence)| async move {
                    ready
                        .get(&name)
                        .map(|(record, user)| (name, presence, *record, user))
                })
                .map(|(name, presence, record, user)| async move {
                    let outcome = match presence {
                        csv_job::Presence::Imported => {
                            match self
                                .complete(record, &user.user.groups, &name, FinishMethod::CsvImport)
                                .await
                            {
                                Ok(()) => Outcome::Created {
                                    reenrol: user.creation.reenrol,
                                },
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

fn render_plan(plan: &FinishPlan, method: Method, dry_run: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "finish{}: {} users to create with {}; {} approved at a sign-in but never confirmed, to look up in the new pool; {} already in the new pool; {} skipped",
        if dry_run { " (dry run)" } else { "" },
        plan.create.len(),
        method_word(method),
        plan.approved.len(),
        plan.done,
        plan.skipped.len()
    );
    for skipped in &plan.skipped {
        let _ = writeln!(
            out,
            "  skip {}: {}",
            skipped.username,
            skipped.reason.explain()
        );
    }
    out
}

fn render_first(todo: &[&LedgerRecord], config: &MigrationConfig, show: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "first {} of {}:", show.min(todo.len()), todo.len());
    for record in todo.iter().take(show) {
        let user = &record.entry.user;
        let name = plan::new_username(user).unwrap_or_default();
        let made = plan::prepare(user, config).map_or_else(
            |why| format!("skip: {}", why.explain()),
            |c| {
                format!(
                    "attributes: {}; mfa: {}",
                    c.attributes.keys().cloned().collect::<Vec<_>>().join(", "),
                    mfa_word(&c)
                )
            },
        );
        let _ = writeln!(
            out,
            "  {} -> {name} [{}] {made}; groups: {}",
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

fn mfa_word(creation: &Creation) -> &'static str {
    match creation.mfa {
        plan::MfaPlan::None => "none",
        plan::MfaPlan::Sms => "sms",
        plan::MfaPlan::Dropped => "dropped (enrols again)",
    }
}

/// Lists the users that need a look, fills `report`, and gives the summary line.
fn render_outcomes(
    outcomes: &[(&LedgerRecord, Outcome)],
    report: &mut FinishReport,
    elapsed: Duration,
    retries: u64,
) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = String::new();
    let mut sorted: Vec<&(&LedgerRecord, Outcome)> = outcomes.iter().collect();
    sorted.sort_by(|a, b| a.0.entry.user.username.cmp(&b.0.entry.user.username));
    for (record, outcome) in sorted {
        let name = &record.entry.user.username;
        let label = match outcome {
            Outcome::Created { reenrol }
            | Outcome::Resumed { reenrol }
            | Outcome::Planned { reenrol } => {
                if *reenrol {
                    let _ = writeln!(
                        out,
                        "  enrol MFA again {name}: created without its second factor"
                    );
                    report.reenrol.push(name.clone());
                }
                match outcome {
                    Outcome::Resumed { .. } => "resumed",
                    _ => "created",
                }
            }
            Outcome::Skipped(reason) => {
                let _ = writeln!(out, "  skip {name}: {}", reason.explain());
                report.skipped.push(Skipped {
                    username: name.clone(),
                    reason: reason.clone(),
                });
                "skipped"
            }
            Outcome::Conflict(why) => {
                let _ = writeln!(out, "  conflict {name}: {why}");
                report.conflicts.push(name.clone());
                "conflicts"
            }
            Outcome::Changed => {
                let _ = writeln!(out, "  changed {name}: migrated meanwhile, left as it is");
                report.changed.push(name.clone());
                "changed"
            }
            Outcome::Failed(why) => {
                let _ = writeln!(out, "  failed {name}: {why}");
                report.failed.push(Unfinished {
                    username: name.clone(),
                    why: why.clone(),
                });
                "failed"
            }
            Outcome::NotStarted => "not started",
            Outcome::Interrupted => "interrupted",
        };
        *counts.entry(label).or_insert(0) += 1;
    }
    report.skipped.sort_by(|a, b| a.username.cmp(&b.username));
    let get = |label: &str| counts.get(label).copied().unwrap_or(0);
    report.created = get("created");
    report.resumed = get("resumed");
    report.not_started = get("not started") + get("interrupted");
    let finished = get("created") + get("resumed");
    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    let rate = finished as f64 / elapsed.as_secs_f64().max(1e-3);
    let _ = writeln!(
        out,
        "finish: {} {}, {} resumed from an earlier run, {} conflicts, {} changed meanwhile, {} failed, {} interrupted, {} not started, {} skipped; {:.1} s, {rate:.0} users/s, {retries} retries",
        get("created"),
        if report.dry_run {
            "to create"
        } else {
            "created"
        },
        get("resumed"),
        get("conflicts"),
        get("changed"),
        get("failed"),
        get("interrupted"),
        get("not started"),
        get("skipped"),
        elapsed.as_secs_f64(),
    );
    if report.not_started > 0 {
        let _ = writeln!(
            out,
            "stopped early (--stop-after): run finish again to complete; nobody is created twice"
        );
    }
    out
}
