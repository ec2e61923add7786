//! STS credentials for the legacy pool, when it lives in another account: the only STS use of
//! the trigger (`sts:AssumeRole` on `LEGACY_ROLE_ARN`), and of the CLI's `--legacy-role-arn`.

use aws_config::Region;
use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;

/// Credentials for the legacy pool's client from assuming `role_arn`, refreshed by the SDK.
pub async fn assumed_role_credentials(
    sdk: &SdkConfig,
    role_arn: &str,
    session_name: &str,
    region: Option<Region>,
) -> AssumeRoleProvider {
    let mut builder = AssumeRoleProvider::builder(role_arn)
        .session_name(session_name)
        .configure(sdk);
    if let Some(region) = region {
        builder = builder.region(region);
    }
    builder.build().await
}
