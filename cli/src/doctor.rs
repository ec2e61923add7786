//! `doctor`: reads the live configuration of the trigger, both pools and the ledger, and says
//! which of the settings that make a migration silently do nothing are wrong, each with its fix.

mod permission;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_cognitoidentityprovider::types::{UserPoolClientType, UserPoolType};
use aws_sdk_dynamodb::types::AttributeValue;
use cognito_migrate_core::event::TriggerEvent;
use cognito_migrate_core::match_key;
use cognito_migrate_core::migrate::{MigrationConfig, PasswordOutcome, decide_with};
use cognito_migrate_lambda::config::Config;
use cognito_migrate_lambda::ledger::{Ledger, attr};
use serde::Serialize;
use serde_json::{Value, json};

use crate::aws;
use permission::Permission;

const LEGACY_SUB: &str = "custom:legacy_sub";
const LEGACY_USERNAME: &str = "custom:legacy_username";
/// How many ledger items one doctor run reads to judge whether the index ran.
const LEDGER_SAMPLE: i32 = 100;

#[derive(Debug, clap::Args)]
pub(crate) struct DoctorArgs {
    /// The trigger function: name, or ARN.
    #[arg(long, value_name = "NAME_OR_ARN")]
    pub(crate) function: String,
    /// The new (case-insensitive) pool's id.
    #[arg(long, value_name = "ID")]
    pub(crate) new_pool_id: String,
    /// The new pool's app client the application signs in with (its auth flows and writable
    /// attributes are checked only when given).
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

/// One legacy user filed under the identifier's key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CandidateView {
    pub(crate) username: String,
    pub(crate) state: &'static str,
    pub(crate) enabled: bool,
    pub(crate) status: String,
}

/// What would happen to one identifier's sign-in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserView {
    pub(crate) identifier: String,
    pub(crate) match_key: String,
    /// `None` when the ledger could not be read.
    pub(crate) candidates: Option<Vec<CandidateView>>,
    /// The new pool's status of a user with this identifier, when there is one.
    pub(crate) in_new_pool: Option<String>,
    /// Whether Cognito would invoke the migration trigger for this identifier.
    pub(crate) trigger_fires: bool,
    pub(crate) verdict: String,
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

#[derive(Debug, Default)]
struct Checklist {
    /// The function as the operator named it, for the fixes.
    function: String,
    checks: Vec<Check>,
    skipped: Vec<Skipped>,
}

impl Checklist {
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

    fn skip(&mut self, names: &[&'static str], needs: &'static str) {
        self.skipped
            .extend(names.iter().map(|&name| Skipped { name, needs }));
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or_default()
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

fn sdk_error(error: &impl std::error::Error) -> String {
    aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(error).to_string()
}

/// Runs every check against the live configuration.
pub(crate) async fn run(sdk: &SdkConfig, access: &aws::LegacyAccess, args: &DoctorArgs) -> Report {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let new_pool_client = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let dynamodb = aws::dynamodb_client(sdk);
    let mut list = Checklist {
        function: args.function.clone(),
        ..Checklist::default()
    };

    let function = function_checks(&lambda, &args.function, &mut list).await;
    let vars = function
        .as_ref()
        .map(|f| f.variables.clone())
        .unwrap_or_default();
    let config = function
        .as_ref()
        .and_then(|_| Config::from_lookup(|name| vars.get(name).cloned()).ok());
    if function.is_some() {
        legacy_checks(sdk, access, &vars, &mut list).await;
    }
    let ledger = match &function {
        Some(_) => ledger_checks(&dynamodb, &vars, &mut list).await,
        None => None,
    };

    let new_pool = new_pool_checks(&new_pool_client, &args.new_pool_id, &mut list).await;
    match &args.new_client_id {
        Some(client_id) => {
            new_client_checks(
                &new_pool_client,
                &args.new_pool_id,
                client_id,
                new_pool.as_ref(),
                &mut list,
            )
            .await;
        }
        None => list.skip(
            &[
                "new-client",
                "new-client-auth-flow",
                "new-client-write-attributes",
            ],
            "--new-client-id",
        ),
    }
    match (&function, &new_pool) {
        (Some(function), Some(pool)) => {
            trigger_checks(function, pool, &args.new_pool_id, &mut list);
            permission_check(&lambda, &args.function, function, pool, &mut list).await;
        }
        (None, _) => list.skip(TRIGGERS.map(|t| t.check).as_ref(), "function"),
        (_, None) => list.skip(TRIGGERS.map(|t| t.check).as_ref(), "new-pool"),
    }
    if function.is_none() {
        list.skip(&["invoke-permission"], "function");
    } else if new_pool.is_none() {
        list.skip(&["invoke-permission"], "new-pool");
    }

    let user = match &args.user {
        Some(identifier) => Some(
            user_view(
                identifier,
                args,
                ledger.as_ref(),
                new_pool.is_some().then_some(&new_pool_client),
                &config.map(|c| c.migration).unwrap_or_default(),
            )
            .await,
        ),
        None => None,
    };

    Report {
        ok: list.checks.iter().all(|c| c.ok),
        function: args.function.clone(),
        new_pool_id: args.new_pool_id.clone(),
        checks: list.checks,
        skipped: list.skipped,
        user,
    }
}

/// The trigger function's configuration.
#[derive(Debug)]
struct Function {
    arn: String,
    variables: HashMap<String, String>,
}

async fn function_checks(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    list: &mut Checklist,
) -> Option<Function> {
    let answer = match lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(error) => {
            list.fail(
                "function",
                format!("GetFunctionConfiguration of `{name}` failed: {}", sdk_error(&error)),
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
    let function = Function {
        arn: answer.function_arn().unwrap_or(name).to_owned(),
        variables: answer
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default(),
    };
    list.pass("function", format!("`{}` exists", function.arn));
    match Config::from_lookup(|v| function.variables.get(v).cloned()) {
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

async fn legacy_checks(
    sdk: &SdkConfig,
    access: &aws::LegacyAccess,
    vars: &HashMap<String, String>,
    list: &mut Checklist,
) {
    let dependents = [
        "legacy-client",
        "legacy-client-auth-flow",
        "legacy-client-secret",
    ];
    let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(pool_id) = get("LEGACY_USER_POOL_ID") else {
        list.fail(
            "legacy-pool",
            "LEGACY_USER_POOL_ID is not set on the function",
            update_variable_fix(&list.function, "LEGACY_USER_POOL_ID", "<legacy pool id>"),
        );
        list.skip(&dependents, "legacy-pool");
        return;
    };
    let legacy = aws::legacy_client(sdk, access, pool_id).await;
    if let Err(error) = legacy
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await
    {
        list.fail(
            "legacy-pool",
            format!("LEGACY_USER_POOL_ID `{pool_id}`: DescribeUserPool failed: {}", sdk_error(&error)),
            "Point LEGACY_USER_POOL_ID at the legacy pool's id (and LEGACY_REGION / LEGACY_ROLE_ARN at where it lives).",
        );
        list.skip(&dependents, "legacy-pool");
        return;
    }
    list.pass("legacy-pool", format!("legacy pool `{pool_id}` exists"));

    let Some(client_id) = get("LEGACY_CLIENT_ID") else {
        list.fail(
            "legacy-client",
            "LEGACY_CLIENT_ID is not set on the function",
            update_variable_fix(&list.function, "LEGACY_CLIENT_ID", "<legacy app client id>"),
        );
        list.skip(&dependents[1..], "legacy-client");
        return;
    };
    let client = match legacy
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await
    {
        Ok(answer) => answer.user_pool_client,
        Err(error) => {
            list.fail(
                "legacy-client",
                format!(
                    "LEGACY_CLIENT_ID `{client_id}`: DescribeUserPoolClient failed: {}",
                    sdk_error(&error)
                ),
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
    client: &UserPoolClientType,
    client_id: &str,
    vars: &HashMap<String, String>,
    list: &mut Checklist,
) {
    // The secret itself is only compared, never printed.
    let configured = vars.get("LEGACY_CLIENT_SECRET").filter(|v| !v.is_empty());
    match (client.client_secret(), configured) {
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

fn allows_flow(client: &UserPoolClientType, flow: &str) -> bool {
    client
        .explicit_auth_flows()
        .iter()
        .any(|f| f.as_str() == flow)
}

fn flows(client: &UserPoolClientType) -> String {
    let names: Vec<&str> = client
        .explicit_auth_flows()
        .iter()
        .map(aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType::as_str)
        .collect();
    if names.is_empty() {
        "no explicit auth flow".into()
    } else {
        names.join(", ")
    }
}

async fn ledger_checks(
    dynamodb: &aws_sdk_dynamodb::Client,
    vars: &HashMap<String, String>,
    list: &mut Checklist,
) -> Option<Ledger> {
    let Some(table) = vars
        .get("LEDGER_TABLE")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    else {
        list.fail(
            "ledger-table",
            "LEDGER_TABLE is not set on the function",
            update_variable_fix(&list.function, "LEDGER_TABLE", "<ledger table>"),
        );
        list.skip(&["ledger-populated"], "ledger-table");
        return None;
    };
    let item_count = match dynamodb.describe_table().table_name(table).send().await {
        Ok(answer) => answer
            .table()
            .and_then(aws_sdk_dynamodb::types::TableDescription::item_count),
        Err(error) => {
            list.fail(
                "ledger-table",
                format!("LEDGER_TABLE `{table}`: DescribeTable failed: {}", sdk_error(&error)),
                "Point LEDGER_TABLE at the ledger table (deploy/template.yaml creates it), in the function's region.",
            );
            list.skip(&["ledger-populated"], "ledger-table");
            return None;
        }
    };
    list.pass("ledger-table", format!("ledger table `{table}` exists"));

    let sample = dynamodb
        .scan()
        .table_name(table)
        .limit(LEDGER_SAMPLE)
        .projection_expression("#at")
        .expression_attribute_names("#at", attr::INDEXED_AT_MS)
        .send()
        .await;
    let index_fix = format!(
        "Run the index: cognito-migrate index --legacy-pool-id {} --table {table}",
        vars.get("LEGACY_USER_POOL_ID")
            .map_or("<legacy pool id>", String::as_str)
    );
    match sample {
        Err(error) => list.fail(
            "ledger-populated",
            format!("Scan of `{table}` failed: {}", sdk_error(&error)),
            "Grant dynamodb:Scan on the table to whoever runs doctor.",
        ),
        Ok(page) if page.items().is_empty() => list.fail(
            "ledger-populated",
            "the ledger is empty: the trigger finds no legacy user by any case-insensitive key",
            index_fix,
        ),
        Ok(page) => {
            let newest = page
                .items()
                .iter()
                .filter_map(|item| match item.get(attr::INDEXED_AT_MS) {
                    Some(AttributeValue::N(n)) => n.parse::<i64>().ok(),
                    _ => None,
                })
                .max();
            let count = item_count.map_or_else(String::new, |n| {
                format!(" (about {n} items, as DescribeTable last counted)")
            });
            let freshness = match newest {
                Some(ms) => format!(
                    "; newest indexedAtMs among the {} items read: {ms} ({} ago)",
                    page.items().len(),
                    age(now_ms() - ms)
                ),
                None => format!(
                    "; none of the {} items read carries indexedAtMs",
                    page.items().len()
                ),
            };
            list.pass(
                "ledger-populated",
                format!("the ledger has items{count}{freshness}"),
            );
        }
    }
    Some(Ledger::new(dynamodb.clone(), table))
}

async fn new_pool_checks(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
    list: &mut Checklist,
) -> Option<UserPoolType> {
    let pool = match cognito
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await
    {
        Ok(answer) => answer.user_pool,
        Err(error) => {
            list.fail(
                "new-pool",
                format!(
                    "DescribeUserPool of `{pool_id}` failed: {}",
                    sdk_error(&error)
                ),
                "Give --new-pool-id the new pool's id, in the region (--region) it is in.",
            );
            list.skip(
                &["new-pool-case-insensitive", "new-pool-custom-attributes"],
                "new-pool",
            );
            return None;
        }
    }?;
    list.pass("new-pool", format!("new pool `{pool_id}` exists"));

    // Pools created without UsernameConfiguration are case-sensitive: the API's default.
    let case_sensitive = pool.username_configuration().is_none_or(
        aws_sdk_cognitoidentityprovider::types::UsernameConfigurationType::case_sensitive,
    );
    if case_sensitive {
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

    let missing: Vec<&str> = [LEGACY_SUB, LEGACY_USERNAME]
        .into_iter()
        .filter(|name| !has_attribute(&pool, name))
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
    Some(pool)
}

fn has_attribute(pool: &UserPoolType, name: &str) -> bool {
    pool.schema_attributes().iter().any(|a| {
        a.name()
            .is_some_and(|n| n == name || format!("custom:{n}") == name)
    })
}

async fn new_client_checks(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
    client_id: &str,
    pool: Option<&UserPoolType>,
    list: &mut Checklist,
) {
    let answer = cognito
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await;
    let client = match answer.map(|a| a.user_pool_client) {
        Ok(Some(client)) => client,
        other => {
            let why = match other {
                Err(error) => sdk_error(&error),
                Ok(_) => "no client returned".into(),
            };
            list.fail(
                "new-client",
                format!("DescribeUserPoolClient `{client_id}` of `{pool_id}` failed: {why}"),
                "Give --new-client-id the app client the application signs in with.",
            );
            list.skip(
                &["new-client-auth-flow", "new-client-write-attributes"],
                "new-client",
            );
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

    // An absent attribute is the schema check's finding; only attributes the pool has count.
    let writable = client.write_attributes();
    let not_writable: Vec<&str> = [LEGACY_SUB, LEGACY_USERNAME]
        .into_iter()
        .filter(|name| pool.is_none_or(|p| has_attribute(p, name)))
        .filter(|name| !writable.is_empty() && !writable.iter().any(|w| w == name))
        .collect();
    if not_writable.is_empty() {
        let scope = if writable.is_empty() {
            "the client sets no WriteAttributes, so every attribute is writable"
        } else {
            "the client's WriteAttributes include the legacy attributes"
        };
        list.pass("new-client-write-attributes", scope);
    } else {
        list.fail(
            "new-client-write-attributes",
            format!("the client's WriteAttributes lack {}", not_writable.join(" and ")),
            format!("aws cognito-idp update-user-pool-client --user-pool-id {pool_id} --client-id {client_id} --write-attributes <its attributes> {} (update-user-pool-client resets every setting it is not given).", not_writable.join(" ")),
        );
    }
}

#[derive(Debug, Clone, Copy)]
struct Trigger {
    check: &'static str,
    name: &'static str,
}

const TRIGGERS: [Trigger; 4] = [
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

fn attached(pool: &UserPoolType, trigger: &str) -> Option<String> {
    let config = pool.lambda_config()?;
    let arn = match trigger {
        "UserMigration" => config.user_migration(),
        "PreSignUp" => config.pre_sign_up(),
        "PostAuthentication" => config.post_authentication(),
        // Pools set up for event version 2 or 3 use PreTokenGenerationConfig instead.
        "PreTokenGeneration" => config
            .pre_token_generation_config()
            .map(aws_sdk_cognitoidentityprovider::types::PreTokenGenerationVersionConfigType::lambda_arn)
            .or(config.pre_token_generation()),
        _ => None,
    };
    arn.filter(|a| !a.is_empty()).map(str::to_owned)
}

/// True when `arn` names `function`, with or without a version or alias.
fn same_function(arn: &str, function: &str) -> bool {
    arn == function
        || arn
            .strip_prefix(function)
            .is_some_and(|rest| rest.starts_with(':') && !rest[1..].contains(':'))
}

fn trigger_checks(function: &Function, pool: &UserPoolType, pool_id: &str, list: &mut Checklist) {
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
            Some(arn) if same_function(&arn, &function.arn) => {
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

async fn permission_check(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    function: &Function,
    pool: &UserPoolType,
    list: &mut Checklist,
) {
    let pool_arn = pool.arn().unwrap_or_default();
    let fix = format!(
        "aws lambda add-permission --function-name {} --statement-id cognito-new-pool --action lambda:InvokeFunction --principal cognito-idp.amazonaws.com --source-arn {pool_arn}",
        function.arn
    );
    let policy = match lambda.get_policy().function_name(name).send().await {
        Ok(answer) => answer.policy.unwrap_or_default(),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_lambda::operation::get_policy::GetPolicyError::is_resource_not_found_exception) =>
        {
            String::new()
        }
        Err(error) => {
            list.fail(
                "invoke-permission",
                format!("GetPolicy failed: {}", sdk_error(&error)),
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

async fn user_view(
    identifier: &str,
    args: &DoctorArgs,
    ledger: Option<&Ledger>,
    new_pool: Option<&aws_sdk_cognitoidentityprovider::Client>,
    config: &MigrationConfig,
) -> UserView {
    let key = match_key(identifier);
    let records = match ledger {
        Some(ledger) => ledger.candidates(&key).await.ok(),
        None => None,
    };
    let candidates = records.as_ref().map(|records| {
        records
            .iter()
            .map(|r| CandidateView {
                username: r.entry.user.username.clone(),
                state: r.entry.state.name(),
                enabled: r.entry.user.enabled,
                status: r.entry.user.status.as_str().to_owned(),
            })
            .collect::<Vec<_>>()
    });
    let in_new_pool = match new_pool {
        Some(cognito) => cognito
            .admin_get_user()
            .user_pool_id(&args.new_pool_id)
            .username(identifier)
            .send()
            .await
            .ok()
            .map(|user| {
                user.user_status()
                    .map_or("UNKNOWN", |s| s.as_str())
                    .to_owned()
            }),
        None => None,
    };

    let verdict = if let Some(status) = &in_new_pool {
        format!(
            "a user with this identifier exists in the new pool ({status}): Cognito signs in against it and never invokes the migration trigger"
        )
    } else if let Some(records) = &records {
        core_verdict(identifier, args, records, config)
    } else {
        "the ledger could not be read, so the candidates are unknown".into()
    };
    UserView {
        identifier: identifier.to_owned(),
        match_key: key.as_str().to_owned(),
        candidates,
        trigger_fires: in_new_pool.is_none(),
        in_new_pool,
        verdict,
    }
}

/// The core's decision for a sign-in whose password is not known: which candidates it would
/// check, or why it refuses before any check.
fn core_verdict(
    identifier: &str,
    args: &DoctorArgs,
    records: &[cognito_migrate_lambda::ledger::LedgerRecord],
    config: &MigrationConfig,
) -> String {
    let event = json!({
        "version": "1",
        "triggerSource": "UserMigration_Authentication",
        "userPoolId": args.new_pool_id,
        "userName": identifier,
        "callerContext": {"awsSdkVersion": "cognito-migrate-doctor", "clientId": args.new_client_id},
        // Required by the event parser; every check below is answered without it.
        "request": {"password": "(not checked)", "validationData": null, "clientMetadata": null},
        "response": {},
    });
    let Ok(event) = TriggerEvent::from_value(event) else {
        return "the identifier does not make a valid trigger event".into();
    };
    let mut checked = Vec::new();
    let decision = decide_with(
        &event,
        records.iter().map(|r| r.entry.clone()).collect(),
        config,
        |username| {
            checked.push(format!("`{username}`"));
            PasswordOutcome::WrongPassword
        },
    );
    if checked.is_empty() {
        return match decision.reason() {
            Some(reason) => format!(
                "refused before any password check: {} ({})",
                reason.as_str(),
                reason.explain()
            ),
            None => "no password check needed".into(),
        };
    }
    let mut verdict = format!(
        "{} candidate(s) ({}); a password check decides",
        checked.len(),
        checked.join(", ")
    );
    if checked.len() > 1 {
        let _ = write!(
            verdict,
            "; a password that fits more than one is handled by the collision policy `{}`",
            config.policy.collision
        );
    }
    verdict
}

/// The checklist as text.
pub(crate) fn render(report: &Report) -> String {
    let mut out = format!(
        "doctor: trigger `{}`, new pool `{}`\n",
        report.function, report.new_pool_id
    );
    for check in &report.checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "  {mark}  {}: {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            let _ = writeln!(out, "        fix: {fix}");
        }
    }
    for skipped in &report.skipped {
        let _ = writeln!(
            out,
            "  skip  {}: not checked (needs {})",
            skipped.name, skipped.needs
        );
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    let _ = writeln!(
        out,
        "{} checks, {failed} failed, {} not checked",
        report.checks.len(),
        report.skipped.len()
    );
    if let Some(user) = &report.user {
        let _ = writeln!(out, "\nuser `{}`", user.identifier);
        let _ = writeln!(out, "  match key: {}", user.match_key);
        match &user.candidates {
            Some(candidates) if candidates.is_empty() => {
                let _ = writeln!(out, "  ledger candidates: none");
            }
            Some(candidates) => {
                let _ = writeln!(out, "  ledger candidates: {}", candidates.len());
                for c in candidates {
                    let enabled = if c.enabled { "enabled" } else { "disabled" };
                    let _ = writeln!(
                        out,
                        "    - {} ({}, {enabled}, {})",
                        c.username, c.state, c.status
                    );
                }
            }
            None => {
                let _ = writeln!(out, "  ledger candidates: unknown (ledger not readable)");
            }
        }
        let _ = writeln!(
            out,
            "  in the new pool: {}",
            user.in_new_pool.as_deref().unwrap_or("no")
        );
        let _ = writeln!(out, "  verdict: {}", user.verdict);
    }
    out
}
