use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::audit::{AuditReport, Category, audit_export};

fn user(username: &str, email: Option<&str>, enabled: bool, status: &str) -> Value {
    let mut attributes = vec![json!({"Name": "sub", "Value": "5f1c"})];
    if let Some(email) = email {
        attributes.push(json!({"Name": "email", "Value": email}));
    }
    json!({
        "Username": username,
        "Attributes": attributes,
        "UserCreateDate": "2021-03-01T10:00:00.123000+00:00",
        "Enabled": enabled,
        "UserStatus": status,
    })
}

/// A page as `aws` prints it: four-space indentation.
fn aws_page(users: &[Value]) -> String {
    let text = serde_json::to_string_pretty(&json!({"Users": users})).unwrap();
    let mut page = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        page.push_str(&" ".repeat(indent * 2));
        page.push_str(line.trim_start());
        page.push('\n');
    }
    page
}

/// Every layout the audit reads, with collisions inside and across layouts, repeated users,
/// escapes, broken records and a byte-order mark.
fn mixed_export() -> String {
    let mut first = Vec::new();
    for i in 0..40 {
        let email = format!("user{i}@example.com");
        let status = ["CONFIRMED", "UNCONFIRMED", "RESET_REQUIRED"][i % 3];
        first.push(user(&email, Some(&email), i % 7 != 0, status));
    }
    first.push(user(
        "USER3@example.com",
        Some("other@example.com"),
        true,
        "CONFIRMED",
    ));
    first.push(user(
        "quote\"d\u{e9}",
        Some("Stra\u{df}e@x.com"),
        true,
        "CONFIRMED",
    ));
    first.push(user("user5@example.com", None, true, "CONFIRMED"));
    let mut page = aws_page(&first);
    // A record broken in the middle of the page: the splitter resynchronises.
    page = page.replacen("\"Enabled\": true,", "\"Enabled\": tru,", 1);
    let second = json!({"Users": [user("strasse@X.com", None, false, "CONFIRMED")]});
    let lines = [
        user("ndjson-a", Some("USER7@EXAMPLE.COM"), true, "CONFIRMED").to_string(),
        "not json at all".to_owned(),
        user("user9@example.com", None, true, "CONFIRMED").to_string(),
        user("ndjson-b", None, true, "FORCE_CHANGE_PASSWORD").to_string(),
    ];
    let list = serde_json::to_string_pretty(&json!([
        user("in-list", Some("in-list@x.com"), true, "CONFIRMED"),
        {"Users": [user("NDJSON-B", None, true, "CONFIRMED")]},
    ]))
    .unwrap();
    // A truncated record last: in a file of multi-line records it runs to the end.
    format!(
        "\u{feff}{page}{second}\n{}\n{list}\n{}{}",
        lines.join("\n"),
        aws_page(&[user("last", Some("LAST@x.com"), true, "CONFIRMED")]),
        r#"{"Username": "cut", "Attributes": [{"Name": "email""#,
    )
}

/// How the sections get their readers.
#[derive(Debug, Clone, Copy)]
enum Readers {
    /// From the auditor just before each section is read, as a single thread would.
    Fresh,
    /// One reader, made after the first piece, for every section: all read before any is
    /// added, as on other threads.
    First,
    /// From another auditor that read the same first piece.
    Foreign,
}

/// The report of `text` cut at `cuts` (ascending character boundaries), the first piece pushed
/// as text and the rest as sections; also how many sections were added as read.
fn in_sections(text: &str, cuts: &[usize], readers: Readers) -> (AuditReport, usize) {
    let mut points = cuts.to_vec();
    points.push(text.len());
    let mut auditor = Auditor::new();
    auditor.push_text(&text[..points[0]]);
    let first = match readers {
        Readers::Fresh | Readers::First => auditor.section_reader(),
        Readers::Foreign => {
            let mut other = Auditor::new();
            other.push_text(&text[..points[0]]);
            other.section_reader()
        }
    };
    let mut added = 0;
    let mut sections = Vec::new();
    for pair in points.windows(2) {
        let piece = text[pair[0]..pair[1]].to_owned();
        let reader = match readers {
            Readers::Fresh => auditor.section_reader(),
            Readers::First | Readers::Foreign => first.clone(),
        };
        match (reader, readers) {
            (None, _) => auditor.push_text(&piece),
            (Some(reader), Readers::Fresh) => {
                added += usize::from(auditor.push_section(reader.read(piece)));
            }
            (Some(reader), _) => sections.push(reader.read(piece)),
        }
    }
    for section in sections {
        added += usize::from(auditor.push_section(section));
    }
    (auditor.finish(), added)
}

/// The cuts a reader of the file makes: `chunk` more bytes at a time, cut by [`section_cut`].
fn reader_cuts(text: &str, chunk: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut from = 0;
    let mut end = 0;
    while end < text.len() {
        end = (end + chunk).min(text.len());
        if let Some(cut) = section_cut(&text.as_bytes()[from..end])
            && cut > 0
        {
            from += cut;
            cuts.push(from);
        }
    }
    cuts
}

#[test]
fn the_export_has_what_the_tests_need() {
    let text = mixed_export();
    let report = audit_export(&text);
    assert_eq!(report.total_users, 47);
    let keys: Vec<&str> = report
        .collisions
        .iter()
        .map(|group| group.key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "ndjson-b",
            "strasse@x.com",
            "user3@example.com",
            "user7@example.com"
        ]
    );
    let lines: Vec<Option<u64>> = report.input_errors.iter().map(|error| error.line).collect();
    let last = text.lines().count() as u64;
    assert_eq!(
        lines,
        [Some(32), Some(675), Some(691), Some(692), Some(last)]
    );
    assert_eq!(report.category(Category::Disabled).count, 7);
}

#[test]
fn sections_cut_at_users_give_the_same_report_and_are_added_as_read() {
    let text = mixed_export();
    let whole = audit_export(&text);
    for chunk in [64, 200, 1024, 4096] {
        let cuts = reader_cuts(&text, chunk);
        assert!(
            cuts.len() >= text.len() / chunk.max(1024) / 2,
            "{chunk}: {cuts:?}"
        );
        for readers in [Readers::Fresh, Readers::First] {
            let (report, added) = in_sections(&text, &cuts, readers);
            assert_eq!(report, whole, "chunks of {chunk}, {readers:?}");
            // Seeing a whole user, the cut falls between two users.
            if chunk >= 1024 {
                assert!(added * 2 > cuts.len(), "{added} of {}", cuts.len());
            }
        }
    }
}

#[test]
fn sections_cut_at_every_line_give_the_same_report() {
    let text = mixed_export();
    let whole = audit_export(&text);
    // Starting after the first user, so that the first piece leaves a reader.
    let first = text.find("\n        },\n").unwrap() + 12;
    let cuts: Vec<usize> = text
        .match_indices('\n')
        .map(|(at, _)| at + 1)
        .filter(|&at| at >= first)
        .collect();
    for readers in [Readers::Fresh, Readers::First, Readers::Foreign] {
        let (report, added) = in_sections(&text, &cuts, readers);
        assert_eq!(report, whole, "{readers:?}");
        match readers {
            Readers::Foreign => assert_eq!(added, 0),
            _ => assert!(added > 0),
        }
    }
}

#[test]
fn a_user_repeated_in_a_later_section_is_reported_there_in_order() {
    let lines = [
        json!({"Username": "ann"}).to_string(),
        json!({"Username": "bob"}).to_string(),
        "oops".to_owned(),
        json!({"Username": "ann", "Enabled": false}).to_string(),
        "oops again".to_owned(),
    ];
    let text = lines.join("\n") + "\n";
    let second = text.find("oops").unwrap();
    let (report, added) = in_sections(&text, &[second], Readers::First);
    assert_eq!(added, 1);
    assert_eq!(report, audit_export(&text));
    let found: Vec<(Option<u64>, &str)> = report
        .input_errors
        .iter()
        .map(|error| (error.line, error.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Some(3), "text outside any JSON object"),
            (Some(4), "user `ann` appears again; this record is ignored"),
            (Some(5), "text outside any JSON object"),
        ]
    );
    assert_eq!(report.category(Category::Disabled).count, 0);
}

#[test]
fn no_reader_inside_a_record_or_before_any_text() {
    let mut auditor = Auditor::new();
    assert!(auditor.section_reader().is_none());
    auditor.push_text("{\"Users\": [{\"Username\": \"a\"");
    assert!(auditor.section_reader().is_none());
    auditor.push_text("}, ");
    assert!(auditor.section_reader().is_some());
    auditor.push_text("\"not a user\"");
    assert!(auditor.section_reader().is_some());
    auditor.push_text(", \"also not");
    assert!(auditor.section_reader().is_none());
}

#[test]
fn cuts_before_the_outermost_objects() {
    let page = aws_page(&[
        user("a", Some("a@x.com"), true, "CONFIRMED"),
        user("b", None, true, "CONFIRMED"),
    ]);
    let cut = section_cut(page.as_bytes()).unwrap();
    assert!(page[cut..].starts_with("        {\n            \"Username\": \"b\""));
    let ndjson = "{\"Username\": \"a\"}\n{\"Username\": \"b\"}\n{\"Username\": \"c\"";
    assert_eq!(
        &ndjson[section_cut(ndjson.as_bytes()).unwrap()..],
        "{\"Username\": \"c\""
    );
    assert_eq!(section_cut(b"{\"Users\": [{\"Username\": \"a\"}]}"), None);
    assert_eq!(section_cut(b""), None);
    // Only the last 64 KiB count.
    let far = format!("x\n{{\n{}", " ".repeat(70_000));
    assert_eq!(section_cut(far.as_bytes()), None);
}

proptest! {
    #[test]
    fn sections_never_change_the_report(
        text in "[\\[\\]{}\",:\\\\ \nUsernamesé0-9]{0,200}",
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..8),
        readers in prop_oneof![Just(Readers::Fresh), Just(Readers::First), Just(Readers::Foreign)],
    ) {
        let whole = audit_export(&text);
        let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).chain([text.len()]).collect();
        let mut points: Vec<usize> = cuts.iter().map(|cut| boundaries[cut.index(boundaries.len())]).collect();
        points.sort_unstable();
        prop_assert_eq!(in_sections(&text, &points, readers).0, whole);
    }

    #[test]
    fn sections_of_user_lines_never_change_the_report(
        names in proptest::collection::vec("[aAßS\u{FF41}\"\\\\]{0,3}", 1..30),
        broken in proptest::collection::vec(any::<bool>(), 1..30),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..8),
        pretty in any::<bool>(),
    ) {
        let users: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, name)| user(name, Some(&format!("{name}@x.com")), i % 3 != 0, "CONFIRMED"))
            .collect();
        let mut text = if pretty {
            aws_page(&users)
        } else {
            users.iter().map(|user| user.to_string() + "\n").collect()
        };
        for (n, _) in broken.iter().enumerate().filter(|(_, broken)| **broken) {
            if let Some((at, _)) = text.match_indices("\"Enabled\"").nth(n) {
                text.replace_range(at..=at, "");
            }
        }
        let whole = audit_export(&text);
        let lines: Vec<usize> = text.match_indices('\n').map(|(at, _)| at + 1).collect();
        let mut points: Vec<usize> = cuts.iter().map(|cut| lines[cut.index(lines.len())]).collect();
        points.sort_unstable();
        points.dedup();
        prop_assert_eq!(in_sections(&text, &points, Readers::First).0, whole);
    }
}

#[test]
fn room_made_in_advance_changes_nothing() {
    let text = mixed_export();
    let mut auditor = Auditor::new();
    auditor.reserve(10_000);
    auditor.push_text(&text);
    assert_eq!(auditor.finish(), audit_export(&text));
}
