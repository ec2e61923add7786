use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// One `ListUsers` entry.
fn entry(username: &str, attributes: &[(&str, &str)], enabled: bool, status: &str) -> Value {
    let attributes: Vec<Value> = attributes
        .iter()
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect();
    json!({
        "Username": username,
        "Attributes": attributes,
        "UserCreateDate": "2021-03-01T10:00:00.123000+00:00",
        "UserLastModifiedDate": "2021-03-01T10:00:00.123000+00:00",
        "Enabled": enabled,
        "UserStatus": status,
    })
}

fn confirmed(username: &str, attributes: &[(&str, &str)]) -> Value {
    entry(username, attributes, true, "CONFIRMED")
}

/// Users one per line.
fn ndjson(users: &[Value]) -> String {
    users
        .iter()
        .map(|user| format!("{user}\n"))
        .collect::<Vec<_>>()
        .concat()
}

/// Users as one page, indented as `aws` prints it.
fn page(users: &[Value]) -> String {
    let text = serde_json::to_string_pretty(&json!({"Users": users})).unwrap();
    // `aws` indents by four spaces.
    text.lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            format!("{}{}\n", " ".repeat(indent * 2), line.trim_start())
        })
        .collect::<Vec<_>>()
        .concat()
}

fn names(list: &CategoryList) -> Vec<&str> {
    list.usernames.iter().map(String::as_str).collect()
}

fn errors(report: &AuditReport) -> Vec<(Option<u64>, &str)> {
    report
        .input_errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect()
}

#[test]
fn finds_each_category() {
    let users = [
        confirmed(
            "fine",
            &[("email", "fine@x.com"), ("email_verified", "true")],
        ),
        entry("off", &[], false, "CONFIRMED"),
        entry("new", &[], true, "UNCONFIRMED"),
        entry("temp", &[], true, "FORCE_CHANGE_PASSWORD"),
        entry("reset", &[], true, "RESET_REQUIRED"),
        entry("odd", &[], true, "COMPROMISED"),
        entry("fed", &[], true, "EXTERNAL_PROVIDER"),
        confirmed(
            "linked",
            &[("identities", r#"[{"providerName":"Google"}]"#)],
        ),
        confirmed("nolink", &[("identities", "[]")]),
        confirmed(
            "unverified",
            &[("email", "u@x.com"), ("email_verified", "false")],
        ),
        confirmed("unsaid", &[("email", "v@x.com")]),
        confirmed("phone-only", &[("phone_number", "+15550100")]),
        json!({"Username": "sms", "UserStatus": "CONFIRMED",
               "MFAOptions": [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]}),
        json!({"Username": "totp", "UserStatus": "CONFIRMED",
               "UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}),
        json!({"Username": "email-mfa", "UserStatus": "CONFIRMED",
               "MFAOptions": [{"DeliveryMedium": "EMAIL"}]}),
        json!({"Username": "nostatus"}),
    ];
    let report = audit_export(&ndjson(&users));
    assert_eq!(errors(&report), []);
    assert_eq!(report.total_users, 16);
    let expected: [(Category, &[&str]); 9] = [
        (Category::Disabled, &["off"]),
        (Category::Unconfirmed, &["new"]),
        (Category::ForceChangePassword, &["temp"]),
        (Category::ResetRequired, &["reset"]),
        (Category::OtherStatus, &["odd", "nostatus"]),
        (Category::UnverifiedEmail, &["unverified", "unsaid"]),
        (Category::UnverifiedEmailShared, &[]),
        (Category::Mfa, &["sms", "totp"]),
        (Category::ExternalProvider, &["fed", "linked"]),
    ];
    for (category, usernames) in expected {
        let list = report.category(category);
        assert_eq!(names(&list), usernames, "{category:?}");
        assert_eq!(list.count, usernames.len() as u64);
    }
    // fine, nolink, phone-only, email-mfa.
    assert_eq!(report.users_without_issues, 4);
    assert_eq!(report.users_in_collisions, 0);
    let order: Vec<Category> = report.categories.iter().map(|list| list.category).collect();
    assert_eq!(order, Category::ALL);
}

#[test]
fn an_unverified_email_sharing_a_key_with_another_users_identifier_is_listed() {
    let report = audit_export(&ndjson(&[
        confirmed("ann", &[("email", "Ann@x.com"), ("email_verified", "true")]),
        confirmed("mallory", &[("email", "ANN@x.com")]),
        confirmed("carl", &[("email", "carl@x.com")]),
        confirmed("Ann@X.com", &[]),
        confirmed(
            "zed",
            &[("email", "ann@x.com"), ("email_verified", "false")],
        ),
    ]));
    assert_eq!(
        names(&report.category(Category::UnverifiedEmailShared)),
        ["mallory", "zed"]
    );
    // Unverified, but shared with nobody.
    assert_eq!(
        names(&report.category(Category::UnverifiedEmail)),
        ["mallory", "carl", "zed"]
    );
}

#[test]
fn a_user_in_several_categories_counts_once() {
    let report = audit_export(&ndjson(&[
        entry("a", &[("email", "a@x.com")], false, "UNCONFIRMED"),
        confirmed("b", &[]),
    ]));
    assert_eq!(names(&report.category(Category::Disabled)), ["a"]);
    assert_eq!(names(&report.category(Category::Unconfirmed)), ["a"]);
    assert_eq!(names(&report.category(Category::UnverifiedEmail)), ["a"]);
    assert_eq!(report.users_without_issues, 1);
}

#[test]
fn collides_across_fields() {
    let report = audit_export(&ndjson(&[
        confirmed("Name@Acme.com", &[]),
        confirmed(
            "b-uuid",
            &[("email", "name@acme.com"), ("email_verified", "true")],
        ),
        confirmed("c-uuid", &[("preferred_username", "NAME@ACME.COM")]),
        confirmed(
            "other",
            &[("email", "other@acme.com"), ("email_verified", "true")],
        ),
    ]));
    assert_eq!(report.collisions.len(), 1);
    let group = &report.collisions[0];
    assert_eq!(group.key.as_str(), "name@acme.com");
    let members: Vec<(&str, IdentifierField, &str)> = group
        .members
        .iter()
        .flat_map(|m| {
            m.identifiers
                .iter()
                .map(|i| (m.username.as_str(), i.field, i.value.as_str()))
        })
        .collect();
    assert_eq!(
        members,
        [
            ("Name@Acme.com", IdentifierField::Username, "Name@Acme.com"),
            ("b-uuid", IdentifierField::Email, "name@acme.com"),
            (
                "c-uuid",
                IdentifierField::PreferredUsername,
                "NAME@ACME.COM"
            ),
        ]
    );
    assert_eq!(report.users_in_collisions, 3);
    assert_eq!(report.users_without_issues, 1);
}

#[test]
fn a_user_does_not_collide_with_itself() {
    let report = audit_export(&ndjson(&[confirmed(
        "Ann@X.com",
        &[
            ("email", "ann@x.com"),
            ("email_verified", "true"),
            ("preferred_username", "ANN@x.com"),
        ],
    )]));
    assert!(report.collisions.is_empty());
    assert_eq!(report.users_without_issues, 1);

    // Once another user joins, every field of the first one is listed.
    let report = audit_export(&ndjson(&[
        confirmed(
            "Ann@X.com",
            &[("email", "ann@x.com"), ("email_verified", "true")],
        ),
        confirmed("ann@x.COM", &[]),
    ]));
    let fields: Vec<Vec<IdentifierField>> = report.collisions[0]
        .members
        .iter()
        .map(|m| m.identifiers.iter().map(|i| i.field).collect())
        .collect();
    assert_eq!(
        fields,
        [
            vec![IdentifierField::Username, IdentifierField::Email],
            vec![IdentifierField::Username]
        ]
    );
}

#[test]
fn collides_on_unicode_forms() {
    let report = audit_export(&ndjson(&[
        confirmed("straße", &[]),
        confirmed("STRASSE", &[]),
        confirmed("\u{FF2A}oe", &[]), // fullwidth J
        confirmed("joe", &[]),
        confirmed("zoë", &[]),
        confirmed("zoe\u{308}", &[]), // e + combining diaeresis
        confirmed("zoe", &[]),
    ]));
    let keys: Vec<&str> = report.collisions.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["joe", "strasse", "zoë"]);
    assert_eq!(report.users_without_issues, 1);
}

#[test]
fn groups_are_ordered_by_key_and_blank_identifiers_never_collide() {
    let report = audit_export(&ndjson(&[
        confirmed("b", &[("preferred_username", " ")]),
        confirmed("B", &[("preferred_username", "\u{200B}")]),
        confirmed("a", &[]),
        confirmed("A", &[]),
    ]));
    let keys: Vec<&str> = report.collisions.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["a", "b"]);
}

#[test]
fn reads_one_page() {
    let users = [confirmed("a", &[]), entry("b", &[], false, "CONFIRMED")];
    let report = audit_export(&page(&users));
    assert_eq!(report.total_users, 2);
    assert_eq!(errors(&report), []);
    assert_eq!(names(&report.category(Category::Disabled)), ["b"]);
}

#[test]
fn reads_pages_one_after_another() {
    let first = page(&[confirmed("a", &[]), confirmed("A", &[])]);
    let first = first.replacen("{\n", "{\n    \"PaginationToken\": \"tok\\\"en\",\n", 1);
    let text = format!("{first}{}", page(&[confirmed("c", &[])]));
    let report = audit_export(&text);
    assert_eq!(errors(&report), []);
    assert_eq!(report.total_users, 3);
    assert_eq!(report.collisions.len(), 1);
    // Compact pages, one per line, with the token last.
    let text = format!(
        "{}\n{}\n",
        json!({"Users": [confirmed("a", &[])], "PaginationToken": "x"}),
        json!({"Users": [confirmed("b", &[])]})
    );
    let report = audit_export(&text);
    assert_eq!((report.total_users, report.input_error_count), (2, 0));
}

#[test]
fn reads_one_user_per_line_and_admin_get_user_answers() {
    let text = format!(
        "{}\n\n{}\r\n{}",
        confirmed("a", &[]),
        json!({"Username": "b", "UserAttributes": [{"Name": "email", "Value": "b@x.com"}],
               "UserMFASettingList": ["SMS_MFA"], "UserStatus": "CONFIRMED"}),
        confirmed("c", &[]),
    );
    let report = audit_export(&text);
    assert_eq!(errors(&report), []);
    assert_eq!(report.total_users, 3);
    assert_eq!(names(&report.category(Category::Mfa)), ["b"]);
    assert_eq!(names(&report.category(Category::UnverifiedEmail)), ["b"]);
}

#[test]
fn reads_lists_of_users_and_of_pages() {
    let users = json!([confirmed("a", &[]), confirmed("b", &[])]);
    let report = audit_export(&serde_json::to_string_pretty(&users).unwrap());
    assert_eq!((report.total_users, report.input_error_count), (2, 0));
    let pages = json!([{"Users": [confirmed("a", &[])]}, {"Users": [confirmed("A", &[])]}]);
    let report = audit_export(&pages.to_string());
    assert_eq!((report.total_users, report.input_error_count), (2, 0));
    assert_eq!(report.collisions.len(), 1);
}

#[test]
fn skips_a_byte_order_mark_and_empty_input() {
    let report = audit_export(&format!("\u{feff}{}", page(&[confirmed("a", &[])])));
    assert_eq!((report.total_users, report.input_error_count), (1, 0));
    let report = audit_export("");
    assert_eq!((report.total_users, report.users_without_issues), (0, 0));
    assert_eq!(report.categories.len(), Category::ALL.len());
    let report = audit_export("  \n\n{\"Users\": []}\n");
    assert_eq!((report.total_users, report.input_error_count), (0, 0));
}

#[test]
fn reports_bad_lines_and_audits_the_rest() {
    let text = [
        r#"{"Username": "a", "UserStatus": "CONFIRMED"}"#,
        "this is not JSON",
        r#"{"Username": "b", "Enabled": "no", "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "c", "UserStatus": "CONFIRMED"}"#,
        r#"{"Attributes": [], "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "secret@x.com", "Enabled": tru, "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "d", "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "unterminated@x.com, "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "e", "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "truncated", "Attributes": [{"Name": "email""#,
        r#"{"Username": "f", "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "a", "UserStatus": "CONFIRMED"}"#,
        r#"{"Username": "g", "UserStatus": "CONFIRMED"}"#,
    ]
    .join("\n");
    let report = audit_export(&text);
    let found = errors(&report);
    let lines: Vec<Option<u64>> = found.iter().map(|(line, _)| *line).collect();
    assert_eq!(
        lines,
        [
            Some(2),
            Some(3),
            Some(5),
            Some(6),
            Some(8),
            Some(10),
            Some(12)
        ],
        "{found:#?}"
    );
    assert_eq!(
        found[1].1,
        "not a user record: `Enabled` has the wrong type"
    );
    assert_eq!(
        found[2].1,
        "not a user record: the user record has no `Username`"
    );
    assert!(found[3].1.starts_with("invalid JSON: "), "{}", found[3].1);
    assert_eq!(found[6].1, "user `a` appears again; this record is ignored");
    for (_, message) in &found {
        assert!(
            !message.contains("secret") && !message.contains("unterminated"),
            "{message}"
        );
    }
    assert_eq!(report.total_users, 6, "a, c, d, e, f, g and nothing twice");
    assert_eq!(report.input_error_count, 7);
}

#[test]
fn resynchronises_inside_a_page() {
    let users = [
        confirmed("a", &[]),
        confirmed("b", &[]),
        confirmed("c", &[]),
    ];
    let text = page(&users);
    // Break the second user's brackets; it is lost, its neighbours are not.
    let broken = text.replacen("\"Username\": \"b\",", "\"Username\": \"b\"]],", 1);
    let report = audit_export(&broken);
    let found = errors(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, "brackets do not match");
    let line = text.lines().position(|l| l.contains("\"b\"")).unwrap() as u64 + 1;
    assert_eq!(found[0].0, Some(line));
    assert_eq!(report.total_users, 2);
}

#[test]
fn reports_a_truncated_export() {
    let text = page(&[confirmed("a", &[]), confirmed("b", &[])]);
    let cut = text.find("\"b\"").unwrap();
    let report = audit_export(&text[..cut]);
    assert_eq!(report.total_users, 1);
    let line = text.lines().position(|l| l.contains("\"b\"")).unwrap() as u64;
    assert_eq!(
        errors(&report),
        [(
            Some(line),
            "the input ends inside a record; the export looks truncated"
        )]
    );
}

#[test]
fn reports_entries_that_are_not_users() {
    let text = "{\"Users\": [\n  \"alice\",\n  {\"Username\": \"bob\", \"UserStatus\": \"CONFIRMED\"},\n  3\n]}\n";
    let report = audit_export(text);
    assert_eq!(report.total_users, 1);
    assert_eq!(
        errors(&report),
        [
            (Some(2), "an entry of `Users` is not a user object"),
            (Some(4), "an entry of `Users` is not a user object"),
        ]
    );
    let report = audit_export("[1, {\"Username\": \"a\"}]");
    assert_eq!(
        errors(&report),
        [(
            Some(1),
            "an entry of the top-level list is not a user object"
        )]
    );
}

#[test]
fn quotes_usernames_short_and_on_one_line() {
    let long = format!("{}\n{}", "x".repeat(100), "y");
    let user = confirmed(&long, &[]);
    let report = audit_export(&format!("{user}\n{user}\n"));
    let message = &report.input_errors[0].message;
    assert!(message.starts_with(&format!("user `{}…`", "x".repeat(MAX_QUOTED_USERNAME))));
    assert!(!message.contains('\n'));
}

#[test]
fn caps_the_errors_kept() {
    let text = (0..MAX_REPORTED_ERRORS + 5)
        .map(|i| format!("nonsense\n{{\"Username\": \"u{i}\"}}\n"))
        .collect::<Vec<_>>()
        .concat();
    let report = audit_export(&text);
    assert_eq!(report.input_error_count, MAX_REPORTED_ERRORS as u64 + 5);
    assert_eq!(report.input_errors.len(), MAX_REPORTED_ERRORS);
    assert_eq!(report.input_errors[1].line, Some(3));
    assert_eq!(report.total_users, MAX_REPORTED_ERRORS as u64 + 5);
}

#[test]
fn chunks_give_the_same_report() {
    let text = format!(
        "{}{}\nnot json\n{}",
        page(&[
            confirmed("a", &[("email", "A@x.com")]),
            entry("b", &[], false, "UNCONFIRMED")
        ]),
        json!({"Users": [confirmed("ä", &[])]}),
        ndjson(&[confirmed("a@X.com", &[]), confirmed("c", &[])]),
    );
    let whole = audit_export(&text);
    assert_eq!(whole.total_users, 5);
    for size in [1, 2, 3, 7, 64] {
        let mut auditor = Auditor::new();
        let chars: Vec<char> = text.chars().collect();
        for chunk in chars.chunks(size) {
            auditor.push_text(&chunk.iter().collect::<String>());
        }
        assert_eq!(auditor.finish(), whole, "chunks of {size}");
    }
}

#[test]
fn users_already_read_give_the_same_report() {
    let users = [
        confirmed("Ann", &[("email", "ann@x.com"), ("email_verified", "true")]),
        entry("bob", &[("email", "ANN@x.com")], false, "RESET_REQUIRED"),
        json!({"Username": "sms", "UserStatus": "CONFIRMED",
               "UserMFASettingList": ["SMS_MFA"]}),
    ];
    let legacy: Vec<LegacyUser> = users
        .iter()
        .map(|user| LegacyUser::from_aws_json(user).unwrap())
        .collect();
    assert_eq!(audit_users(&legacy), audit_export(&ndjson(&users)));

    let mut auditor = Auditor::new();
    auditor.push_user(&legacy[0]);
    auditor.push_user(&legacy[0]);
    let report = auditor.finish();
    assert_eq!(report.total_users, 1);
    assert_eq!(report.input_errors[0].line, None);
}

#[test]
fn keeps_long_values_whole_in_keys_and_short_in_the_report() {
    let long = format!("{}é", "a".repeat(MAX_KEPT_VALUE - 1));
    let report = audit_export(&ndjson(&[
        confirmed(&long, &[]),
        confirmed(&long.to_uppercase(), &[]),
    ]));
    assert_eq!(report.collisions.len(), 1);
    assert_eq!(
        report.collisions[0].members[0].username.len(),
        MAX_KEPT_VALUE - 1
    );
}

#[test]
fn report_round_trips_through_json() {
    let report = audit_export(&ndjson(&[
        confirmed("a", &[]),
        confirmed("A", &[]),
        json!({}),
    ]));
    let json = report.to_json();
    assert!(json.contains("\"usersWithoutIssues\""));
    assert!(json.contains("\"category\": \"forceChangePassword\""));
    let back: AuditReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}

#[test]
fn markdown_truncates_long_lists() {
    let mut users: Vec<Value> = (0..30)
        .map(|i| entry(&format!("user{i:02}"), &[], false, "CONFIRMED"))
        .collect();
    for i in 0..12 {
        users.push(confirmed(&format!("pair{i:02}"), &[]));
        users.push(confirmed(&format!("PAIR{i:02}"), &[]));
    }
    let markdown = audit_export(&ndjson(&users)).to_markdown_with_limit(10);
    assert!(markdown.contains("| In collision groups | 24 (12 groups) |"));
    assert!(markdown.contains("### `pair09`"));
    assert!(!markdown.contains("### `pair10`"));
    assert!(markdown.contains("… and 2 more groups."));
    assert!(markdown.contains("## Disabled (30)"));
    assert!(markdown.contains("- `user09`\n- … and 20 more"));
    assert!(!markdown.contains("user10"));
}

/// An attribute list as `ListUsers` might print it, including odd shapes.
fn attribute_entry() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        Just(json!("email")),
        Just(json!("email_verified")),
        Just(json!("preferred_username")),
        Just(json!("identities")),
        Just(json!("sub")),
        Just(Value::Null),
        Just(json!(7)),
    ];
    let value = prop_oneof![
        Just(json!("true")),
        Just(json!("Ann@X.com")),
        Just(json!("[]")),
        Just(json!("")),
        Just(Value::Null),
        Just(json!(false)),
    ];
    prop_oneof![
        8 => (name, value).prop_map(|(name, value)| json!({"Name": name, "Value": value})),
        1 => Just(json!({"Value": "x"})),
        1 => Just(json!("email")),
    ]
}

fn loose_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(true)),
        Just(json!(false)),
        Just(json!("CONFIRMED")),
        Just(json!("FORCE_CHANGE_PASSWORD")),
        Just(json!("")),
        Just(json!("Bob")),
        Just(json!(1)),
        Just(json!({})),
        Just(json!([])),
    ]
}

fn user_object() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        loose_value().prop_map(|v| ("Username".to_owned(), v)),
        loose_value().prop_map(|v| ("Enabled".to_owned(), v)),
        loose_value().prop_map(|v| ("UserStatus".to_owned(), v)),
        proptest::collection::vec(attribute_entry(), 0..4)
            .prop_map(|v| ("Attributes".to_owned(), Value::Array(v))),
        proptest::collection::vec(attribute_entry(), 0..4)
            .prop_map(|v| ("UserAttributes".to_owned(), Value::Array(v))),
        loose_value().prop_map(|v| ("Attributes".to_owned(), v)),
        prop_oneof![
            Just(json!([{"DeliveryMedium": "SMS"}])),
            Just(json!([{"DeliveryMedium": "EMAIL"}, "SMS"])),
            Just(json!({"DeliveryMedium": "SMS"})),
        ]
        .prop_map(|v| ("MFAOptions".to_owned(), v)),
        prop_oneof![
            Just(json!(["SMS_MFA"])),
            Just(json!(["SOFTWARE_TOKEN_MFA", 3])),
            Just(json!("SMS_MFA")),
        ]
        .prop_map(|v| ("UserMFASettingList".to_owned(), v)),
    ];
    proptest::collection::vec(field, 0..7).prop_map(|fields| {
        // Written by hand so that a repeated key stays repeated, as it may in a file.
        let body: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{}: {value}", json!(name)))
            .collect();
        Value::String(format!("{{{}}}", body.join(", ")))
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = audit_export(&text);
    }

    #[test]
    fn json_like_text_never_panics(text in "[\\[\\]{}\",:\\\\ \n\ta-zU01]{0,200}") {
        let report = audit_export(&text);
        let _ = report.to_markdown();
    }

    #[test]
    fn chunking_never_changes_the_report(
        text in "[\\[\\]{}\",:\\\\ \nUsernamesé0-9]{0,160}",
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let whole = audit_export(&text);
        let chars: Vec<char> = text.chars().collect();
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(chars.len() + 1)).collect();
        points.sort_unstable();
        let mut auditor = Auditor::new();
        let mut from = 0;
        for point in points.into_iter().chain([chars.len()]) {
            auditor.push_text(&chars[from..point].iter().collect::<String>());
            from = point;
        }
        prop_assert_eq!(auditor.finish(), whole);
    }

    #[test]
    fn reads_records_as_from_aws_json_does(object in user_object()) {
        let text = object.as_str().unwrap().to_owned();
        let value: Value = serde_json::from_str(&text).unwrap();
        let expected = LegacyUser::from_aws_json(&value);
        let actual = record::parse_user(&text);
        match (expected, actual) {
            (Ok(user), Ok(facts)) => prop_assert_eq!(facts, UserFacts::of(&user)),
            (Err(expected), Err(RecordError::Invalid(actual))) => prop_assert_eq!(actual, expected),
            (expected, actual) => prop_assert!(false, "{expected:?} vs {actual:?}"),
        }
    }

    #[test]
    fn collision_groups_hold_users_with_equal_keys(
        names in proptest::collection::vec("[aAbBßsS\u{FF41}]{1,3}", 1..12),
    ) {
        let users: Vec<LegacyUser> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                LegacyUser::new(format!("{name}#{}", i % 3), BTreeMap::new())
            })
            .collect();
        let report = audit_users(&users);
        let mut distinct = std::collections::HashSet::new();
        let mut in_groups = 0usize;
        for group in &report.collisions {
            prop_assert!(group.members.len() >= 2);
            for member in &group.members {
                prop_assert_eq!(&match_key(&member.username), &group.key);
                in_groups += 1;
            }
        }
        for user in &users {
            distinct.insert(user.username.clone());
        }
        prop_assert_eq!(report.total_users, distinct.len() as u64);
        prop_assert_eq!(report.users_in_collisions, in_groups as u64);
        let keys: std::collections::HashSet<_> =
            distinct.iter().map(|name| match_key(name)).collect();
        let colliding_keys = report.collisions.len();
        prop_assert_eq!(keys.len() + in_groups - colliding_keys, distinct.len());
    }
}

#[test]
fn the_report_recommends_the_new_pools_sign_in_shape() {
    let verified = |name: &str| confirmed(name, &[("email", name), ("email_verified", "true")]);
    let emails: Vec<Value> = (0..19).map(|i| verified(&format!("u{i}@x.com"))).collect();
    let mut users = emails.clone();
    users.push(confirmed("bare@x.com", &[]));
    let report = audit_export(&ndjson(&users));
    let shape = &report.shape;
    assert_eq!(shape.recommended, "email-as-username");
    assert_eq!(shape.usernames_in_email_format, 20);
    assert_eq!(shape.verified_email, 19);
    assert_eq!(shape.no_verified_contact, 1);
    assert_eq!(shape.email_usernames_without_verified_email, 1);

    let phones = audit_export(&ndjson(&[
        confirmed(
            "+15550100",
            &[
                ("phone_number", "+15550100"),
                ("phone_number_verified", "true"),
            ],
        ),
        confirmed("+15550101", &[]),
    ]));
    assert_eq!(phones.shape.recommended, "phone-as-username");
    assert_eq!(phones.shape.verified_phone, 1);

    let mixed = audit_export(&ndjson(&[verified("ann@x.com"), confirmed("bob", &[])]));
    assert_eq!(mixed.shape.recommended, "usernames-with-aliases");
    let plain = audit_export(&ndjson(&[confirmed("ann", &[]), confirmed("bob", &[])]));
    assert_eq!(plain.shape.recommended, "plain-usernames");
    assert_eq!(plain.shape.no_verified_contact, 2);
    // These facts are no issues.
    assert_eq!(report.users_without_issues, 20);
}
