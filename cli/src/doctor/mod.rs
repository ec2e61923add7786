//! `doctor`: reads the live configuration of the trigger, both pools and the ledger, and says
//! which of the settings that make a migration silently do nothing, unsafe, or at odds with the
//! new pool are wrong, each with its fix.
//!
//! The reads are [`cognito_migrate_aws::cli::doctor`]; [`judge`] turns what they found into the
//! checklist, without AWS; [`render()`] prints it.

mod judge;
mod permission;
mod render;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use cognito_migrate_aws::cli::doctor::Doctor;
use cognito_migrate_aws::clients::{LegacyAccess, SdkConfig};
use cognito_migrate_aws::ledger::Ledger;
use cognito_migrate_core::match_key;
use cognito_migrate_core::settings::TriggerConfig;

pub(crate) use judge::Report;
use judge::{Checklist, LEDGER_SAMPLE, SHAPE_CHECKS, TRIGGERS};
pub(crate) use render::render;

#[derive(Debug, clap::Args)]
pub(crate) struct DoctorArgs {
    /// The trigger function: name, or ARN.
    #[arg(long, value_name = "NAME_OR_ARN")]
    pub(crate) function: String,
    /// The new (case-insensitive) pool's id.
    #[arg(long, value_name = "ID")]
    pub(crate) new_pool_id: String,
    /// The new pool's app client the application signs in with (its auth flows are checked
    /// only when given; every app client's writable attributes are checked always).
    #[arg(long, value_name = "ID")]
    pub(crate) new_client_id: Option<String>,
    /// Also say what would happen to this identifier's sign-in right now (no password is
    /// checked).
    #[arg(long, value_name = "IDENTIFIER")]
    pub(crate) user: Option<String>,
    /// Print one JSON object instead of the checklist.
    #[arg(long)]
    pub(crate) json: bool,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or_default()
}

/// The checks of what the function's variables point at: the legacy pool and its client, the
/// ledger. Returns the ledger when it exists.
async fn legacy_and_ledger(
    doctor: &Doctor,
    access: &LegacyAccess,
    vars: &HashMap<String, String>,
    list: &mut Checklist,
) -> Option<Ledger> {
    if let Some(pool_id) = judge::legacy_pool_id(list, vars) {
        let legacy = doctor.legacy_pool(access, pool_id).await;
        let pool = legacy.pool(pool_id).await;
        if let Some(client_id) = judge::legacy_pool(list, vars, pool_id, pool) {
            let client = legacy.app_client(pool_id, client_id).await;
            judge::legacy_client(list, vars, pool_id, client_id, client);
        }
    }
    let table = judge::ledger_table(list, vars)?;
    let item_count = doctor.table_item_count(table).await;
    if !judge::ledger_exists(list, table, &item_count) {
        return None;
    }
    let sample = doctor.ledger_sample(table, LEDGER_SAMPLE).await;
    let item_count = item_count.ok().flatten();
    judge::ledger_populated(list, vars, table, item_count, sample, now_ms());
    Some(doctor.ledger(table))
}

/// Runs every check against the live configuration.
pub(crate) async fn run(sdk: &SdkConfig, access: &LegacyAccess, args: &DoctorArgs) -> Report {
    let doctor = Doctor::new(sdk);
    let mut list = Checklist::new(&args.function);

    let function = judge::function(
        &mut list,
        &args.function,
        doctor.function(&args.function).await,
    );
    let vars = function
        .as_ref()
        .map(|f| f.variables.clone())
        .unwrap_or_default();
    let config = function
        .as_ref()
        .and_then(|_| TriggerConfig::from_map(&vars).ok());
    let ledger = match function {
        Some(_) => legacy_and_ledger(&doctor, access, &vars, &mut list).await,
        None => None,
    };

    let new_pool = judge::new_pool(
        &mut list,
        &args.new_pool_id,
        doctor.new_pool().pool(&args.new_pool_id).await,
    );
    if let Some(pool) = &new_pool {
        let clients = doctor.new_pool().app_clients(&args.new_pool_id).await;
        judge::legacy_attribute_writers(&mut list, &args.new_pool_id, pool, clients);
    }
    match &args.new_client_id {
        Some(client_id) => {
            let client = doctor
                .new_pool()
                .app_client(&args.new_pool_id, client_id)
                .await;
            judge::new_client(&mut list, &args.new_pool_id, client_id, client);
        }
        None => list.skip(&["new-client", "new-client-auth-flow"], "--new-client-id"),
    }
    let needs_both = [
        SHAPE_CHECKS.as_slice(),
        &TRIGGERS.map(|t| t.check),
        &["invoke-permission"],
    ]
    .concat();
    match (&function, &new_pool) {
        (Some(function), Some(pool)) => {
            judge::pool_shape(&mut list, function, pool);
            judge::triggers(&mut list, function, pool, &args.new_pool_id);
            let policy = doctor.function_policy(&args.function).await;
            judge::invoke_permission(&mut list, function, pool, policy);
        }
        (None, _) => list.skip(&needs_both, "function"),
        (_, None) => list.skip(&needs_both, "new-pool"),
    }

    let user = match &args.user {
        Some(identifier) => {
            let records = match &ledger {
                Some(ledger) => ledger.candidates(&match_key(identifier)).await.ok(),
                None => None,
            };
            let in_new_pool = match &new_pool {
                Some(_) => {
                    doctor
                        .new_pool()
                        .user_status(&args.new_pool_id, identifier)
                        .await
                }
                None => None,
            };
            Some(judge::user_view(
                identifier,
                &args.new_pool_id,
                args.new_client_id.as_deref(),
                records.as_deref(),
                in_new_pool,
                &config.map(|c| c.migration).unwrap_or_default(),
            ))
        }
        None => None,
    };

    list.into_report(&args.function, &args.new_pool_id, user)
}
