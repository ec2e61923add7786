//! Handler time per sign-in migration without network: every AWS answer comes from
//! `aws-smithy-mocks` on the real clients (the ledger query, the password check, the live read
//! of the legacy user and the ledger write; the legacy pool's settings, read once per
//! container, are absent, so the strict default applies). `cargo run --release -p cognito-migrate-lambda --example handler_bench`

use std::time::Instant;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthenticationResultType, UserStatusType,
};
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, create_mock_http_client, mock};
use cognito_migrate_aws::Clients;
use cognito_migrate_aws::ledger::{Ledger, SIGN_IN, entry_to_items};
use cognito_migrate_aws::legacy_pool::LegacyPool;
use cognito_migrate_aws::new_pool::NewPool;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::user::LegacyUser;
use cognito_migrate_lambda::config::Config;
use cognito_migrate_lambda::{Deps, handle};

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules
        .iter()
        .fold(MockResponseInterceptor::new(), |i, r| i.with_rule(r))
}

/// The ledger's record of the legacy pool's settings (read once, then kept) and the legacy
/// user read again before the approval.
fn settings_and_live_read() -> (Rule, Rule) {
    // The legacy pool's settings as `index` records them: read once, then kept.
    let settings = mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| {
        GetItemOutput::builder()
            .item(
                SIGN_IN,
                AttributeValue::S(serde_json::json!({}).to_string()),
            )
            .build()
    });
    let attribute = |name: &str, value: &str| {
        AttributeType::builder()
            .name(name)
            .value(value)
            .build()
            .expect("name is set")
    };
    let live =
        mock!(aws_sdk_cognitoidentityprovider::Client::admin_get_user).then_output(move || {
            AdminGetUserOutput::builder()
                .username("JaneDoe")
                .enabled(true)
                .user_status(UserStatusType::Confirmed)
                .user_attributes(attribute("email", "Jane.Doe@Example.com"))
                .user_attributes(attribute("email_verified", "true"))
                .user_attributes(attribute("sub", "s"))
                .build()
                .expect("username is set")
        });
    (settings, live)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .load()
        .await;
    let env = [
        ("LEGACY_USER_POOL_ID", "us-east-1_Legacy1"),
        ("LEGACY_CLIENT_ID", "c"),
        ("LEDGER_TABLE", "ledger"),
    ];
    let config = Config::from_lookup(|name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })?;

    let user = LegacyUser::new(
        "JaneDoe",
        [
            ("email".to_owned(), "Jane.Doe@Example.com".to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
            ("sub".to_owned(), "s".to_owned()),
        ]
        .into(),
    );
    let items = entry_to_items(&LedgerEntry::pending(user), 0)?;
    let item = items[0].clone();
    let query = mock!(aws_sdk_dynamodb::Client::query)
        .then_output(move || QueryOutput::builder().items(item.clone()).build());
    let write = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let auth =
        mock!(aws_sdk_cognitoidentityprovider::Client::admin_initiate_auth).then_output(|| {
            AdminInitiateAuthOutput::builder()
                .authentication_result(
                    AuthenticationResultType::builder()
                        .access_token("a")
                        .build(),
                )
                .build()
        });
    let (settings, live) = settings_and_live_read();
    let cognito = |rules: &[&Rule]| {
        aws_sdk_cognitoidentityprovider::Client::from_conf(
            aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
                .http_client(create_mock_http_client())
                .interceptor(interceptor(rules))
                .build(),
        )
    };
    let ledger = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .http_client(create_mock_http_client())
            .interceptor(interceptor(&[&settings, &query, &write]))
            .build(),
    );
    let clients = Clients {
        legacy: LegacyPool::new(cognito(&[&auth, &live]), &config.legacy),
        new_pool: NewPool::new(cognito(&[])),
        ledger: Ledger::new(ledger, &config.ledger_table),
    };
    let deps = Deps::ready(config, clients);
    let event: serde_json::Value = serde_json::from_str(include_str!(
        "../tests/fixtures/user_migration_authentication.json"
    ))?;
    let mut event = event;
    event["userName"] = "jane.doe@example.com".into();
    event["request"]["password"] = "pw".into();

    for _ in 0..200 {
        handle(&deps, event.clone()).await.ok();
    }
    let runs = 2_000u32;
    let started = Instant::now();
    for _ in 0..runs {
        let response = handle(&deps, event.clone()).await?;
        anyhow::ensure!(
            response["response"]["finalUserStatus"] == "CONFIRMED",
            "the migration was not approved: {response}"
        );
    }
    let per = started.elapsed() / runs;
    println!("handler per sign-in migration (4 mocked AWS calls, no network): {per:?}");
    Ok(())
}
