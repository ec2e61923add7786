//! Answers moto's server cannot give, injected with `aws-smithy-mocks` into the real legacy
//! client (same timeouts and retries); the ledger stays on moto.

mod support;

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::{
    AdminInitiateAuthError, AdminInitiateAuthOutput,
};
use aws_sdk_cognitoidentityprovider::types::error::{
    TooManyRequestsException, UserNotConfirmedException,
};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, ChallengeNameType, UserStatusType};
use aws_smithy_mocks::{MockResponseInterceptor, Rule, create_mock_http_client, mock};
use cognito_migrate_aws::legacy_pool::LegacyPool;
use cognito_migrate_core::ledger::MigrationState;
use cognito_migrate_lambda::handler::{Deps, handle};
use support::{PASSWORD, Stack, sign_in};

/// Deps whose legacy pool answers from `rule`, over the real client configuration.
async fn deps_with_legacy(stack: &Stack, rule: &Rule, extra: &[(&str, &str)]) -> Deps {
    deps_with_rules(stack, &[rule], extra).await
}

/// Deps whose legacy pool answers from `rules`.
async fn deps_with_rules(stack: &Stack, rules: &[&Rule], extra: &[(&str, &str)]) -> Deps {
    let config = stack.config(extra);
    let mut clients = stack.clients(&config).await;
    let real = support::legacy_client(&stack.sdk, &config).await;
    let interceptor = rules
        .iter()
        .fold(MockResponseInterceptor::new(), |i, rule| i.with_rule(rule));
    let mocked = Client::from_conf(
        real.config()
            .to_builder()
            .http_client(create_mock_http_client())
            .interceptor(interceptor)
            .build(),
    );
    clients.legacy = LegacyPool::new(mocked, &config.legacy);
    Deps::ready(config, clients)
}

async fn stack_with_mia() -> Stack {
    let stack = Stack::new().await;
    stack
        .create_user(
            "Mia",
            &[
                ("email", "mia@acme.test"),
                ("email_verified", "true"),
                ("phone_number", "+15550111"),
            ],
            PASSWORD,
        )
        .await;
    stack.index().await;
    stack
}

#[tokio::test]
async fn throttling_fails_closed_within_the_deadline() {
    let stack = stack_with_mia().await;
    let rule = mock!(Client::admin_initiate_auth).then_error(|| {
        AdminInitiateAuthError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .message("Rate exceeded")
                .build(),
        )
    });
    let deps = deps_with_legacy(&stack, &rule, &[]).await;
    let event = sign_in("MIA", PASSWORD);
    let started = Instant::now();
    let response = handle(&deps, event.clone()).await.unwrap();
    assert_eq!(response, event);
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "{:?}",
        started.elapsed()
    );
    assert!(rule.num_calls() >= 1);
    assert!(
        stack
            .ledger_items()
            .await
            .iter()
            .all(|(_, _, r)| r.entry.state == MigrationState::Pending)
    );
}

#[tokio::test]
async fn unconfirmed_legacy_users_are_refused() {
    // moto confirms nothing on ADMIN_USER_PASSWORD_AUTH; real Cognito answers this.
    let stack = stack_with_mia().await;
    let rule = mock!(Client::admin_initiate_auth).then_error(|| {
        AdminInitiateAuthError::UserNotConfirmedException(
            UserNotConfirmedException::builder()
                .message("User is not confirmed.")
                .build(),
        )
    });
    let deps = deps_with_legacy(&stack, &rule, &[]).await;
    let event = sign_in("mia", PASSWORD);
    assert_eq!(handle(&deps, event.clone()).await.unwrap(), event);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn totp_only_users_cannot_keep_their_factor() {
    // moto's challenge needs a verified software token; the answer is what Cognito sends.
    let stack = stack_with_mia().await;
    let rule = mock!(Client::admin_initiate_auth).then_output(|| {
        AdminInitiateAuthOutput::builder()
            .challenge_name(ChallengeNameType::SoftwareTokenMfa)
            .session("s")
            .build()
    });
    // Before approving, the trigger reads Mia again.
    let mia = mock!(Client::admin_get_user).then_output(|| {
        AdminGetUserOutput::builder()
            .username("Mia")
            .enabled(true)
            .user_status(UserStatusType::Confirmed)
            .user_attributes(attribute("email", "mia@acme.test"))
            .user_attributes(attribute("email_verified", "true"))
            .user_attributes(attribute("phone_number", "+15550111"))
            .user_attributes(attribute("sub", "mia-sub"))
            .build()
            .unwrap()
    });
    let event = sign_in("mia", PASSWORD);
    let keep_sms = deps_with_rules(&stack, &[&rule, &mia], &[("MFA_POLICY", "sms")]).await;
    assert_eq!(
        handle(&keep_sms, event.clone()).await.unwrap(),
        event,
        "TOTP cannot be carried over"
    );
    let reset = deps_with_rules(&stack, &[&rule, &mia], &[("MFA_POLICY", "reset-required")]).await;
    let response = handle(&reset, event).await.unwrap();
    assert_eq!(response["response"]["finalUserStatus"], "RESET_REQUIRED");
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}
