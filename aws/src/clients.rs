//! The AWS clients, built once per container (or once per CLI run), and the one builder of the
//! legacy pool's client.
//!
//! Endpoints come only from the SDK's standard sources (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, `AWS_ENDPOINT_URL_DYNAMODB`, profiles), plus
//! the legacy pool's own endpoint, which may sit elsewhere than the new one.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::Region;
pub use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

use cognito_migrate_core::settings::{LegacyPoolConfig, TriggerConfig, pool_id_region};

use crate::ledger::Ledger;
use crate::legacy_pool::LegacyPool;
use crate::legacy_role;
use crate::new_pool::NewPool;

/// Per-call budget: one attempt may take `ATTEMPT`, all attempts together `OPERATION`, so a
/// slow or throttling service cannot hold an invocation past Cognito's 5 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(1500);
/// See [`OPERATION_TIMEOUT`].
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// Connecting is the first part of an attempt.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// One retry at most: a second throttle means the budget is better spent failing closed.
pub const MAX_ATTEMPTS: u32 = 2;

/// Timeouts of every client the trigger uses.
#[must_use]
pub fn trigger_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Retries of every client the trigger uses.
#[must_use]
pub fn trigger_retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

/// The shared SDK configuration from the environment (credentials, region, and the SDK's
/// standard `AWS_ENDPOINT_URL*` variables), with the trigger's timeouts and retries.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(trigger_timeouts())
        .retry_config(trigger_retries())
        .load()
        .await
}

/// The SDK configuration of an operator run, from the environment, with `region` on top when
/// given. The scans add their own longer backoff; the SDK's few quick attempts stay
/// underneath.
pub async fn load_operator_sdk_config(region: Option<&str>) -> SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::standard());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader.load().await
}

/// The three resources the trigger works on.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The legacy pool.
    pub legacy: LegacyPool,
    /// The new pool.
    pub new_pool: NewPool,
    /// The ledger table.
    pub ledger: Ledger,
}

impl Clients {
    /// Builds every client from `config` over a loaded SDK configuration.
    pub async fn from_config(config: &TriggerConfig, sdk: &SdkConfig) -> Self {
        let legacy = legacy_client(
            sdk,
            &LegacyAccess::of_trigger(&config.legacy),
            &config.legacy.user_pool_id,
        )
        .await;
        Self {
            legacy: LegacyPool::new(legacy, &config.legacy),
            new_pool: NewPool::new(aws_sdk_cognitoidentityprovider::Client::new(sdk)),
            // The trigger keeps the ledger's counters as it migrates, so that
            // `cognito-migrate status` sees sign-ins without rescanning the table.
            ledger: Ledger::new(aws_sdk_dynamodb::Client::new(sdk), &config.ledger_table)
                .with_counters(true),
        }
    }
}

/// Where the legacy pool is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAccess {
    /// The legacy pool's Region; otherwise the pool id's, otherwise the SDK's.
    pub region: Option<String>,
    /// Another endpoint for the legacy pool (a VPC endpoint, or a local server).
    pub endpoint_url: Option<String>,
    /// A role assumed through STS for every legacy-pool call.
    pub role_arn: Option<String>,
    /// The STS session name, which tells in `CloudTrail` who assumed the role.
    pub session_name: &'static str,
}

impl LegacyAccess {
    /// The trigger's access, from its configuration.
    #[must_use]
    pub fn of_trigger(config: &LegacyPoolConfig) -> Self {
        Self {
            region: config.region.clone(),
            endpoint_url: config.endpoint_url.clone(),
            role_arn: config.role_arn.clone(),
            session_name: "cognito-migrate-trigger",
        }
    }

    /// The operator CLI's access, from its options.
    #[must_use]
    pub fn of_operator(
        region: Option<String>,
        endpoint_url: Option<String>,
        role_arn: Option<String>,
    ) -> Self {
        Self {
            region,
            endpoint_url,
            role_arn,
            session_name: "cognito-migrate-cli",
        }
    }

    /// The Region the legacy pool's calls go to: the one given, otherwise the pool id's
    /// (see [`pool_id_region`]), otherwise `None` (the SDK's).
    #[must_use]
    pub fn region_for(&self, pool_id: &str) -> Option<String> {
        self.region
            .clone()
            .or_else(|| pool_id_region(pool_id).ok().flatten().map(str::to_owned))
    }
}

/// The legacy pool's client: its own Region, endpoint and (across accounts) credentials.
pub async fn legacy_client(
    sdk: &SdkConfig,
    access: &LegacyAccess,
    pool_id: &str,
) -> aws_sdk_cognitoidentityprovider::Client {
    let region = access
        .region_for(pool_id)
        .map(Region::new)
        .or_else(|| sdk.region().cloned());
    let mut builder = aws_sdk_cognitoidentityprovider::config::Builder::from(sdk);
    if let Some(region) = &region {
        builder = builder.region(region.clone());
    }
    if let Some(url) = &access.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    if let Some(role_arn) = &access.role_arn {
        builder = builder.credentials_provider(
            legacy_role::assumed_role_credentials(sdk, role_arn, access.session_name, region).await,
        );
    }
    aws_sdk_cognitoidentityprovider::Client::from_conf(builder.build())
}

/// The new pool's Cognito client.
#[must_use]
pub fn cognito_client(sdk: &SdkConfig) -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::new(sdk)
}

/// The ledger table's `DynamoDB` client.
#[must_use]
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

/// The Lambda client (`doctor` reads the trigger's configuration with it).
#[must_use]
pub fn lambda_client(sdk: &SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(sdk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_region_comes_from_the_option_then_the_pool_id() {
        let none = LegacyAccess::of_operator(None, None, None);
        assert_eq!(
            none.region_for("eu-west-1_AbC123").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(none.region_for("local_AbC"), None);
        assert_eq!(none.region_for("nounderscore"), None);
        let given = LegacyAccess::of_operator(Some("us-east-2".into()), None, None);
        assert_eq!(
            given.region_for("eu-west-1_AbC123").as_deref(),
            Some("us-east-2")
        );
    }

    #[tokio::test]
    async fn both_edges_build_the_legacy_client_the_same_way() {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let config = TriggerConfig::from_lookup(|name| {
            match name {
                "LEGACY_USER_POOL_ID" => Some("eu-west-1_AbC123"),
                "LEGACY_CLIENT_ID" => Some("client"),
                "LEDGER_TABLE" => Some("ledger"),
                "LEGACY_ENDPOINT_URL" => Some("http://127.0.0.1:5399"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap();
        let trigger = LegacyAccess::of_trigger(&config.legacy);
        let operator = LegacyAccess::of_operator(None, config.legacy.endpoint_url.clone(), None);
        for access in [trigger, operator] {
            let client = legacy_client(&sdk, &access, &config.legacy.user_pool_id).await;
            assert_eq!(
                client.config().region().map(Region::as_ref),
                Some("eu-west-1")
            );
        }
        let local = legacy_client(
            &sdk,
            &LegacyAccess::of_operator(None, None, None),
            "local_x",
        )
        .await;
        assert_eq!(
            local.config().region().map(Region::as_ref),
            Some("us-east-1")
        );
    }
}
