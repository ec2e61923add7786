//! The new pool: who holds an alias value before a migration sets it, and the group copy after
//! a migrated user's first sign-in. Every call the trigger makes on the new pool is in this
//! file.

use std::collections::BTreeSet;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::create_group::CreateGroupError;
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::user::LegacyUser;

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

    /// The users whose `attribute` (a standard attribute `ListUsers` can filter on) equals
    /// `value`, all pages, read as user records.
    pub async fn users_with(
        &self,
        user_pool_id: &str,
        attribute: &str,
        value: &str,
    ) -> Result<Vec<LegacyUser>, AwsError> {
        let mut pages = self
            .client
            .list_users()
            .user_pool_id(user_pool_id)
            .filter(list_users_filter(attribute, value))
            .limit(60)
            .into_paginator()
            .send();
        let mut users = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("ListUsers", &e))?;
            users.extend(
                page.users()
                    .iter()
                    .filter_map(crate::sdk_user::from_user_type),
            );
        }
        Ok(users)
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

/// A `ListUsers` filter `attribute = "value"`, with `\` and `"` escaped inside the value.
fn list_users_filter(attribute: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{attribute} = \"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::list_users_filter;

    #[test]
    fn a_filter_quotes_its_value() {
        assert_eq!(
            list_users_filter("email", "name@acme.com"),
            r#"email = "name@acme.com""#
        );
        assert_eq!(
            list_users_filter("preferred_username", r#"a"b\c"#),
            r#"preferred_username = "a\"b\\c""#
        );
    }
}
