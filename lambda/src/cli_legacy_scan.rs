//! The operator's full scan of the legacy pool for `cognito-migrate index`. Only the CLI runs
//! these calls (`ListUsers`, `ListUsersInGroup`, `ListGroups`), so they are not the trigger's
//! permissions and live apart from [`crate::legacy`].

use std::collections::BTreeMap;

use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::user::LegacyUser;

use crate::error::AwsError;
use crate::legacy::LegacyPool;
use crate::sdk_user;

/// Cognito's largest page for `ListUsers`, `ListUsersInGroup` and `ListGroups`.
pub const PAGE_SIZE: i32 = 60;

/// Every user of the legacy pool, page by page, in one sequential chain (`ListUsers` tokens
/// cannot be split). The callback sees each page as soon as it arrives, so the caller can
/// write it to the ledger while the next one is fetched; it returns how many users it saw.
pub async fn scan_users<F, Fut>(legacy: &LegacyPool, mut on_page: F) -> Result<usize, AwsError>
where
    F: FnMut(Vec<LegacyUser>) -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    let mut pages = legacy
        .client()
        .list_users()
        .user_pool_id(legacy.user_pool_id())
        .limit(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut seen = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListUsers", &e))?;
        let users: Vec<LegacyUser> = page
            .users()
            .iter()
            .filter_map(sdk_user::from_user_type)
            .collect();
        seen += users.len();
        on_page(users).await?;
    }
    Ok(seen)
}

/// Every group of the legacy pool, all pages.
pub async fn all_groups(legacy: &LegacyPool) -> Result<Vec<GroupSpec>, AwsError> {
    let mut pages = legacy
        .client()
        .list_groups()
        .user_pool_id(legacy.user_pool_id())
        .limit(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListGroups", &e))?;
        groups.extend(page.groups().iter().filter_map(sdk_user::group_spec));
    }
    Ok(groups)
}

/// The usernames of one group's members, all pages.
pub async fn group_members(legacy: &LegacyPool, group: &str) -> Result<Vec<String>, AwsError> {
    let mut pages = legacy
        .client()
        .list_users_in_group()
        .user_pool_id(legacy.user_pool_id())
        .group_name(group)
        .limit(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut members = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("ListUsersInGroup", &e))?;
        members.extend(
            page.users()
                .iter()
                .filter_map(|u| u.username().map(str::to_owned)),
        );
    }
    Ok(members)
}

/// Username to group names, from every group's member list: fewer calls than one
/// `AdminListGroupsForUser` per user when groups are few and users many.
pub async fn memberships(legacy: &LegacyPool) -> Result<BTreeMap<String, Vec<String>>, AwsError> {
    let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for group in all_groups(legacy).await? {
        for member in group_members(legacy, &group.name).await? {
            by_user.entry(member).or_default().push(group.name.clone());
        }
    }
    Ok(by_user)
}

/// Sets each user's `groups` from [`memberships`].
pub fn attach_groups(users: &mut [LegacyUser], memberships: &BTreeMap<String, Vec<String>>) {
    for user in users {
        user.groups = memberships.get(&user.username).cloned().unwrap_or_default();
    }
}
