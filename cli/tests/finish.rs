//! `cognito-migrate finish` against moto: a legacy pool of 5,000 users with groups and
//! collisions, a second moto pool as the new (case-insensitive) pool, a run stopped in the
//! middle and a re-run that completes without creating anyone twice; and a small pool where
//! the finish must give each user what the trigger would, read live, under one configuration.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Instant;

use aws_sdk_cognitoidentityprovider::Client as Cognito;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
    SchemaAttributeType, SmsMfaSettingsType, SoftwareTokenMfaSettingsType, UserType,
    UsernameConfigurationType,
};
use cognito_migrate_aws::ledger::Ledger;
use cognito_migrate_core::ledger::{FinishMethod, MigrationState};
use cognito_migrate_core::migrate::ReasonCode;
use common::{CliRun, Moto};
use futures::StreamExt as _;

const USERS: usize = 5_000;

struct Seed {
    username: String,
    attributes: Vec<(&'static str, String)>,
    groups: Vec<&'static str>,
}

fn seeds() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = (0..USERS)
        .map(|i| {
            // Email as username, in another case: one ledger key a user.
            let mut attributes = vec![
                ("email", format!("user{i:05}@example.com")),
                ("email_verified", (i % 2 == 0).to_string()),
                ("given_name", format!("Given, \"{i}\"")),
            ];
            // A phone number is one more ledger key, so its user's finish is a transaction;
            // moto copies the whole table for each, so few users have one here.
            if i % 500 == 7 {
                attributes.push(("phone_number", format!("+1555{i:07}")));
                attributes.push(("phone_number_verified", "true".to_owned()));
            }
            let mut groups = Vec::new();
            if i % 50 == 0 {
                groups.push("admins");
            }
            if i % 100 == 1 {
                groups.push("beta");
            }
            Seed {
                username: format!("User{i:05}@Example.com"),
                attributes,
                groups,
            }
        })
        .collect();
    for k in 0..3 {
        for name in [format!("Collide{k}@x.com"), format!("collide{k}@x.com")] {
            seeds.push(Seed {
                attributes: vec![("email", name.clone())],
                username: name,
                groups: Vec::new(),
            });
        }
    }
    seeds
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

async fn create_pool(cognito: &Cognito, name: &str, case_sensitive: bool) -> String {
    let custom = |name: &str| {
        SchemaAttributeType::builder()
            .name(name)
            .attribute_data_type(AttributeDataType::String)
            .mutable(false)
            .build()
    };
    let mut request = cognito
        .create_user_pool()
        .pool_name(name)
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(case_sensitive)
                .build()
                .unwrap(),
        );
    if !case_sensitive {
        request = request
            .schema(custom("legacy_sub"))
            .schema(custom("legacy_username"));
    }
    let pool = request.send().await.expect("CreateUserPool");
    pool.user_pool().and_then(|p| p.id()).unwrap().to_owned()
}

async fn seed_legacy(cognito: &Cognito, pool: &str, seeds: &[Seed]) {
    for (group, description, precedence) in [
        ("admins", "Administrators", 1),
        ("beta", "Beta, testers", 5),
    ] {
        cognito
            .create_group()
            .user_pool_id(pool)
            .group_name(group)
            .description(description)
            .precedence(precedence)
            .send()
            .await
            .unwrap();
    }
    let started = Instant::now();
    let failures: Vec<String> = futures::stream::iter(seeds)
        .map(|seed| async move {
            let attributes = seed
                .attributes
                .iter()
                .map(|(n, v)| attribute(n, v))
                .collect();
            cognito
                .admin_create_user()
                .user_pool_id(pool)
                .username(&seed.username)
                .set_user_attributes(Some(attributes))
                .message_action(MessageActionType::Suppress)
                .send()
                .await
                .map_err(|e| format!("{}: {e:?}", seed.username))?;
            for group in &seed.groups {
                cognito
                    .admin_add_user_to_group()
                    .user_pool_id(pool)
                    .username(&seed.username)
                    .group_name(*group)
                    .send()
                    .await
                    .map_err(|e| format!("{}: {e:?}", seed.username))?;
            }
            Ok::<(), String>(())
        })
        .buffer_unordered(32)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    assert!(failures.is_empty(), "{failures:?}");
    eprintln!(
        "seeded {} legacy users in {:.1} s",
        seeds.len(),
        started.elapsed().as_secs_f64()
    );
}

/// Every user of a pool, all pages.
async fn all_users(cognito: &Cognito, pool: &str) -> Vec<UserType> {
    let mut pages = cognito
        .list_users()
        .user_pool_id(pool)
        .limit(60)
        .into_paginator()
        .send();
    let mut users = Vec::new();
    while let Some(page) = pages.next().await {
        users.extend(page.unwrap().users().iter().cloned());
    }
    users
}

fn attributes_of(user: &UserType) -> BTreeMap<String, String> {
    user.attributes()
        .iter()
        .map(|a| {
            (
                a.name().to_owned(),
                a.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn group_members(cognito: &Cognito, pool: &str, group: &str) -> BTreeSet<String> {
    let mut pages = cognito
        .list_users_in_group()
        .user_pool_id(pool)
        .group_name(group)
        .limit(60)
        .into_paginator()
        .send();
    let mut names = BTreeSet::new();
    while let Some(page) = pages.next().await {
        names.extend(
            page.unwrap()
                .users()
                .iter()
                .filter_map(|u| u.username().map(str::to_owned)),
        );
    }
    names
}

/// Runs the CLI with the legacy pool, the new pool and the ledger all on this moto.
fn finish(moto: &Moto, args: &[&str]) -> CliRun {
    let started = Instant::now();
    let run = cli_with(moto, args, &[]);
    eprintln!(
        "{:?} in {:.1} s: {}",
        args.first(),
        started.elapsed().as_secs_f64(),
        run.stdout.lines().last().unwrap_or_default()
    );
    run
}

#[tokio::test(flavor = "multi_thread")]
#[expect(
    clippy::too_many_lines,
    reason = "one cut-over, from the index to the check"
)]
async fn finish_creates_every_waiting_user_once_across_an_interruption() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let cognito = Cognito::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let legacy = create_pool(&cognito, "legacy", true).await;
    let new = create_pool(&cognito, "new", false).await;
    common::create_ledger_table(&dynamodb, "ledger").await;
    let seeds = seeds();
    seed_legacy(&cognito, &legacy, &seeds).await;

    let index = moto.cli(&["index", "--legacy-pool-id", &legacy, "--table", "ledger"]);
    assert_eq!(index.code, Some(0), "{index:?}");
    // Before the finish: one user approved at a sign-in whose new-pool user Cognito never
    // created (a ghost: the finish looks it up and creates it under the approved name), one
    // refused as ambiguous, and a user of the new pool who already holds a legacy user's name.
    let ledger = Ledger::new(dynamodb.clone(), "ledger");
    let migrated = ledger
        .record("User00000@Example.com")
        .await
        .unwrap()
        .unwrap();
    ledger
        .record_migration(&migrated, "user00000@example.com", 1)
        .await
        .unwrap();
    let ambiguous = ledger
        .record("User00001@Example.com")
        .await
        .unwrap()
        .unwrap();
    ledger
        .record_refusal(&[&ambiguous], ReasonCode::Ambiguous, 1)
        .await
        .unwrap();
    cognito
        .admin_create_user()
        .user_pool_id(&new)
        .username("user00002@example.com")
        .user_attributes(attribute("custom:legacy_sub", "someone-else"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();

    let common = [
        "finish",
        "--table",
        "ledger",
        "--legacy-pool-id",
        legacy.as_str(),
        "--new-pool-id",
        new.as_str(),
        "--method",
        "auto",
        "--rate",
        "5000",
        "--update-rate",
        "5000",
        "--resource-rate",
        "5000",
        "--read-rate",
        "5000",
        "--concurrency",
        "32",
    ];
    let with = |extra: &[&'static str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend_from_slice(extra);
        args
    };

    // 5,006 users: 1 approved, 1 ambiguous and 6 in collision groups skipped, 4,998 to create.
    let dry = finish(&moto, &with(&["--dry-run", "--show", "3"]));
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert!(
        dry.stdout.starts_with(
            "finish (dry run): 4998 users to create with admin-create-user; 1 approved at a sign-in but never confirmed, to look up in the new pool; 0 already in the new pool; 7 skipped"
        ),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains(
        "skip Collide0@x.com: collision on `collide0@x.com` with Collide0@x.com, collide0@x.com"
    ));
    assert!(
        dry.stdout
            .contains("skip User00001@Example.com: refused as ambiguous")
    );
    assert!(
        dry.stdout
            .contains("User00004@Example.com -> user00004@example.com [pending]"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("nothing was changed (--dry-run)"));
    assert_eq!(
        all_users(&cognito, &new).await.len(),
        1,
        "a dry run creates nobody"
    );

    let first = finish(&moto, &with(&["--stop-after", "2000"]));
    assert_eq!(first.code, Some(1), "{first:?}");
    assert!(first.stdout.contains("stopped early"), "{}", first.stdout);
    let created_first = all_users(&cognito, &new).await.len() - 1;
    assert!(created_first >= 2000, "{created_first}");
    assert!(created_first < 4997, "{created_first}");

    let second = finish(&moto, &with(&[]));
    // The name taken by someone else keeps the run from being complete.
    assert_eq!(second.code, Some(1), "{second:?}");
    assert!(
        second.stdout.contains(
            "conflict User00002@Example.com: `user00002@example.com` exists in the new pool and is not this user"
        ),
        "{}",
        second.stdout
    );
    let summary = second
        .stdout
        .lines()
        .rfind(|l| l.starts_with("finish: "))
        .unwrap();
    let number = |label: &str| -> usize {
        summary
            .split(", ")
            .find(|part| part.contains(label))
            .and_then(|part| part.split_whitespace().find_map(|w| w.parse().ok()))
            .unwrap_or_else(|| panic!("{label} in {summary}"))
    };
    assert!(number("resumed") >= 1, "{summary}");
    assert_eq!(
        number("created") + number("resumed"),
        4998 - (created_first - number("resumed")),
        "{summary}"
    );
    assert_eq!(number("conflicts"), 1, "{summary}");
    assert_eq!(number("failed"), 0, "{summary}");

    // The new pool: every waiting user once, with the trigger's attributes.
    let legacy_users: BTreeMap<String, BTreeMap<String, String>> = all_users(&cognito, &legacy)
        .await
        .iter()
        .map(|u| (u.username().unwrap().to_owned(), attributes_of(u)))
        .collect();
    let new_users = all_users(&cognito, &new).await;
    assert_eq!(
        new_users.len(),
        4999,
        "4,998 created (the ghost among them) plus the one already there"
    );
    let mut subs = BTreeSet::new();
    for user in &new_users {
        let name = user.username().unwrap();
        if name == "user00002@example.com" {
            continue;
        }
        let attributes = attributes_of(user);
        let legacy_name = &attributes["custom:legacy_username"];
        let old = &legacy_users[legacy_name];
        assert_eq!(name, legacy_name.to_lowercase());
        assert_eq!(attributes["custom:legacy_sub"], old["sub"]);
        assert!(subs.insert(old["sub"].clone()), "{name} twice");
        assert_eq!(attributes["email"], old["email"]);
        assert_eq!(attributes["given_name"], old["given_name"]);
        assert_eq!(
            attributes.get("email_verified").map(String::as_str) == Some("true"),
            old["email_verified"] == "true",
            "{name}: email_verified copied honestly"
        );
        assert_eq!(
            attributes.get("phone_number"),
            old.get("phone_number"),
            "{name}"
        );
        assert_eq!(
            user.user_status()
                .map(aws_sdk_cognitoidentityprovider::types::UserStatusType::as_str),
            Some("FORCE_CHANGE_PASSWORD")
        );
    }
    assert!(
        !new_users
            .iter()
            .any(|u| u.username().is_some_and(|n| n.starts_with("collide"))),
        "collision groups are skipped"
    );

    // Groups: created with the legacy description and precedence, members added.
    let groups = cognito
        .list_groups()
        .user_pool_id(&new)
        .send()
        .await
        .unwrap();
    let admins = groups
        .groups()
        .iter()
        .find(|g| g.group_name() == Some("admins"))
        .expect("admins copied");
    assert_eq!(admins.description(), Some("Administrators"));
    assert_eq!(admins.precedence(), Some(1));
    let beta = groups
        .groups()
        .iter()
        .find(|g| g.group_name() == Some("beta"))
        .expect("beta copied");
    assert_eq!(beta.description(), Some("Beta, testers"));
    // user00000, the ghost, among them: the finish created it with its groups.
    let expected_admins: BTreeSet<String> = (0..USERS)
        .step_by(50)
        .map(|i| format!("user{i:05}@example.com"))
        .collect();
    assert_eq!(
        group_members(&cognito, &new, "admins").await,
        expected_admins
    );
    let expected_beta: BTreeSet<String> = (101..USERS)
        .step_by(100)
        .map(|i| format!("user{i:05}@example.com"))
        .collect();
    assert_eq!(group_members(&cognito, &new, "beta").await, expected_beta);

    // The ledger: every created user finished; the others as they were.
    let records = ledger.scan_users(8).await.unwrap();
    assert_eq!(records.len(), seeds.len());
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for record in &records {
        *by_state.entry(record.entry.state.name()).or_insert(0) += 1;
        if let MigrationState::Finished { method, .. } = &record.entry.state {
            assert_eq!(*method, FinishMethod::AdminCreateUser);
            assert_eq!(
                record.entry.groups_copied,
                !record.entry.user.groups.is_empty()
            );
        }
    }
    assert_eq!(
        by_state,
        BTreeMap::from([("finished", 4998), ("pending", 7), ("refused", 1)])
    );
    // A third run has nothing left to create.
    let third = finish(&moto, &with(&[]));
    assert!(
        third.stdout.starts_with(
            "finish: 1 users to create with admin-create-user; 0 approved at a sign-in but never confirmed, to look up in the new pool; 4998 already in the new pool; 7 skipped"
        ),
        "{}",
        third.stdout
    );
    assert!(
        third
            .stdout
            .contains("finish: 0 created, 0 resumed from an earlier run, 1 conflicts")
    );
}

/// Runs the CLI with the legacy pool, the new pool and the ledger all on this moto, and the
/// given extra environment.
fn cli_with(moto: &Moto, args: &[&str], env: &[(&str, &str)]) -> CliRun {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cognito-migrate"));
    command
        .args(args)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("LEGACY_USER_POOL_ID")
        .env_remove("NEW_USER_POOL_ID")
        .env_remove("LEDGER_TABLE")
        .env("LEGACY_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", &moto.endpoint)
        .env("AWS_ENDPOINT_URL_DYNAMODB", &moto.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for name in cognito_migrate_core::settings::MIGRATION_VARIABLES {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    CliRun::from(command.output().expect("the binary runs"))
}

async fn pool_with_schema(
    cognito: &Cognito,
    name: &str,
    case_sensitive: bool,
    custom: &[&str],
) -> String {
    let mut request = cognito
        .create_user_pool()
        .pool_name(name)
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(case_sensitive)
                .build()
                .unwrap(),
        );
    for attribute in custom {
        request = request.schema(
            SchemaAttributeType::builder()
                .name(*attribute)
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        );
    }
    let pool = request.send().await.expect("CreateUserPool");
    pool.user_pool().and_then(|p| p.id()).unwrap().to_owned()
}

async fn create_legacy_user(
    cognito: &Cognito,
    pool: &str,
    name: &str,
    attributes: &[(&str, &str)],
) {
    cognito
        .admin_create_user()
        .user_pool_id(pool)
        .username(name)
        .set_user_attributes(Some(
            attributes.iter().map(|(n, v)| attribute(n, v)).collect(),
        ))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
}

/// Sets up TOTP for a legacy user the way an app does: signs in, associates and verifies a
/// software token, then prefers it.
async fn enrol_totp(cognito: &Cognito, pool: &str, name: &str) {
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = client
        .user_pool_client()
        .and_then(|c| c.client_id())
        .unwrap();
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(name)
        .password("Correct-Horse-9")
        .permanent(true)
        .send()
        .await
        .unwrap();
    let auth = cognito
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", name)
        .auth_parameters("PASSWORD", "Correct-Horse-9")
        .send()
        .await
        .unwrap();
    let token = auth
        .authentication_result()
        .and_then(|r| r.access_token())
        .unwrap()
        .to_owned();
    cognito
        .associate_software_token()
        .access_token(&token)
        .send()
        .await
        .unwrap();
    cognito
        .verify_software_token()
        .access_token(&token)
        .user_code("123456")
        .send()
        .await
        .unwrap();
    cognito
        .admin_set_user_mfa_preference()
        .user_pool_id(pool)
        .username(name)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// What the trigger's core decides for this live legacy user under `config` on a
/// forgot-password migration (which, like the finish, proves no factor).
fn trigger_decision(
    user: &cognito_migrate_core::user::LegacyUser,
    config: &cognito_migrate_core::migrate::MigrationConfig,
) -> cognito_migrate_core::migrate::Decision {
    let mut raw: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/forgot-alice.json")).unwrap();
    raw["userName"] = user.username.clone().into();
    let event = cognito_migrate_core::event::TriggerEvent::from_value(raw).unwrap();
    cognito_migrate_core::migrate::decide_with(
        &event,
        vec![cognito_migrate_core::ledger::LedgerEntry::pending(
            user.clone(),
        )],
        config,
        |_| cognito_migrate_core::migrate::PasswordOutcome::WrongPassword,
    )
}

async fn ledger_states(ledger: &Ledger) -> BTreeMap<String, String> {
    ledger
        .scan_users(4)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let state = match &r.entry.state {
                MigrationState::Refused { reason, .. } => format!("refused {reason}"),
                other => other.name().to_owned(),
            };
            (r.entry.user.username.clone(), state)
        })
        .collect()
}

/// The CSV columns of a new pool with the legacy custom attributes and `custom:department`,
/// as `GetCSVHeader` lists them (moto does not answer it).
const CSV_HEADER: &str = "name,given_name,family_name,middle_name,nickname,preferred_username,profile,picture,website,email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,phone_number_verified,address,updated_at,custom:legacy_sub,custom:legacy_username,custom:department,cognito:mfa_enabled,cognito:username";

/// A line split as Cognito's format defines it: on commas not preceded by a backslash, then
/// `\,` is a comma.
fn cognito_cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                cell.push(',');
                chars.next();
            }
            ',' => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out
}

#[tokio::test(flavor = "multi_thread")]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario: a CSV dry run, then two runs under two MFA policies"
)]
async fn finish_is_the_triggers_twin() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let cognito = Cognito::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let legacy = pool_with_schema(&cognito, "legacy", true, &["dept", "tier"]).await;
    let new = pool_with_schema(
        &cognito,
        "new",
        false,
        &["legacy_sub", "legacy_username", "department"],
    )
    .await;
    common::create_ledger_table(&dynamodb, "ledger").await;
    cognito
        .create_group()
        .user_pool_id(&legacy)
        .group_name("staff")
        .description("Staff, all")
        .send()
        .await
        .unwrap();
    let email = |name: &str| format!("{}@example.com", name.to_lowercase());
    let contact = |name: &str| {
        vec![
            ("email", email(name)),
            ("email_verified", "true".to_owned()),
        ]
    };
    let plain = "Plain";
    let mut plain_attributes = contact(plain);
    plain_attributes.extend([
        ("given_name", "Ann, A.".to_owned()),
        ("nickname", "annie".to_owned()),
        ("locale", "fr".to_owned()),
        ("custom:dept", "ops".to_owned()),
        ("custom:tier", "gold".to_owned()),
    ]);
    let mut sms_attributes = contact("Sms");
    sms_attributes.extend([
        ("phone_number", "+15550100".to_owned()),
        ("phone_number_verified", "true".to_owned()),
    ]);
    let seeds: Vec<(&str, Vec<(&str, String)>)> = vec![
        (plain, plain_attributes),
        ("Sms", sms_attributes),
        ("Totp", contact("Totp")),
        ("Gone", contact("Gone")),
        ("Off", contact("Off")),
    ];
    for (name, attributes) in &seeds {
        let pairs: Vec<(&str, &str)> = attributes.iter().map(|(n, v)| (*n, v.as_str())).collect();
        create_legacy_user(&cognito, &legacy, name, &pairs).await;
    }
    cognito
        .admin_set_user_mfa_preference()
        .user_pool_id(&legacy)
        .username("Sms")
        .sms_mfa_settings(
            SmsMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    enrol_totp(&cognito, &legacy, "Totp").await;

    let index = moto.cli(&["index", "--legacy-pool-id", &legacy, "--table", "ledger"]);
    assert_eq!(index.code, Some(0), "{index:?}");
    let baseline = moto.cli(&["status", "--table", "ledger", "--recount"]);
    assert_eq!(baseline.code, Some(0), "{baseline:?}");
    // After the index: one user deleted, one disabled, one changed and put in a group.
    cognito
        .admin_delete_user()
        .user_pool_id(&legacy)
        .username("Gone")
        .send()
        .await
        .unwrap();
    cognito
        .admin_disable_user()
        .user_pool_id(&legacy)
        .username("Off")
        .send()
        .await
        .unwrap();
    cognito
        .admin_update_user_attributes()
        .user_pool_id(&legacy)
        .username(plain)
        .user_attributes(attribute("custom:dept", "sales"))
        .send()
        .await
        .unwrap();
    cognito
        .admin_add_user_to_group()
        .user_pool_id(&legacy)
        .username(plain)
        .group_name("staff")
        .send()
        .await
        .unwrap();

    // One configuration, written as the trigger's variables and checked by `config`.
    let dir = std::env::temp_dir().join(format!("finish-twin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let draft = dir.join("draft.env");
    std::fs::write(
        &draft,
        "# the new pool has no nickname or tier\n\
         TARGET_SCHEMA=email,email_verified,phone_number,phone_number_verified,given_name,locale,custom:department,custom:legacy_sub,custom:legacy_username\n\
         ATTRIBUTE_RENAMES=custom:dept=custom:department\n\
         ATTRIBUTE_DROPS=locale\n",
    )
    .unwrap();
    let printed = cli_with(&moto, &["config", "--config", draft.to_str().unwrap()], &[]);
    assert_eq!(printed.code, Some(0), "{printed:?}");
    assert!(
        printed.stdout.contains("MFA_POLICY=sms\n"),
        "{}",
        printed.stdout
    );
    assert!(
        printed
            .stdout
            .contains("ATTRIBUTE_RENAMES=custom:dept=custom:department\n")
    );
    let env_file = dir.join("migration.env");
    std::fs::write(&env_file, &printed.stdout).unwrap();
    let lambda = cli_with(
        &moto,
        &[
            "config",
            "--config",
            env_file.to_str().unwrap(),
            "--format",
            "lambda",
        ],
        &[],
    );
    let lambda: serde_json::Value = serde_json::from_str(&lambda.stdout).unwrap();
    assert_eq!(lambda["Variables"]["ATTRIBUTE_DROPS"], "locale");
    let vars = cognito_migrate_core::settings::parse_env_file(&printed.stdout).unwrap();
    let config =
        cognito_migrate_core::settings::migration_from_lookup(|n| vars.get(n).cloned()).unwrap();
    let bad = cli_with(&moto, &["config"], &[("MFA_POLICY", "skip")]);
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("MFA_POLICY"), "{}", bad.stderr);

    let common: Vec<String> = [
        "finish",
        "--table",
        "ledger",
        "--legacy-pool-id",
        legacy.as_str(),
        "--new-pool-id",
        new.as_str(),
        "--rate",
        "500",
        "--update-rate",
        "500",
        "--resource-rate",
        "500",
        "--read-rate",
        "500",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let with = |extra: &[&str]| -> Vec<String> {
        let mut args = common.clone();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let run = |args: Vec<String>, env: &[(&str, &str)]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli_with(&moto, &args, env)
    };

    // A CSV dry run writes the files it would upload and changes nothing.
    let ledger = Ledger::new(dynamodb.clone(), "ledger");
    let before = ledger_states(&ledger).await;
    let header_file = dir.join("header.csv");
    std::fs::write(&header_file, format!("{CSV_HEADER}\r\n")).unwrap();
    let csv_dir = dir.join("csv");
    let config_arg = env_file.to_str().unwrap().to_owned();
    let dry = run(
        with(&[
            "--method",
            "csv",
            "--dry-run",
            "--write-csv",
            csv_dir.to_str().unwrap(),
            "--csv-header",
            header_file.to_str().unwrap(),
            "--config",
            &config_arg,
        ]),
        &[],
    );
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert!(
        dry.stdout.contains("nothing was changed (--dry-run)"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        ledger_states(&ledger).await,
        before,
        "the ledger is unchanged"
    );
    assert!(
        all_users(&cognito, &new).await.is_empty(),
        "the new pool is unchanged"
    );
    assert_eq!(all_users(&cognito, &legacy).await.len(), 4);
    let text = std::fs::read_to_string(csv_dir.join("file-001.csv")).unwrap();
    assert!(!csv_dir.join("file-002.csv").exists());
    assert!(
        !text.starts_with('\u{feff}') && !text.contains('"'),
        "{text}"
    );
    let body = text.strip_suffix("\r\n").expect("lines end in CRLF");
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER);
    let columns: Vec<&str> = CSV_HEADER.split(',').collect();
    let rows: BTreeMap<String, BTreeMap<&str, String>> = lines[1..]
        .iter()
        .map(|line| {
            let cells = cognito_cells(line);
            assert_eq!(cells.len(), columns.len(), "{line}");
            let row: BTreeMap<&str, String> = columns.iter().copied().zip(cells).collect();
            (row["cognito:username"].clone(), row)
        })
        .collect();
    // Plain and Sms; Totp is refused under MFA_POLICY=sms, Gone and Off are skipped.
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["plain", "sms"]);
    assert_eq!(rows["plain"]["given_name"], "Ann, A.");
    assert_eq!(rows["plain"]["custom:department"], "sales");
    assert_eq!(rows["plain"]["nickname"], "");
    assert_eq!(rows["plain"]["cognito:mfa_enabled"], "false");
    assert_eq!(rows["sms"]["cognito:mfa_enabled"], "true");
    assert_eq!(rows["sms"]["phone_number"], "+15550100");
    for skipped in [
        "skip Gone: no longer in the legacy pool",
        "skip Off: disabled in the legacy pool",
        "skip Totp: MFA policy (mfa_not_restorable)",
    ] {
        assert!(dry.stdout.contains(skipped), "{skipped}: {}", dry.stdout);
    }

    // The run: the same variables from the environment this time.
    let env: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let report_file = dir.join("report.json");
    let first = run(
        with(&[
            "--method",
            "admin-create-user",
            "--report",
            report_file.to_str().unwrap(),
        ]),
        &env,
    );
    assert_eq!(first.code, Some(0), "{first:?}");
    for row in [
        "created",
        "skipped: gone",
        "skipped: disabled",
        "skipped: mfa-policy",
        "skipped: collision",
        "skipped: unwritable",
        "already present",
    ] {
        assert!(first.stdout.contains(row), "{row}: {}", first.stdout);
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap()).unwrap();
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(report["alreadyPresent"], 0);
    assert_eq!(report["skippedBy"]["gone"], 1, "{report}");
    assert_eq!(report["skippedBy"]["disabled"], 1);
    assert_eq!(report["skippedBy"]["mfa-policy"], 1);
    assert_eq!(report["skippedBy"]["collision"], 0);
    assert_eq!(report["skippedBy"]["unwritable"], 0);
    let skipped: BTreeMap<&str, &str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["username"].as_str().unwrap(), s["why"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        BTreeMap::from([
            ("Gone", "gone"),
            ("Off", "disabled"),
            ("Totp", "mfa-policy")
        ])
    );
    // Next to it, the ledger's figures as `status` shows them after the run.
    assert_eq!(report["ledger"]["finished"], 2, "{report}");
    assert_eq!(report["ledger"]["pending"], 2);
    assert_eq!(report["ledger"]["refused"], 1);
    assert_eq!(
        report["ledger"]["refusedByReason"],
        serde_json::json!([["gone", 1]])
    );

    // Every created user carries what the trigger would give it, from the live legacy user.
    let legacy_pool = cognito_migrate_aws::legacy_pool::LegacyPool::new(
        cognito.clone(),
        &cognito_migrate_core::settings::LegacyPoolConfig {
            user_pool_id: legacy.clone(),
            client_id: String::new(),
            client_secret: None,
            region: None,
            role_arn: None,
            endpoint_url: None,
        },
    );
    for name in [plain, "Sms"] {
        let live = legacy_pool.get_user(name).await.unwrap().unwrap();
        let decision = trigger_decision(&live, &config);
        let approval = decision.approval.expect("the trigger approves");
        let created = cognito
            .admin_get_user()
            .user_pool_id(&new)
            .username(name.to_lowercase())
            .send()
            .await
            .unwrap();
        let mut attributes: BTreeMap<String, String> = created
            .user_attributes()
            .iter()
            .map(|a| {
                (
                    a.name().to_owned(),
                    a.value().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        attributes.remove("sub");
        assert_eq!(attributes, approval.user_attributes, "{name}");
        let sms = created
            .user_mfa_setting_list()
            .iter()
            .any(|m| m == "SMS_MFA");
        assert_eq!(sms, approval.enable_sms_mfa, "{name}");
    }
    let plain_new = cognito
        .admin_get_user()
        .user_pool_id(&new)
        .username("plain")
        .send()
        .await
        .unwrap();
    let names: BTreeSet<&str> = plain_new
        .user_attributes()
        .iter()
        .map(AttributeType::name)
        .collect();
    assert!(names.contains("custom:department") && names.contains("given_name"));
    assert!(
        !names.contains("nickname") && !names.contains("locale") && !names.contains("custom:tier")
    );
    let sms_new = cognito
        .admin_get_user()
        .user_pool_id(&new)
        .username("sms")
        .send()
        .await
        .unwrap();
    assert_eq!(sms_new.preferred_mfa_setting(), Some("SMS_MFA"));
    assert_eq!(
        group_members(&cognito, &new, "staff").await,
        BTreeSet::from(["plain".to_owned()])
    );

    let states = ledger_states(&ledger).await;
    assert_eq!(states["Gone"], "refused gone");
    assert_eq!(states["Off"], "pending");
    assert_eq!(states["Totp"], "pending");
    assert_eq!(states[plain], "finished");
    assert_eq!(states["Sms"], "finished");

    // Under MFA_POLICY=reset-required the TOTP user is created without it, listed to enrol
    // again; the gone user is skipped from the ledger without a read.
    let mut reset = env.clone();
    reset.retain(|(n, _)| *n != "MFA_POLICY");
    reset.push(("MFA_POLICY", "reset-required"));
    let second = run(
        with(&[
            "--method",
            "admin-create-user",
            "--report",
            report_file.to_str().unwrap(),
        ]),
        &reset,
    );
    assert_eq!(second.code, Some(0), "{second:?}");
    assert!(
        second.stdout.contains("enrol MFA again Totp"),
        "{}",
        second.stdout
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap()).unwrap();
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["alreadyPresent"], 2);
    assert_eq!(report["reenrol"], serde_json::json!(["Totp"]));
    assert_eq!(report["skippedBy"]["gone"], 1);
    assert_eq!(report["skippedBy"]["disabled"], 1);
    let totp_new = cognito
        .admin_get_user()
        .user_pool_id(&new)
        .username("totp")
        .send()
        .await
        .unwrap();
    assert!(totp_new.user_mfa_setting_list().is_empty());
    assert_eq!(all_users(&cognito, &new).await.len(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}
