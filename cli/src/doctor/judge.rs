//! Judging the facts `doctor` collected: each check passes or fails with its fix, or is
//! skipped because a check it needs failed. Pure: no AWS call, so every judgment is tested on
//! facts written by hand.

use std::collections::{BTreeSet, HashMap};

use cognito_migrate_aws::cli::doctor::{
    AttributeFacts, ClientFacts, FunctionFacts, LedgerSample, PoolFacts,
};
use cognito_migrate_core::attributes::STANDARD_ATTRIBUTES;
use cognito_migrate_core::settings::TriggerConfig;
use serde::Serialize;
use serde_json::Value;

use super::permission::{self, Permission};

mod user;

pub(crate) use user::{UserView, user_view};

const LEGACY_SUB: &str = "custom:legacy_sub";
const LEGACY_USERNAME: &str = "custom:legacy_username";
/// How many ledger items one doctor run reads to judge whether the index ran.
pub(crate) const LEDGER_SAMPLE: i32 = 100;

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Check {
    pub(crate) name: &'static str,
    pub(crate) ok: bool,
    pub(crate) detail: String,
    /// What to do; `None` when the check passed.
    pub(crate) fix: Option<String>,
}

/// A check not run because a check it depends on failed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Skipped {
    pub(crate) name: &'static str,
    pub(crate) needs: &'static str,
}

/// The whole diagnosis.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    pub(crate) ok: bool,
    pub(crate) function: String,
    pub(crate) new_pool_id: String,
    pub(crate) checks: Vec<Check>,
    pub(crate) skipped: Vec<Skipped>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<UserView>,
}

/// The checks so far.
#[derive(Debug, Default)]
pub(crate) struct Checklist {
    /// The function as the operator named it, for the fixes.
    pub(crate) function: String,
    pub(crate) checks: Vec<Check>,
    pub(crate) skipped: Vec<Skipped>,
}

impl Checklist {
    /// An empty checklist for `function`.
    pub(crate) fn new(function: &str) -> Self {
        Self {
            function: function.to_owned(),
            ..Self::default()
        }
    }

    fn pass(&mut self, name: &'static str, detail: impl Into<String>) {
        self.checks.push(Check {
            name,
            ok: true,
            detail: detail.into(),
            fix: None,
        });
    }

    fn fail(&mut self, name: &'static str, detail: impl Into<String>, fix: impl Into<String>) {
        self.checks.push(Check {
            name,
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }

    pub(crate) fn skip(&mut self, names: &[&'static str], needs: &'static str) {
        self.skipped
            .extend(names.iter().map(|&name| Skipped { name, needs }));
    }

    /// The whole diagnosis: it passes when every check run passed.
    pub(crate) fn into_report(
        self,
        function: &str,
        new_pool_id: &str,
        user: Option<UserView>,
    ) -> Report {
        Report {
            ok: self.checks.iter().all(|c| c.ok),
            function: function.to_owned(),
            new_pool_id: new_pool_id.to_owned(),
            checks: self.checks,
            skipped: self.skipped,
            user,
        }
    }
}

fn age(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0 => "less than a minute".into(),
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// The function exists; its variables make a valid configuration. Returns the function when
/// it could be read.
pub(crate) fn function(
    list: &mut Checklist,
    name: &str,
    answer: Result<FunctionFacts, String>,
) -> Option<FunctionFacts> {
    let function = match answer {
        Ok(function) => function,
        Err(error) => {
            list.fail(
                "function",
                format!("GetFunctionConfiguration of `{name}` failed: {error}"),
                "Give --function the trigger's name or ARN, in the region (--region) it is deployed in.",
            );
            list.skip(
                &[
                    "function-variables",
                    "legacy-pool",
                    "legacy-client",
                    "legacy-client-auth-flow",
                    "legacy-client-secret",
                    "ledger-table",
                    "ledger-populated",
                ],
                "function",
            );
            return None;
        }
    };
    list.pass("function", format!("`{}` exists", function.arn));
    match TriggerConfig::from_map(&function.variables) {
        Ok(config) => list.pass(
            "function-variables",
            format!(
                "configuration valid (collision {}, MFA {}, at most {} candidates, deadline {} ms)",
                config.migration.policy.collision,
                config.migration.policy.mfa,
                config.migration.policy.max_candidates,
                config.migration.policy.deadline_ms
            ),
        ),
        Err(error) => list.fail(
            "function-variables",
            format!("the function's variable {error}"),
            format!(
                "Set {} on the function (aws lambda update-function-configuration --function-name {name} --environment ...; it replaces every variable, so pass them all).",
                error.variable
            ),
        ),
    }
    Some(function)
}

fn update_variable_fix(function: &str, variable: &str, value: &str) -> String {
    format!(
        "Set {variable}={value} on the function: aws lambda update-function-configuration --function-name {function} --environment \"Variables={{...,{variable}={value}}}\" (it replaces every variable, so pass them all)."
    )
}

const LEGACY_DEPENDENTS: [&str; 3] = [
    "legacy-client",
    "legacy-client-auth-flow",
    "legacy-client-secret",
];

/// A variable of the function, trimmed; `None` when unset or blank.
pub(crate) fn variable<'a>(vars: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// `LEGACY_USER_POOL_ID` is set; returns it.
pub(crate) fn legacy_pool_id<'a>(
    list: &mut Checklist,
    vars: &'a HashMap<String, String>,
) -> Option<&'a str> {
    let pool_id = variable(vars, "LEGACY_USER_POOL_ID");
    if pool_id.is_none() {
        list.fail(
            "legacy-pool",
            "LEGACY_USER_POOL_ID is not set on the function",
            update_variable_fix(&list.function, "LEGACY_USER_POOL_ID", "<legacy pool id>"),
        );
        list.skip(&LEGACY_DEPENDENTS, "legacy-pool");
    }
    pool_id
}

/// The legacy pool could be described; then `LEGACY_CLIENT_ID` is set: returns it.
pub(crate) fn legacy_pool<'a>(
    list: &mut Checklist,
    vars: &'a HashMap<String, String>,
    pool_id: &str,
    answer: Result<Option<PoolFacts>, String>,
) -> Option<&'a str> {
    if let Err(error) = answer {
        list.fail(
            "legacy-pool",
            format!("LEGACY_USER_POOL_ID `{pool_id}`: DescribeUserPool failed: {error}"),
            "Point LEGACY_USER_POOL_ID at the legacy pool's id (and LEGACY_REGION / LEGACY_ROLE_ARN at where it lives).",
        );
        list.skip(&LEGACY_DEPENDENTS, "legacy-pool");
        return None;
    }
    list.pass("legacy-pool", format!("legacy pool `{pool_id}` exists"));

    let client_id = variable(vars, "LEGACY_CLIENT_ID");
    if client_id.is_none() {
        list.fail(
            "legacy-client",
            "LEGACY_CLIENT_ID is not set on the function",
            update_variable_fix(&list.function, "LEGACY_CLIENT_ID", "<legacy app client id>"),
        );
        list.skip(&LEGACY_DEPENDENTS[1..], "legacy-client");
    }
    client_id
}

/// The legacy app client exists, allows the trigger's password check, and its secret matches
/// `LEGACY_CLIENT_SECRET`.
pub(crate) fn legacy_client(
    list: &mut Checklist,
    vars: &HashMap<String, String>,
    pool_id: &str,
    client_id: &str,
    answer: Result<Option<ClientFacts>, String>,
) {
    let dependents = LEGACY_DEPENDENTS;
    let client = match answer {
        Ok(client) => client,
        Err(error) => {
            list.fail(
                "legacy-client",
                format!("LEGACY_CLIENT_ID `{client_id}`: DescribeUserPoolClient failed: {error}"),
                format!("Point LEGACY_CLIENT_ID at an app client of `{pool_id}`."),
            );
            list.skip(&dependents[1..], "legacy-client");
            return;
        }
    };
    let Some(client) = client else {
        list.fail(
            "legacy-client",
            format!("DescribeUserPoolClient returned no client for `{client_id}`"),
            format!("Point LEGACY_CLIENT_ID at an app client of `{pool_id}`."),
        );
        list.skip(&dependents[1..], "legacy-client");
        return;
    };
    list.pass(
        "legacy-client",
        format!("legacy app client `{client_id}` exists"),
    );

    if allows_flow(&client, "ALLOW_ADMIN_USER_PASSWORD_AUTH") {
        list.pass(
            "legacy-client-auth-flow",
            "the legacy client allows ALLOW_ADMIN_USER_PASSWORD_AUTH (the trigger's password check)",
        );
    } else {
        list.fail(
            "legacy-client-auth-flow",
            format!("the legacy client allows only {}; the trigger's password check (AdminInitiateAuth ADMIN_USER_PASSWORD_AUTH) is refused", flows(&client)),
            format!("aws cognito-idp update-user-pool-client --user-pool-id {pool_id} --client-id {client_id} --explicit-auth-flows ALLOW_ADMIN_USER_PASSWORD_AUTH ALLOW_REFRESH_TOKEN_AUTH <the flows it has> (update-user-pool-client resets every setting it is not given)."),
        );
    }

    secret_check(&client, client_id, vars, list);
}

/// The trigger sends `SECRET_HASH` exactly when `LEGACY_CLIENT_SECRET` is set.
fn secret_check(
    client: &ClientFacts,
    client_id: &str,
    vars: &HashMap<String, String>,
    list: &mut Checklist,
) {
    // The secret itself is only compared, never printed.
    let configured = vars.get("LEGACY_CLIENT_SECRET").filter(|v| !v.is_empty());
    match (client.secret.as_deref(), configured) {
        (None, None) => list.pass("legacy-client-secret", "the legacy client has no secret"),
        (Some(secret), Some(configured)) if secret == configured => list.pass(
            "legacy-client-secret",
            "the legacy client has a secret and LEGACY_CLIENT_SECRET matches it",
        ),
        (Some(_), Some(_)) => list.fail(
            "legacy-client-secret",
            "LEGACY_CLIENT_SECRET differs from the legacy client's secret: every SECRET_HASH is wrong",
            format!("Copy the secret of client `{client_id}` (aws cognito-idp describe-user-pool-client) into LEGACY_CLIENT_SECRET."),
        ),
        (Some(_), None) => list.fail(
            "legacy-client-secret",
            "the legacy client has a secret but LEGACY_CLIENT_SECRET is not set: every password check lacks SECRET_HASH",
            update_variable_fix(&list.function, "LEGACY_CLIENT_SECRET", "<the client's secret>"),
        ),
        (None, Some(_)) => list.fail(
            "legacy-client-secret",
            "LEGACY_CLIENT_SECRET is set but the legacy client has no secret",
            "Remove LEGACY_CLIENT_SECRET from the function's variables.",
        ),
    }
}

fn allows_flow(client: &ClientFacts, flow: &str) -> bool {
    client.auth_flows.iter().any(|f| f == flow)
}

fn flows(client: &ClientFacts) -> String {
    if client.auth_flows.is_empty() {
        "no explicit auth flow".into()
    } else {
        client.auth_flows.join(", ")
    }
}

/// `LEDGER_TABLE` is set; returns it.
pub(crate) fn ledger_table<'a>(
    list: &mut Checklist,
    vars: &'a HashMap<String, String>,
) -> Option<&'a str> {
    let table = variable(vars, "LEDGER_TABLE");
    if table.is_none() {
        list.fail(
            "ledger-table",
            "LEDGER_TABLE is not set on the function",
            update_variable_fix(&list.function, "LEDGER_TABLE", "<ledger table>"),
        );
        list.skip(&["ledger-populated"], "ledger-table");
    }
    table
}

/// The ledger table exists (`DescribeTable`'s item count, when it says); true when it does.
pub(crate) fn ledger_exists(
    list: &mut Checklist,
    table: &str,
    answer: &Result<Option<i64>, String>,
) -> bool {
    if let Err(error) = answer {
        list.fail(
            "ledger-table",
            format!("LEDGER_TABLE `{table}`: DescribeTable failed: {error}"),
            "Point LEDGER_TABLE at the ledger table (deploy/template.yaml creates it), in the function's region.",
        );
        list.skip(&["ledger-populated"], "ledger-table");
        return false;
    }
    list.pass("ledger-table", format!("ledger table `{table}` exists"));
    true
}

/// The ledger has items, and how fresh the newest is at `now_ms`.
pub(crate) fn ledger_populated(
    list: &mut Checklist,
    vars: &HashMap<String, String>,
    table: &str,
    item_count: Option<i64>,
    sample: Result<LedgerSample, String>,
    now_ms: i64,
) {
    let index_fix = format!(
        "Run the index: cognito-migrate index --legacy-pool-id {} --table {table}",
        vars.get("LEGACY_USER_POOL_ID")
            .map_or("<legacy pool id>", String::as_str)
    );
    match sample {
        Err(error) => list.fail(
            "ledger-populated",
            format!("Scan of `{table}` failed: {error}"),
            "Grant dynamodb:Scan on the table to whoever runs doctor.",
        ),
        Ok(page) if page.items == 0 => list.fail(
            "ledger-populated",
            "the ledger is empty: the trigger finds no legacy user by any case-insensitive key",
            index_fix,
        ),
        Ok(page) => {
            let newest = page.newest_indexed_at_ms;
            let count = item_count.map_or_else(String::new, |n| {
                format!(" (about {n} items, as DescribeTable last counted)")
            });
            let freshness = match newest {
                Some(ms) => format!(
                    "; newest indexedAtMs among the {} items read: {ms} ({} ago)",
                    page.items,
                    age(now_ms - ms)
                ),
                None => format!(
                    "; none of the {} items read carries indexedAtMs",
                    page.items
                ),
            };
            list.pass(
                "ledger-populated",
                format!("the ledger has items{count}{freshness}"),
            );
        }
    }
}

/// The checks about the new pool's own settings, skipped when it cannot be read.
const NEW_POOL_DEPENDENTS: [&str; 4] = [
    "new-pool-case-insensitive",
    "new-pool-custom-attributes",
    "new-pool-legacy-attributes-immutable",
    "new-clients-cannot-write-legacy-attributes",
];

/// The new pool exists, is case-insensitive and has the legacy attributes, immutable; returns
/// it when it could be read.
pub(crate) fn new_pool(
    list: &mut Checklist,
    pool_id: &str,
    answer: Result<Option<PoolFacts>, String>,
) -> Option<PoolFacts> {
    let pool = match answer {
        Ok(Some(pool)) => pool,
        other => {
            let why = match other {
                Err(error) => error,
                Ok(_) => "the answer has no pool".into(),
            };
            list.fail(
                "new-pool",
                format!("DescribeUserPool of `{pool_id}` failed: {why}"),
                "Give --new-pool-id the new pool's id, in the region (--region) it is in.",
            );
            list.skip(&NEW_POOL_DEPENDENTS, "new-pool");
            return None;
        }
    };
    list.pass("new-pool", format!("new pool `{pool_id}` exists"));

    if pool.case_sensitive {
        list.fail(
            "new-pool-case-insensitive",
            "the new pool is case-sensitive: `Name@x.com` and `name@x.com` stay two users",
            "CaseSensitive is immutable: create a new pool with --username-configuration CaseSensitive=false and point the migration at it.",
        );
    } else {
        list.pass(
            "new-pool-case-insensitive",
            "the new pool is case-insensitive",
        );
    }

    let missing: Vec<&str> = LEGACY_ATTRIBUTES
        .into_iter()
        .filter(|name| attribute(&pool, name).is_none())
        .collect();
    if missing.is_empty() {
        list.pass(
            "new-pool-custom-attributes",
            format!("the schema has {LEGACY_SUB} and {LEGACY_USERNAME}"),
        );
    } else {
        let schema: Vec<String> = missing
            .iter()
            .map(|name| {
                format!(
                    "Name={},AttributeDataType=String,Mutable=false",
                    name.trim_start_matches("custom:")
                )
            })
            .collect();
        list.fail(
            "new-pool-custom-attributes",
            format!(
                "the schema lacks {}: every migration fails with \"Attribute does not exist in the schema\"",
                missing.join(" and ")
            ),
            format!(
                "aws cognito-idp add-custom-attributes --user-pool-id {pool_id} --custom-attributes {}",
                schema.join(" ")
            ),
        );
    }

    legacy_attributes_immutable(list, &pool);
    Some(pool)
}

/// The legacy attributes cannot change once the migration wrote them.
fn legacy_attributes_immutable(list: &mut Checklist, pool: &PoolFacts) {
    let mutable: Vec<&str> = LEGACY_ATTRIBUTES
        .into_iter()
        .filter(|name| attribute(pool, name).is_some_and(|a| a.mutable))
        .collect();
    if mutable.is_empty() {
        list.pass(
            "new-pool-legacy-attributes-immutable",
            "no legacy attribute of the schema is mutable: once the migration wrote it, it stays",
        );
        return;
    }
    let names = mutable.join(" and ");
    list.fail(
        "new-pool-legacy-attributes-immutable",
        format!(
            "the schema makes {names} mutable: whoever may write {} after creation (an app client through UpdateUserAttributes, an administrator) can point a migrated user at another legacy user and so take that user's groups",
            if mutable.len() == 1 { "it" } else { "them" }
        ),
        format!(
            "Mutable cannot be changed once a pool exists: create a new pool whose schema has {names} with Mutable=false (deploy/template.yaml does) and migrate into it; until then keep {names} out of every app client's WriteAttributes and grant no one cognito-idp:AdminUpdateUserAttributes on the pool."
        ),
    );
}

const LEGACY_ATTRIBUTES: [&str; 2] = [LEGACY_SUB, LEGACY_USERNAME];

fn attribute<'a>(pool: &'a PoolFacts, name: &str) -> Option<&'a AttributeFacts> {
    pool.attributes
        .iter()
        .find(|a| a.name == name || format!("custom:{}", a.name) == name)
}

/// The standard attributes an app may write (every pool has them, whether or not its schema
/// lists them): the core's standard attributes but the `*_verified` flags, which Cognito sets.
fn standard_writable() -> impl Iterator<Item = &'static str> {
    STANDARD_ATTRIBUTES
        .into_iter()
        .filter(|name| !name.ends_with("_verified"))
}

/// The attributes a client may write, as `--write-attributes` spells them: its own list, or
/// for a client without one the standard attributes and every custom attribute of the schema.
fn writable_attributes(pool: &PoolFacts, client: &ClientFacts) -> Vec<String> {
    if !client.write_attributes.is_empty() {
        return client.write_attributes.clone();
    }
    let custom = pool
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .filter(|name| {
            !name.starts_with("dev:")
                && !name.ends_with("_verified")
                && !matches!(*name, "sub" | "identities")
                && !standard_writable().any(|standard| standard == *name)
        })
        .map(|name| {
            if name.starts_with("custom:") {
                name.to_owned()
            } else {
                format!("custom:{name}")
            }
        });
    standard_writable()
        .map(str::to_owned)
        .chain(custom)
        .collect()
}

/// No app client of the new pool may write the legacy attributes: the trigger writes them when
/// it creates the user (Cognito lets a trigger set any attribute at creation), and a client
/// that may write them lets anyone sign up, or update their own user, naming a legacy user and
/// so claim its groups.
pub(crate) fn legacy_attribute_writers(
    list: &mut Checklist,
    pool_id: &str,
    pool: &PoolFacts,
    answer: Result<Vec<ClientFacts>, String>,
) {
    const CHECK: &str = "new-clients-cannot-write-legacy-attributes";
    let clients = match answer {
        Ok(clients) => clients,
        Err(error) => {
            list.fail(
                CHECK,
                format!("the new pool's app clients could not be read: {error}"),
                "Grant cognito-idp:ListUserPoolClients and cognito-idp:DescribeUserPoolClient on the new pool to whoever runs doctor.",
            );
            return;
        }
    };
    let mut findings = Vec::new();
    let mut fixes = Vec::new();
    for client in &clients {
        let writes_all = client.write_attributes.is_empty();
        let legacy: Vec<&str> = LEGACY_ATTRIBUTES
            .into_iter()
            .filter(|name| writes_all || client.write_attributes.iter().any(|w| w == name))
            .collect();
        if legacy.is_empty() {
            continue;
        }
        let why = if writes_all {
            " (it sets no WriteAttributes, so it may write every attribute)"
        } else {
            ""
        };
        findings.push(format!(
            "app client `{}` (`{}`) may write {}{why}",
            client.id,
            client.name,
            legacy.join(" and ")
        ));
        let keep: Vec<String> = writable_attributes(pool, client)
            .into_iter()
            .filter(|name| !LEGACY_ATTRIBUTES.contains(&name.as_str()))
            .collect();
        fixes.push(if keep.is_empty() {
            format!(
                "client `{}`: aws cognito-idp update-user-pool-client --user-pool-id {pool_id} --client-id {} --write-attributes <at least one attribute the app may change, e.g. name> (an empty list would let it write every attribute again)",
                client.id, client.id
            )
        } else {
            format!(
                "client `{}`: aws cognito-idp update-user-pool-client --user-pool-id {pool_id} --client-id {} --write-attributes {}",
                client.id,
                client.id,
                keep.join(" ")
            )
        });
    }
    if findings.is_empty() {
        list.pass(
            CHECK,
            format!(
                "none of the new pool's {} app client(s) may write {LEGACY_SUB} or {LEGACY_USERNAME}",
                clients.len()
            ),
        );
    } else {
        list.fail(
            CHECK,
            format!(
                "{}: a user could sign up or update their own attributes naming a legacy user, and be given that user's groups",
                findings.join("; ")
            ),
            format!(
                "{}; update-user-pool-client resets every setting it is not given (auth flows, read attributes, token validity, callback URLs...): add the client's other current settings, as aws cognito-idp describe-user-pool-client shows them.",
                fixes.join("; ")
            ),
        );
    }
}

/// The application's app client exists and allows `USER_PASSWORD_AUTH`.
pub(crate) fn new_client(
    list: &mut Checklist,
    pool_id: &str,
    client_id: &str,
    answer: Result<Option<ClientFacts>, String>,
) {
    let client = match answer {
        Ok(Some(client)) => client,
        other => {
            let why = match other {
                Err(error) => error,
                Ok(_) => "no client returned".into(),
            };
            list.fail(
                "new-client",
                format!("DescribeUserPoolClient `{client_id}` of `{pool_id}` failed: {why}"),
                "Give --new-client-id the app client the application signs in with.",
            );
            list.skip(&["new-client-auth-flow"], "new-client");
            return;
        }
    };
    list.pass("new-client", format!("new app client `{client_id}` exists"));

    if allows_flow(&client, "ALLOW_USER_PASSWORD_AUTH") {
        list.pass(
            "new-client-auth-flow",
            "the new client allows ALLOW_USER_PASSWORD_AUTH",
        );
    } else {
        list.fail(
            "new-client-auth-flow",
            format!(
                "the new client allows only {}: sign-ins send no password to Cognito, so the trigger never runs (\"USER_PASSWORD_AUTH flow not enabled for this client\")",
                flows(&client)
            ),
            format!("aws cognito-idp update-user-pool-client --user-pool-id {pool_id} --client-id {client_id} --explicit-auth-flows ALLOW_USER_PASSWORD_AUTH ALLOW_USER_SRP_AUTH ALLOW_REFRESH_TOKEN_AUTH (update-user-pool-client resets every setting it is not given)."),
        );
    }
}

/// The checks comparing the function's variables with the new pool's sign-in shape.
pub(crate) const SHAPE_CHECKS: [&str; 2] =
    ["function-username-attributes", "function-alias-attributes"];

/// The function knows the new pool's sign-in shape: `NEW_POOL_USERNAME_ATTRIBUTES` and
/// `NEW_POOL_ALIAS_ATTRIBUTES` name the pool's `UsernameAttributes` and `AliasAttributes`, in
/// any order (unset is empty).
pub(crate) fn pool_shape(list: &mut Checklist, function: &FunctionFacts, pool: &PoolFacts) {
    let pairs = [
        (
            SHAPE_CHECKS[0],
            "NEW_POOL_USERNAME_ATTRIBUTES",
            "UsernameAttributes",
            &pool.username_attributes,
            "the trigger would look the migrated user up by the wrong name after sign-in (a pool with UsernameAttributes generates usernames)",
        ),
        (
            SHAPE_CHECKS[1],
            "NEW_POOL_ALIAS_ATTRIBUTES",
            "AliasAttributes",
            &pool.alias_attributes,
            "the trigger would answer Cognito with a username the pool refuses, or miss a sign-in made with an alias",
        ),
    ];
    for (check, variable, setting, in_pool, consequence) in pairs {
        let configured = name_set(function.variables.get(variable).map_or("", String::as_str));
        let wanted: BTreeSet<&str> = in_pool.iter().map(String::as_str).collect();
        let shown = |set: &BTreeSet<&str>| {
            if set.is_empty() {
                "none".to_owned()
            } else {
                set.iter().copied().collect::<Vec<_>>().join(",")
            }
        };
        if configured == wanted {
            list.pass(
                check,
                format!(
                    "{variable} matches the new pool's {setting} ({})",
                    shown(&wanted)
                ),
            );
        } else {
            let value = wanted.iter().copied().collect::<Vec<_>>().join(",");
            list.fail(
                check,
                format!(
                    "the function's {variable} names {}, but the new pool's {setting} are {}: {consequence}",
                    shown(&configured),
                    shown(&wanted)
                ),
                set_variable_command(&list.function, variable, &value),
            );
        }
    }
}

fn name_set(list: &str) -> BTreeSet<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect()
}

/// A command that sets one variable of the function and keeps every other one (without
/// printing them: one may be a secret).
fn set_variable_command(function: &str, variable: &str, value: &str) -> String {
    let edit = if value.is_empty() {
        format!("del(.Variables.{variable})")
    } else {
        format!(".Variables.{variable} = \"{value}\"")
    };
    format!(
        "aws lambda update-function-configuration --function-name {function} --environment \"$(aws lambda get-function-configuration --function-name {function} --query '{{Variables: Environment.Variables}}' --output json | jq -c '{edit}')\" (--environment replaces every variable: this keeps the others as they are)"
    )
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Trigger {
    pub(crate) check: &'static str,
    name: &'static str,
}

pub(crate) const TRIGGERS: [Trigger; 4] = [
    Trigger {
        check: "trigger-user-migration",
        name: "UserMigration",
    },
    Trigger {
        check: "trigger-pre-sign-up",
        name: "PreSignUp",
    },
    Trigger {
        check: "trigger-post-authentication",
        name: "PostAuthentication",
    },
    Trigger {
        check: "trigger-pre-token-generation",
        name: "PreTokenGeneration",
    },
];

fn attached<'a>(pool: &'a PoolFacts, trigger: &str) -> Option<&'a str> {
    let triggers = &pool.triggers;
    match trigger {
        "UserMigration" => triggers.user_migration.as_deref(),
        "PreSignUp" => triggers.pre_sign_up.as_deref(),
        "PostAuthentication" => triggers.post_authentication.as_deref(),
        "PreTokenGeneration" => triggers.pre_token_generation.as_deref(),
        _ => None,
    }
}

/// True when `arn` names `function`, with or without a version or alias.
fn same_function(arn: &str, function: &str) -> bool {
    arn == function
        || arn
            .strip_prefix(function)
            .is_some_and(|rest| rest.starts_with(':') && !rest[1..].contains(':'))
}

/// Each of the four triggers is attached to the new pool and invokes the function.
pub(crate) fn triggers(
    list: &mut Checklist,
    function: &FunctionFacts,
    pool: &PoolFacts,
    pool_id: &str,
) {
    let all: Vec<String> = TRIGGERS
        .iter()
        .map(|t| format!("{}={}", t.name, function.arn))
        .collect();
    let fix = format!(
        "aws cognito-idp update-user-pool --user-pool-id {pool_id} --lambda-config {} (update-user-pool resets every setting it is not given: pass the pool's current settings too).",
        all.join(",")
    );
    for trigger in TRIGGERS {
        match attached(pool, trigger.name) {
            Some(arn) if same_function(arn, &function.arn) => {
                list.pass(trigger.check, format!("{} invokes `{arn}`", trigger.name));
            }
            Some(arn) => list.fail(
                trigger.check,
                format!("{} invokes `{arn}`, not `{}`", trigger.name, function.arn),
                fix.clone(),
            ),
            None => list.fail(
                trigger.check,
                format!("no {} trigger is attached to the new pool", trigger.name),
                fix.clone(),
            ),
        }
    }
}

/// The function's resource policy lets Cognito invoke it for the new pool.
pub(crate) fn invoke_permission(
    list: &mut Checklist,
    function: &FunctionFacts,
    pool: &PoolFacts,
    policy: Result<String, String>,
) {
    let pool_arn = pool.arn.as_deref().unwrap_or_default();
    let fix = format!(
        "aws lambda add-permission --function-name {} --statement-id cognito-new-pool --action lambda:InvokeFunction --principal cognito-idp.amazonaws.com --source-arn {pool_arn}",
        function.arn
    );
    let policy = match policy {
        Ok(policy) => policy,
        Err(error) => {
            list.fail(
                "invoke-permission",
                format!("GetPolicy failed: {error}"),
                "Grant lambda:GetPolicy to whoever runs doctor, or check the function's resource policy by hand.",
            );
            return;
        }
    };
    let parsed: Value = serde_json::from_str(&policy).unwrap_or(Value::Null);
    match permission::cognito_may_invoke(&parsed, pool_arn) {
        Permission::Allowed { sid, source: Some(source) } => list.pass(
            "invoke-permission",
            format!("statement `{sid}` lets cognito-idp.amazonaws.com invoke the function for `{source}`"),
        ),
        Permission::Allowed { sid, source: None } => list.pass(
            "invoke-permission",
            format!("statement `{sid}` lets cognito-idp.amazonaws.com invoke the function (for any pool: consider a SourceArn condition)"),
        ),
        Permission::OtherSources(sources) => list.fail(
            "invoke-permission",
            format!(
                "cognito-idp.amazonaws.com may invoke the function only for {}, not for `{pool_arn}`",
                sources.join(", ")
            ),
            fix,
        ),
        Permission::Missing => list.fail(
            "invoke-permission",
            "the function's resource policy does not let cognito-idp.amazonaws.com invoke it: sign-ins fail with \"Exception migrating user\"",
            fix,
        ),
    }
}

#[cfg(test)]
mod tests;
