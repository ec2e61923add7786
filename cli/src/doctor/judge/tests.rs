//! Each judgment on facts written by hand: no AWS, no moto.

use std::collections::BTreeMap;

use cognito_migrate_aws::cli::doctor::TriggerArns;
use cognito_migrate_aws::ledger::LedgerRecord;
use cognito_migrate_core::ledger::{LedgerEntry, MigrationState};
use cognito_migrate_core::migrate::MigrationConfig;
use cognito_migrate_core::user::LegacyUser;

use super::*;

const FUNCTION: &str = "arn:aws:lambda:eu-west-1:123456789012:function:trigger";
const POOL_ARN: &str = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_New";

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn good_vars() -> HashMap<String, String> {
    vars(&[
        ("LEGACY_USER_POOL_ID", "eu-west-1_Old"),
        ("LEGACY_CLIENT_ID", "legacy-client"),
        ("LEDGER_TABLE", "ledger"),
    ])
}

fn function_facts() -> FunctionFacts {
    FunctionFacts {
        arn: FUNCTION.into(),
        variables: good_vars(),
    }
}

fn every_trigger(arn: &str) -> TriggerArns {
    TriggerArns {
        user_migration: Some(arn.into()),
        pre_sign_up: Some(arn.into()),
        post_authentication: Some(arn.into()),
        pre_token_generation: Some(arn.into()),
    }
}

fn schema_attribute(name: &str, mutable: bool) -> AttributeFacts {
    AttributeFacts {
        name: name.into(),
        mutable,
    }
}

fn good_pool() -> PoolFacts {
    PoolFacts {
        arn: Some(POOL_ARN.into()),
        case_sensitive: false,
        attributes: vec![
            schema_attribute("sub", false),
            schema_attribute("email", true),
            schema_attribute("email_verified", true),
            schema_attribute("name", true),
            schema_attribute("legacy_sub", false),
            schema_attribute("custom:legacy_username", false),
            schema_attribute("custom:plan", true),
        ],
        username_attributes: Vec::new(),
        alias_attributes: vec!["email".into(), "preferred_username".into()],
        triggers: every_trigger(FUNCTION),
    }
}

fn client(flows: &[&str]) -> ClientFacts {
    ClientFacts {
        id: "app".into(),
        name: "web".into(),
        auth_flows: flows.iter().map(|f| (*f).to_owned()).collect(),
        secret: None,
        write_attributes: vec!["email".into()],
    }
}

fn writing(id: &str, attributes: &[&str]) -> ClientFacts {
    ClientFacts {
        id: id.into(),
        name: format!("{id}-name"),
        write_attributes: attributes.iter().map(|a| (*a).to_owned()).collect(),
        ..ClientFacts::default()
    }
}

fn outcome(list: &Checklist) -> BTreeMap<&'static str, bool> {
    list.checks.iter().map(|c| (c.name, c.ok)).collect()
}

fn failure<'a>(list: &'a Checklist, name: &str) -> &'a Check {
    list.checks
        .iter()
        .find(|c| c.name == name && !c.ok)
        .unwrap_or_else(|| panic!("{name} did not fail: {:?}", list.checks))
}

#[test]
fn a_missing_function_fails_and_skips_what_needs_it() {
    let mut list = Checklist::new("trigger");
    let read = function(
        &mut list,
        "trigger",
        Err("ResourceNotFoundException".into()),
    );
    assert!(read.is_none());
    let check = failure(&list, "function");
    assert!(
        check.detail.contains("ResourceNotFoundException"),
        "{}",
        check.detail
    );
    let skipped: Vec<&str> = list.skipped.iter().map(|s| s.name).collect();
    assert_eq!(skipped.len(), 7);
    assert!(skipped.contains(&"ledger-populated"));
    assert!(list.skipped.iter().all(|s| s.needs == "function"));
}

#[test]
fn the_function_variables_are_validated_by_the_trigger_s_own_rules() {
    let mut list = Checklist::new("trigger");
    assert!(function(&mut list, "trigger", Ok(function_facts())).is_some());
    assert_eq!(
        outcome(&list),
        BTreeMap::from([("function", true), ("function-variables", true)])
    );

    let mut broken = function_facts();
    broken
        .variables
        .insert("MAX_CANDIDATES".into(), "50".into());
    let mut list = Checklist::new("trigger");
    function(&mut list, "trigger", Ok(broken));
    let check = failure(&list, "function-variables");
    assert!(check.detail.contains("MAX_CANDIDATES"), "{}", check.detail);
    assert!(check.fix.as_deref().unwrap().contains("Set MAX_CANDIDATES"));
}

#[test]
fn the_legacy_client_must_allow_the_password_check_and_share_the_secret() {
    let vars = good_vars();
    let mut list = Checklist::new("trigger");
    let mut facts = client(&["ALLOW_ADMIN_USER_PASSWORD_AUTH"]);
    legacy_client(
        &mut list,
        &vars,
        "eu-west-1_Old",
        "legacy-client",
        Ok(Some(facts.clone())),
    );
    assert!(list.checks.iter().all(|c| c.ok), "{:?}", list.checks);

    facts.auth_flows = vec!["ALLOW_USER_SRP_AUTH".into()];
    facts.secret = Some("s3cret".into());
    let mut list = Checklist::new("trigger");
    legacy_client(
        &mut list,
        &vars,
        "eu-west-1_Old",
        "legacy-client",
        Ok(Some(facts)),
    );
    assert!(
        failure(&list, "legacy-client-auth-flow")
            .detail
            .contains("ALLOW_USER_SRP_AUTH")
    );
    let secret = failure(&list, "legacy-client-secret");
    assert!(secret.detail.contains("LEGACY_CLIENT_SECRET is not set"));
    assert!(
        !secret.detail.contains("s3cret") && !secret.fix.as_deref().unwrap().contains("s3cret")
    );

    let mut list = Checklist::new("trigger");
    legacy_client(&mut list, &vars, "eu-west-1_Old", "legacy-client", Ok(None));
    failure(&list, "legacy-client");
    assert_eq!(list.skipped.len(), 2);
}

#[test]
fn a_missing_legacy_variable_names_itself_in_the_fix() {
    let mut list = Checklist::new("trigger");
    assert_eq!(legacy_pool_id(&mut list, &vars(&[])), None);
    let check = failure(&list, "legacy-pool");
    assert!(
        check
            .fix
            .as_deref()
            .unwrap()
            .contains("--function-name trigger")
    );
    assert_eq!(list.skipped.len(), 3);

    let mut list = Checklist::new("trigger");
    let only_pool = vars(&[("LEGACY_USER_POOL_ID", " eu-west-1_Old ")]);
    assert_eq!(legacy_pool_id(&mut list, &only_pool), Some("eu-west-1_Old"));
    assert_eq!(
        legacy_pool(&mut list, &only_pool, "eu-west-1_Old", Ok(None)),
        None
    );
    failure(&list, "legacy-client");
}

#[test]
fn an_empty_or_stale_ledger_is_told_apart() {
    let vars = good_vars();
    let mut list = Checklist::new("trigger");
    let sample = LedgerSample {
        items: 0,
        newest_indexed_at_ms: None,
    };
    ledger_populated(&mut list, &vars, "ledger", Some(0), Ok(sample), 0);
    let check = failure(&list, "ledger-populated");
    assert!(
        check
            .fix
            .as_deref()
            .unwrap()
            .contains("cognito-migrate index --legacy-pool-id eu-west-1_Old --table ledger")
    );

    let mut list = Checklist::new("trigger");
    let sample = LedgerSample {
        items: 3,
        newest_indexed_at_ms: Some(0),
    };
    ledger_populated(
        &mut list,
        &vars,
        "ledger",
        Some(12),
        Ok(sample),
        3 * 86_400_000,
    );
    let detail = &list.checks[0].detail;
    assert!(detail.contains("about 12 items"), "{detail}");
    assert!(
        detail.contains("among the 3 items read: 0 (3 days ago)"),
        "{detail}"
    );

    let mut list = Checklist::new("trigger");
    assert!(!ledger_exists(
        &mut list,
        "ledger",
        &Err("ResourceNotFoundException".into())
    ));
    assert_eq!(list.skipped[0].name, "ledger-populated");
}

#[test]
fn the_new_pool_must_be_case_insensitive_with_the_legacy_attributes() {
    let mut list = Checklist::new("trigger");
    assert!(new_pool(&mut list, "eu-west-1_New", Ok(Some(good_pool()))).is_some());
    assert!(list.checks.iter().all(|c| c.ok), "{:?}", list.checks);

    let mut pool = good_pool();
    pool.case_sensitive = true;
    pool.attributes = vec![schema_attribute("email", true)];
    let mut list = Checklist::new("trigger");
    new_pool(&mut list, "eu-west-1_New", Ok(Some(pool)));
    failure(&list, "new-pool-case-insensitive");
    let attributes = failure(&list, "new-pool-custom-attributes");
    assert!(
        attributes.fix.as_deref().unwrap().contains(
            "Name=legacy_sub,AttributeDataType=String,Mutable=false Name=legacy_username"
        )
    );
    // Absent attributes are the schema check's finding, not a mutability one.
    assert!(outcome(&list)["new-pool-legacy-attributes-immutable"]);

    let mut list = Checklist::new("trigger");
    assert!(new_pool(&mut list, "eu-west-1_New", Ok(None)).is_none());
    assert!(failure(&list, "new-pool").detail.contains("no pool"));
    assert_eq!(list.skipped.len(), 4);
}

#[test]
fn a_mutable_legacy_attribute_fails_with_its_consequence() {
    let mut pool = good_pool();
    pool.attributes = vec![
        schema_attribute("legacy_sub", false),
        schema_attribute("custom:legacy_username", true),
    ];
    let mut list = Checklist::new("trigger");
    new_pool(&mut list, "eu-west-1_New", Ok(Some(pool)));
    let check = failure(&list, "new-pool-legacy-attributes-immutable");
    assert!(
        check
            .detail
            .starts_with("the schema makes custom:legacy_username mutable"),
        "{}",
        check.detail
    );
    assert!(check.detail.contains("groups"), "{}", check.detail);
    let fix = check.fix.as_deref().unwrap();
    assert!(fix.contains("create a new pool"), "{fix}");
    assert!(!fix.contains("legacy_sub"), "{fix}");
}

#[test]
fn no_app_client_may_write_the_legacy_attributes() {
    let pool = good_pool();
    let mut list = Checklist::new("trigger");
    legacy_attribute_writers(
        &mut list,
        "eu-west-1_New",
        &pool,
        Ok(vec![writing("app", &["email", "name"])]),
    );
    assert!(outcome(&list)["new-clients-cannot-write-legacy-attributes"]);

    let mut list = Checklist::new("trigger");
    legacy_attribute_writers(
        &mut list,
        "eu-west-1_New",
        &pool,
        Ok(vec![
            writing("app", &["email"]),
            writing("open", &[]),
            writing("admin", &["name", "custom:legacy_username"]),
            writing("only", &["custom:legacy_sub"]),
        ]),
    );
    let check = failure(&list, "new-clients-cannot-write-legacy-attributes");
    assert!(
        check.detail.starts_with(
            "app client `open` (`open-name`) may write custom:legacy_sub and custom:legacy_username (it sets no WriteAttributes"
        ),
        "{}",
        check.detail
    );
    assert!(
        check
            .detail
            .contains("; app client `admin` (`admin-name`) may write custom:legacy_username;"),
        "{}",
        check.detail
    );
    assert!(!check.detail.contains("`app`"), "{}", check.detail);
    let fix = check.fix.as_deref().unwrap();
    // Everything the open client may write today but the legacy attributes, spelled out.
    assert!(
        fix.contains("client `open`: aws cognito-idp update-user-pool-client --user-pool-id eu-west-1_New --client-id open --write-attributes address birthdate email family_name gender given_name locale middle_name name nickname phone_number picture preferred_username profile updated_at website zoneinfo custom:plan;"),
        "{fix}"
    );
    assert!(
        fix.contains("--client-id admin --write-attributes name;"),
        "{fix}"
    );
    assert!(
        fix.contains("--client-id only --write-attributes <at least one"),
        "{fix}"
    );
    assert!(
        fix.contains("update-user-pool-client resets every setting it is not given"),
        "{fix}"
    );

    let mut list = Checklist::new("trigger");
    legacy_attribute_writers(
        &mut list,
        "eu-west-1_New",
        &pool,
        Err("ListUserPoolClients: AccessDeniedException: not allowed".into()),
    );
    assert!(
        failure(&list, "new-clients-cannot-write-legacy-attributes")
            .fix
            .as_deref()
            .unwrap()
            .contains("cognito-idp:ListUserPoolClients")
    );
}

#[test]
fn the_new_client_needs_the_password_flow() {
    let mut list = Checklist::new("trigger");
    new_client(
        &mut list,
        "eu-west-1_New",
        "app",
        Ok(Some(client(&["ALLOW_USER_PASSWORD_AUTH"]))),
    );
    assert!(list.checks.iter().all(|c| c.ok), "{:?}", list.checks);

    let mut list = Checklist::new("trigger");
    new_client(&mut list, "eu-west-1_New", "app", Ok(Some(client(&[]))));
    assert!(
        failure(&list, "new-client-auth-flow")
            .detail
            .contains("no explicit auth flow")
    );
}

#[test]
fn the_function_must_know_the_new_pool_s_sign_in_shape() {
    let pool = good_pool();
    let mut function = function_facts();
    function.variables.insert(
        "NEW_POOL_ALIAS_ATTRIBUTES".into(),
        " preferred_username, email ".into(),
    );
    let mut list = Checklist::new("trigger");
    pool_shape(&mut list, &function, &pool);
    assert_eq!(
        outcome(&list),
        BTreeMap::from([
            ("function-alias-attributes", true),
            ("function-username-attributes", true),
        ])
    );

    let mut email_pool = good_pool();
    email_pool.alias_attributes = Vec::new();
    email_pool.username_attributes = vec!["email".into()];
    let mut list = Checklist::new("trigger");
    pool_shape(&mut list, &function, &email_pool);
    let username = failure(&list, "function-username-attributes");
    assert!(
        username
            .detail
            .starts_with("the function's NEW_POOL_USERNAME_ATTRIBUTES names none, but the new pool's UsernameAttributes are email:"),
        "{}",
        username.detail
    );
    assert!(
        username
            .fix
            .as_deref()
            .unwrap()
            .contains("jq -c '.Variables.NEW_POOL_USERNAME_ATTRIBUTES = \"email\"'"),
        "{:?}",
        username.fix
    );
    let alias = failure(&list, "function-alias-attributes");
    assert!(
        alias
            .fix
            .as_deref()
            .unwrap()
            .contains("jq -c 'del(.Variables.NEW_POOL_ALIAS_ATTRIBUTES)'"),
        "{:?}",
        alias.fix
    );
}

#[test]
fn triggers_must_invoke_this_function_any_version() {
    let mut pool = good_pool();
    pool.triggers.pre_sign_up = Some(format!("{FUNCTION}:live"));
    pool.triggers.post_authentication = Some(format!("{FUNCTION}-other"));
    pool.triggers.pre_token_generation = None;
    let mut list = Checklist::new("trigger");
    triggers(&mut list, &function_facts(), &pool, "eu-west-1_New");
    assert_eq!(
        outcome(&list),
        BTreeMap::from([
            ("trigger-post-authentication", false),
            ("trigger-pre-sign-up", true),
            ("trigger-pre-token-generation", false),
            ("trigger-user-migration", true),
        ])
    );
    assert!(
        failure(&list, "trigger-pre-token-generation")
            .detail
            .contains("no PreTokenGeneration trigger")
    );
}

#[test]
fn the_invoke_permission_comes_from_the_resource_policy() {
    let pool = good_pool();
    let mut list = Checklist::new("trigger");
    invoke_permission(&mut list, &function_facts(), &pool, Ok(String::new()));
    assert!(
        failure(&list, "invoke-permission")
            .fix
            .as_deref()
            .unwrap()
            .contains(&format!("--source-arn {POOL_ARN}"))
    );

    let policy = serde_json::json!({"Statement": [{
        "Sid": "cognito",
        "Effect": "Allow",
        "Principal": {"Service": "cognito-idp.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Condition": {"ArnLike": {"AWS:SourceArn": POOL_ARN}},
    }]});
    let mut list = Checklist::new("trigger");
    invoke_permission(&mut list, &function_facts(), &pool, Ok(policy.to_string()));
    assert!(outcome(&list)["invoke-permission"]);

    let mut list = Checklist::new("trigger");
    invoke_permission(
        &mut list,
        &function_facts(),
        &pool,
        Err("AccessDenied".into()),
    );
    assert!(
        failure(&list, "invoke-permission")
            .detail
            .contains("AccessDenied")
    );
}

fn record(username: &str) -> LedgerRecord {
    LedgerRecord {
        entry: LedgerEntry {
            user: LegacyUser::new(username, BTreeMap::new()),
            state: MigrationState::Pending,
            groups_copied: false,
            groups_copied_at_ms: None,
        },
        keys: Vec::new(),
        pk: String::new(),
        primary: true,
        indexed_at_ms: Some(1),
        groups_copied_at_ms: None,
    }
}

#[test]
fn the_user_verdict_follows_the_new_pool_then_the_ledger() {
    let config = MigrationConfig::default();
    let records = [record("Alice"), record("alice")];
    let view = user_view(
        "ALICE",
        "eu-west-1_New",
        None,
        Some(&records),
        None,
        &config,
    );
    assert!(view.trigger_fires);
    assert_eq!(view.match_key, "alice");
    assert_eq!(view.candidates.as_ref().map(Vec::len), Some(2));
    assert!(
        view.verdict.starts_with("2 candidate(s)"),
        "{}",
        view.verdict
    );
    assert!(
        view.verdict.contains("collision policy `refuse`"),
        "{}",
        view.verdict
    );

    let there = user_view(
        "ALICE",
        "eu-west-1_New",
        None,
        Some(&records),
        Some("CONFIRMED".into()),
        &config,
    );
    assert!(!there.trigger_fires);
    assert!(
        there
            .verdict
            .contains("never invokes the migration trigger")
    );

    let unknown = user_view("ALICE", "eu-west-1_New", None, None, None, &config);
    assert!(unknown.candidates.is_none());
    assert!(unknown.verdict.contains("could not be read"));
}

#[test]
fn a_report_passes_only_when_every_check_passed() {
    let mut list = Checklist::new("trigger");
    new_pool(&mut list, "eu-west-1_New", Ok(Some(good_pool())));
    assert!(list.into_report("trigger", "eu-west-1_New", None).ok);
    let mut list = Checklist::new("trigger");
    new_pool(&mut list, "eu-west-1_New", Err("boom".into()));
    let report = list.into_report("trigger", "eu-west-1_New", None);
    assert!(!report.ok);
    assert_eq!(report.skipped.len(), 4);
}
