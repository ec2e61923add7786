//! The audit through its public API, on realistic exports in `tests/fixtures/audit/`.
//!
//! `list-users.json` is two pages as `aws cognito-idp list-users --max-items 10` prints them,
//! the second resumed one user early; `users.ndjson` is one user per line with the faults of a
//! hand-assembled file. Reports are pinned as JSON and Markdown snapshots next to them.

use cognito_migrate_core::audit::{AuditReport, Auditor, Category, audit_export, audit_users};
use cognito_migrate_core::user::LegacyUser;
use serde_json::Value;

const LIST_USERS: &str = include_str!("fixtures/audit/list-users.json");
const NDJSON: &str = include_str!("fixtures/audit/users.ndjson");

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("fixtures/audit/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn usernames(report: &AuditReport, category: Category) -> Vec<String> {
    report.category(category).usernames.clone()
}

#[test]
fn list_users_pages_report() {
    let report = audit_export(LIST_USERS);
    assert_eq!(report.total_users, 17);
    assert_eq!(report.input_error_count, 2, "{:#?}", report.input_errors);
    let keys: Vec<&str> = report.collisions.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["jürgen@example.de", "name@acme.com", "strasse"]);
    assert_eq!(usernames(&report, Category::Disabled), ["dave@example.com"]);
    assert_eq!(
        usernames(&report, Category::UnverifiedEmail),
        ["bob", "erin@example.com", "Google_104857600123456789012"]
    );
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("list_users_report", report);
        insta::assert_snapshot!("list_users_report_markdown", report.to_markdown());
    });
}

#[test]
fn one_user_per_line_report() {
    let report = audit_export(NDJSON);
    let lines: Vec<Option<u64>> = report.input_errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [Some(3), Some(5), Some(6), Some(7)]);
    assert_eq!(report.total_users, 4);
    for error in &report.input_errors {
        assert!(!error.message.contains("nobody") && !error.message.contains("rupert"));
    }
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("users_ndjson_report", report);
        insta::assert_snapshot!("users_ndjson_report_markdown", report.to_markdown());
    });
}

#[test]
fn chunked_reading_matches_one_call() {
    let text = format!("{LIST_USERS}{NDJSON}");
    let whole = audit_export(&text);
    for size in [1, 13, 4096] {
        let mut auditor = Auditor::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let mut cut = size.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            let (chunk, tail) = rest.split_at(cut);
            auditor.push_text(chunk);
            rest = tail;
        }
        assert_eq!(auditor.finish(), whole, "chunks of {size} bytes");
    }
}

#[test]
fn users_read_one_by_one_give_the_same_report() {
    // The same users through `LegacyUser::from_aws_json`, leaving out the unreadable one.
    let mut users = Vec::new();
    let mut pages = serde_json::Deserializer::from_str(LIST_USERS).into_iter::<Value>();
    while let Some(Ok(page)) = pages.next() {
        for entry in page["Users"].as_array().unwrap() {
            if let Ok(user) = LegacyUser::from_aws_json(entry) {
                users.push(user);
            }
        }
    }
    let from_users = audit_users(&users);
    let from_text = audit_export(LIST_USERS);
    assert_eq!(from_users.collisions, from_text.collisions);
    assert_eq!(from_users.categories, from_text.categories);
    assert_eq!(from_users.total_users, from_text.total_users);
    // The repeated record is still noticed; without line numbers.
    assert_eq!(from_users.input_error_count, 1);
    assert_eq!(from_users.input_errors[0].line, None);
}
