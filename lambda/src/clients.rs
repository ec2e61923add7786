//! The AWS clients, built once per container (or once per CLI run) from the configuration.

use std::time::Duration;

use aws_config::Region;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::config::{Config, LegacyPoolConfig};
use crate::ledger::Ledger;
use crate::legacy::LegacyPool;
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

/// The three resources the trigger and the CLI work on.
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
    pub async fn from_config(config: &Config, sdk: &SdkConfig) -> Self {
        Self {
            legacy: LegacyPool::new(legacy_client(&config.legacy, sdk).await, &config.legacy),
            new_pool: NewPool::new(aws_sdk_cognitoidentityprovider::Client::new(sdk)),
            // The trigger keeps the ledger's counters as it migrates, so that
            // `cognito-migrate status` sees sign-ins without rescanning the table.
            ledger: Ledger::new(aws_sdk_dynamodb::Client::new(sdk), &config.ledger_table)
                .with_counters(true),
        }
    }
}

/// The legacy pool's client: its own region, endpoint and (across accounts) credentials.
pub async fn legacy_client(
    legacy: &LegacyPoolConfig,
    sdk: &SdkConfig,
) -> aws_sdk_cognitoidentityprovider::Client {
    let region = legacy.region.clone().map(Region::new);
    let mut builder = aws_sdk_cognitoidentityprovider::config::Builder::from(sdk);
    if let Some(region) = &region {
        builder = builder.region(region.clone());
    }
    if let Some(url) = &legacy.endpoint_url {
        builder = builder.endpoint_url(url);
    }
    if let Some(role_arn) = &legacy.role_arn {
        builder = builder.credentials_provider(
            legacy_role::assumed_role_credentials(sdk, role_arn, region).await,
        );
    }
    aws_sdk_cognitoidentityprovider::Client::from_conf(builder.build())
}
