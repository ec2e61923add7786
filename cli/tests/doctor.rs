//! `doctor` against a moto server (Cognito, `DynamoDB`, Lambda, IAM): a correct setup passes
//! every check, and each misconfiguration that makes a migration do nothing fails exactly its
//! own check.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;

use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, AttributeDataType, ExplicitAuthFlowsType, LambdaConfigType,
    SchemaAttributeType, UserPoolType, UsernameAttributeType, UsernameConfigurationType,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use cognito_migrate_aws::ledger::entry_to_items;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::user::LegacyUser;
use common::{CliRun, Moto};
use serde_json::Value;

/// Every check doctor runs when given a new client id.
const ALL_CHECKS: [&str; 22] = [
    "function",
    "function-variables",
    "legacy-pool",
    "legacy-client",
    "legacy-client-auth-flow",
    "legacy-client-secret",
    "ledger-table",
    "ledger-populated",
    "new-pool",
    "new-pool-case-insensitive",
    "new-pool-custom-attributes",
    "new-pool-legacy-attributes-immutable",
    "new-clients-cannot-write-legacy-attributes",
    "new-client",
    "new-client-auth-flow",
    "function-username-attributes",
    "function-alias-attributes",
    "trigger-user-migration",
    "trigger-pre-sign-up",
    "trigger-post-authentication",
    "trigger-pre-token-generation",
    "invoke-permission",
];

/// One way to get the setup wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    CaseSensitivePool,
    MissingCustomAttribute,
    MutableLegacyAttribute,
    TriggerMissing,
    TriggerElsewhere,
    NoInvokePermission,
    ClientWithoutPasswordAuth,
    LegacyClientWithoutAdminAuth,
    LegacySecretNotConfigured,
    TableMissing,
    EmptyLedger,
}

/// How users sign in to the new pool, and what the function's variables say about it.
#[derive(Debug, Clone, Copy)]
struct Shape {
    username_attributes: &'static [UsernameAttributeType],
    alias_attributes: &'static [AliasAttributeType],
    username_variable: Option<&'static str>,
    alias_variable: Option<&'static str>,
}

/// Plain usernames, and no variable about them.
const PLAIN: Shape = Shape {
    username_attributes: &[],
    alias_attributes: &[],
    username_variable: None,
    alias_variable: None,
};

/// What one setup created.
#[derive(Debug)]
struct Stack {
    function: String,
    new_pool_id: String,
    new_client_id: String,
}

/// IAM is not among the CLI's SDKs: one form POST makes the role moto's `CreateFunction` needs.
fn create_role(endpoint: &str) -> String {
    let address = endpoint.trim_start_matches("http://");
    let body = "Action=CreateRole&Version=2010-05-08&RoleName=trigger-role&AssumeRolePolicyDocument=%7B%7D";
    let mut stream = TcpStream::connect(address).expect("moto accepts connections");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let start = answer
        .find("<Arn>")
        .expect("CreateRole answers with an ARN")
        + "<Arn>".len();
    let end = answer[start..].find("</Arn>").expect("a closed Arn") + start;
    answer[start..end].to_owned()
}

/// The smallest valid zip archive (no entries): moto stores the code without running it.
fn empty_zip() -> Blob {
    let mut bytes = b"PK\x05\x06".to_vec();
    bytes.extend([0_u8; 18]);
    Blob::new(bytes)
}

async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    role: &str,
    name: &str,
    variables: &[(&str, &str)],
) -> String {
    let mut environment = Environment::builder();
    for (key, value) in variables {
        environment = environment.variables(*key, *value);
    }
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(FunctionCode::builder().zip_file(empty_zip()).build())
        .environment(environment.build())
        .send()
        .await
        .expect("CreateFunction")
        .function_arn
        .expect("a function ARN")
}

async fn create_ledger(dynamodb: &aws_sdk_dynamodb::Client, table: &str, users: &[LegacyUser]) {
    common::create_ledger_table(dynamodb, table).await;
    for user in users {
        let items = entry_to_items(&LedgerEntry::pending(user.clone()), 1_700_000_000_000)
            .expect("items of a user");
        for item in items {
            dynamodb
                .put_item()
                .table_name(table)
                .set_item(Some(item))
                .send()
                .await
                .expect("PutItem");
        }
    }
}

fn legacy_user(username: &str) -> LegacyUser {
    LegacyUser::new(
        username,
        BTreeMap::from([("email".to_owned(), username.to_owned())]),
    )
}

fn custom_attribute(name: &str, mutable: bool) -> SchemaAttributeType {
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(AttributeDataType::String)
        .mutable(mutable)
        .build()
}

/// The legacy pool and the app client the trigger checks passwords with (it has a secret).
async fn set_up_legacy(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    tag: &str,
    fault: Fault,
) -> (String, String, String) {
    let legacy_pool = cognito
        .create_user_pool()
        .pool_name(format!("legacy-{tag}"))
        .send()
        .await
        .expect("legacy pool")
        .user_pool
        .unwrap();
    let legacy_pool_id = legacy_pool.id().unwrap().to_owned();
    let mut legacy_flows = vec![ExplicitAuthFlowsType::AllowRefreshTokenAuth];
    if fault != Fault::LegacyClientWithoutAdminAuth {
        legacy_flows.push(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth);
    }
    let legacy_client = cognito
        .create_user_pool_client()
        .user_pool_id(&legacy_pool_id)
        .client_name("trigger")
        .generate_secret(true)
        .set_explicit_auth_flows(Some(legacy_flows))
        .send()
        .await
        .expect("legacy client")
        .user_pool_client
        .unwrap();
    let secret = legacy_client.client_secret().unwrap().to_owned();
    (
        legacy_pool_id,
        legacy_client.client_id().unwrap().to_owned(),
        secret,
    )
}

/// The new pool, its triggers invoking `function_arn` (or `other_arn` where `fault` says).
async fn create_new_pool(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    tag: &str,
    (fault, shape): (Fault, Shape),
    function_arn: &str,
    other_arn: &str,
) -> UserPoolType {
    let mut triggers = LambdaConfigType::builder()
        .user_migration(function_arn)
        .pre_token_generation(function_arn);
    if fault != Fault::TriggerMissing {
        triggers = triggers.pre_sign_up(function_arn);
    }
    triggers = triggers.post_authentication(if fault == Fault::TriggerElsewhere {
        other_arn
    } else {
        function_arn
    });
    let mut new_pool = cognito
        .create_user_pool()
        .pool_name(format!("new-{tag}"))
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(fault == Fault::CaseSensitivePool)
                .build()
                .unwrap(),
        )
        .schema(custom_attribute("legacy_sub", false))
        .set_username_attributes(
            (!shape.username_attributes.is_empty()).then(|| shape.username_attributes.to_vec()),
        )
        .set_alias_attributes(
            (!shape.alias_attributes.is_empty()).then(|| shape.alias_attributes.to_vec()),
        )
        .lambda_config(triggers.build());
    if fault != Fault::MissingCustomAttribute {
        new_pool = new_pool.schema(custom_attribute(
            "legacy_username",
            fault == Fault::MutableLegacyAttribute,
        ));
    }
    new_pool.send().await.expect("new pool").user_pool.unwrap()
}

/// A whole migration setup, named by `tag` so several live side by side in one moto, with
/// `fault` as its only mistake.
async fn set_up(
    moto: &Moto,
    role: &str,
    tag: &str,
    (fault, shape): (Fault, Shape),
    users: &[LegacyUser],
) -> Stack {
    let sdk = moto.sdk().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);

    let (legacy_pool_id, legacy_client_id, secret) = set_up_legacy(&cognito, tag, fault).await;

    let table = format!("ledger-{tag}");
    let seeded = match (fault, users) {
        (Fault::EmptyLedger, _) => Vec::new(),
        (_, []) => vec![legacy_user("bob@example.com")],
        (_, users) => users.to_vec(),
    };
    create_ledger(&dynamodb, &table, &seeded).await;
    let configured_table = if fault == Fault::TableMissing {
        format!("no-such-table-{tag}")
    } else {
        table.clone()
    };

    let function = format!("trigger-{tag}");
    let mut variables = vec![
        ("LEGACY_USER_POOL_ID", legacy_pool_id.as_str()),
        ("LEGACY_CLIENT_ID", legacy_client_id.as_str()),
        ("LEDGER_TABLE", configured_table.as_str()),
        ("COLLISION_POLICY", "refuse"),
    ];
    if fault != Fault::LegacySecretNotConfigured {
        variables.push(("LEGACY_CLIENT_SECRET", secret.as_str()));
    }
    if let Some(value) = shape.username_variable {
        variables.push(("NEW_POOL_USERNAME_ATTRIBUTES", value));
    }
    if let Some(value) = shape.alias_variable {
        variables.push(("NEW_POOL_ALIAS_ATTRIBUTES", value));
    }
    let function_arn = create_function(&lambda, role, &function, &variables).await;
    let other_arn = create_function(&lambda, role, &format!("other-{tag}"), &[]).await;

    let new_pool = create_new_pool(&cognito, tag, (fault, shape), &function_arn, &other_arn).await;
    let new_pool_id = new_pool.id().unwrap().to_owned();

    let mut flows = vec![
        ExplicitAuthFlowsType::AllowUserSrpAuth,
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
    ];
    if fault != Fault::ClientWithoutPasswordAuth {
        flows.push(ExplicitAuthFlowsType::AllowUserPasswordAuth);
    }
    let new_client = cognito
        .create_user_pool_client()
        .user_pool_id(&new_pool_id)
        .client_name("app")
        .set_explicit_auth_flows(Some(flows))
        .write_attributes("email")
        .write_attributes("name")
        .send()
        .await
        .expect("new client")
        .user_pool_client
        .unwrap();

    if fault != Fault::NoInvokePermission {
        lambda
            .add_permission()
            .function_name(&function)
            .statement_id("cognito-new-pool")
            .action("lambda:InvokeFunction")
            .principal("cognito-idp.amazonaws.com")
            .source_arn(new_pool.arn().unwrap())
            .send()
            .await
            .expect("AddPermission");
    }

    Stack {
        function,
        new_pool_id,
        new_client_id: new_client.client_id().unwrap().to_owned(),
    }
}

/// Runs the CLI with every service on moto through its own service-specific variable, so the
/// Lambda client is shown to honour `AWS_ENDPOINT_URL_LAMBDA`.
fn doctor(moto: &Moto, stack: &Stack, extra: &[&str]) -> CliRun {
    doctor_at(&moto.endpoint, stack, extra)
}

fn doctor_at(endpoint: &str, stack: &Stack, extra: &[&str]) -> CliRun {
    let output = Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
        .args([
            "doctor",
            "--function",
            &stack.function,
            "--new-pool-id",
            &stack.new_pool_id,
            "--new-client-id",
            &stack.new_client_id,
        ])
        .args(extra)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("LEGACY_REGION")
        .env_remove("LEGACY_ROLE_ARN")
        .env("AWS_ENDPOINT_URL_LAMBDA", endpoint)
        .env("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .env("LEGACY_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("the binary runs");
    CliRun::from(output)
}

fn parse(run: &CliRun) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr))
}

fn failed_checks(report: &Value) -> BTreeSet<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["ok"] == Value::Bool(false))
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correct_setup_passes_every_check() {
    let moto = Moto::start();
    let role = create_role(&moto.endpoint);
    let stack = Box::pin(set_up(&moto, &role, "ok", (Fault::None, PLAIN), &[])).await;

    let run = doctor(&moto, &stack, &["--json"]);
    let report = parse(&run);
    assert_eq!(run.code, Some(0), "{report:#}\n{}", run.stderr);
    assert_eq!(report["ok"], Value::Bool(true));
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALL_CHECKS);
    assert!(failed_checks(&report).is_empty(), "{report:#}");
    assert_eq!(report["skipped"], Value::Array(Vec::new()));
    let ledger = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "ledger-populated")
        .unwrap();
    assert!(
        ledger["detail"]
            .as_str()
            .unwrap()
            .contains("newest indexedAtMs among the 1 items read: 1700000000000"),
        "{ledger}"
    );

    let text = doctor(&moto, &stack, &[]);
    assert_eq!(text.code, Some(0), "{}", text.stdout);
    assert!(
        text.stdout.contains("22 checks, 0 failed, 0 not checked"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("FAIL"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_misconfiguration_fails_exactly_its_check() {
    let moto = Moto::start();
    let role = create_role(&moto.endpoint);
    let cases = [
        (
            Fault::CaseSensitivePool,
            vec!["new-pool-case-insensitive"],
            "immutable",
        ),
        (
            Fault::MissingCustomAttribute,
            vec!["new-pool-custom-attributes"],
            "add-custom-attributes",
        ),
        (
            Fault::MutableLegacyAttribute,
            vec!["new-pool-legacy-attributes-immutable"],
            "create a new pool",
        ),
        (
            Fault::TriggerMissing,
            vec!["trigger-pre-sign-up"],
            "--lambda-config",
        ),
        (
            Fault::TriggerElsewhere,
            vec!["trigger-post-authentication"],
            "--lambda-config",
        ),
        (
            Fault::NoInvokePermission,
            vec!["invoke-permission"],
            "add-permission",
        ),
        (
            Fault::ClientWithoutPasswordAuth,
            vec!["new-client-auth-flow"],
            "ALLOW_USER_PASSWORD_AUTH",
        ),
        (
            Fault::LegacyClientWithoutAdminAuth,
            vec!["legacy-client-auth-flow"],
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        ),
        (
            Fault::LegacySecretNotConfigured,
            vec!["legacy-client-secret"],
            "LEGACY_CLIENT_SECRET",
        ),
        (Fault::TableMissing, vec!["ledger-table"], "LEDGER_TABLE"),
        (
            Fault::EmptyLedger,
            vec!["ledger-populated"],
            "cognito-migrate index",
        ),
    ];
    for (index, (fault, expected, fix)) in cases.into_iter().enumerate() {
        let stack = Box::pin(set_up(
            &moto,
            &role,
            &format!("f{index}"),
            (fault, PLAIN),
            &[],
        ))
        .await;
        let run = doctor(&moto, &stack, &["--json"]);
        let report = parse(&run);
        assert_eq!(run.code, Some(1), "{fault:?}: {report:#}");
        assert_eq!(report["ok"], Value::Bool(false), "{fault:?}");
        let expected: BTreeSet<String> = expected.iter().map(|&s| s.to_owned()).collect();
        assert_eq!(failed_checks(&report), expected, "{fault:?}: {report:#}");
        let failed = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["ok"] == Value::Bool(false))
            .unwrap();
        assert!(
            failed["fix"].as_str().is_some_and(|f| f.contains(fix)),
            "{fault:?}: {failed}"
        );
        // A missing table leaves nothing to scan: that check is skipped, not failed.
        if fault == Fault::TableMissing {
            assert_eq!(
                report["skipped"],
                serde_json::json!([{"name": "ledger-populated", "needs": "ledger-table"}])
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn user_shows_both_candidates_and_then_the_existing_new_user() {
    let moto = Moto::start();
    let role = create_role(&moto.endpoint);
    let users = [
        legacy_user("Alice@Example.com"),
        legacy_user("alice@example.com"),
        legacy_user("bob@example.com"),
    ];
    let stack = Box::pin(set_up(&moto, &role, "user", (Fault::None, PLAIN), &users)).await;

    let run = doctor(&moto, &stack, &["--json", "--user", "ALICE@example.COM"]);
    let report = parse(&run);
    assert_eq!(run.code, Some(0), "{report:#}");
    let user = &report["user"];
    assert_eq!(user["matchKey"], "alice@example.com");
    let candidates: Vec<(&str, &str)> = user["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["username"].as_str().unwrap(),
                c["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        candidates,
        [
            ("Alice@Example.com", "pending"),
            ("alice@example.com", "pending")
        ]
    );
    assert_eq!(user["inNewPool"], Value::Null);
    assert_eq!(user["triggerFires"], Value::Bool(true));
    let verdict = user["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with(
            "2 candidate(s) (`Alice@Example.com`, `alice@example.com`); a password check decides"
        ),
        "{verdict}"
    );
    assert!(verdict.contains("collision policy `refuse`"), "{verdict}");

    let text = doctor(&moto, &stack, &["--user", "ALICE@example.COM"]);
    assert!(
        text.stdout.contains("ledger candidates: 2"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("    - Alice@Example.com (pending, enabled, CONFIRMED)"),
        "{}",
        text.stdout
    );

    // A user already in the new pool: Cognito never asks the trigger.
    let sdk = moto.sdk().await;
    aws_sdk_cognitoidentityprovider::Client::new(&sdk)
        .admin_create_user()
        .user_pool_id(&stack.new_pool_id)
        .username("carol@example.com")
        .send()
        .await
        .expect("AdminCreateUser");
    let run = doctor(&moto, &stack, &["--json", "--user", "carol@example.com"]);
    let user = &parse(&run)["user"];
    assert_eq!(user["candidates"], serde_json::json!([]));
    assert_eq!(user["inNewPool"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(user["triggerFires"], Value::Bool(false));
    assert!(
        user["verdict"]
            .as_str()
            .unwrap()
            .contains("never invokes the migration trigger"),
        "{user}"
    );

    // Nobody at all under the key: the core refuses before any password check.
    let run = doctor(&moto, &stack, &["--json", "--user", "nobody@example.com"]);
    let user = &parse(&run)["user"];
    assert!(
        user["verdict"]
            .as_str()
            .unwrap()
            .starts_with("refused before any password check: no_candidates"),
        "{user}"
    );
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {report:#}"))
}

fn text<'a>(check: &'a Value, field: &str) -> &'a str {
    check[field].as_str().unwrap_or_default()
}

/// The attributes a fix gives one client: what follows `--client-id ID --write-attributes `.
fn fixed_attributes(fix: &str, client_id: &str) -> Vec<String> {
    let marker = format!("--client-id {client_id} --write-attributes ");
    let start = fix
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in {fix}"))
        + marker.len();
    fix[start..]
        .split(';')
        .next()
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

async fn create_client(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool_id: &str,
    name: &str,
    write_attributes: Option<Vec<String>>,
) -> String {
    cognito
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(name)
        .set_write_attributes(write_attributes)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .and_then(|c| c.client_id)
        .expect("a client id")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_app_client_that_may_write_a_legacy_attribute_fails_by_name() {
    let moto = Moto::start();
    let role = create_role(&moto.endpoint);
    let stack = Box::pin(set_up(&moto, &role, "clients", (Fault::None, PLAIN), &[])).await;
    let sdk = moto.sdk().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let pool = &stack.new_pool_id;
    // 60 well-behaved clients fill the first page of ListUserPoolClients; the two that matter
    // come after it.
    for i in 1..60 {
        create_client(
            &cognito,
            pool,
            &format!("good-{i}"),
            Some(vec!["email".into()]),
        )
        .await;
    }
    let open = create_client(&cognito, pool, "open", None).await;
    let profile = create_client(
        &cognito,
        pool,
        "profile",
        Some(vec!["email".into(), "custom:legacy_username".into()]),
    )
    .await;

    let run = doctor(&moto, &stack, &["--json"]);
    let report = parse(&run);
    assert_eq!(run.code, Some(1), "{report:#}");
    assert_eq!(
        failed_checks(&report),
        BTreeSet::from(["new-clients-cannot-write-legacy-attributes".to_owned()]),
        "{report:#}"
    );
    let failed = check(&report, "new-clients-cannot-write-legacy-attributes");
    let detail = text(failed, "detail");
    assert!(
        detail.contains(&format!(
            "app client `{open}` (`open`) may write custom:legacy_sub and custom:legacy_username (it sets no WriteAttributes, so it may write every attribute)"
        )),
        "{detail}"
    );
    assert!(
        detail.contains(&format!(
            "app client `{profile}` (`profile`) may write custom:legacy_username:"
        )),
        "{detail}"
    );
    assert!(!detail.contains(&stack.new_client_id), "{detail}");
    let fix = text(failed, "fix");
    assert!(
        fix.contains("update-user-pool-client resets every setting it is not given"),
        "{fix}"
    );
    assert_eq!(fixed_attributes(fix, &profile), ["email"]);
    let open_attributes = fixed_attributes(fix, &open);
    assert!(
        open_attributes.contains(&"email".to_owned()),
        "{open_attributes:?}"
    );
    assert!(
        open_attributes
            .iter()
            .all(|a| !a.starts_with("custom:legacy")),
        "{open_attributes:?}"
    );

    // The fix as printed makes the check pass.
    for (client, attributes) in [(&open, open_attributes), (&profile, vec!["email".into()])] {
        cognito
            .update_user_pool_client()
            .user_pool_id(pool)
            .client_id(client)
            .set_write_attributes(Some(attributes))
            .send()
            .await
            .expect("UpdateUserPoolClient");
    }
    let run = doctor(&moto, &stack, &["--json"]);
    let report = parse(&run);
    assert_eq!(run.code, Some(0), "{report:#}");
    assert_eq!(
        text(
            check(&report, "new-clients-cannot-write-legacy-attributes"),
            "detail"
        ),
        "none of the new pool's 62 app client(s) may write custom:legacy_sub or custom:legacy_username"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_function_must_name_the_new_pool_s_sign_in_attributes() {
    let moto = Moto::start();
    let role = create_role(&moto.endpoint);
    let email_pool = Shape {
        username_attributes: &[UsernameAttributeType::Email],
        ..PLAIN
    };
    let alias_pool = Shape {
        alias_attributes: &[
            AliasAttributeType::PreferredUsername,
            AliasAttributeType::Email,
        ],
        ..PLAIN
    };
    let cases = [
        (
            email_pool,
            Some("function-username-attributes"),
            "NEW_POOL_USERNAME_ATTRIBUTES = \"email\"",
        ),
        (
            Shape {
                username_variable: Some("email"),
                ..PLAIN
            },
            Some("function-username-attributes"),
            "del(.Variables.NEW_POOL_USERNAME_ATTRIBUTES)",
        ),
        (
            Shape {
                alias_variable: Some("email"),
                ..alias_pool
            },
            Some("function-alias-attributes"),
            "NEW_POOL_ALIAS_ATTRIBUTES = \"email,preferred_username\"",
        ),
        (
            Shape {
                username_variable: Some(""),
                alias_variable: Some(" email , preferred_username"),
                ..alias_pool
            },
            None,
            "",
        ),
        (
            Shape {
                username_variable: Some("email"),
                ..email_pool
            },
            None,
            "",
        ),
    ];
    for (index, (shape, failing, expected_fix)) in cases.into_iter().enumerate() {
        let stack = Box::pin(set_up(
            &moto,
            &role,
            &format!("s{index}"),
            (Fault::None, shape),
            &[],
        ))
        .await;
        let run = doctor(&moto, &stack, &["--json"]);
        let report = parse(&run);
        let expected: BTreeSet<String> = failing.iter().map(|&s| s.to_owned()).collect();
        assert_eq!(failed_checks(&report), expected, "{shape:?}: {report:#}");
        let Some(failing) = failing else {
            assert_eq!(run.code, Some(0), "{shape:?}: {report:#}");
            continue;
        };
        assert_eq!(run.code, Some(1), "{shape:?}: {report:#}");
        let fix = text(check(&report, failing), "fix");
        assert!(
            fix.starts_with(&format!(
                "aws lambda update-function-configuration --function-name {} --environment",
                stack.function
            )),
            "{fix}"
        );
        assert!(fix.contains(expected_fix), "{shape:?}: {fix}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_read_is_one_line_with_the_service_s_code_and_message() {
    let moto = Moto::start();
    let nothing = Stack {
        function: "no-such-function".into(),
        new_pool_id: "us-east-1_Nowhere00".into(),
        new_client_id: "no-such-client".into(),
    };
    let run = doctor(&moto, &nothing, &[]);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let failures: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("  FAIL  "))
        .collect();
    let function = failures
        .iter()
        .find(|line| line.starts_with("  FAIL  function: "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        function.contains("ResourceNotFoundException: Function not found"),
        "{function}"
    );
    assert!(function.contains(" | fix: Give --function"), "{function}");
    let pool = failures
        .iter()
        .find(|line| line.starts_with("  FAIL  new-pool: "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(pool.contains("ResourceNotFoundException: "), "{pool}");
    // Every other line is the header, a skip, or the tally: nothing of a failure spills over.
    for line in run.stdout.lines() {
        assert!(
            line.starts_with("doctor: ")
                || line.starts_with("  FAIL  ")
                || line.starts_with("  skip  ")
                || line.ends_with(" not checked"),
            "{line}"
        );
    }
    for dump in ["headers", "HttpResponse", "extensions", "ServiceError {"] {
        assert!(!run.stdout.contains(dump), "{dump}: {}", run.stdout);
    }

    // No answer at all: the error and its causes, still one line.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let run = doctor_at(&format!("http://{closed}"), &nothing, &["--json"]);
    let report = parse(&run);
    let detail = text(check(&report, "function"), "detail");
    assert!(detail.contains("dispatch failure"), "{detail}");
    assert!(
        !detail.contains('\n') && !detail.contains("headers"),
        "{detail}"
    );
}
