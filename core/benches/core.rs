//! Benchmarks of the core: `cargo bench -p cognito-migrate-core --bench core [-- FILTER]`.
//!
//! For the one-million-user audit, shorter settings are enough:
//! `cargo bench -p cognito-migrate-core --bench core -- audit --warm-up-time 1
//! --measurement-time 5 --sample-size 10`.

#[path = "../examples/support/synthetic_export.rs"]
mod synthetic_export;

use std::hint::black_box;
use std::sync::LazyLock;

use cognito_migrate_core::audit::audit_export;
use cognito_migrate_core::event::TriggerEvent;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::match_key;
use cognito_migrate_core::migrate::{MigrationConfig, PasswordOutcome, decide_with};
use cognito_migrate_core::user::LegacyUser;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

// ---------------------------------------------------------------------------------------------
// Identifier keys
// ---------------------------------------------------------------------------------------------

/// Identifiers as a real pool holds them: mostly ASCII e-mail addresses, some mixed case, and
/// one in ten with Unicode that folds, decomposes or has compatibility forms.
fn identifiers() -> Vec<String> {
    const TRICKY: [&str; 10] = [
        "Straße@Example.de",
        "ＭＡＲＩＡ@example.jp",
        "ﬁona@example.com",
        "\u{212A}elvin@example.com",
        "zoe\u{308}@example.com",
        "İlkay@example.com.tr",
        "ΣΟΦΙΑ@example.gr",
        "Ǆemal@example.ba",
        " name\u{200B}@acme.com ",
        "𝐀lice@example.com",
    ];
    (0..1_000)
        .map(|i| match i % 10 {
            0 => TRICKY[(i / 10) % TRICKY.len()].to_owned(),
            1 | 2 => format!("First.Last{i}@Example.COM"),
            _ => format!("user.{i}@example.com"),
        })
        .collect()
}

fn match_key_throughput(c: &mut Criterion) {
    let inputs = identifiers();
    let ascii: Vec<&String> = inputs.iter().filter(|s| s.is_ascii()).collect();
    let unicode: Vec<&String> = inputs.iter().filter(|s| !s.is_ascii()).collect();
    let mut group = c.benchmark_group("match_key");
    for (name, set) in [
        ("mixed", inputs.iter().collect::<Vec<_>>()),
        ("ascii", ascii),
        ("unicode", unicode),
    ] {
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for input in &set {
                    black_box(match_key(black_box(input)));
                }
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Audit
// ---------------------------------------------------------------------------------------------

/// Built on first use, so filtering the audit out does not pay for it.
static MILLION_USER_EXPORT: LazyLock<String> =
    LazyLock::new(|| synthetic_export::synthetic_export(1_000_000));

fn audit_million_users(c: &mut Criterion) {
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("1m_users_cli_json", |b| {
        let text = &*MILLION_USER_EXPORT;
        b.iter(|| audit_export(black_box(text)));
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Sign-in decision (benchmarks of the migration state machine go here)
// ---------------------------------------------------------------------------------------------

/// One whole sign-in decision as the trigger makes it, without the network: parse the event,
/// plan, record the password check, build the response.
fn sign_in_decision(c: &mut Criterion) {
    let event_text = include_str!("../tests/fixtures/events/user-migration-authentication.json");
    let legacy = LegacyUser::from_aws_json(&serde_json::json!({
        "Username": "Name@Acme.com",
        "Attributes": [
            {"Name": "sub", "Value": "a1b2c3d4-0000-4000-8000-000000000001"},
            {"Name": "email", "Value": "Name@Acme.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "given_name", "Value": "Ann"},
            {"Name": "family_name", "Value": "Lee"}
        ],
        "Enabled": true,
        "UserStatus": "CONFIRMED"
    }))
    .expect("a valid legacy user");
    let config = MigrationConfig::default();
    c.bench_function("decision/sign_in_migration", |b| {
        b.iter(|| {
            let event = TriggerEvent::from_json_str(black_box(event_text)).expect("a valid event");
            let decision = decide_with(
                &event,
                vec![LedgerEntry::pending(legacy.clone())],
                &config,
                |_| PasswordOutcome::Accepted,
            );
            black_box(serde_json::to_string(decision.response()).expect("serialisable"))
        });
    });
}

criterion_group!(keys, match_key_throughput);
criterion_group!(audit, audit_million_users);
criterion_group!(sign_in, sign_in_decision);
criterion_main!(keys, audit, sign_in);
