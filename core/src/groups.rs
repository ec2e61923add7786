//! Legacy groups in the new pool: which groups to create, which memberships to add, and the
//! token override that shows legacy groups in the first tokens, before they are copied.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{TriggerEvent, TriggerSource};

/// A group as Cognito describes it (`GroupType`), without the pool-specific fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSpec {
    /// `GroupName`.
    pub name: String,
    /// `Description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Precedence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precedence: Option<i32>,
    /// `RoleArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// What to do in the new pool for one migrated user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPlan {
    /// Groups to create, with their legacy description, precedence and role.
    pub create: Vec<GroupSpec>,
    /// Groups to add the user to.
    pub add: Vec<String>,
}

impl GroupPlan {
    /// True when there is nothing to do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.add.is_empty()
    }
}

/// Plans the copy of a user's legacy groups, given the groups the new pool already has and the
/// user's current memberships there. Applying the plan twice changes nothing.
#[must_use]
pub fn plan_groups(
    legacy: &[GroupSpec],
    existing: &BTreeSet<String>,
    memberships: &BTreeSet<String>,
) -> GroupPlan {
    let mut seen = BTreeSet::new();
    let mut plan = GroupPlan::default();
    for group in legacy {
        if !seen.insert(group.name.as_str()) {
            continue;
        }
        if !existing.contains(&group.name) {
            plan.create.push(group.clone());
        }
        if !memberships.contains(&group.name) {
            plan.add.push(group.name.clone());
        }
    }
    plan
}

/// The pre token generation response that adds `legacy_groups` to the groups the request
/// already carries, or `None` to return the event unchanged.
///
/// An empty or null override would remove every group from the tokens, so this returns `None`
/// rather than an override with nothing in it, and copies the request's IAM roles and
/// preferred role along. Version 2 and later events answer in `claimsAndScopeOverrideDetails`.
#[must_use]
pub fn token_group_override(event: &TriggerEvent, legacy_groups: &[String]) -> Option<Value> {
    if !matches!(event.source(), TriggerSource::TokenGeneration(_)) {
        return None;
    }
    let mut groups = event.groups_to_override();
    let before = groups.len();
    for group in legacy_groups {
        if !groups.contains(group) {
            groups.push(group.clone());
        }
    }
    if groups.is_empty() || groups.len() == before {
        return None;
    }
    let config = event
        .raw()
        .get("request")
        .and_then(|r| r.get("groupConfiguration"));
    let copy = |name: &str| {
        config
            .and_then(|c| c.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut details = Map::new();
    details.insert("groupsToOverride".into(), groups.into());
    let roles = copy("iamRolesToOverride");
    details.insert(
        "iamRolesToOverride".into(),
        if roles.is_array() {
            roles
        } else {
            Value::Array(Vec::new())
        },
    );
    let preferred = copy("preferredRole");
    if !preferred.is_null() {
        details.insert("preferredRole".into(), preferred);
    }
    let version = event
        .raw()
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("1");
    let field = if version == "1" {
        "claimsOverrideDetails"
    } else {
        "claimsAndScopeOverrideDetails"
    };
    let mut overrides = match event.raw().get("response").and_then(|r| r.get(field)) {
        Some(Value::Object(existing)) => existing.clone(),
        _ => Map::new(),
    };
    overrides.insert("groupOverrideDetails".into(), Value::Object(details));
    let mut response = Map::new();
    response.insert(field.into(), Value::Object(overrides));
    Some(event.with_response(response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str) -> GroupSpec {
        GroupSpec {
            name: name.into(),
            description: Some(format!("{name} team")),
            precedence: Some(3),
            role_arn: None,
        }
    }

    #[test]
    fn plans_only_what_is_missing() {
        let legacy = [spec("admins"), spec("staff"), spec("staff")];
        let existing: BTreeSet<String> = ["staff".to_owned()].into();
        let memberships: BTreeSet<String> = ["admins".to_owned()].into();
        let plan = plan_groups(&legacy, &existing, &memberships);
        assert_eq!(plan.create, [spec("admins")]);
        assert_eq!(plan.add, ["staff"]);
        let done = plan_groups(
            &legacy,
            &["admins".into(), "staff".into()].into(),
            &["admins".into(), "staff".into()].into(),
        );
        assert!(done.is_empty());
    }

    fn token_event(version: &str, groups: &Value) -> TriggerEvent {
        TriggerEvent::from_value(json!({
            "version": version, "triggerSource": "TokenGeneration_Authentication", "region": "us-east-1",
            "userPoolId": "p", "userName": "alice",
            "callerContext": {"awsSdkVersion": "x", "clientId": "c"},
            "request": {"userAttributes": {"sub": "s"}, "groupConfiguration": groups},
            "response": {"claimsOverrideDetails": null}
        }))
        .unwrap()
    }

    #[test]
    fn adds_legacy_groups_to_the_request_groups() {
        let event = token_event(
            "1",
            &json!({"groupsToOverride": ["new"], "iamRolesToOverride": ["arn:r"], "preferredRole": "arn:r"}),
        );
        let out = token_group_override(&event, &["admins".into(), "new".into()]).unwrap();
        assert_eq!(
            out["response"]["claimsOverrideDetails"]["groupOverrideDetails"],
            json!({"groupsToOverride": ["new", "admins"], "iamRolesToOverride": ["arn:r"], "preferredRole": "arn:r"})
        );
        assert_eq!(out["request"], event.raw()["request"]);
        insta::assert_json_snapshot!("token_group_override", out);
    }

    #[test]
    fn never_emits_an_empty_override() {
        let event = token_event(
            "1",
            &json!({"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null}),
        );
        assert!(token_group_override(&event, &[]).is_none());
        let empty = token_event("1", &Value::Null);
        assert!(token_group_override(&empty, &[]).is_none());
        let same = token_event("1", &json!({"groupsToOverride": ["a"]}));
        assert!(token_group_override(&same, &["a".into()]).is_none());
    }

    #[test]
    fn answers_version_two_events_in_their_own_field() {
        let event = token_event("2", &json!({"groupsToOverride": []}));
        let out = token_group_override(&event, &["admins".into()]).unwrap();
        assert_eq!(
            out["response"]["claimsAndScopeOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
            json!(["admins"])
        );
    }
}
