//! The new pool: the group copy after a migrated user's first sign-in. Every call the trigger
//! makes on the new pool is in this file.

use std::collections::BTreeSet;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::create_group::CreateGroupError;
use cognito_migrate_core::groups::GroupSpec;

use crate::error::AwsError;

/// The new (case-insensitive) pool.
#[derive(Debug, Clone)]
pub struct NewPool {
    client: Client,
}

impl NewPool {
    /// The new pool reached through `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The client, for the operator calls of [`crate::cli`].
    #[must_use]
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The names of every group of the pool, all pages (60 a page).
    pub async fn group_names(&self, user_pool_id: &str) -> Result<BTreeSet<String>, AwsError> {
        let mut pages = self
            .client
            .list_groups()
            .user_pool_id(user_pool_id)
            .limit(60)
            .into_paginator()
            .send();
        let mut names = BTreeSet::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListGroups", &e))?;
            names.extend(
                page.groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_owned)),
            );
        }
        Ok(names)
    }

    /// The names of the groups `username` belongs to, all pages.
    pub async fn groups_of(
        &self,
        user_pool_id: &str,
        username: &str,
    ) -> Result<BTreeSet<String>, AwsError> {
        let mut pages = self
            .client
            .admin_list_groups_for_user()
            .user_pool_id(user_pool_id)
            .username(username)
            .limit(60)
            .into_paginator()
            .send();
        let mut names = BTreeSet::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("AdminListGroupsForUser", &e))?;
            names.extend(
                page.groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_owned)),
            );
        }
        Ok(names)
    }

    /// Creates a group with the legacy description, precedence and role. A group that exists
    /// already (another sign-in created it meanwhile) is fine.
    pub async fn create_group(
        &self,
        user_pool_id: &str,
        group: &GroupSpec,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .create_group()
            .user_pool_id(user_pool_id)
            .group_name(&group.name)
            .set_description(group.description.clone())
            .set_precedence(group.precedence)
            .set_role_arn(group.role_arn.clone())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(CreateGroupError::GroupExistsException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(AwsError::from_sdk("CreateGroup", &error)),
        }
    }

    /// Adds `username` to `group` (idempotent in Cognito).
    pub async fn add_user_to_group(
        &self,
        user_pool_id: &str,
        username: &str,
        group: &str,
    ) -> Result<(), AwsError> {
        self.client
            .admin_add_user_to_group()
            .user_pool_id(user_pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("AdminAddUserToGroup", &e))
    }
}
