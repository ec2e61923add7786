//! The trigger's configuration: a map of variable names to values (the function's environment,
//! or the variables `doctor` reads from the deployed function) parsed into a validated
//! [`TriggerConfig`]. Pure: the caller reads the environment and hands the values over.
//!
//! | variable                    | required | meaning                                                  |
//! |-----------------------------|----------|----------------------------------------------------------|
//! | `LEGACY_USER_POOL_ID`       | yes      | `region_id` of the legacy (case-sensitive) pool          |
//! | `LEGACY_CLIENT_ID`          | yes      | legacy app client with `ALLOW_ADMIN_USER_PASSWORD_AUTH`   |
//! | `LEGACY_CLIENT_SECRET`      | no       | that client's secret (adds `SECRET_HASH`)                |
//! | `LEGACY_REGION`             | no       | default: the pool id's prefix, else `AWS_REGION`         |
//! | `LEGACY_ROLE_ARN`           | no       | role assumed through STS for legacy-pool calls           |
//! | `LEGACY_ENDPOINT_URL`       | no       | the legacy pool at another endpoint                      |
//! | `LEDGER_TABLE`              | yes      | the ledger table                                         |
//! | `NEW_USER_POOL_ID`          | no       | default: each event's `userPoolId`                       |
//! | `COLLISION_POLICY`          | no       | `refuse` (default), `most-recent`                        |
//! | `MFA_POLICY`                | no       | `refuse`, `reset-required`, `sms` (default)              |
//! | `TEMPORARY_PASSWORD_POLICY` | no       | `refuse`, `reset-required` (default)                     |
//! | `MAX_CANDIDATES`            | no       | 1..=20, default 4                                        |
//! | `DEADLINE_MS`               | no       | 500..=4500, default 3500                                 |
//! | `REFUSAL_FLOOR_MS`          | no       | 0..=4000, default 1000, at most the deadline less 300    |
//! | `NEW_POOL_USERNAME_ATTRIBUTES` | no    | comma list of `email`, `phone_number`                    |
//! | `NEW_POOL_ALIAS_ATTRIBUTES` | no       | comma list of `email`, `phone_number`, `preferred_username`; never with the one above |
//! | `TARGET_SCHEMA`             | no       | comma list of the new pool's attribute names             |
//! | `ATTRIBUTE_RENAMES`         | no       | `old=new,...`                                            |
//! | `ATTRIBUTE_DROPS`           | no       | comma list                                               |
//!
//! Endpoints for local servers come only from the SDK's own `AWS_ENDPOINT_URL*` variables, plus
//! `LEGACY_ENDPOINT_URL` for the legacy pool's client.
//!
//! ```
//! use std::collections::HashMap;
//! use cognito_migrate_core::settings::TriggerConfig;
//!
//! let vars = HashMap::from([
//!     ("LEGACY_USER_POOL_ID".to_owned(), "eu-west-1_AbC123".to_owned()),
//!     ("LEGACY_CLIENT_ID".to_owned(), "client".to_owned()),
//!     ("LEDGER_TABLE".to_owned(), "ledger".to_owned()),
//! ]);
//! let config = TriggerConfig::from_map(&vars).unwrap();
//! assert_eq!(config.legacy.region.as_deref(), Some("eu-west-1"));
//!
//! let error = TriggerConfig::from_map(&HashMap::new()).unwrap_err();
//! assert_eq!(error.variable, "LEGACY_USER_POOL_ID");
//! ```

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::time::Duration;

use crate::attributes::{AttributeMapping, TargetSchema};
use crate::migrate::{MigrationConfig, TargetSchemaOrDefault};
use crate::policy::Policy;

/// A missing or malformed variable. Names the variable, never echoes a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// The legacy pool and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyPoolConfig {
    /// `LEGACY_USER_POOL_ID`.
    pub user_pool_id: String,
    /// `LEGACY_CLIENT_ID`.
    pub client_id: String,
    /// `LEGACY_CLIENT_SECRET`.
    pub client_secret: Option<String>,
    /// `LEGACY_REGION`, or the pool id's prefix, or `AWS_REGION`.
    pub region: Option<String>,
    /// `LEGACY_ROLE_ARN`.
    pub role_arn: Option<String>,
    /// `LEGACY_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
}

impl std::fmt::Debug for LegacyPoolConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyPoolConfig")
            .field("user_pool_id", &self.user_pool_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("region", &self.region)
            .field("role_arn", &self.role_arn)
            .field("endpoint_url", &self.endpoint_url)
            .finish()
    }
}

/// Everything the trigger needs to know besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerConfig {
    /// The legacy pool.
    pub legacy: LegacyPoolConfig,
    /// `LEDGER_TABLE`.
    pub ledger_table: String,
    /// `NEW_USER_POOL_ID`.
    pub new_user_pool_id: Option<String>,
    /// Policy, schema and attribute mapping for the core.
    pub migration: MigrationConfig,
}

impl TriggerConfig {
    /// Reads the configuration from a map of variable names to values. Empty values count as
    /// absent.
    pub fn from_map<S: BuildHasher>(
        vars: &HashMap<String, String, S>,
    ) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    /// Reads the configuration through `lookup` (a map, or a closure in tests). Empty values
    /// count as absent.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required =
            |name: &'static str| get(name).ok_or_else(|| ConfigError::new(name, "is required"));

        let user_pool_id = required("LEGACY_USER_POOL_ID")?;
        let region_prefix = pool_id_region(&user_pool_id)
            .map_err(|_| ConfigError::new("LEGACY_USER_POOL_ID", "must look like <region>_<id>"))?;
        let client_id = required("LEGACY_CLIENT_ID")?;
        // A secret is used verbatim: trimming would change the hash.
        let client_secret = lookup("LEGACY_CLIENT_SECRET").filter(|v| !v.is_empty());
        let region = get("LEGACY_REGION")
            .or_else(|| region_prefix.map(str::to_owned))
            .or_else(|| get("AWS_REGION"));
        let role_arn = get("LEGACY_ROLE_ARN");
        if let Some(arn) = &role_arn
            && !(arn.starts_with("arn:") && arn.contains(":role/"))
        {
            return Err(ConfigError::new(
                "LEGACY_ROLE_ARN",
                "must be an IAM role ARN",
            ));
        }
        let endpoint_url = get("LEGACY_ENDPOINT_URL");
        if let Some(url) = &endpoint_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "LEGACY_ENDPOINT_URL",
                "must be an http(s) URL",
            ));
        }
        let ledger_table = required("LEDGER_TABLE")?;
        let new_user_pool_id = get("NEW_USER_POOL_ID");
        if let Some(id) = &new_user_pool_id
            && pool_id_region(id).is_err()
        {
            return Err(ConfigError::new(
                "NEW_USER_POOL_ID",
                "must look like <region>_<id>",
            ));
        }

        let migration = migration_from_get(&get)?;

        Ok(Self {
            legacy: LegacyPoolConfig {
                user_pool_id,
                client_id,
                client_secret,
                region,
                role_arn,
                endpoint_url,
            },
            ledger_table,
            new_user_pool_id,
            migration,
        })
    }

    /// The time budget of one invocation.
    #[must_use]
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.migration.policy.deadline_ms)
    }
}

/// The variables that shape a migration (policy, schema, attribute mapping, username
/// attributes), read exactly as the trigger reads them, without the ones that only say where
/// the legacy pool and the ledger are. `cognito-migrate finish` reads these, so a user created
/// in bulk gets the attributes and second factor a sign-in would have given it.
///
/// ```
/// use cognito_migrate_core::settings::migration_from_lookup;
///
/// let config = migration_from_lookup(|name| match name {
///     "TARGET_SCHEMA" => Some("email,custom:legacy_sub".to_owned()),
///     "ATTRIBUTE_DROPS" => Some("nickname".to_owned()),
///     _ => None,
/// })
/// .unwrap();
/// assert!(config.schema.0.contains("email"));
/// assert!(!config.schema.0.contains("given_name"));
/// assert!(config.mapping.drops.contains("nickname"));
///
/// let error = migration_from_lookup(|name| (name == "MFA_POLICY").then(|| "skip".to_owned()));
/// assert_eq!(error.unwrap_err().variable, "MFA_POLICY");
/// ```
pub fn migration_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<MigrationConfig, ConfigError> {
    migration_from_get(&|name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// The variables [`migration_from_lookup`] reads, in the order [`migration_variables`] writes
/// them.
pub const MIGRATION_VARIABLES: [&str; 11] = [
    "COLLISION_POLICY",
    "MFA_POLICY",
    "TEMPORARY_PASSWORD_POLICY",
    "MAX_CANDIDATES",
    "DEADLINE_MS",
    "REFUSAL_FLOOR_MS",
    "NEW_POOL_USERNAME_ATTRIBUTES",
    "NEW_POOL_ALIAS_ATTRIBUTES",
    "TARGET_SCHEMA",
    "ATTRIBUTE_RENAMES",
    "ATTRIBUTE_DROPS",
];

/// The trigger's variables that give `config` back through [`migration_from_lookup`] (or
/// [`TriggerConfig::from_lookup`]): every one of [`MIGRATION_VARIABLES`], in that order, with
/// empty lists left out.
///
/// ```
/// use cognito_migrate_core::migrate::MigrationConfig;
/// use cognito_migrate_core::settings::{migration_from_lookup, migration_variables};
///
/// let config = MigrationConfig::default();
/// let vars = migration_variables(&config);
/// assert_eq!(vars[1], ("MFA_POLICY", "sms".to_owned()));
/// let back = migration_from_lookup(|name| {
///     vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
/// });
/// assert_eq!(back.unwrap(), config);
/// ```
#[must_use]
pub fn migration_variables(config: &MigrationConfig) -> Vec<(&'static str, String)> {
    let policy = &config.policy;
    let list = |names: &mut dyn Iterator<Item = &str>| names.collect::<Vec<_>>().join(",");
    let renames = config
        .mapping
        .renames
        .iter()
        .map(|(old, new)| format!("{old}={new}"))
        .collect::<Vec<_>>()
        .join(",");
    let all = [
        ("COLLISION_POLICY", policy.collision.to_string()),
        ("MFA_POLICY", policy.mfa.to_string()),
        (
            "TEMPORARY_PASSWORD_POLICY",
            policy.temporary_password.to_string(),
        ),
        ("MAX_CANDIDATES", policy.max_candidates.to_string()),
        ("DEADLINE_MS", policy.deadline_ms.to_string()),
        ("REFUSAL_FLOOR_MS", policy.refusal_floor_ms.to_string()),
        (
            "NEW_POOL_USERNAME_ATTRIBUTES",
            config.new_pool_username_attributes.join(","),
        ),
        (
            "NEW_POOL_ALIAS_ATTRIBUTES",
            config.new_pool_alias_attributes.join(","),
        ),
        ("TARGET_SCHEMA", list(&mut config.schema.0.names())),
        ("ATTRIBUTE_RENAMES", renames),
        (
            "ATTRIBUTE_DROPS",
            list(&mut config.mapping.drops.iter().map(String::as_str)),
        ),
    ];
    all.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// The migration part of the configuration, through `get` (trimmed, empty as absent).
fn migration_from_get(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<MigrationConfig, ConfigError> {
    let defaults = Policy::default();
    let policy = Policy {
        collision: word(get, "COLLISION_POLICY")?.unwrap_or(defaults.collision),
        mfa: word(get, "MFA_POLICY")?.unwrap_or(defaults.mfa),
        temporary_password: word(get, "TEMPORARY_PASSWORD_POLICY")?
            .unwrap_or(defaults.temporary_password),
        max_candidates: bounded(get, "MAX_CANDIDATES", 1, 20)?.unwrap_or(defaults.max_candidates),
        deadline_ms: bounded(get, "DEADLINE_MS", 500, 4500)?.unwrap_or(defaults.deadline_ms),
        refusal_floor_ms: 0,
    };
    let policy = Policy {
        refusal_floor_ms: refusal_floor(get, policy.deadline_ms, defaults.refusal_floor_ms)?,
        ..policy
    };
    let schema = match get("TARGET_SCHEMA") {
        None => TargetSchema::standard_with_legacy(),
        Some(list) => {
            let names = comma_list(&list);
            if names.is_empty() {
                return Err(ConfigError::new("TARGET_SCHEMA", "names no attribute"));
            }
            TargetSchema::new(names)
        }
    };
    let new_pool_username_attributes = username_attributes(get)?;
    let new_pool_alias_attributes = alias_attributes(get)?;
    if !new_pool_username_attributes.is_empty() && !new_pool_alias_attributes.is_empty() {
        return Err(ConfigError::new(
            "NEW_POOL_ALIAS_ATTRIBUTES",
            "is set together with NEW_POOL_USERNAME_ATTRIBUTES; a Cognito pool has either aliases or username attributes, never both",
        ));
    }
    Ok(MigrationConfig {
        policy,
        schema: TargetSchemaOrDefault(schema),
        mapping: mapping(get)?,
        new_pool_username_attributes,
        new_pool_alias_attributes,
        // Not a variable: `index` records it in the ledger, where the trigger reads it.
        legacy_sign_in: crate::user::LegacySignIn::default(),
    })
}

/// The trigger's variables that say where the legacy pool and the ledger are; with
/// [`MIGRATION_VARIABLES`], every variable the trigger reads.
pub const LOCATION_VARIABLES: [&str; 8] = [
    "LEGACY_USER_POOL_ID",
    "LEGACY_CLIENT_ID",
    "LEGACY_CLIENT_SECRET",
    "LEGACY_REGION",
    "LEGACY_ROLE_ARN",
    "LEGACY_ENDPOINT_URL",
    "LEDGER_TABLE",
    "NEW_USER_POOL_ID",
];

/// A line of an env file that is not `NAME=value`, or names no variable of the trigger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct EnvFileError {
    /// The line's number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub problem: String,
}

/// Reads an env file: one `NAME=value` a line, the trigger's variable names only; blank lines
/// and lines starting with `#` are skipped. The value is everything after the first `=`, taken
/// as it is (no quoting, no expansion): the same text the function's environment would hold.
/// A name given twice is an error, so no line silently overrides another.
///
/// ```
/// use cognito_migrate_core::settings::parse_env_file;
///
/// let vars = parse_env_file("# finish and trigger\nMFA_POLICY=refuse\n\nATTRIBUTE_RENAMES=custom:dept=custom:department\n").unwrap();
/// assert_eq!(vars["MFA_POLICY"], "refuse");
/// assert_eq!(vars["ATTRIBUTE_RENAMES"], "custom:dept=custom:department");
/// assert_eq!(parse_env_file("MFA_POLICY refuse").unwrap_err().line, 1);
/// assert_eq!(parse_env_file("\nMFA_POLCY=refuse").unwrap_err().line, 2);
/// ```
pub fn parse_env_file(text: &str) -> Result<HashMap<String, String>, EnvFileError> {
    let mut vars = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let error = |problem: String| EnvFileError {
            line: index + 1,
            problem,
        };
        let trimmed = line.trim_start_matches('\u{feff}').trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((name, value)) = trimmed.split_once('=') else {
            return Err(error("is not NAME=value".to_owned()));
        };
        let name = name.trim();
        if !MIGRATION_VARIABLES.contains(&name) && !LOCATION_VARIABLES.contains(&name) {
            return Err(error(format!("`{name}` is not a variable of the trigger")));
        }
        if vars.insert(name.to_owned(), value.to_owned()).is_some() {
            return Err(error(format!("`{name}` is given twice")));
        }
    }
    Ok(vars)
}

/// A user pool id that is not `<region>_<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a user pool id looks like <region>_<id>")]
pub struct MalformedPoolId;

/// The Region a user pool id names: `eu-west-1_AbC` gives `Some("eu-west-1")`. Local servers
/// use prefixes that are not Regions (`local_x`): those give `None`, and the caller's own
/// Region applies. Anything but lowercase letters, digits and `-`, an `_`, then letters and
/// digits, is malformed.
///
/// ```
/// use cognito_migrate_core::settings::{MalformedPoolId, pool_id_region};
///
/// assert_eq!(pool_id_region("eu-west-1_AbC123"), Ok(Some("eu-west-1")));
/// assert_eq!(pool_id_region("local_0jQ24xfC"), Ok(None));
/// assert_eq!(pool_id_region("nounderscore"), Err(MalformedPoolId));
/// assert_eq!(pool_id_region("EU-WEST-1_AbC"), Err(MalformedPoolId));
/// ```
pub fn pool_id_region(pool_id: &str) -> Result<Option<&str>, MalformedPoolId> {
    let (region, id) = pool_id.split_once('_').ok_or(MalformedPoolId)?;
    let well_formed = !region.is_empty()
        && !id.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && id.chars().all(|c| c.is_ascii_alphanumeric());
    if !well_formed {
        return Err(MalformedPoolId);
    }
    let looks_like_region = region.split('-').count() >= 3;
    Ok(looks_like_region.then_some(region))
}

/// `ATTRIBUTE_RENAMES` (`old=new,...`) and `ATTRIBUTE_DROPS` (a comma list).
fn mapping(get: &impl Fn(&str) -> Option<String>) -> Result<AttributeMapping, ConfigError> {
    let mut mapping = AttributeMapping::default();
    if let Some(list) = get("ATTRIBUTE_RENAMES") {
        for pair in comma_list(&list) {
            let Some((old, new)) = pair.split_once('=') else {
                return Err(ConfigError::new(
                    "ATTRIBUTE_RENAMES",
                    "must be a list of old=new",
                ));
            };
            let (old, new) = (old.trim(), new.trim());
            if old.is_empty() || new.is_empty() {
                return Err(ConfigError::new("ATTRIBUTE_RENAMES", "has an empty name"));
            }
            mapping.renames.insert(old.to_owned(), new.to_owned());
        }
    }
    if let Some(list) = get("ATTRIBUTE_DROPS") {
        mapping.drops.extend(comma_list(&list));
    }
    Ok(mapping)
}

/// What a refusal floor must leave of the deadline, so that a floored refusal still answers
/// in time.
pub const REFUSAL_FLOOR_MARGIN_MS: u64 = 300;

/// `REFUSAL_FLOOR_MS`: at most the deadline less [`REFUSAL_FLOOR_MARGIN_MS`]; unset, the
/// default or, for a short deadline, as much of it as that leaves.
fn refusal_floor(
    get: &impl Fn(&str) -> Option<String>,
    deadline_ms: u64,
    default: u64,
) -> Result<u64, ConfigError> {
    let room = deadline_ms.saturating_sub(REFUSAL_FLOOR_MARGIN_MS);
    match bounded(get, "REFUSAL_FLOOR_MS", 0, 4000)? {
        Some(floor) if floor > room => Err(ConfigError::new(
            "REFUSAL_FLOOR_MS",
            format!("must leave {REFUSAL_FLOOR_MARGIN_MS} ms of the deadline ({deadline_ms} ms)"),
        )),
        Some(floor) => Ok(floor),
        None => Ok(default.min(room)),
    }
}

/// `NEW_POOL_USERNAME_ATTRIBUTES`: the new pool's `UsernameAttributes`, `email` and/or
/// `phone_number`; unset or empty for a pool with plain usernames.
fn username_attributes(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let names = get("NEW_POOL_USERNAME_ATTRIBUTES").map_or_else(Vec::new, |list| comma_list(&list));
    if let Some(other) = names
        .iter()
        .find(|name| !matches!(name.as_str(), "email" | "phone_number"))
    {
        return Err(ConfigError::new(
            "NEW_POOL_USERNAME_ATTRIBUTES",
            format!("names `{other}`; Cognito's username attributes are email and phone_number"),
        ));
    }
    Ok(names)
}

/// `NEW_POOL_ALIAS_ATTRIBUTES`: the new pool's `AliasAttributes`, any of `email`,
/// `phone_number` and `preferred_username`; unset or empty for a pool without aliases.
fn alias_attributes(get: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let names = get("NEW_POOL_ALIAS_ATTRIBUTES").map_or_else(Vec::new, |list| comma_list(&list));
    if let Some(other) = names.iter().find(|name| {
        !matches!(
            name.as_str(),
            "email" | "phone_number" | "preferred_username"
        )
    }) {
        return Err(ConfigError::new(
            "NEW_POOL_ALIAS_ATTRIBUTES",
            format!(
                "names `{other}`; Cognito's alias attributes are email, phone_number and preferred_username"
            ),
        ));
    }
    Ok(names)
}

fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn word<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    get(name)
        .map(|v| {
            v.parse()
                .map_err(|e: T::Err| ConfigError::new(name, e.to_string()))
        })
        .transpose()
}

fn bounded<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    min: T,
    max: T,
) -> Result<Option<T>, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(text) = get(name) else {
        return Ok(None);
    };
    match text.parse::<T>() {
        Ok(value) if value >= min && value <= max => Ok(Some(value)),
        _ => Err(ConfigError::new(
            name,
            format!("must be an integer from {min} to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{CollisionPolicy, MfaPolicy};
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const BASE: [(&str, &str); 3] = [
        ("LEGACY_USER_POOL_ID", "eu-west-1_AbC123"),
        ("LEGACY_CLIENT_ID", "client"),
        ("LEDGER_TABLE", "ledger"),
    ];

    #[test]
    fn reads_the_minimum_with_defaults() {
        let config = TriggerConfig::from_lookup(lookup(&BASE)).unwrap();
        assert_eq!(config.legacy.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.migration.policy, Policy::default());
        assert_eq!(
            config.migration.schema.0,
            TargetSchema::standard_with_legacy()
        );
        assert_eq!(config.deadline(), Duration::from_millis(3500));
    }

    #[test]
    fn reads_every_knob() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("LEGACY_REGION", "us-east-2"),
            ("LEGACY_CLIENT_SECRET", " s3cret "),
            ("COLLISION_POLICY", "most-recent"),
            ("MFA_POLICY", "refuse"),
            ("MAX_CANDIDATES", "7"),
            ("DEADLINE_MS", "900"),
            ("TARGET_SCHEMA", "email, custom:legacy_username"),
            ("ATTRIBUTE_RENAMES", "custom:dept=custom:department"),
            ("ATTRIBUTE_DROPS", "nickname,picture"),
        ]);
        let config = TriggerConfig::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(config.legacy.region.as_deref(), Some("us-east-2"));
        assert_eq!(config.legacy.client_secret.as_deref(), Some(" s3cret "));
        assert!(!format!("{config:?}").contains("s3cret"));
        assert_eq!(
            config.migration.policy.collision,
            CollisionPolicy::MostRecent
        );
        assert_eq!(config.migration.policy.mfa, MfaPolicy::Refuse);
        assert_eq!(config.migration.policy.max_candidates, 7);
        assert_eq!(config.migration.policy.deadline_ms, 900);
        assert!(config.migration.schema.0.contains("custom:legacy_username"));
        assert!(!config.migration.schema.0.contains("name"));
        assert_eq!(
            config.migration.mapping.renames["custom:dept"],
            "custom:department"
        );
        assert!(config.migration.mapping.drops.contains("picture"));
    }

    #[test]
    fn the_refusal_floor_leaves_room_in_the_deadline() {
        let floor = |pairs: &[(&str, &str)]| {
            let mut all = BASE.to_vec();
            all.extend_from_slice(pairs);
            TriggerConfig::from_lookup(lookup(&all))
                .unwrap()
                .migration
                .policy
                .refusal_floor_ms
        };
        assert_eq!(floor(&[]), 1_000);
        assert_eq!(floor(&[("DEADLINE_MS", "900")]), 600);
        assert_eq!(floor(&[("REFUSAL_FLOOR_MS", "0")]), 0);
        assert_eq!(
            floor(&[("DEADLINE_MS", "4000"), ("REFUSAL_FLOOR_MS", "3700")]),
            3_700
        );
        let mut all = BASE.to_vec();
        all.push(("NEW_POOL_USERNAME_ATTRIBUTES", "email, phone_number"));
        let config = TriggerConfig::from_lookup(lookup(&all)).unwrap();
        assert_eq!(
            config.migration.new_pool_username_attributes,
            ["email", "phone_number"]
        );
    }

    #[test]
    fn names_the_variable_at_fault() {
        let missing = TriggerConfig::from_lookup(lookup(&BASE[1..])).unwrap_err();
        assert_eq!(missing.variable, "LEGACY_USER_POOL_ID");
        for (name, value) in [
            ("LEGACY_USER_POOL_ID", "nounderscore"),
            ("MAX_CANDIDATES", "0"),
            ("MAX_CANDIDATES", "21"),
            ("DEADLINE_MS", "4501"),
            ("DEADLINE_MS", "fast"),
            ("COLLISION_POLICY", "merge"),
            ("ATTRIBUTE_RENAMES", "a"),
            ("LEGACY_ROLE_ARN", "role"),
            ("LEGACY_ENDPOINT_URL", "localhost:5000"),
            ("REFUSAL_FLOOR_MS", "3300"),
            ("REFUSAL_FLOOR_MS", "soon"),
            ("NEW_POOL_USERNAME_ATTRIBUTES", "email,preferred_username"),
            ("NEW_POOL_ALIAS_ATTRIBUTES", "email,nickname"),
            ("NEW_POOL_ALIAS_ATTRIBUTES", "username"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, value));
            let err = TriggerConfig::from_lookup(lookup(&pairs)).unwrap_err();
            assert_eq!(err.variable, name, "{value}");
        }
    }

    #[test]
    fn alias_attributes_are_read_and_exclude_username_attributes() {
        let mut pairs = BASE.to_vec();
        pairs.push((
            "NEW_POOL_ALIAS_ATTRIBUTES",
            " email , phone_number,preferred_username",
        ));
        let config = TriggerConfig::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(
            config.migration.new_pool_alias_attributes,
            ["email", "phone_number", "preferred_username"]
        );
        assert!(config.migration.new_pool_username_attributes.is_empty());
        pairs.push(("NEW_POOL_USERNAME_ATTRIBUTES", "email"));
        let both = TriggerConfig::from_lookup(lookup(&pairs)).unwrap_err();
        assert_eq!(both.variable, "NEW_POOL_ALIAS_ATTRIBUTES");
        assert!(both.problem.contains("never both"), "{}", both.problem);
        let unknown =
            migration_from_lookup(lookup(&[("NEW_POOL_ALIAS_ATTRIBUTES", "email,nickname")]))
                .unwrap_err();
        assert_eq!(unknown.variable, "NEW_POOL_ALIAS_ATTRIBUTES");
        assert!(
            unknown.problem.contains("`nickname`"),
            "{}",
            unknown.problem
        );
    }

    #[test]
    fn the_migration_variables_give_the_same_configuration_back() {
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("MFA_POLICY", "reset-required"),
            ("COLLISION_POLICY", "most-recent"),
            ("DEADLINE_MS", "2000"),
            ("TARGET_SCHEMA", "email,custom:department,custom:legacy_sub"),
            ("ATTRIBUTE_RENAMES", "custom:dept=custom:department, a=b"),
            ("ATTRIBUTE_DROPS", "nickname"),
            ("NEW_POOL_USERNAME_ATTRIBUTES", "email"),
        ]);
        let trigger = TriggerConfig::from_lookup(lookup(&pairs)).unwrap();
        // The same variables without the pool and ledger: the same migration.
        let alone = migration_from_lookup(lookup(&pairs[BASE.len()..])).unwrap();
        assert_eq!(alone, trigger.migration);
        let written = migration_variables(&alone);
        let names: Vec<&str> = written.iter().map(|(n, _)| *n).collect();
        // Every variable but the aliases, which exclude the username attributes.
        let expected: Vec<&str> = MIGRATION_VARIABLES
            .into_iter()
            .filter(|n| *n != "NEW_POOL_ALIAS_ATTRIBUTES")
            .collect();
        assert_eq!(names, expected);
        let aliased = migration_from_lookup(lookup(&[(
            "NEW_POOL_ALIAS_ATTRIBUTES",
            "email,preferred_username",
        )]))
        .unwrap();
        let aliased_vars = migration_variables(&aliased);
        assert!(aliased_vars.contains(&(
            "NEW_POOL_ALIAS_ATTRIBUTES",
            "email,preferred_username".to_owned()
        )));
        assert_eq!(
            migration_from_lookup(|name| aliased_vars
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone()))
            .unwrap(),
            aliased
        );
        let text = written
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("\n");
        let file = parse_env_file(&text).unwrap();
        assert_eq!(
            migration_from_lookup(|name| file.get(name).cloned()).unwrap(),
            alone
        );
        assert_eq!(
            parse_env_file("MFA_POLICY=sms\nMFA_POLICY=refuse").unwrap_err(),
            EnvFileError {
                line: 2,
                problem: "`MFA_POLICY` is given twice".into()
            }
        );
        assert!(parse_env_file("LEDGER_TABLE=ledger\n  # note\n").is_ok());
    }

    #[test]
    fn local_pool_ids_fall_back_to_aws_region() {
        let mut pairs = BASE.to_vec();
        pairs[0] = ("LEGACY_USER_POOL_ID", "local_0jQ24xfC");
        pairs.push(("AWS_REGION", "us-east-1"));
        let config = TriggerConfig::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(config.legacy.region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn reads_a_map_of_variables() {
        let vars: HashMap<String, String> = BASE
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([("MAX_CANDIDATES".to_owned(), "9".to_owned())])
            .collect();
        let config = TriggerConfig::from_map(&vars).unwrap();
        assert_eq!(config.legacy.user_pool_id, "eu-west-1_AbC123");
        assert_eq!(config.migration.policy.max_candidates, 9);
        let mut broken = vars;
        broken.insert("DEADLINE_MS".to_owned(), "5000".to_owned());
        assert_eq!(
            TriggerConfig::from_map(&broken).unwrap_err().variable,
            "DEADLINE_MS"
        );
    }

    #[test]
    fn one_rule_gives_the_region_of_a_pool_id() {
        for (id, region) in [
            ("eu-west-1_AbC123", Ok(Some("eu-west-1"))),
            ("us-gov-west-1_x9", Ok(Some("us-gov-west-1"))),
            ("ap-southeast-2_Q", Ok(Some("ap-southeast-2"))),
            ("local_0jQ24xfC", Ok(None)),
            ("us-east_AbC", Ok(None)),
            ("nounderscore", Err(MalformedPoolId)),
            ("", Err(MalformedPoolId)),
            ("_AbC", Err(MalformedPoolId)),
            ("eu-west-1_", Err(MalformedPoolId)),
            ("EU-WEST-1_AbC", Err(MalformedPoolId)),
            ("eu-west-1_Ab-C", Err(MalformedPoolId)),
            ("eu-west-1_Ab_C", Err(MalformedPoolId)),
            ("eu west-1_AbC", Err(MalformedPoolId)),
            ("eu-west-1_AbÇ", Err(MalformedPoolId)),
        ] {
            assert_eq!(pool_id_region(id), region, "{id:?}");
        }
    }
}
