//! The trigger's configuration, read from the environment once at start-up and parsed by
//! [`cognito_migrate_core::settings`] (the variables are listed there).

use std::collections::HashMap;

pub use cognito_migrate_core::settings::{ConfigError, LegacyPoolConfig, TriggerConfig as Config};

/// Reads the process environment into the configuration. Variables whose name or value is not
/// Unicode are left out, as if unset.
pub fn from_env() -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    Config::from_map(&vars)
}
