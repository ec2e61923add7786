//! `index` and `audit` against a moto server: a case-sensitive legacy pool of 5,050 users with
//! collisions and groups, and the ledger table in moto's `DynamoDB`.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

use aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
    SmsMfaSettingsType, SoftwareTokenMfaSettingsType, UsernameConfigurationType,
};
use aws_sdk_dynamodb::types::AttributeValue;
use cognito_migrate_aws::ledger::{Ledger, META_PK, partition_key, sort_key};
use cognito_migrate_core::ledger::MigrationState;
use cognito_migrate_core::match_key;
use common::{CliRun, Moto, temp_dir};
use futures::StreamExt as _;
use serde_json::Value;

type Item = HashMap<String, AttributeValue>;

/// A user as seeded: username and attributes.
#[derive(Debug, Clone)]
struct Seed {
    username: String,
    attributes: Vec<(&'static str, String)>,
}

impl Seed {
    fn new(username: impl Into<String>, attributes: &[(&'static str, String)]) -> Self {
        Self {
            username: username.into(),
            attributes: attributes.to_vec(),
        }
    }

    fn identifiers(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.username.as_str()).chain(
            self.attributes
                .iter()
                .filter(|(name, _)| ["email", "preferred_username", "phone_number"].contains(name))
                .map(|(_, value)| value.as_str()),
        )
    }

    fn keys(&self) -> BTreeSet<String> {
        self.identifiers()
            .map(|id| match_key(id).into_string())
            .filter(|k| !k.is_empty())
            .collect()
    }
}

const BASE_USERS: usize = 5_000;
const USERNAME_COLLISIONS: usize = 20;
const EMAIL_COLLISIONS: usize = 5;
const SMALL_GROUPS: usize = 70;
const BIG_GROUP_MEMBERS: usize = 150;

fn seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for i in 0..BASE_USERS {
        let mut attributes = vec![
            ("email", format!("User{i:05}@Example.com")),
            ("email_verified", "true".to_owned()),
        ];
        if i % 10 == 0 {
            attributes.push(("preferred_username", format!("Nick{i:05}")));
        }
        seeds.push(Seed::new(format!("user{i:05}"), &attributes));
    }
    for k in 0..USERNAME_COLLISIONS {
        seeds.push(Seed::new(
            format!("Collide{k}@Example.com"),
            &[("email", format!("Collide{k}@Example.com"))],
        ));
        seeds.push(Seed::new(
            format!("collide{k}@example.com"),
            &[("email", format!("collide{k}@example.com"))],
        ));
    }
    for k in 0..EMAIL_COLLISIONS {
        seeds.push(Seed::new(
            format!("emailA{k}"),
            &[("email", format!("Shared{k}@Example.com"))],
        ));
        seeds.push(Seed::new(
            format!("emailB{k}"),
            &[("email", format!("shared{k}@example.com"))],
        ));
    }
    seeds
}

async fn create_users(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    seeds: &[Seed],
) {
    let results: Vec<Result<(), String>> = futures::stream::iter(seeds)
        .map(|seed| async move {
            let attributes: Vec<AttributeType> = seed
                .attributes
                .iter()
                .map(|(name, value)| {
                    AttributeType::builder()
                        .name(*name)
                        .value(value)
                        .build()
                        .unwrap()
                })
                .collect();
            cognito
                .admin_create_user()
                .user_pool_id(pool)
                .username(&seed.username)
                .set_user_attributes(Some(attributes))
                .message_action(MessageActionType::Suppress)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}: {e:?}", seed.username))
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failures.is_empty(),
        "{} creates failed, first: {:?}",
        failures.len(),
        failures.first()
    );
}

/// [`create_users`], printing the rate moto managed.
async fn create_users_timed(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    seeds: &[Seed],
) {
    let started = Instant::now();
    create_users(cognito, pool, seeds).await;
    let seconds = started.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "a rate to print")]
    let rate = seeds.len() as f64 / seconds;
    eprintln!(
        "seeded {} users in {seconds:.1} s ({rate:.0} AdminCreateUser/s, 32 in flight)",
        seeds.len()
    );
}

async fn create_pool(cognito: &aws_sdk_cognitoidentityprovider::Client) -> String {
    let pool = cognito
        .create_user_pool()
        .pool_name("legacy")
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(true)
                .build()
                .unwrap(),
        )
        .alias_attributes(AliasAttributeType::PreferredUsername)
        .send()
        .await
        .expect("CreateUserPool");
    pool.user_pool()
        .and_then(|p| p.id())
        .expect("a pool id")
        .to_owned()
}

/// A moto server, a case-sensitive legacy pool in it and an empty ledger table `ledger`.
async fn set_up() -> (
    Moto,
    aws_sdk_cognitoidentityprovider::Client,
    aws_sdk_dynamodb::Client,
    String,
) {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let pool = create_pool(&cognito).await;
    common::create_ledger_table(&dynamodb, "ledger").await;
    (moto, cognito, dynamodb, pool)
}

async fn scan_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> BTreeMap<(String, String), Item> {
    let mut items = BTreeMap::new();
    let mut start = None;
    loop {
        let page = dynamodb
            .scan()
            .table_name(name)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .expect("Scan");
        for item in page.items() {
            let pk = item["pk"].as_s().unwrap().clone();
            // The users' items only: not the ledger's records of itself or its counters.
            if pk == META_PK || pk == cognito_migrate_core::counters::PK {
                continue;
            }
            let sk = item["sk"].as_s().unwrap().clone();
            assert!(
                items.insert((pk, sk), item.clone()).is_none(),
                "an item twice"
            );
        }
        match page.last_evaluated_key {
            Some(next) if !next.is_empty() => start = Some(next),
            _ => return items,
        }
    }
}

/// `cognito-migrate index` of `pool` into the table `ledger`, with `extra` options.
fn index(moto: &Moto, pool: &str, extra: &[&str]) -> CliRun {
    let mut args = vec!["index", "--legacy-pool-id", pool, "--table", "ledger"];
    args.extend_from_slice(extra);
    moto.cli(&args)
}

/// `index: N users scanned, M ledger items written, ...`: the two counts.
fn summary_counts(run: &CliRun) -> (u64, u64) {
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("index: "))
        .unwrap_or_else(|| panic!("no summary in {run:?}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[1].parse().unwrap(), words[4].parse().unwrap())
}

fn without_indexed_at(item: &Item) -> Item {
    let mut item = item.clone();
    item.remove("indexedAtMs");
    item
}

fn number(item: &Item, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

fn user_json(item: &Item) -> Value {
    serde_json::from_str(item["user"].as_s().unwrap()).unwrap()
}

/// 70 groups (more than one `ListGroups` page) that one user is in, and one group with more
/// members than one `ListUsersInGroup` page. Returns the numbers of groups and memberships.
async fn seed_groups(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
) -> (usize, usize) {
    let mut memberships: Vec<(String, String)> = Vec::new();
    for g in 0..SMALL_GROUPS {
        memberships.push((format!("g{g:02}"), "user00000".to_owned()));
    }
    for i in 100..100 + BIG_GROUP_MEMBERS {
        memberships.push(("big".to_owned(), format!("user{i:05}")));
    }
    let groups: BTreeSet<&String> = memberships.iter().map(|(g, _)| g).collect();
    for group in &groups {
        cognito
            .create_group()
            .user_pool_id(pool)
            .group_name(*group)
            .send()
            .await
            .expect("CreateGroup");
    }
    let added: Vec<_> = futures::stream::iter(&memberships)
        .map(|(group, user)| {
            cognito
                .admin_add_user_to_group()
                .user_pool_id(pool)
                .group_name(group)
                .username(user)
                .send()
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(
        added.iter().all(Result::is_ok),
        "AdminAddUserToGroup failed"
    );
    (groups.len(), memberships.len())
}

/// Every user exactly once as a primary item, findable under the key of each identifier, with
/// its groups.
fn check_ledger(items: &BTreeMap<(String, String), Item>, seeds: &[Seed]) {
    let expected_items: usize = seeds.iter().map(|s| s.keys().len()).sum();
    assert_eq!(
        items.len(),
        expected_items,
        "one item per distinct key of each user"
    );
    let primaries: Vec<&Item> = items
        .values()
        .filter(|i| i["primary"].as_bool() == Ok(&true))
        .collect();
    assert_eq!(primaries.len(), seeds.len(), "one primary item per user");
    let primary_users: BTreeSet<&String> =
        primaries.iter().map(|i| i["sk"].as_s().unwrap()).collect();
    assert_eq!(
        primary_users.len(),
        seeds.len(),
        "each user has exactly one primary item"
    );
    let all_users: BTreeSet<&String> = items.keys().map(|(_, sk)| sk).collect();
    assert_eq!(all_users.len(), seeds.len());
    for seed in seeds {
        for key in seed.keys() {
            let at = (partition_key(&match_key(&key)), sort_key(&seed.username));
            let item = items
                .get(&at)
                .unwrap_or_else(|| panic!("{} not under {key}", seed.username));
            assert_eq!(item["state"].as_s().unwrap(), "pending");
            assert_eq!(user_json(item)["username"], seed.username.as_str());
        }
    }
    let collided = items
        .keys()
        .filter(|(pk, _)| pk == "k#collide7@example.com")
        .count();
    assert_eq!(
        collided, 2,
        "both users of a collision are filed under the shared key"
    );
    let member_of_all = &items[&(
        partition_key(&match_key("user00000")),
        sort_key("user00000"),
    )];
    let groups_of_first: Vec<String> =
        serde_json::from_value(user_json(member_of_all)["groups"].clone()).unwrap();
    assert_eq!(
        groups_of_first.len(),
        SMALL_GROUPS,
        "all 70 groups, across ListGroups pages"
    );
    let big: usize = primaries
        .iter()
        .filter(|i| user_json(i)["groups"].to_string().contains("\"big\""))
        .count();
    assert_eq!(
        big, BIG_GROUP_MEMBERS,
        "every member of a group larger than one page"
    );
}

/// `audit` of the seeded pool: every collision, Markdown on stdout, exit 3 when asked to fail.
fn audit_lists_the_collisions(moto: &Moto, pool: &str, total: usize) {
    let out_dir = temp_dir("audit-moto");
    let started = Instant::now();
    let audit = moto.cli(&[
        "audit",
        "--legacy-pool-id",
        pool,
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(audit.code, Some(0), "{audit:?}");
    let seconds = started.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "a rate to print")]
    let rate = total as f64 / seconds;
    eprintln!(
        "audit (the same 16-chain ListUsers scan, no ledger writes): {seconds:.2} s, {rate:.0} users/s"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("audit.json")).unwrap())
            .unwrap();
    assert_eq!(report["totalUsers"], total);
    let keys: BTreeSet<&str> = report["collisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let mut expected: BTreeSet<String> = (0..USERNAME_COLLISIONS)
        .map(|k| format!("collide{k}@example.com"))
        .collect();
    expected.extend((0..EMAIL_COLLISIONS).map(|k| format!("shared{k}@example.com")));
    assert_eq!(keys, expected.iter().map(String::as_str).collect());
    let markdown = std::fs::read_to_string(out_dir.join("audit.md")).unwrap();
    assert_eq!(audit.stdout, markdown, "the Markdown is printed as written");
    assert!(markdown.contains("shared3@example.com"));
    let strict = moto.cli(&[
        "audit",
        "--legacy-pool-id",
        pool,
        "--out-dir",
        out_dir.to_str().unwrap(),
        "--fail-on-collisions",
    ]);
    assert_eq!(strict.code, Some(3), "{strict:?}");
    let _ = std::fs::remove_dir_all(out_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "one story: two index runs around a migration, each checked"
)]
async fn index_fills_the_ledger_once_per_user_and_audit_finds_the_collisions() {
    let (moto, cognito, dynamodb, pool) = set_up().await;

    let seeds = seeds();
    create_users_timed(&cognito, &pool, &seeds).await;

    let (group_count, membership_count) = seed_groups(&cognito, &pool).await;

    // First run: 16 chains, checked against the pool's estimate.
    let first = index(&moto, &pool, &[]);
    assert_eq!(first.code, Some(0), "{first:?}");
    eprintln!("first run: {}", first.stdout.trim());
    let expected_items: usize = seeds.iter().map(|s| s.keys().len()).sum();
    assert_eq!(
        summary_counts(&first),
        (seeds.len() as u64, expected_items as u64)
    );
    assert!(
        first.stdout.contains(&format!(
            "{group_count} groups ({membership_count} memberships)"
        )),
        "{}",
        first.stdout
    );

    check_ledger(&scan_table(&dynamodb, "ledger").await, &seeds);
    // The first run starts the ledger's counters from a count of what it filed.
    assert!(
        first
            .stdout
            .contains(&format!("recount: {} users scanned", seeds.len())),
        "{}",
        first.stdout
    );
    // The pool's sign-in settings are on record, for every sign-in to read.
    let ledger = Ledger::new(dynamodb.clone(), "ledger");
    let settings = ledger.legacy_sign_in().await.unwrap().expect("recorded");
    assert_eq!(settings.alias_attributes, ["preferred_username"]);
    assert!(settings.username_attributes.is_empty());

    // Between runs: one user migrates (written through the lambda crate's ledger) and three
    // users join the legacy pool.
    let record = ledger
        .record("user00010")
        .await
        .unwrap()
        .expect("user00010 is in the ledger");
    ledger
        .record_migration(&record, "user00010@example.com", 42)
        .await
        .expect("record_migration");
    let before = scan_table(&dynamodb, "ledger").await;
    let late: Vec<Seed> = (0..3)
        .map(|k| {
            Seed::new(
                format!("late{k}"),
                &[("email", format!("Late{k}@Example.com"))],
            )
        })
        .collect();
    create_users(&cognito, &pool, &late).await;

    // Second run: other options, the exact check.
    let second = index(
        &moto,
        &pool,
        &["--chains", "4", "--verify", "scan", "--concurrency", "8"],
    );
    assert_eq!(second.code, Some(0), "{second:?}");
    eprintln!("second run: {}", second.stdout.trim());
    let late_items: usize = late.iter().map(|s| s.keys().len()).sum();
    assert_eq!(
        summary_counts(&second),
        (
            (seeds.len() + late.len()) as u64,
            (expected_items + late_items) as u64
        )
    );
    // The counters, started by the first run, took the new users in.
    let counters = ledger.counters().await.unwrap();
    assert_eq!(
        counters.total("users"),
        i64::try_from(seeds.len() + late.len()).unwrap()
    );
    assert!(
        !second.stdout.contains("recount:"),
        "counted once: {}",
        second.stdout
    );
    let after = scan_table(&dynamodb, "ledger").await;
    assert_eq!(after.len(), before.len() + late_items);
    let claim = ("n#user00010@example.com".to_owned(), "claim".to_owned());
    assert_eq!(after[&claim], before[&claim], "the migration's claim stays");
    for (at, old) in before.iter().filter(|(at, _)| **at != claim) {
        let new = &after[at];
        assert_eq!(
            without_indexed_at(new),
            without_indexed_at(old),
            "only indexedAtMs may change: {at:?}"
        );
        assert!(
            number(new, "indexedAtMs") > number(old, "indexedAtMs"),
            "the second run rewrote {at:?}"
        );
    }
    let migrated = ledger.record("user00010").await.unwrap().unwrap();
    assert_eq!(
        migrated.entry.state,
        MigrationState::Approved {
            new_username: "user00010@example.com".into(),
            at_ms: 42
        },
        "indexing never resets a migration state"
    );
    for seed in &late {
        assert!(
            ledger.record(&seed.username).await.unwrap().is_some(),
            "{} was picked up",
            seed.username
        );
    }

    audit_lists_the_collisions(&moto, &pool, seeds.len() + late.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_the_sub_filters_cannot_find_fails_the_run_loudly() {
    let (moto, cognito, dynamodb, pool) = set_up().await;
    let seeds: Vec<Seed> = (0..300).map(|i| Seed::new(format!("u{i}"), &[])).collect();
    create_users(&cognito, &pool, &seeds).await;
    // moto lets an administrator rewrite `sub` (Cognito does not): a user no `sub ^= "<hex>"`
    // filter matches, standing for whatever a real pool might hold that the split misses.
    cognito
        .admin_update_user_attributes()
        .user_pool_id(&pool)
        .username("u7")
        .user_attributes(
            AttributeType::builder()
                .name("sub")
                .value("ZZZ-not-hex")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
    let ledger = Ledger::new(dynamodb.clone(), "ledger");

    let estimate = index(&moto, &pool, &[]);
    assert_eq!(estimate.code, Some(4), "{estimate:?}");
    assert!(
        estimate
            .stderr
            .contains("found 299 user(s) but DescribeUserPool estimates 300"),
        "{}",
        estimate.stderr
    );
    assert!(ledger.record("u7").await.unwrap().is_none());

    let exact = index(&moto, &pool, &["--verify", "scan"]);
    assert_eq!(exact.code, Some(4), "{exact:?}");
    assert!(
        exact.stderr.contains("missed 1 user(s)"),
        "{}",
        exact.stderr
    );
    assert!(
        ledger.record("u7").await.unwrap().is_some(),
        "the unfiltered check chain hands on what it found"
    );

    let single = index(&moto, &pool, &["--chains", "1"]);
    assert_eq!(single.code, Some(0), "{single:?}");
    assert_eq!(summary_counts(&single).0, 300);

    let audit = moto.cli(&[
        "audit",
        "--legacy-pool-id",
        &pool,
        "--out-dir",
        temp_dir("audit-incomplete").to_str().unwrap(),
    ]);
    assert_eq!(
        audit.code,
        Some(4),
        "the audit refuses an incomplete scan too: {audit:?}"
    );
}

#[test]
fn audit_reads_an_export_file() {
    let out_dir = temp_dir("audit-file");
    let export = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/users.json");
    let run = |extra: &[&str]| -> CliRun {
        let mut args = vec![
            "audit",
            "--from-file",
            export,
            "--out-dir",
            out_dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        std::process::Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
            .args(&args)
            .output()
            .unwrap()
            .into()
    };
    let plain = run(&[]);
    assert_eq!(plain.code, Some(0), "{plain:?}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("audit.json")).unwrap())
            .unwrap();
    assert_eq!(report["totalUsers"], 7);
    assert_eq!(report["collisions"][0]["key"], "alice@example.com");
    assert!(plain.stdout.contains("alice@example.com"));
    assert_eq!(run(&["--fail-on-collisions"]).code, Some(3));
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
        .args(["audit", "--from-file", "/nonexistent/export.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(out_dir);
}

/// Signs `username` in (its password made permanent first) and returns an access token.
async fn access_token(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    username: &str,
) -> String {
    const PASSWORD: &str = "Correct-Horse-7";
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name("admin")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .send()
        .await
        .expect("CreateUserPoolClient");
    let client_id = client
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("a client id");
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(username)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
    let auth = cognito
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("AdminInitiateAuth");
    auth.authentication_result()
        .and_then(|r| r.access_token())
        .expect("an access token")
        .to_owned()
}

/// The usernames of an audit report's MFA category.
fn mfa_usernames(out_dir: &std::path::Path) -> Vec<String> {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("audit.json")).unwrap())
            .unwrap();
    let mfa = report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "mfa")
        .expect("an mfa category");
    let mut names: Vec<String> = mfa["usernames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// SMS MFA for `texter` and TOTP for `authenticator`, through `SetUserMFAPreference`: what
/// current pools use, and what `ListUsers` does not show.
async fn turn_on_mfa(
    cognito: &aws_sdk_cognitoidentityprovider::Client,
    pool: &str,
    texter: &str,
    authenticator: &str,
) {
    cognito
        .admin_set_user_mfa_preference()
        .user_pool_id(pool)
        .username(texter)
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .expect("AdminSetUserMFAPreference (SMS)");
    let token = access_token(cognito, pool, authenticator).await;
    cognito
        .associate_software_token()
        .access_token(&token)
        .send()
        .await
        .expect("AssociateSoftwareToken");
    cognito
        .verify_software_token()
        .access_token(&token)
        .user_code("123456")
        .send()
        .await
        .expect("VerifySoftwareToken");
    cognito
        .admin_set_user_mfa_preference()
        .user_pool_id(pool)
        .username(authenticator)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .build(),
        )
        .send()
        .await
        .expect("AdminSetUserMFAPreference (TOTP)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_mfa_finds_the_factors_list_users_does_not_show() {
    let (moto, cognito, dynamodb, pool) = set_up().await;
    let phone = [("phone_number", "+15550100".to_owned())];
    let seeds = [
        Seed::new("plain", &[]),
        Seed::new("Texter", &phone),
        Seed::new("authenticator", &[]),
    ];
    create_users(&cognito, &pool, &seeds).await;
    turn_on_mfa(&cognito, &pool, "Texter", "authenticator").await;

    let out_dir = temp_dir("audit-mfa");
    let out = out_dir.to_str().unwrap();
    let listed = moto.cli(&["audit", "--legacy-pool-id", &pool, "--out-dir", out]);
    assert_eq!(listed.code, Some(0), "{listed:?}");
    assert!(listed.stderr.contains("--read-mfa"), "{}", listed.stderr);
    assert!(mfa_usernames(&out_dir).is_empty());

    let read = moto.cli(&[
        "audit",
        "--legacy-pool-id",
        &pool,
        "--out-dir",
        out,
        "--read-mfa",
        "--mfa-rate",
        "20",
    ]);
    assert_eq!(read.code, Some(0), "{read:?}");
    assert!(!read.stderr.contains("--read-mfa"), "{}", read.stderr);
    assert_eq!(mfa_usernames(&out_dir), ["Texter", "authenticator"]);

    let indexed = index(&moto, &pool, &["--read-mfa"]);
    assert_eq!(indexed.code, Some(0), "{indexed:?}");
    assert!(
        indexed.stdout.contains("MFA settings read for 3 users"),
        "{}",
        indexed.stdout
    );
    let ledger = Ledger::new(dynamodb.clone(), "ledger");
    let mfa = |name: &'static str| {
        let ledger = &ledger;
        async move {
            ledger
                .record(name)
                .await
                .unwrap()
                .expect("indexed")
                .entry
                .user
                .mfa
        }
    };
    let (texter, authenticator, plain) = (
        mfa("Texter").await,
        mfa("authenticator").await,
        mfa("plain").await,
    );
    assert!(texter.sms && !texter.totp, "{texter:?}");
    assert!(
        authenticator.totp && !authenticator.sms,
        "{authenticator:?}"
    );
    assert!(!plain.any(), "{plain:?}");
    let _ = std::fs::remove_dir_all(out_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_email_moves_the_users_copy_with_its_state() {
    let (moto, cognito, dynamodb, pool) = set_up().await;
    let seeds = [
        Seed::new("Carol", &[("email", "carol@old.example".to_owned())]),
        Seed::new("dave", &[("email", "Dave@Example.com".to_owned())]),
    ];
    create_users(&cognito, &pool, &seeds).await;
    let first = index(&moto, &pool, &[]);
    assert_eq!(first.code, Some(0), "{first:?}");
    let ledger = Ledger::new(dynamodb.clone(), "ledger");
    let carol = ledger.record("Carol").await.unwrap().expect("indexed");
    ledger
        .record_migration(&carol, "carol", 7)
        .await
        .expect("record_migration");

    cognito
        .admin_update_user_attributes()
        .user_pool_id(&pool)
        .username("Carol")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("Carol@New.Example")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
    let second = index(&moto, &pool, &[]);
    assert_eq!(second.code, Some(0), "{second:?}");
    assert!(
        second.stdout.contains("1 stale items removed"),
        "{}",
        second.stdout
    );

    let items = scan_table(&dynamodb, "ledger").await;
    let carols: BTreeMap<&str, &Item> = items
        .iter()
        .filter(|((_, sk), _)| sk == "u#Carol")
        .map(|((pk, _), item)| (pk.as_str(), item))
        .collect();
    assert_eq!(
        carols.keys().copied().collect::<Vec<_>>(),
        ["k#carol", "k#carol@new.example"],
        "the copy under the old address is gone, one under the new one is there"
    );
    for (pk, item) in &carols {
        assert_eq!(item["state"].as_s().unwrap(), "approved", "{pk}");
        assert_eq!(item["newUsername"].as_s().unwrap(), "carol", "{pk}");
        assert_eq!(number(item, "atMs"), 7, "{pk}");
    }
    let dave: Vec<&String> = items
        .keys()
        .filter(|(_, sk)| sk == "u#dave")
        .map(|(pk, _)| pk)
        .collect();
    assert_eq!(
        dave,
        ["k#dave", "k#dave@example.com"],
        "others are untouched"
    );
    assert!(
        ledger
            .record("dave")
            .await
            .unwrap()
            .is_some_and(|r| r.entry.state == MigrationState::Pending)
    );
}
