//! `cognito-migrate status`: how far the migration got, from the ledger's counter items (a few
//! reads whatever the ledger's size), and `--recount` to rebuild them from a full scan.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use cognito_migrate_aws::cli::ledger::Counters;
use cognito_migrate_aws::ledger::{Ledger, counter};
use serde::Serialize;

/// Days in the rate's window.
pub const RATE_DAYS: i64 = 7;

const DAY_MS: i64 = 86_400_000;

/// What `status` reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The ledger table.
    pub table: String,
    /// False when the ledger has no counter items yet.
    pub counted: bool,
    /// Users in the ledger.
    pub users: i64,
    /// Migrated on a sign-in (confirmed by the new-pool user's first sign-in).
    pub migrated: i64,
    /// Approved at a sign-in, not confirmed yet: the new-pool user has not signed in since
    /// (Cognito may not have created it; `finish` looks these up).
    pub approved: i64,
    /// Created in bulk by `finish`.
    pub finished: i64,
    /// Not migrated yet.
    pub pending: i64,
    /// Refused (still eligible for a later sign-in), in all.
    pub refused: i64,
    /// Refused users by reason.
    pub refused_by_reason: Vec<(String, i64)>,
    /// Finished users by method.
    pub finished_by_method: Vec<(String, i64)>,
    /// Per UTC day within the window: (day, migrated, finished).
    pub per_day: Vec<DayCount>,
    /// Migrations (sign-in and bulk) a day over the last [`RATE_DAYS`] days.
    pub rate_per_day: f64,
    /// Pending plus refused: who has not reached the new pool.
    pub remaining: i64,
    /// Days until nobody remains at the current rate; `None` at a rate of zero.
    pub days_to_finish: Option<f64>,
    /// The UTC day that would be.
    pub finish_day: Option<String>,
    /// Counter items read.
    pub items_read: usize,
    /// Time taken to read them, in milliseconds.
    pub read_ms: u128,
}

/// One day's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    /// Migrated on sign-ins.
    pub migrated: i64,
    /// Finished in bulk.
    pub finished: i64,
}

/// Builds the report from the counters, `now_ms` fixing "today" and `window_days` how many
/// days are listed.
#[must_use]
pub fn report(
    table: &str,
    counters: &Counters,
    now_ms: i64,
    window_days: i64,
    read: Duration,
) -> Status {
    let day_count = |day: &str| {
        let counts = counters.days.get(day);
        let get = |name: &str| counts.and_then(|c| c.get(name)).copied().unwrap_or(0);
        DayCount {
            day: day.to_owned(),
            migrated: get(counter::MIGRATED),
            finished: get(counter::FINISHED),
        }
    };
    let days_back = |back: i64| {
        (0..back)
            .rev()
            .map(move |i| counter::day_of(now_ms - i * DAY_MS))
    };
    let per_day: Vec<DayCount> = days_back(window_days.max(1))
        .map(|d| day_count(&d))
        .collect();
    let recent: i64 = days_back(RATE_DAYS)
        .map(|d| {
            let c = day_count(&d);
            c.migrated + c.finished
        })
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
    let rate_per_day = recent as f64 / RATE_DAYS as f64;
    // A counter below zero means counts began without a baseline: never shown as such.
    let total = |name: &str| counters.total(name).max(0);
    let pending = total(counter::PENDING);
    let refused = total(counter::REFUSED);
    let remaining = pending + refused;
    #[expect(clippy::cast_precision_loss, reason = "an estimate for people to read")]
    let days_to_finish = (rate_per_day > 0.0).then(|| remaining as f64 / rate_per_day);
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a day count far below i64::MAX"
    )]
    let finish_day =
        days_to_finish.map(|days| counter::day_of(now_ms + (days.ceil() as i64) * DAY_MS));
    let by_prefix = |prefix: &str| -> Vec<(String, i64)> {
        counters
            .totals
            .iter()
            .filter_map(|(name, value)| {
                name.strip_prefix(prefix)
                    .filter(|_| *value != 0)
                    .map(|rest| (rest.to_owned(), *value))
            })
            .collect()
    };
    Status {
        table: table.to_owned(),
        counted: counters.total(counter::USERS) > 0,
        users: total(counter::USERS),
        migrated: total(counter::MIGRATED),
        approved: total(counter::APPROVED),
        finished: total(counter::FINISHED),
        pending,
        refused,
        refused_by_reason: by_prefix("refused_"),
        finished_by_method: by_prefix("finished_"),
        per_day,
        rate_per_day,
        remaining,
        days_to_finish,
        finish_day,
        items_read: counters.items,
        read_ms: read.as_millis(),
    }
}

/// Reads the counters and builds the report.
pub async fn run(ledger: &Ledger, now_ms: i64, window_days: i64) -> anyhow::Result<Status> {
    let started = Instant::now();
    let from = counter::day_of(now_ms - (window_days.max(RATE_DAYS) - 1) * DAY_MS);
    let counters = ledger.recent_counters(&from).await?;
    Ok(report(
        ledger.table(),
        &counters,
        now_ms,
        window_days,
        started.elapsed(),
    ))
}

/// Rebuilds the counters from a full parallel scan; returns the one-line summary.
pub async fn recount(ledger: &Ledger, segments: u16) -> anyhow::Result<String> {
    let started = Instant::now();
    let counters = ledger.recount(segments).await?;
    Ok(format!(
        "recount: {} users scanned in {:.1} s ({segments} segments), {} counter items written",
        counters.total(counter::USERS),
        started.elapsed().as_secs_f64(),
        counters.items,
    ))
}

fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return String::new();
    }
    #[expect(clippy::cast_precision_loss, reason = "a share for people to read")]
    let share = part as f64 * 100.0 / whole as f64;
    format!(" ({share:.1}%)")
}

/// The text report.
#[must_use]
pub fn render(status: &Status) -> String {
    let mut out = String::new();
    if !status.counted {
        let _ = writeln!(
            out,
            "ledger `{}` has no baseline count yet, so no figures are shown: run `cognito-migrate status --table {} --recount` once after `index` (a full scan of the ledger) to start them.",
            status.table, status.table
        );
        return out;
    }
    let _ = writeln!(out, "ledger `{}`: {} users", status.table, status.users);
    let none: &[(String, i64)] = &[];
    for (label, count, breakdown) in [
        ("migrated", status.migrated, none),
        ("approved", status.approved, none),
        ("finished", status.finished, &status.finished_by_method[..]),
        ("pending", status.pending, none),
        ("refused", status.refused, &status.refused_by_reason[..]),
    ] {
        let _ = writeln!(out, "  {label:<9} {count}{}", percent(count, status.users));
        for (part, count) in breakdown {
            let _ = writeln!(out, "    {part}: {count}");
        }
    }
    let _ = writeln!(
        out,
        "per day (UTC, last {} days): day, migrated, finished",
        status.per_day.len()
    );
    for day in &status.per_day {
        let _ = writeln!(
            out,
            "  {}  {:>8}  {:>8}",
            day.day, day.migrated, day.finished
        );
    }
    let _ = write!(
        out,
        "rate: {:.1} a day over the last {RATE_DAYS} days; {} remaining (pending + refused)",
        status.rate_per_day, status.remaining
    );
    match (&status.days_to_finish, &status.finish_day) {
        (Some(days), Some(day)) => {
            let _ = writeln!(out, ", reached in about {days:.0} days ({day})");
        }
        _ => {
            let _ = writeln!(out, ", never at this rate");
        }
    }
    let _ = writeln!(
        out,
        "read {} counter items in {} ms",
        status.items_read, status.read_ms
    );
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn projects_the_remaining_users_at_the_last_weeks_rate() {
        let now = 1_764_201_600_000; // 2025-11-27
        let mut counters = Counters {
            totals: BTreeMap::from([
                ("users".into(), 1000),
                ("pending".into(), 690),
                ("refused".into(), 10),
                ("refused_ambiguous".into(), 10),
                ("migrated".into(), 300),
            ]),
            items: 3,
            ..Counters::default()
        };
        for back in 0..10 {
            counters.days.insert(
                counter::day_of(now - back * DAY_MS),
                BTreeMap::from([("migrated".into(), 10)]),
            );
        }
        let status = report("t", &counters, now, 3, Duration::ZERO);
        assert!((status.rate_per_day - 10.0).abs() < 1e-9);
        assert_eq!(status.remaining, 700);
        assert_eq!(status.days_to_finish, Some(70.0));
        assert_eq!(status.finish_day.as_deref(), Some("2026-02-05"));
        assert_eq!(
            status
                .per_day
                .iter()
                .map(|d| d.day.as_str())
                .collect::<Vec<_>>(),
            ["2025-11-25", "2025-11-26", "2025-11-27"]
        );
        assert_eq!(status.refused_by_reason, [("ambiguous".to_owned(), 10)]);
        let text = render(&status);
        assert!(
            text.contains("reached in about 70 days (2026-02-05)"),
            "{text}"
        );
        assert!(
            text.contains(
                "ledger `t`: 1000 users\n  migrated  300 (30.0%)\n  approved  0 (0.0%)\n  finished  0 (0.0%)\n  \
                 pending   690 (69.0%)\n  refused   10 (1.0%)\n    ambiguous: 10\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn says_how_to_start_counters_when_there_are_none() {
        let status = report("t", &Counters::default(), 0, 7, Duration::ZERO);
        assert!(!status.counted);
        assert!(render(&status).contains("--recount"));
        assert_eq!(status.days_to_finish, None);
    }
}
