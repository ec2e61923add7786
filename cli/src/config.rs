//! `cognito-migrate config`: the migration variables the trigger and `finish` share (policy,
//! schema, attribute mapping), read from an env file or the environment and checked by the
//! core exactly as the trigger checks them.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use cognito_migrate_core::migrate::MigrationConfig;
use cognito_migrate_core::settings::{migration_from_lookup, migration_variables, parse_env_file};

use crate::BadInput;
use crate::args::{ConfigArgs, ConfigFormat};

/// The migration variables from an env file, or else the environment, read by the core as the
/// trigger reads them.
pub fn migration_config(path: Option<&Path>) -> anyhow::Result<MigrationConfig> {
    let parsed = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput(format!("reading {}: {e}", path.display())))?;
            let vars =
                parse_env_file(&text).map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
            migration_from_lookup(|name| vars.get(name).cloned())
        }
        None => migration_from_lookup(|name| std::env::var(name).ok()),
    };
    parsed.map_err(|e| {
        let from = path.map_or_else(|| "the environment".to_owned(), |p| p.display().to_string());
        BadInput(format!("{from}: {e}")).into()
    })
}

/// `cognito-migrate config`: the shared variables, checked, every one written out.
pub fn command(args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = migration_config(args.config.as_deref())?;
    let vars = migration_variables(&config);
    match args.format {
        ConfigFormat::Env => {
            for (name, value) in vars {
                println!("{name}={value}");
            }
        }
        ConfigFormat::Lambda => {
            let variables: serde_json::Map<String, serde_json::Value> = vars
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.into()))
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "Variables": variables }))
                    .context("printing the variables")?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
