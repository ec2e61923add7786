//! Legacy users and groups from the SDK's types, mapped field by field the way
//! `LegacyUser::from_aws_json` reads the same API answers as JSON.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, DeliveryMediumType, GroupType, MfaOptionType, UserType,
};
use aws_smithy_types::DateTime;
use cognito_migrate_core::groups::GroupSpec;
use cognito_migrate_core::user::{LegacyUser, MfaSettings, UserStatus};

fn attributes(list: &[AttributeType]) -> BTreeMap<String, String> {
    list.iter()
        .filter_map(|a| Some((a.name().to_owned(), a.value()?.to_owned())))
        .collect()
}

fn mfa(options: &[MfaOptionType], settings: &[String]) -> MfaSettings {
    let mut mfa = MfaSettings::default();
    if options
        .iter()
        .any(|o| o.delivery_medium() == Some(&DeliveryMediumType::Sms))
    {
        mfa.sms = true;
    }
    for setting in settings {
        match setting.as_str() {
            "SMS_MFA" => mfa.sms = true,
            "SOFTWARE_TOKEN_MFA" => mfa.totp = true,
            _ => {}
        }
    }
    mfa
}

fn millis(date: Option<&DateTime>) -> Option<i64> {
    date.and_then(|d| d.to_millis().ok())
}

/// A user from an `AdminGetUser` answer.
#[must_use]
pub fn from_admin_get_user(output: &AdminGetUserOutput) -> LegacyUser {
    LegacyUser {
        username: output.username().to_owned(),
        attributes: attributes(output.user_attributes()),
        enabled: output.enabled(),
        status: output
            .user_status()
            .map_or(UserStatus::Unknown, |s| UserStatus::parse(s.as_str())),
        mfa: mfa(output.mfa_options(), output.user_mfa_setting_list()),
        groups: Vec::new(),
        last_modified_ms: millis(output.user_last_modified_date()),
        created_ms: millis(output.user_create_date()),
    }
}

/// A user from a `ListUsers` or `ListUsersInGroup` entry; `None` without a username.
#[must_use]
pub fn from_user_type(user: &UserType) -> Option<LegacyUser> {
    Some(LegacyUser {
        username: user.username().filter(|u| !u.is_empty())?.to_owned(),
        attributes: attributes(user.attributes()),
        enabled: user.enabled(),
        status: user
            .user_status()
            .map_or(UserStatus::Unknown, |s| UserStatus::parse(s.as_str())),
        mfa: mfa(user.mfa_options(), &[]),
        groups: Vec::new(),
        last_modified_ms: millis(user.user_last_modified_date()),
        created_ms: millis(user.user_create_date()),
    })
}

/// A group's description, precedence and role; `None` without a name.
#[must_use]
pub fn group_spec(group: &GroupType) -> Option<GroupSpec> {
    Some(GroupSpec {
        name: group.group_name()?.to_owned(),
        description: group.description().map(str::to_owned),
        precedence: group.precedence(),
        role_arn: group.role_arn().map(str::to_owned),
    })
}
