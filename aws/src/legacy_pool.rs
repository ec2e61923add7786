//! The legacy pool: password checks, exact lookups and group listings. Every call the trigger
//! makes on the legacy pool is in this file.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_initiate_auth::AdminInitiateAuthError;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use base64::Engine;
use cognito_migrate_core::event::Password;
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::migrate::{Challenge, PasswordOutcome};
use cognito_migrate_core::settings::LegacyPoolConfig;
use cognito_migrate_core::user::LegacyUser;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::AwsError;
use crate::sdk_user;

/// `SECRET_HASH`: Base64(HMAC-SHA256(client secret, username + client id)).
#[must_use]
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The legacy pool and the app client that checks passwords.
#[derive(Clone)]
pub struct LegacyPool {
    client: Client,
    user_pool_id: String,
    client_id: String,
    client_secret: Option<String>,
}

impl std::fmt::Debug for LegacyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyPool")
            .field("user_pool_id", &self.user_pool_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl LegacyPool {
    /// The legacy pool of `config`, reached through `client`.
    #[must_use]
    pub fn new(client: Client, config: &LegacyPoolConfig) -> Self {
        Self {
            client,
            user_pool_id: config.user_pool_id.clone(),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
        }
    }

    /// The legacy pool id.
    #[must_use]
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    /// Checks `password` for the exact legacy `username` with `ADMIN_USER_PASSWORD_AUTH`.
    /// Tokens the legacy pool returns are dropped at once. An error is a failure to get an
    /// answer (throttling, timeout, a server error): the caller fails closed.
    pub async fn check_password(
        &self,
        username: &str,
        password: &Password,
    ) -> Result<PasswordOutcome, AwsError> {
        let mut parameters = std::collections::HashMap::from([
            ("USERNAME".to_owned(), username.to_owned()),
            ("PASSWORD".to_owned(), password.expose().to_owned()),
        ]);
        if let Some(secret) = &self.client_secret {
            parameters.insert(
                "SECRET_HASH".to_owned(),
                secret_hash(secret, username, &self.client_id),
            );
        }
        let answer = self
            .client
            .admin_initiate_auth()
            .user_pool_id(&self.user_pool_id)
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .set_auth_parameters(Some(parameters))
            .send()
            .await;
        match answer {
            Ok(answer) => Ok(match answer.challenge_name() {
                Some(challenge) => PasswordOutcome::Challenge(Challenge::parse(challenge.as_str())),
                None if answer.authentication_result().is_some() => PasswordOutcome::Accepted,
                None => {
                    return Err(AwsError::Transport {
                        operation: "AdminInitiateAuth",
                        kind: "neither tokens nor a challenge",
                    });
                }
            }),
            Err(error) => match error.as_service_error() {
                Some(AdminInitiateAuthError::NotAuthorizedException(e)) => {
                    Ok(if e.message() == Some("User is disabled.") {
                        PasswordOutcome::Disabled
                    } else {
                        PasswordOutcome::WrongPassword
                    })
                }
                Some(AdminInitiateAuthError::UserNotFoundException(_)) => {
                    Ok(PasswordOutcome::UserNotFound)
                }
                Some(AdminInitiateAuthError::PasswordResetRequiredException(_)) => {
                    Ok(PasswordOutcome::ResetRequired)
                }
                Some(AdminInitiateAuthError::UserNotConfirmedException(_)) => {
                    Ok(PasswordOutcome::NotConfirmed)
                }
                _ => Err(AwsError::from_sdk("AdminInitiateAuth", &error)),
            },
        }
    }

    /// The user with exactly this username or alias, or `None`.
    pub async fn get_user(&self, username: &str) -> Result<Option<LegacyUser>, AwsError> {
        match self
            .client
            .admin_get_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .send()
            .await
        {
            Ok(answer) => Ok(Some(sdk_user::from_admin_get_user(&answer))),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(AdminGetUserError::UserNotFoundException(_))
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(AwsError::from_sdk("AdminGetUser", &error)),
        }
    }

    /// Every group of the exact legacy `username`, all pages, with description, precedence
    /// and role.
    pub async fn groups_of(&self, username: &str) -> Result<Vec<GroupSpec>, AwsError> {
        let mut pages = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(&self.user_pool_id)
            .username(username)
            .limit(60)
            .into_paginator()
            .send();
        let mut groups = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("AdminListGroupsForUser", &e))?;
            groups.extend(page.groups().iter().filter_map(sdk_user::group_spec));
        }
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_a_known_value() {
        // HMAC-SHA256("secret", "aliceclient") computed independently (Python hmac + base64).
        assert_eq!(
            secret_hash("secret", "alice", "client"),
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        );
    }
}
