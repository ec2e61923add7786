//! `cognito-migrate finish` against moto: a legacy pool of 5,000 users with groups and
//! collisions, a second moto pool as the new (case-insensitive) pool, a run stopped in the
//! middle and a re-run that completes without creating anyone twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Instant;

use aws_sdk_cognitoidentityprovider::Client as Cognito;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, MessageActionType, SchemaAttributeType, UserType,
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
    let output = Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
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
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("the binary runs");
    let run = CliRun::from(output);
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
    // Before the finish: one user migrated on sign-in, one refused as ambiguous, and a user
    // of the new pool who already holds a legacy user's name.
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
        "--concurrency",
        "32",
    ];
    let with = |extra: &[&'static str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend_from_slice(extra);
        args
    };

    // 5,006 users: 1 migrated, 1 ambiguous and 6 in collision groups skipped, 4,998 to create.
    let dry = finish(&moto, &with(&["--dry-run", "--show", "3"]));
    assert_eq!(dry.code, Some(0), "{dry:?}");
    assert!(
        dry.stdout.starts_with(
            "finish (dry run): 4998 users to create with admin-create-user; 1 already in the new pool; 7 skipped"
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
        4997 - (created_first - number("resumed")),
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
        4998,
        "4,997 created plus the one already there"
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
    let expected_admins: BTreeSet<String> = (50..USERS)
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
        BTreeMap::from([
            ("finished", 4997),
            ("migrated", 1),
            ("pending", 7),
            ("refused", 1)
        ])
    );
    // A third run has nothing left to create.
    let third = finish(&moto, &with(&[]));
    assert!(
        third.stdout.starts_with(
            "finish: 1 users to create with admin-create-user; 4998 already in the new pool; 7 skipped"
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
