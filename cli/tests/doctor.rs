//! `doctor` against a moto server (Cognito, `DynamoDB`, Lambda, IAM): a correct setup passes
//! every check, and each misconfiguration that makes a migration do nothing fails exactly its
//! own check.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::Command;

use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, ExplicitAuthFlowsType, LambdaConfigType, SchemaAttributeType,
    UsernameConfigurationType,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use cognito_migrate_aws::ledger::entry_to_items;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::user::LegacyUser;
use common::{CliRun, Moto};
use serde_json::Value;

/// Every check doctor runs when given a new client id.
const ALL_CHECKS: [&str; 19] = [
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
    "new-client",
    "new-client-auth-flow",
    "new-client-write-attributes",
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
    TriggerMissing,
    TriggerElsewhere,
    NoInvokePermission,
    ClientWithoutPasswordAuth,
    LegacyClientWithoutAdminAuth,
    LegacySecretNotConfigured,
    TableMissing,
    EmptyLedger,
}

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

fn custom_attribute(name: &str) -> SchemaAttributeType {
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(AttributeDataType::String)
        .mutable(false)
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

/// A whole migration setup, named by `tag` so several live side by side in one moto, with
/// `fault` as its only mistake.
async fn set_up(moto: &Moto, role: &str, tag: &str, fault: Fault, users: &[LegacyUser]) -> Stack {
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
    let function_arn = create_function(&lambda, role, &function, &variables).await;
    let other_arn = create_function(&lambda, role, &format!("other-{tag}"), &[]).await;

    let mut triggers = LambdaConfigType::builder()
        .user_migration(&function_arn)
        .pre_token_generation(&function_arn);
    if fault != Fault::TriggerMissing {
        triggers = triggers.pre_sign_up(&function_arn);
    }
    triggers = triggers.post_authentication(if fault == Fault::TriggerElsewhere {
        &other_arn
    } else {
        &function_arn
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
        .schema(custom_attribute("legacy_sub"))
        .lambda_config(triggers.build());
    if fault != Fault::MissingCustomAttribute {
        new_pool = new_pool.schema(custom_attribute("legacy_username"));
    }
    let new_pool = new_pool.send().await.expect("new pool").user_pool.unwrap();
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
        .write_attributes("custom:legacy_sub")
        .write_attributes("custom:legacy_username")
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
        .env("AWS_ENDPOINT_URL_LAMBDA", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &moto.endpoint)
        .env("LEGACY_ENDPOINT_URL", &moto.endpoint)
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
    let stack = Box::pin(set_up(&moto, &role, "ok", Fault::None, &[])).await;

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
        text.stdout.contains("19 checks, 0 failed, 0 not checked"),
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
        let stack = Box::pin(set_up(&moto, &role, &format!("f{index}"), fault, &[])).await;
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
    let stack = Box::pin(set_up(&moto, &role, "user", Fault::None, &users)).await;

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
