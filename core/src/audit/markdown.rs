//! The audit report as Markdown, for an operator to read.

use std::fmt::Write as _;

use super::{AuditReport, Category};

/// Longest value shown, in characters; the JSON report has the whole value.
const MAX_SHOWN_CHARS: usize = 120;

pub(super) fn render(report: &AuditReport, limit: usize) -> String {
    let mut out = String::new();
    out.push_str("# Legacy user pool audit\n\n");
    summary(&mut out, report);
    shape(&mut out, report);
    collisions(&mut out, report, limit);
    for list in &report.categories {
        if list.count == 0 {
            continue;
        }
        let _ = writeln!(
            out,
            "## {} ({})\n",
            list.category.title(),
            thousands(list.count)
        );
        let _ = writeln!(out, "{}\n", list.category.decision());
        for username in list.usernames.iter().take(limit) {
            let _ = writeln!(out, "- {}", code(username, false));
        }
        more(&mut out, list.count, limit);
        out.push('\n');
    }
    if report.input_error_count > 0 {
        let _ = writeln!(
            out,
            "## Input errors ({})\n",
            thousands(report.input_error_count)
        );
        out.push_str("These parts of the input were not audited.\n\n");
        for error in report.input_errors.iter().take(limit) {
            match error.line {
                Some(line) => {
                    let _ = writeln!(out, "- line {}: {}", thousands(line), plain(&error.message));
                }
                None => {
                    let _ = writeln!(out, "- {}", plain(&error.message));
                }
            }
        }
        more(&mut out, report.input_error_count, limit);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn shape(out: &mut String, report: &AuditReport) {
    let advice = &report.shape;
    let _ = writeln!(
        out,
        "## New pool shape\n\nRecommended: **{}**: {}\n",
        advice.recommended,
        plain(&advice.why)
    );
    out.push_str("| | Users |\n|:--|--:|\n");
    for (label, count) in [
        (
            "Usernames in e-mail format",
            advice.usernames_in_email_format,
        ),
        (
            "Usernames in phone format",
            advice.usernames_in_phone_format,
        ),
        ("Verified e-mail", advice.verified_email),
        ("Verified phone", advice.verified_phone),
        ("No verified e-mail or phone", advice.no_verified_contact),
        (
            "E-mail usernames without a verified e-mail",
            advice.email_usernames_without_verified_email,
        ),
    ] {
        let _ = writeln!(out, "| {label} | {} |", thousands(count));
    }
    out.push_str("\n`deploy/README.md` says which shape fits which legacy pool.\n\n");
}

fn summary(out: &mut String, report: &AuditReport) {
    out.push_str("| | Users |\n|:--|--:|\n");
    let _ = writeln!(out, "| Total | {} |", thousands(report.total_users));
    let _ = writeln!(
        out,
        "| Without any issue | {} |",
        thousands(report.users_without_issues)
    );
    let _ = writeln!(
        out,
        "| In collision groups | {} ({} {}) |",
        thousands(report.users_in_collisions),
        thousands(report.collisions.len() as u64),
        if report.collisions.len() == 1 {
            "group"
        } else {
            "groups"
        },
    );
    for category in Category::ALL {
        let count = report.category(category).count;
        let _ = writeln!(out, "| {} | {} |", category.title(), thousands(count));
    }
    let _ = writeln!(
        out,
        "| Input errors | {} |\n",
        thousands(report.input_error_count)
    );
}

fn collisions(out: &mut String, report: &AuditReport, limit: usize) {
    let groups = &report.collisions;
    let _ = writeln!(out, "## Collisions ({})\n", thousands(groups.len() as u64));
    if groups.is_empty() {
        out.push_str("No two users share a sign-in identifier once case is ignored.\n\n");
        return;
    }
    out.push_str(
        "The users of each group share a sign-in identifier once case and compatibility forms \
         are ignored (its match key). A case-insensitive pool keeps one user per identifier: \
         decide who keeps it, and change or drop the others.\n\n",
    );
    for group in groups.iter().take(limit) {
        let _ = writeln!(out, "### {}\n", code(group.key.as_str(), false));
        out.push_str("| User | Field | Value |\n|:--|:--|:--|\n");
        for member in &group.members {
            for identifier in &member.identifiers {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    code(&member.username, true),
                    identifier.field,
                    code(&identifier.value, true),
                );
            }
        }
        out.push('\n');
    }
    let shown = u64::try_from(limit).unwrap_or(u64::MAX);
    let count = groups.len() as u64;
    if count > shown {
        let _ = writeln!(out, "… and {} more groups.\n", thousands(count - shown));
    }
}

fn more(out: &mut String, count: u64, limit: usize) {
    let shown = u64::try_from(limit).unwrap_or(u64::MAX);
    if count > shown {
        let _ = writeln!(out, "- … and {} more", thousands(count - shown));
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Text with control characters made visible, shortened to [`MAX_SHOWN_CHARS`].
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_SHOWN_CHARS * 4));
    for (count, c) in text.chars().enumerate() {
        if count == MAX_SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A value as an inline code span, safe whatever it holds; `in_table` also escapes `|`.
fn code(text: &str, in_table: bool) -> String {
    let mut shown = visible(text);
    if shown.is_empty() {
        return "(empty)".to_owned();
    }
    if in_table {
        shown = shown.replace('|', "\\|");
    }
    // The fence must be longer than any run of backticks inside.
    let longest_run = shown.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if shown.starts_with(['`', ' ']) || shown.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
}

/// Our own messages may quote a username in backticks; keep them on one line.
fn plain(text: &str) -> String {
    visible(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn code_spans_survive_any_text() {
        assert_eq!(code("bob", false), "`bob`");
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`a", false), "`` `a ``");
        assert_eq!(code("a|b", true), "`a\\|b`");
        assert_eq!(code("line\nbreak", false), "`line\\nbreak`");
        assert_eq!(code("", false), "(empty)");
        let long = "x".repeat(500);
        assert_eq!(code(&long, false).chars().count(), MAX_SHOWN_CHARS + 3);
    }
}
