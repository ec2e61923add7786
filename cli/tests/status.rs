//! `cognito-migrate status` against moto's `DynamoDB`: the counters kept by every ledger writer
//! agree with a full recount, re-indexing never counts twice, and `status` answers from a few
//! items whatever the ledger's size.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use cognito_migrate_aws::cli::ledger::Counters;
use cognito_migrate_aws::ledger::{Ledger, LedgerRecord, MigrationWrite, counter, partition_key};
use cognito_migrate_core::ledger::{FinishMethod, LedgerEntry, directory_keys};
use cognito_migrate_core::match_key;
use cognito_migrate_core::migrate::ReasonCode;
use cognito_migrate_core::user::LegacyUser;
use common::Moto;
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;

fn user(name: &str, email: &str) -> LegacyUser {
    LegacyUser::new(
        name,
        BTreeMap::from([
            ("sub".to_owned(), format!("sub-{name}")),
            ("email".to_owned(), email.to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
        ]),
    )
}

async fn record(ledger: &Ledger, name: &str) -> LedgerRecord {
    ledger.record(name).await.unwrap().expect("in the ledger")
}

fn status_json(moto: &Moto, table: &str, extra: &[&str]) -> (Value, f64) {
    let mut args = vec!["status", "--table", table, "--json"];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let run = moto.cli(&args);
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(run.code, Some(0), "{run:?}");
    (serde_json::from_str(&run.stdout).expect("JSON"), seconds)
}

/// Totals without zeros, for comparing two sets of counters.
fn nonzero(
    counters: &Counters,
) -> (
    BTreeMap<String, i64>,
    BTreeMap<String, BTreeMap<String, i64>>,
) {
    let totals = counters
        .totals
        .iter()
        .filter(|(_, v)| **v != 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let days = counters
        .days
        .iter()
        .map(|(d, c)| {
            (
                d.clone(),
                c.iter()
                    .filter(|(_, v)| **v != 0)
                    .map(|(k, v)| (k.clone(), *v))
                    .collect::<BTreeMap<_, _>>(),
            )
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    (totals, days)
}

#[tokio::test(flavor = "multi_thread")]
#[expect(
    clippy::too_many_lines,
    reason = "one story, from the index to the recount"
)]
async fn counters_follow_every_writer_and_match_a_recount() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    common::create_ledger_table(&dynamodb, "ledger").await;
    let plain = Ledger::new(dynamodb.clone(), "ledger");

    // A ledger indexed before counters existed.
    let first: Vec<LegacyUser> = (0..40)
        .map(|i| user(&format!("user{i:02}"), &format!("User{i:02}@Example.com")))
        .chain([
            user("Pat", "pat@example.com"),
            user("pat", "PAT@example.com"),
        ])
        .collect();
    assert!(
        plain
            .upsert_indexed_users(&first, 1, 8)
            .await
            .iter()
            .all(Result::is_ok)
    );
    let (status, _) = status_json(&moto, "ledger", &[]);
    assert_eq!(status["counted"], false, "no counters yet: {status}");

    // Counters start with a recount; from then on every writer keeps them.
    let recount = moto.cli(&["status", "--table", "ledger", "--recount"]);
    assert_eq!(recount.code, Some(0), "{recount:?}");
    assert!(
        recount.stderr.contains("recount: 42 users scanned in"),
        "{recount:?}"
    );
    let ledger = Ledger::new(dynamodb.clone(), "ledger").with_counters(true);
    assert!(ledger.has_counters().await.unwrap());

    // Re-indexing everyone plus three new users counts only the new ones.
    let mut second = first.clone();
    second.extend((40..43).map(|i| user(&format!("user{i:02}"), &format!("u{i}@example.com"))));
    assert!(
        ledger
            .upsert_indexed_users(&second, 2, 8)
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert!(
        ledger
            .upsert_indexed_users(&second, 3, 8)
            .await
            .iter()
            .all(Result::is_ok)
    );
    assert_eq!(ledger.counters().await.unwrap().total("users"), 45);
    assert_eq!(ledger.counters().await.unwrap().total("pending"), 45);

    let today = cognito_migrate_cli_now();
    // Sign-in migrations: two today, one two days ago, and a retry that changes nothing.
    for (name, at) in [
        ("user00", today),
        ("user01", today),
        ("user02", today - 2 * DAY_MS),
    ] {
        let r = record(&ledger, name).await;
        let write = ledger
            .record_migration(&r, &format!("{name}@example.com"), at)
            .await
            .unwrap();
        assert_eq!(write, MigrationWrite::Recorded);
        // The new-pool user's first sign-in confirms it.
        let r = record(&ledger, name).await;
        ledger
            .confirm_migration(&r, &format!("{name}@example.com"), Some("new-sub"), at)
            .await
            .unwrap();
    }
    let approved = record(&ledger, "user06").await;
    ledger
        .record_migration(&approved, "user06@example.com", today)
        .await
        .unwrap();
    let again = record(&ledger, "user06").await;
    assert_eq!(
        ledger
            .record_migration(&again, "user06@example.com", today)
            .await
            .unwrap(),
        MigrationWrite::AlreadyRecorded
    );
    // A user found by the exact fallback lookup, not indexed: counted as it is filed.
    let late = user("Late", "late@example.com");
    let unindexed = LedgerRecord {
        keys: directory_keys(&late).iter().map(partition_key).collect(),
        pk: partition_key(&match_key("Late")),
        entry: LedgerEntry::pending(late),
        primary: true,
        indexed_at_ms: None,
        groups_copied_at_ms: None,
    };
    ledger
        .record_migration(&unindexed, "late", today)
        .await
        .unwrap();

    // Refusals: pending -> refused counts once; refused -> refused with the same reason
    // changes nothing; another reason moves the user between reasons.
    let pats = [record(&ledger, "Pat").await, record(&ledger, "pat").await];
    ledger
        .record_refusal(&[&pats[0], &pats[1]], ReasonCode::Ambiguous, today)
        .await
        .unwrap();
    let pats = [record(&ledger, "Pat").await, record(&ledger, "pat").await];
    ledger
        .record_refusal(&[&pats[0], &pats[1]], ReasonCode::Ambiguous, today)
        .await
        .unwrap();
    let r = record(&ledger, "user03").await;
    ledger
        .record_refusal(&[&r], ReasonCode::MfaRefused, today)
        .await
        .unwrap();
    let r = record(&ledger, "user03").await;
    ledger
        .record_refusal(&[&r], ReasonCode::TemporaryPasswordRefused, today)
        .await
        .unwrap();
    // A refusal read stale (the user migrated meanwhile) is refused by its condition, and
    // counts nothing.
    let stale = record(&ledger, "user04").await;
    let r = record(&ledger, "user04").await;
    ledger
        .record_migration(&r, "user04@example.com", today)
        .await
        .unwrap();
    let r = record(&ledger, "user04").await;
    ledger
        .confirm_migration(&r, "user04@example.com", None, today)
        .await
        .unwrap();
    assert!(
        ledger
            .record_refusal(&[&stale], ReasonCode::Ambiguous, today)
            .await
            .is_err()
    );

    // Bulk finishes: from pending and from a refusal.
    for name in ["user05", "user03"] {
        let r = record(&ledger, name).await;
        ledger
            .record_finish(&r, FinishMethod::AdminCreateUser, today - DAY_MS, false)
            .await
            .unwrap();
    }
    let r = record(&ledger, "user06").await;
    ledger
        .record_finish(&r, FinishMethod::CsvImport, today, true)
        .await
        .unwrap();
    // A finish over a user who migrated meanwhile is refused and counts nothing.
    assert!(
        ledger
            .record_finish(&stale, FinishMethod::CsvImport, today, false)
            .await
            .is_err()
    );

    let kept = ledger.counters().await.unwrap();
    let expected = BTreeMap::from([
        ("users".to_owned(), 46),
        ("pending".to_owned(), 36),
        ("approved".to_owned(), 1),
        ("migrated".to_owned(), 4),
        ("refused".to_owned(), 2),
        ("refused_ambiguous".to_owned(), 2),
        ("finished".to_owned(), 3),
        ("finished_admin-create-user".to_owned(), 2),
        ("finished_csv-import".to_owned(), 1),
    ]);
    assert_eq!(nonzero(&kept).0, expected);

    let recounted = ledger.recount(4).await.unwrap();
    assert_eq!(nonzero(&recounted), nonzero(&kept), "counters == recount");
    assert_eq!(
        nonzero(&ledger.counters().await.unwrap()),
        nonzero(&kept),
        "the recount stored what it found"
    );

    let (status, seconds) = status_json(&moto, "ledger", &["--days", "3"]);
    eprintln!(
        "status on a real ledger of 46 users: {seconds:.2} s for the whole command, {} ms reading {} counter items",
        status["readMs"], status["itemsRead"]
    );
    assert_eq!(status["users"], 46);
    assert_eq!(status["migrated"], 4);
    assert_eq!(status["approved"], 1, "Late, approved and never confirmed");
    assert_eq!(status["finished"], 3);
    assert_eq!(status["pending"], 36);
    assert_eq!(status["refused"], 2);
    assert_eq!(
        status["refusedByReason"],
        serde_json::json!([["ambiguous", 2]])
    );
    let days = status["perDay"].as_array().unwrap();
    assert_eq!(days.len(), 3);
    assert_eq!(
        days[2]["migrated"], 3,
        "today: user00, user01, user04 (Late is only approved)"
    );
    assert_eq!(days[2]["finished"], 1);
    assert_eq!(days[1]["finished"], 2);
    assert_eq!(days[0]["migrated"], 1);
    // 7 moves over 7 days; 38 remaining.
    assert!((status["ratePerDay"].as_f64().unwrap() - 7.0 / 7.0).abs() < 1e-9);
    assert_eq!(status["remaining"], 38);
}

/// The CLI's clock, for placing the test's writes on today's UTC day.
fn cognito_migrate_cli_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reads_a_million_user_ledger_in_seconds() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    common::create_ledger_table(&dynamodb, "big").await;

    // The counter items of a ledger of 1,000,000 users, written directly (creating the users
    // themselves is not what is measured): 16 shards of totals and 120 days of per-day counts
    // on every shard, as a long migration window leaves them.
    let now = cognito_migrate_cli_now();
    let mut items = Vec::new();
    for shard in 0..counter::SHARDS {
        let total = BTreeMap::from([
            ("users", 62_500),
            ("pending", 40_000),
            ("migrated", 20_000),
            ("refused", 500),
            ("refused_ambiguous", 500),
            ("finished", 2_000),
            ("finished_admin-create-user", 2_000),
        ]);
        items.push((counter::total_sk(shard), total));
        for back in 0..120 {
            let day = counter::day_of(now - back * DAY_MS);
            items.push((
                counter::day_sk(&day, shard),
                BTreeMap::from([("migrated", 166), ("finished", 16)]),
            ));
        }
    }
    let requests: Vec<WriteRequest> = items
        .into_iter()
        .map(|(sk, counts)| {
            let mut item = BTreeMap::from([
                ("pk".to_owned(), AttributeValue::S(counter::PK.into())),
                ("sk".to_owned(), AttributeValue::S(sk)),
            ]);
            for (name, value) in counts {
                item.insert(name.to_owned(), AttributeValue::N(value.to_string()));
            }
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item.into_iter().collect()))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .collect();
    let written = requests.len();
    for chunk in requests.chunks(25) {
        dynamodb
            .batch_write_item()
            .request_items("big", chunk.to_vec())
            .send()
            .await
            .unwrap();
    }

    let ledger = Ledger::new(dynamodb.clone(), "big");
    let started = Instant::now();
    let counters = ledger.counters().await.unwrap();
    let read = started.elapsed();
    assert_eq!(counters.items, written);
    assert_eq!(counters.total("users"), 1_000_000);

    let (status, seconds) = status_json(&moto, "big", &[]);
    eprintln!(
        "status on counters of 1,000,000 users ({written} counter items written directly): {:.0} ms reading them in-process, {seconds:.2} s for the whole command ({} ms of it reading)",
        read.as_secs_f64() * 1000.0,
        status["readMs"]
    );
    assert_eq!(status["users"], 1_000_000);
    assert_eq!(status["pending"], 640_000);
    assert_eq!(status["remaining"], 648_000);
    // 16 shards x (166 + 16) a day.
    assert!((status["ratePerDay"].as_f64().unwrap() - 2912.0).abs() < 1e-9);
    assert!(status["finishDay"].is_string());
}

#[tokio::test]
async fn without_a_baseline_status_shows_no_figures_and_never_a_negative_one() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    common::create_ledger_table(&dynamodb, "ledger").await;
    let plain = Ledger::new(dynamodb.clone(), "ledger");
    let users: Vec<LegacyUser> = (0..6)
        .map(|i| user(&format!("user{i}"), &format!("user{i}@example.com")))
        .collect();
    assert!(
        plain
            .upsert_indexed_users(&users, 1, 4)
            .await
            .iter()
            .all(Result::is_ok)
    );
    // The trigger keeps counters from its first migration, whether or not a baseline exists.
    let trigger = Ledger::new(dynamodb.clone(), "ledger").with_counters(true);
    for name in ["user0", "user1"] {
        let r = record(&trigger, name).await;
        trigger
            .record_migration(
                &r,
                &format!("{name}@example.com"),
                cognito_migrate_cli_now(),
            )
            .await
            .unwrap();
    }
    let (status, _) = status_json(&moto, "ledger", &[]);
    assert_eq!(status["counted"], false, "no baseline yet: {status}");
    for field in ["users", "pending", "refused", "migrated", "remaining"] {
        assert!(status[field].as_i64().unwrap() >= 0, "{field}: {status}");
    }
    let text = moto.cli(&["status", "--table", "ledger"]);
    assert!(text.stdout.contains("--recount"), "{text:?}");

    // The baseline makes the figures right.
    let recount = moto.cli(&["status", "--table", "ledger", "--recount"]);
    assert_eq!(recount.code, Some(0), "{recount:?}");
    let (status, _) = status_json(&moto, "ledger", &[]);
    assert_eq!(status["counted"], true, "{status}");
    assert_eq!(status["users"], 6, "{status}");
    assert_eq!(status["approved"], 2, "{status}");
    assert_eq!(status["migrated"], 0, "{status}");
    assert_eq!(status["pending"], 4, "{status}");
}
