//! The command line: every option, with the help text an operator reads.
#![expect(
    clippy::doc_markdown,
    reason = "these doc comments are the --help text, where backticks would print as such"
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use cognito_migrate_core::policy::{CollisionPolicy, MfaPolicy, TemporaryPasswordPolicy};

use crate::simulate;
use cognito_migrate_aws::cli::legacy_scan::{ScanOptions, Verify};

#[derive(Debug, Parser)]
#[command(
    name = "cognito-migrate",
    version,
    about = "Operator tool for moving users from a case-sensitive Cognito user pool to a case-insensitive one.",
    long_about = "Operator tool for moving users from a case-sensitive (legacy) Cognito user pool to a \
case-insensitive one through the user-migration trigger.\n\n\
AWS credentials, the region and endpoints come from the usual SDK sources (environment, profile, \
instance role). Endpoints can be set only through the SDK's AWS_ENDPOINT_URL, \
AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER and AWS_ENDPOINT_URL_DYNAMODB variables, plus \
--legacy-endpoint-url for the legacy pool.\n\n\
Exit status: 0 done; 1 failed (AWS error, ...); 2 bad input or usage; 3 audit found collisions \
(with --fail-on-collisions); 4 the scan could not prove it saw every user.",
    after_help = "Typical order: audit (decide the collisions), index (fill the ledger), deploy the trigger, \
then simulate captured events when a sign-in does not do what you expect."
)]
pub(crate) struct Cli {
    /// AWS region of the ledger table and the new pool (default: AWS_REGION or the profile's).
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
    /// Region of the legacy pool (default: the pool id's prefix, else --region).
    #[arg(long, global = true, env = "LEGACY_REGION")]
    pub(crate) legacy_region: Option<String>,
    /// Endpoint of the legacy pool when it is not where AWS_ENDPOINT_URL* point (a local server,
    /// a VPC endpoint).
    #[arg(long, global = true, env = "LEGACY_ENDPOINT_URL")]
    pub(crate) legacy_endpoint_url: Option<String>,
    /// IAM role to assume (through STS) for every legacy-pool call: a pool in another account.
    #[arg(long, global = true, env = "LEGACY_ROLE_ARN")]
    pub(crate) legacy_role_arn: Option<String>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Fill the ledger from a full scan of the legacy pool (safe to re-run).
    #[command(
        long_about = "Fill the ledger table from a full scan of the legacy pool.\n\n\
Reads every group and its members (ListGroups, ListUsersInGroup), then every user \
(ListUsers, 60 a page) through parallel chains over the filters `sub ^= \"0\"` ... `sub ^= \"f\"`, \
and files each user under the case-insensitive key of its username, email, preferred_username \
and phone_number. Writes are conditional upserts: a user's migration state is never reset, so \
re-running is safe and picks up users added since, and identifiers changed since: a copy under a \
new e-mail starts with the user's state, one under an identifier the user no longer has is \
removed (DeleteItem). Throttling (TooManyRequestsException) is \
retried with exponential backoff and jitter.\n\n\
MFA: ListUsers reports only the legacy SMS MFAOptions. With --read-mfa, one AdminGetUser per user \
(paced by --mfa-rate) also reads SMS and TOTP set through SetUserMFAPreference, so the ledger and \
`finish` know them; without it, the trigger still learns of them from the legacy pool's \
challenge at sign-in.\n\n\
Prints one summary line: users scanned, ledger items written, groups, elapsed time, users/s."
    )]
    Index(IndexArgs),
    /// Report collisions and users that need a decision, from the live pool or an export.
    #[command(
        long_about = "Audit the legacy pool before migrating: which users collide once case is \
ignored (their username, email or preferred_username share a key), and which need a decision \
(disabled, unconfirmed, on a temporary password, MFA, unverified email, federated).\n\n\
Reads the live pool (the same ListUsers scan as index, without groups) or an export file \
(`aws cognito-idp list-users` output, several pages, a JSON array, or one user per line; \
`admin-get-user` output too). ListUsers and its exports show only the legacy SMS MFAOptions: on \
the live pool, --read-mfa reads each user's SetUserMFAPreference settings (SMS and TOTP) as \
well, with one AdminGetUser per user. Writes audit.md and audit.json into --out-dir and prints the Markdown to stdout. Collisions are \
findings, not failures: the exit status is 0 unless --fail-on-collisions is given."
    )]
    Audit(AuditArgs),
    /// Run the trigger's decision offline on an event and a file of legacy users.
    #[command(
        long_about = "Run the trigger's decision offline (no AWS call) on a trigger event and a \
file of legacy users, with the legacy pool's answers to password checks assumed.\n\n\
EVENT.json may be the event itself, a structured log record that contains it, or a CloudWatch \
log line with the event in it. A captured sign-in event with its password redacted (\"***\") or \
removed still works: the assumed outcomes stand in for the password.\n\n\
USERS.json may be `aws cognito-idp list-users` output (one or more pages), a JSON array of user \
objects, an `admin-get-user` answer, or one user object per line. A user object may carry a \
ledger `state` (\"pending\", or {\"state\": \"migrated\", \"newUsername\": ..., \"atMs\": ...}).\n\n\
Only users filed under the typed identifier's key are candidates, as in the trigger. Prints the \
decision, the reason and its explanation, each step, what the client would see, and the \
response event."
    )]
    Simulate(SimulateArgs),
    /// Check the live setup (trigger, both pools, permissions, ledger); each failure with its fix.
    #[command(
        long_about = "Read the live configuration of the trigger function, the legacy and new pools, \
their app clients and the ledger, and print a checklist: each line passed or failed, with the \
exact fix. With --user, also say what would happen to that identifier's sign-in now (no password \
is checked). The Lambda client's endpoint comes from AWS_ENDPOINT_URL or \
AWS_ENDPOINT_URL_LAMBDA.\n\nExit status: 0 every check passed; 1 a check failed."
    )]
    Doctor(crate::doctor::DoctorArgs),
    /// How far the migration got: counts by state, per day, and when the rest would arrive.
    #[command(
        long_about = "How far the migration got, from the ledger's counter items: users migrated on \
sign-in, finished in bulk, pending, refused (by reason); migrations per UTC day; the rate over \
the last 7 days and the day the remaining users (pending + refused) would be reached at that \
rate. Reads a few hundred small items at most (two Queries), whatever the ledger's size.\n\n\
--recount rebuilds the counters from a full parallel Scan of the ledger and prints how long it \
took: run it once after the first index to start the counters, and after anything wrote the \
ledger without keeping them. Writes made during a recount may be missed; run it when few \
sign-ins migrate."
    )]
    Status(StatusArgs),
    /// Create every user still pending in the new pool, without a password (the end of the window).
    #[command(
        long_about = "Create every legacy user still pending in the new pool, without a password, \
then copy its groups and mark it finished in the ledger: the same user, attributes and second \
factor a sign-in would have given it.\n\n\
Configuration: the trigger's own variables (TARGET_SCHEMA, ATTRIBUTE_RENAMES, ATTRIBUTE_DROPS, \
MFA_POLICY, ...), read from the environment as the trigger reads them, or from --config FILE, an \
env file of NAME=value lines. `cognito-migrate config` prints the same file, or the Lambda's \
Environment JSON, so the function and the finish share one source.\n\n\
Live check: before creating a user, its record is read from the legacy pool (AdminGetUser and \
AdminListGroupsForUser, paced by --read-rate). A user deleted since the index is skipped and \
marked refused with the reason `gone` in the ledger; a disabled one is skipped and listed; the \
attributes, second factors and groups are the live ones.\n\n\
MFA: under MFA_POLICY=sms (the default) a user with SMS MFA and a verified phone number keeps \
SMS MFA (AdminSetUserMFAPreference after AdminCreateUser; cognito:mfa_enabled in a CSV import); \
a second factor that cannot be kept (TOTP alone) is skipped and listed, as the trigger refuses \
it. refuse skips every user with a second factor; reset-required creates them without it and \
lists them to enrol again.\n\n\
Skipped and listed: users refused as ambiguous or found gone, users of an unresolved collision \
group (two or more legacy users sharing a case-insensitive key while one of them is not migrated \
yet), users whose attributes the new pool would refuse, and names taken in the new pool by \
someone else. Refused users for other reasons are included.\n\n\
admin-create-user: AdminCreateUser with MessageAction=SUPPRESS; users arrive in \
FORCE_CHANGE_PASSWORD and reset their password on first sign-in (forgot password). \
csv: a user import job (GetCSVHeader, CreateUserImportJob, upload, StartUserImportJob, \
DescribeUserImportJob); users arrive RESET_REQUIRED; needs --import-role-arn; users the format \
cannot carry are created with AdminCreateUser. auto: csv above --csv-threshold users, \
admin-create-user otherwise.\n\n\
--dry-run reads the ledger and changes nothing. With --method csv --write-csv DIR it also reads \
each user from the legacy pool and writes the import files it would upload into DIR, still \
changing nothing in either pool or the ledger.\n\n\
Ends with a table: created, resumed, already present, skipped by reason (collision, gone, \
disabled, mfa-policy, unwritable, ...), conflicts, failures and users to enrol MFA again; \
--report FILE also writes it as JSON (nothing is written without it).\n\n\
Safe to re-run: a user created by an earlier run (its custom:legacy_sub matches) is completed, \
never created twice. Calls are paced per Cognito quota category (--rate, --update-rate, \
--resource-rate, --read-rate) and throttling is retried with backoff and jitter.\n\n\
Exit status: 0 every eligible user finished; 1 some could not be (listed)."
    )]
    Finish(FinishArgs),
    /// Print the trigger's migration variables (policy, schema, mapping), checked.
    #[command(
        long_about = "Read the migration variables the trigger and `finish` share (COLLISION_POLICY, \
MFA_POLICY, TEMPORARY_PASSWORD_POLICY, MAX_CANDIDATES, DEADLINE_MS, REFUSAL_FLOOR_MS, \
NEW_POOL_USERNAME_ATTRIBUTES, NEW_POOL_ALIAS_ATTRIBUTES, TARGET_SCHEMA, ATTRIBUTE_RENAMES, ATTRIBUTE_DROPS) from --config \
FILE or the environment, check them as the trigger does, and print every one with its value \
(defaults written out): as an env file (--format env, for `finish --config`) or as the Lambda's \
Environment JSON (--format lambda, for `aws lambda update-function-configuration --environment \
file://...`; merge it with the function's LEGACY_* and LEDGER_TABLE variables, which this \
leaves out).\n\nExit status: 0 printed; 2 a variable is malformed (named)."
    )]
    Config(ConfigArgs),
}

/// How `config` prints the variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ConfigFormat {
    /// NAME=value lines.
    Env,
    /// {"Variables": {...}}.
    Lambda,
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// An env file of NAME=value lines (the trigger's variable names; `#` starts a comment
    /// line); without it, the environment.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// What to print.
    #[arg(long, value_enum, default_value_t = ConfigFormat::Env)]
    pub(crate) format: ConfigFormat,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The ledger table.
    #[arg(long, env = "LEDGER_TABLE")]
    pub(crate) table: String,
    /// Rebuild the counters from a full scan of the ledger first.
    #[arg(long)]
    pub(crate) recount: bool,
    /// Parallel Scan segments for --recount.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub(crate) segments: u16,
    /// Days listed in the per-day table.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u16).range(1..=3660))]
    pub(crate) days: u16,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// How `finish` creates users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FinishMethodArg {
    /// csv above --csv-threshold users, admin-create-user otherwise.
    Auto,
    /// A Cognito user import job.
    Csv,
    /// AdminCreateUser, one call per user.
    AdminCreateUser,
}

#[derive(Debug, Args)]
pub(crate) struct FinishArgs {
    /// The ledger table.
    #[arg(long, env = "LEDGER_TABLE")]
    pub(crate) table: String,
    /// The legacy pool's id (its groups' descriptions, precedence and roles are copied).
    #[arg(long, env = "LEGACY_USER_POOL_ID")]
    pub(crate) legacy_pool_id: String,
    /// The new pool's id.
    #[arg(long, env = "NEW_USER_POOL_ID")]
    pub(crate) new_pool_id: String,
    /// How to create the users.
    #[arg(long, value_enum, default_value_t = FinishMethodArg::Auto)]
    pub(crate) method: FinishMethodArg,
    /// With --method auto, more users than this go through a CSV import job.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) csv_threshold: usize,
    /// The IAM role Cognito uses to write the import job's CloudWatch logs (csv only).
    #[arg(long)]
    pub(crate) import_role_arn: Option<String>,
    /// Print what would happen (counts, skipped users, the first users) and change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Users listed by --dry-run.
    #[arg(long, default_value_t = 20)]
    pub(crate) show: usize,
    /// AdminCreateUser calls a second (UserCreation quota, 50 by default in an account).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) rate: u32,
    /// AdminAddUserToGroup / AdminGetUser calls a second (UserUpdate quota: 25, not adjustable).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) update_rate: u32,
    /// CreateGroup and import-job calls a second (UserPoolResourceUpdate quota: 15).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) resource_rate: u32,
    /// Users worked on at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
    /// Parallel Scan segments for reading the ledger.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub(crate) segments: u16,
    /// The migration variables (TARGET_SCHEMA, ATTRIBUTE_RENAMES, ATTRIBUTE_DROPS, MFA_POLICY,
    /// ...) from this env file of NAME=value lines, as `cognito-migrate config` prints them;
    /// without it, from the environment, as the trigger reads them.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// AdminGetUser and AdminListGroupsForUser calls a second on the legacy pool (UserRead
    /// quota: 120 a second in the account, shared with the apps' GetUser calls).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) read_rate: u32,
    /// Write the CSV import files into this folder (file-001.csv, ...) before uploading them;
    /// with --dry-run, only write them.
    #[arg(long)]
    pub(crate) write_csv: Option<PathBuf>,
    /// The new pool's CSV header from a file (a saved GetCSVHeader answer: one line of column
    /// names) instead of calling GetCSVHeader.
    #[arg(long)]
    pub(crate) csv_header: Option<PathBuf>,
    /// Also write the final table as JSON to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
    /// Stop after creating this many users, as if interrupted (for testing resumption).
    #[arg(long, hide = true)]
    pub(crate) stop_after: Option<usize>,
}

/// How the scan proves that its chains together saw every user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum VerifyArg {
    /// Compare with `DescribeUserPool`'s `EstimatedNumberOfUsers`, read before and after the
    /// scan: one cheap call, but only an estimate on a pool that changes meanwhile.
    Estimate,
    /// Run one more chain without a filter alongside the others and require that it found no
    /// user the filtered chains missed (users only it found are still indexed). Exact, but it
    /// makes about N/60 more sequential `ListUsers` calls: as slow as one chain.
    Scan,
    /// No check.
    None,
}

impl From<VerifyArg> for Verify {
    fn from(arg: VerifyArg) -> Self {
        match arg {
            VerifyArg::Estimate => Self::Estimate,
            VerifyArg::Scan => Self::Scan,
            VerifyArg::None => Self::None,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Parallel ListUsers chains: 1 scans without filters; 2-16 share the 16 `sub` prefixes,
    /// up to 256 the two-digit ones. ListUsers allows 30 calls a second per account.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) chains: u16,
    /// How to check that the chains together saw every user.
    #[arg(long, value_enum, default_value_t = VerifyArg::Estimate)]
    pub(crate) verify: VerifyArg,
    /// Also read each user's MFA settings, with one AdminGetUser per user. ListUsers shows only
    /// the legacy SMS MFAOptions; SMS or TOTP set through SetUserMFAPreference (what current
    /// pools use) is visible only this way.
    #[arg(long)]
    pub(crate) read_mfa: bool,
    /// AdminGetUser calls a second with --read-mfa (UserRead quota: 120 a second in the account,
    /// shared with the apps' GetUser calls).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) mfa_rate: u32,
    /// ListUsers and ListUsersInGroup calls a second, across all chains (UserList quota: 30 a
    /// second per account, shared with every other caller; throttling is still retried).
    #[arg(long, default_value_t = cognito_migrate_aws::cli::legacy_scan::DEFAULT_LIST_RATE, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) list_rate: u32,
}

impl ScanArgs {
    pub(crate) fn options(&self) -> ScanOptions {
        ScanOptions {
            chains: usize::from(self.chains),
            verify: self.verify.into(),
        }
    }

    /// The pace of the MFA reads, when asked for.
    pub(crate) fn mfa_reads(&self) -> Option<u32> {
        self.read_mfa.then_some(self.mfa_rate)
    }
}

#[derive(Debug, Args)]
pub(crate) struct IndexArgs {
    /// The legacy pool's id (`<region>_<id>`).
    #[arg(long, env = "LEGACY_USER_POOL_ID")]
    pub(crate) legacy_pool_id: String,
    /// The ledger table.
    #[arg(long, env = "LEDGER_TABLE")]
    pub(crate) table: String,
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
    /// Ledger writes in flight at once (also groups read at once, up to 8).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub(crate) concurrency: u16,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Audit the live legacy pool.
    #[arg(long, env = "LEGACY_USER_POOL_ID")]
    pub(crate) legacy_pool_id: Option<String>,
    /// Audit an export file instead, `-` for standard input (takes precedence over
    /// --legacy-pool-id).
    #[arg(long, value_name = "EXPORT.json")]
    pub(crate) from_file: Option<PathBuf>,
    /// Where audit.md and audit.json are written.
    #[arg(long, default_value = ".")]
    pub(crate) out_dir: PathBuf,
    /// Exit with status 3 when there is any collision (for CI).
    #[arg(long)]
    pub(crate) fail_on_collisions: bool,
    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// The trigger event (JSON, a structured log record, or a CloudWatch log line).
    #[arg(value_name = "EVENT.json")]
    pub(crate) event: PathBuf,
    /// The legacy users.
    #[arg(long, value_name = "USERS.json")]
    pub(crate) legacy: PathBuf,
    /// The legacy pool's answer to a password check, for users not named by --assume: ok, wrong,
    /// disabled, not-found, reset-required, not-confirmed, sms-mfa, totp-mfa, select-mfa,
    /// mfa-setup or new-password-required.
    #[arg(long, default_value = "ok", value_parser = simulate::parse_outcome)]
    pub(crate) assume_password: simulate::AssumedOutcome,
    /// The answer for one legacy user (exact username), e.g. `--assume Alice@Example.com=wrong`.
    /// Repeatable.
    #[arg(long, value_name = "USERNAME=OUTCOME", value_parser = simulate::parse_assume)]
    pub(crate) assume: Vec<(String, simulate::AssumedOutcome)>,
    /// The new pool's attribute names (default: the standard ones plus custom:legacy_sub and
    /// custom:legacy_username).
    #[arg(long, value_delimiter = ',', conflicts_with = "schema_file")]
    pub(crate) schema: Option<Vec<String>>,
    /// The new pool's schema: `aws cognito-idp describe-user-pool` output, its SchemaAttributes,
    /// or a JSON array of names.
    #[arg(long, value_name = "schema.json")]
    pub(crate) schema_file: Option<PathBuf>,
    /// A policy file: the policy (`{"collision": "refuse", "mfa": "sms", ...}`) or a whole
    /// migration config (`{"policy": ..., "schema": [...], "mapping": ..., "legacySignIn":
    /// {"usernameAttributes": ["email"], "aliasAttributes": []}}`). Options below override it.
    #[arg(long, value_name = "policy.json")]
    pub(crate) policy: Option<PathBuf>,
    /// When one password fits several legacy users.
    #[arg(long, value_parser = clap::value_parser!(CollisionPolicy))]
    pub(crate) collision: Option<CollisionPolicy>,
    /// When the legacy pool asks for a second factor.
    #[arg(long, value_parser = clap::value_parser!(MfaPolicy))]
    pub(crate) mfa: Option<MfaPolicy>,
    /// When the password is a temporary one.
    #[arg(long, value_parser = clap::value_parser!(TemporaryPasswordPolicy))]
    pub(crate) temporary_password: Option<TemporaryPasswordPolicy>,
    /// The most candidates one sign-in may check.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=20))]
    pub(crate) max_candidates: Option<u16>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub(crate) json: bool,
}
