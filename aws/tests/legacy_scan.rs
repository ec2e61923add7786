//! The one scan of the legacy pool against moto: one chain or many, with and without the exact
//! check, every page of users and of group members, mapped by the one SDK-user mapping.

mod common;

use std::collections::BTreeSet;

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType};
use cognito_migrate_aws::cli::legacy_scan::{GroupIndex, LegacyScan, ScanOptions, Verify};
use cognito_migrate_core::user::{LegacyUser, UserStatus};
use common::Moto;
use tokio::sync::mpsc;

/// More than two `ListUsers` pages, and a group of more than two member pages.
const USERS: usize = 130;
const STAFF: usize = 125;

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

async fn seed(cognito: &Client) -> String {
    let pool = cognito
        .create_user_pool()
        .pool_name("legacy")
        .send()
        .await
        .unwrap()
        .user_pool()
        .and_then(|p| p.id())
        .unwrap()
        .to_owned();
    for i in 0..USERS {
        // Two users apart only by case, as in a case-sensitive legacy pool.
        let name = match i {
            0 => "Alice".to_owned(),
            1 => "alice".to_owned(),
            _ => format!("user{i:03}"),
        };
        cognito
            .admin_create_user()
            .user_pool_id(&pool)
            .username(&name)
            .user_attributes(attribute("email", &format!("{name}@Example.com")))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .unwrap();
    }
    cognito
        .admin_disable_user()
        .user_pool_id(&pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    cognito
        .create_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .description("the admins")
        .precedence(3)
        .send()
        .await
        .unwrap();
    cognito
        .create_group()
        .user_pool_id(&pool)
        .group_name("staff")
        .send()
        .await
        .unwrap();
    for (group, member) in std::iter::once(("admins", "Alice".to_owned()))
        .chain((2..2 + STAFF).map(|i| ("staff", format!("user{i:03}"))))
        .chain(std::iter::once(("staff", "Alice".to_owned())))
    {
        cognito
            .admin_add_user_to_group()
            .user_pool_id(&pool)
            .username(member)
            .group_name(group)
            .send()
            .await
            .unwrap();
    }
    pool
}

async fn scan_all(
    scan: &LegacyScan,
    options: ScanOptions,
    groups: &GroupIndex,
) -> (Vec<LegacyUser>, u64) {
    let (sink, mut pages) = mpsc::channel(4);
    let collect = async {
        let mut users = Vec::new();
        while let Some(page) = pages.recv().await {
            users.extend(page);
        }
        users
    };
    let (report, mut users) = tokio::join!(scan.users(options, Some(groups), sink), collect);
    let report = report.unwrap();
    assert_eq!(report.verification_failure(), None);
    assert_eq!(report.users, users.len() as u64);
    users.sort_by(|a, b| a.username.cmp(&b.username));
    (users, report.missed_by_filters)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_chain_or_sixteen_find_every_user_with_groups_and_flags() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let cognito = Client::new(&sdk);
    let pool = seed(&cognito).await;
    let scan = LegacyScan::new(cognito.clone(), &pool);

    let specs = scan.group_specs().await.unwrap();
    let admins = specs.iter().find(|g| g.name == "admins").unwrap();
    assert_eq!(admins.description.as_deref(), Some("the admins"));
    assert_eq!(admins.precedence, Some(3));
    let groups = scan.groups(4).await.unwrap();
    assert_eq!(groups.groups.len(), 2);
    assert_eq!(groups.memberships(), STAFF as u64 + 2);

    let mut found = Vec::new();
    for options in [
        ScanOptions {
            chains: 1,
            verify: Verify::None,
        },
        ScanOptions {
            chains: 16,
            verify: Verify::Scan,
        },
        ScanOptions {
            chains: 16,
            verify: Verify::Estimate,
        },
    ] {
        let (users, missed) = scan_all(&scan, options, &groups).await;
        assert_eq!(missed, 0, "{options:?}");
        assert_eq!(users.len(), USERS, "{options:?}");
        found.push(users);
    }
    assert_eq!(
        found[0], found[1],
        "one chain and sixteen read the same users"
    );
    assert_eq!(found[0], found[2]);

    let users = &found[0];
    let names: BTreeSet<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert!(names.contains("Alice") && names.contains("alice"));
    let alice = users.iter().find(|u| u.username == "Alice").unwrap();
    assert_eq!(alice.groups, ["admins", "staff"]);
    assert!(alice.enabled);
    assert_eq!(alice.status, UserStatus::parse("FORCE_CHANGE_PASSWORD"));
    assert_eq!(
        alice.attributes.get("email").map(String::as_str),
        Some("Alice@Example.com")
    );
    assert!(alice.sub().is_some(), "the sub is read");
    assert!(alice.created_ms.is_some());
    let disabled = users.iter().find(|u| u.username == "alice").unwrap();
    assert!(!disabled.enabled);
    assert!(disabled.groups.is_empty());
    let last = users.iter().find(|u| u.username == "user126").unwrap();
    assert_eq!(last.groups, ["staff"]);
    assert!(scan.stats.pages.load(std::sync::atomic::Ordering::Relaxed) > 6);
}
