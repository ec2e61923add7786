//! `cognito-migrate`: the operator tool of a migration from a case-sensitive Cognito user pool
//! to a case-insensitive one through the user-migration trigger.
//!
//! This crate holds the arguments ([`args`]), one module per command (`audit`, `index`,
//! `doctor`, `simulate`, `status`, `finish`, `config`) and their rendering. It makes no AWS call itself:
//! the scans, ledger writes, imports and configuration reads are in the `cognito-migrate-aws`
//! crate (its `cli` module), and the decisions in `cognito-migrate-core`.

mod args;
mod audit;
mod config;
mod doctor;
mod finish;
mod index;
mod input;
mod progress;
mod simulate;
mod status;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use cognito_migrate_aws::cli::legacy_scan::LegacyScan;
use cognito_migrate_aws::clients::{self, LegacyAccess, SdkConfig};
use cognito_migrate_aws::ledger::Ledger;
use cognito_migrate_core::attributes::TargetSchema;
use cognito_migrate_core::migrate::{MigrationConfig, TargetSchemaOrDefault};
use cognito_migrate_core::policy::Policy;
use serde_json::Value;

use crate::args::{AuditArgs, Cli, Command, IndexArgs, SimulateArgs};

/// Input the operator must fix: a missing or malformed file, an impossible combination of
/// options. Exits with status 2, like a usage error.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The scan missed users; the ledger may be incomplete. Exits with status 4.
#[derive(Debug)]
struct Incomplete(String);

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "incomplete scan: {}", self.0)
    }
}

impl std::error::Error for Incomplete {}

const EXIT_BAD_INPUT: u8 = 2;
const EXIT_COLLISIONS: u8 = 3;
const EXIT_INCOMPLETE: u8 = 4;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(ref args) => simulate_command(args),
        Command::Config(ref args) => config::command(args),
        Command::Index(_)
        | Command::Audit(_)
        | Command::Doctor(_)
        | Command::Status(_)
        | Command::Finish(_) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")
            .and_then(|runtime| runtime.block_on(aws_command(&cli))),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.downcast_ref::<BadInput>().is_some() {
                ExitCode::from(EXIT_BAD_INPUT)
            } else if error.downcast_ref::<Incomplete>().is_some() {
                ExitCode::from(EXIT_INCOMPLETE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `index`: the legacy pool into the ledger.
async fn index_command(
    sdk: &SdkConfig,
    access: &LegacyAccess,
    args: &IndexArgs,
) -> anyhow::Result<ExitCode> {
    let scan = LegacyScan::new(
        clients::legacy_client(sdk, access, &args.legacy_pool_id).await,
        &args.legacy_pool_id,
    )
    .with_mfa_reads(args.scan.mfa_reads())
    .with_list_rate(args.scan.list_rate);
    let ledger = Ledger::new(clients::dynamodb_client(sdk), &args.table);
    // New users are counted once a ledger has counters (the first index run starts them).
    let counting = ledger.has_counters().await?;
    let ledger = ledger.with_counters(counting);
    let summary = index::run(
        &scan,
        &ledger,
        args.scan.options(),
        usize::from(args.concurrency),
    )
    .await?;
    for warning in &summary.warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", summary.line());
    if let Some(problem) = summary.scan.verification_failure() {
        return Err(Incomplete(problem).into());
    }
    if !counting {
        // The index has just filed every user: the counters start from a count of the ledger,
        // so that `status` is right from the first sign-in on; the trigger and `finish` keep
        // them from then.
        let line = status::recount(&ledger, 8)
            .await
            .context("counting the ledger to start its counters")?;
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn aws_command(cli: &Cli) -> anyhow::Result<ExitCode> {
    let sdk = clients::load_operator_sdk_config(cli.region.as_deref()).await;
    let access = LegacyAccess::of_operator(
        cli.legacy_region.clone(),
        cli.legacy_endpoint_url.clone(),
        cli.legacy_role_arn.clone(),
    );
    match &cli.command {
        Command::Index(args) => index_command(&sdk, &access, args).await,
        Command::Audit(args) => {
            let report = if let Some(path) = &args.from_file {
                audit::from_file(path)?
            } else if let Some(pool_id) = &args.legacy_pool_id {
                let scan = LegacyScan::new(
                    clients::legacy_client(&sdk, &access, pool_id).await,
                    pool_id,
                )
                .with_mfa_reads(args.scan.mfa_reads())
                .with_list_rate(args.scan.list_rate);
                let (report, scanned) = audit::from_pool(&scan, args.scan.options()).await?;
                if !scan.reads_mfa() {
                    eprintln!(
                        "note: MFA counts only SMS MFA shown by ListUsers (MFAOptions); add \
                         --read-mfa to read SMS and TOTP set through SetUserMFAPreference"
                    );
                }
                if let Some(fallback) = &scanned.fallback {
                    eprintln!("warning: {fallback}");
                }
                if let Some(problem) = scanned.verification_failure() {
                    return Err(Incomplete(problem).into());
                }
                report
            } else {
                return Err(BadInput(
                    "audit needs --legacy-pool-id (or LEGACY_USER_POOL_ID) or --from-file".into(),
                )
                .into());
            };
            finish_audit(&report, args)
        }
        Command::Doctor(args) => {
            let report = doctor::run(&sdk, &access, args).await;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).context("printing the result")?
                );
            } else {
                print!("{}", doctor::render(&report));
            }
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Status(args) => {
            let ledger = Ledger::new(clients::dynamodb_client(&sdk), &args.table);
            if args.recount {
                eprintln!("{}", status::recount(&ledger, args.segments).await?);
            }
            let report = status::run(&ledger, finish::now_ms(), i64::from(args.days)).await?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).context("printing the result")?
                );
            } else {
                print!("{}", status::render(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Finish(args) => finish::command(&sdk, &access, args).await,
        Command::Simulate(_) | Command::Config(_) => unreachable!("runs without AWS"),
    }
}

fn finish_audit(
    report: &cognito_migrate_core::audit::AuditReport,
    args: &AuditArgs,
) -> anyhow::Result<ExitCode> {
    let (markdown, json) = audit::write(report, &args.out_dir)?;
    print!("{}", report.to_markdown());
    eprintln!(
        "audit: {} users, {} collision group(s); wrote {} and {}",
        report.total_users,
        report.collisions.len(),
        markdown.display(),
        json.display()
    );
    if args.fail_on_collisions && !report.collisions.is_empty() {
        return Ok(ExitCode::from(EXIT_COLLISIONS));
    }
    Ok(ExitCode::SUCCESS)
}

fn simulate_command(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let setup = simulate::Setup {
        config: migration_config(args)?,
        default_outcome: args.assume_password,
        assume: args.assume.iter().cloned().collect::<BTreeMap<_, _>>(),
    };
    let simulation = simulate::run(&args.event, &args.legacy, &setup)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&simulation).context("printing the result")?
        );
    } else {
        print!("{}", simulate::render(&simulation));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_json(path: &Path) -> Result<Value, BadInput> {
    let text = input::read_text(path)?;
    serde_json::from_str(&text)
        .map_err(|e| BadInput(format!("{}: not valid JSON: {e}", path.display())))
}

fn migration_config(args: &SimulateArgs) -> Result<MigrationConfig, BadInput> {
    let mut config = match &args.policy {
        None => MigrationConfig::default(),
        Some(path) => {
            let value = read_json(path)?;
            let config = if value.get("policy").is_some() {
                serde_json::from_value::<MigrationConfig>(value)
            } else {
                serde_json::from_value::<Policy>(value).map(|policy| MigrationConfig {
                    policy,
                    ..MigrationConfig::default()
                })
            };
            config.map_err(|e| BadInput(format!("{}: not a policy: {e}", path.display())))?
        }
    };
    if let Some(names) = &args.schema {
        config.schema = TargetSchemaOrDefault(TargetSchema::new(
            names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()),
        ));
    }
    if let Some(path) = &args.schema_file {
        config.schema =
            TargetSchemaOrDefault(TargetSchema::new(schema_names(path, &read_json(path)?)?));
    }
    let policy = &mut config.policy;
    if let Some(collision) = args.collision {
        policy.collision = collision;
    }
    if let Some(mfa) = args.mfa {
        policy.mfa = mfa;
    }
    if let Some(temporary) = args.temporary_password {
        policy.temporary_password = temporary;
    }
    if let Some(max) = args.max_candidates {
        policy.max_candidates = usize::from(max);
    }
    Ok(config)
}

/// Attribute names from `describe-user-pool` output, a `SchemaAttributes` list, or names.
fn schema_names(path: &Path, value: &Value) -> Result<Vec<String>, BadInput> {
    let list = value
        .pointer("/UserPool/SchemaAttributes")
        .or_else(|| value.get("SchemaAttributes"))
        .unwrap_or(value);
    let names: Option<Vec<String>> = list.as_array().map(|items| {
        items
            .iter()
            .filter_map(|item| {
                item.as_str()
                    .or_else(|| item.get("Name").and_then(Value::as_str))
            })
            .map(str::to_owned)
            .collect()
    });
    match names {
        Some(names) if !names.is_empty() => Ok(names),
        _ => Err(BadInput(format!(
            "{}: no attribute names (expected describe-user-pool output, SchemaAttributes, or a JSON array of names)",
            path.display()
        ))),
    }
}
