//! The AWS clients of one CLI run.
//!
//! Endpoints come only from the SDK's standard sources (`AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, `AWS_ENDPOINT_URL_DYNAMODB`, profiles), plus
//! `--legacy-endpoint-url` for the legacy pool, which may sit elsewhere than the new one.

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Where the legacy pool is and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct LegacyAccess {
    /// `--legacy-region`: otherwise the pool id's prefix, otherwise the SDK's region.
    pub region: Option<String>,
    /// `--legacy-endpoint-url`.
    pub endpoint_url: Option<String>,
    /// `--legacy-role-arn`: a role assumed through STS for every legacy-pool call.
    pub role_arn: Option<String>,
}

/// The SDK configuration from the environment, with `--region` on top when given.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    // The scans add their own longer backoff; the SDK's few quick attempts stay underneath.
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::standard());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader.load().await
}

/// The region prefix of a pool id when it looks like a region (`eu-west-1_AbC` gives
/// `eu-west-1`); local servers use prefixes such as `us-east-1` too, or none at all.
fn region_of_pool(pool_id: &str) -> Option<&str> {
    let (region, _) = pool_id.split_once('_')?;
    let looks_like_region = region.split('-').count() >= 3
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    looks_like_region.then_some(region)
}

/// The legacy pool's Cognito client.
pub async fn legacy_client(
    sdk: &SdkConfig,
    access: &LegacyAccess,
    pool_id: &str,
) -> aws_sdk_cognitoidentityprovider::Client {
    let region = access
        .region
        .clone()
        .or_else(|| region_of_pool(pool_id).map(str::to_owned))
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
        let mut provider = AssumeRoleProvider::builder(role_arn)
            .session_name("cognito-migrate-cli")
            .configure(sdk);
        if let Some(region) = region {
            provider = provider.region(region);
        }
        builder = builder.credentials_provider(provider.build().await);
    }
    aws_sdk_cognitoidentityprovider::Client::from_conf(builder.build())
}

/// The ledger table's `DynamoDB` client.
#[must_use]
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_region_from_real_pool_ids_only() {
        assert_eq!(region_of_pool("eu-west-1_AbC123"), Some("eu-west-1"));
        assert_eq!(region_of_pool("local_AbC"), None);
        assert_eq!(region_of_pool("nounderscore"), None);
    }
}
