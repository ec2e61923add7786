//! The checklist as text.

use std::fmt::Write as _;

use super::judge::Report;

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The checklist as text.
pub(crate) fn render(report: &Report) -> String {
    let mut out = format!(
        "doctor: trigger `{}`, new pool `{}`\n",
        report.function, report.new_pool_id
    );
    // One line a check, its fix on the same line: a failure stays whole through grep and logs.
    for check in &report.checks {
        let mark = if check.ok { "ok  " } else { "FAIL" };
        let _ = write!(out, "  {mark}  {}: {}", check.name, one_line(&check.detail));
        if let Some(fix) = &check.fix {
            let _ = write!(out, " | fix: {}", one_line(fix));
        }
        out.push('\n');
    }
    for skipped in &report.skipped {
        let _ = writeln!(
            out,
            "  skip  {}: not checked (needs {})",
            skipped.name, skipped.needs
        );
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    let _ = writeln!(
        out,
        "{} checks, {failed} failed, {} not checked",
        report.checks.len(),
        report.skipped.len()
    );
    if let Some(user) = &report.user {
        let _ = writeln!(out, "\nuser `{}`", user.identifier);
        let _ = writeln!(out, "  match key: {}", user.match_key);
        match &user.candidates {
            Some(candidates) if candidates.is_empty() => {
                let _ = writeln!(out, "  ledger candidates: none");
            }
            Some(candidates) => {
                let _ = writeln!(out, "  ledger candidates: {}", candidates.len());
                for c in candidates {
                    let enabled = if c.enabled { "enabled" } else { "disabled" };
                    let _ = writeln!(
                        out,
                        "    - {} ({}, {enabled}, {})",
                        c.username, c.state, c.status
                    );
                }
            }
            None => {
                let _ = writeln!(out, "  ledger candidates: unknown (ledger not readable)");
            }
        }
        let _ = writeln!(
            out,
            "  in the new pool: {}",
            user.in_new_pool.as_deref().unwrap_or("no")
        );
        let _ = writeln!(out, "  verdict: {}", user.verdict);
    }
    out
}
