//! `cognito-migrate index`: files every legacy user in the ledger under each of its keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use cognito_migrate_aws::cli::legacy_scan::{LegacyScan, ScanOptions, ScanReport};
use cognito_migrate_aws::ledger::Ledger;
use cognito_migrate_aws::retry::Backoff;
use cognito_migrate_core::ledger::directory_keys;
use cognito_migrate_core::user::LegacyUser;
use futures::{StreamExt as _, TryStreamExt as _};
use tokio::sync::mpsc;

use crate::progress;

/// What one run did.
#[derive(Debug)]
pub struct IndexSummary {
    /// Distinct users found in the legacy pool.
    pub users: u64,
    /// Ledger items written (one per distinct key of each user).
    pub items: u64,
    /// Stale items removed: copies under identifiers their users no longer have.
    pub removed: u64,
    /// Groups in the legacy pool.
    pub groups: usize,
    /// Group memberships.
    pub memberships: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Retries after throttling.
    pub retries: u64,
    /// Users whose MFA settings were read (`--read-mfa`), `None` when they were not.
    pub mfa_reads: Option<u64>,
    /// The user scan's report.
    pub scan: ScanReport,
    /// Things the operator should know that did not stop the run.
    pub warnings: Vec<String>,
}

impl IndexSummary {
    /// Users per second over the whole run.
    #[must_use]
    pub fn rate(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "a rate for people to read")]
        let users = self.users as f64;
        users / self.elapsed.as_secs_f64().max(1e-3)
    }

    /// The one-line summary.
    #[must_use]
    pub fn line(&self) -> String {
        let mfa = self
            .mfa_reads
            .map(|n| format!(", MFA settings read for {n} users"))
            .unwrap_or_default();
        let removed = if self.removed > 0 {
            format!(
                ", {} stale items removed (identifiers users no longer have)",
                self.removed
            )
        } else {
            String::new()
        };
        format!(
            "index: {} users scanned, {} ledger items written, {} groups ({} memberships), {:.1} s elapsed, {:.0} users/s, {} chain(s), {} retries{removed}{mfa}",
            self.users,
            self.items,
            self.groups,
            self.memberships,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.scan.chains,
            self.retries,
        )
    }
}

/// The clock, read once per run: every item of a run gets the same `indexedAtMs`.
#[must_use]
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Scans the legacy pool (groups first, then users) and upserts each user as its page arrives,
/// `concurrency` writes at a time.
pub async fn run(
    scan: &LegacyScan,
    ledger: &Ledger,
    options: ScanOptions,
    concurrency: usize,
) -> anyhow::Result<IndexSummary> {
    let started = Instant::now();
    let spinner = progress::spinner("reading groups (ListGroups, ListUsersInGroup)");
    let groups = scan
        .groups(concurrency.min(8))
        .await
        .context("reading the legacy pool's groups")?;
    spinner.finish_and_clear();

    // Which identifiers count is the legacy pool's own rule: every sign-in reads it here.
    let sign_in = scan
        .sign_in()
        .await
        .context("reading the legacy pool's sign-in settings (DescribeUserPool)")?;
    ledger
        .record_legacy_sign_in(&sign_in, now_ms())
        .await
        .context("recording the legacy pool's sign-in settings in the ledger")?;

    // Sizes the progress bar only; the scan's own check reads the estimate again.
    let estimate = scan
        .estimated_users()
        .await
        .ok()
        .and_then(|n| u64::try_from(n).ok());
    let bar = progress::users_bar(estimate, "indexed");
    let (sink, pages) = mpsc::channel::<Vec<LegacyUser>>(64);
    let at_ms = now_ms();
    let backoff = Backoff::default();
    let write_retries = AtomicU64::new(0);
    let items = AtomicU64::new(0);
    let removed = AtomicU64::new(0);

    let writer = async {
        futures::stream::unfold(pages, |mut pages| async move {
            pages.recv().await.map(|page| (page, pages))
        })
        .flat_map(futures::stream::iter)
        .map(|user| {
            let (backoff, write_retries, items, removed, bar) =
                (&backoff, &write_retries, &items, &removed, &bar);
            async move {
                let stale = backoff
                    .run(write_retries, || ledger.upsert_indexed_user(&user, at_ms))
                    .await
                    .context("writing a user to the ledger")?;
                if !stale.is_empty() {
                    backoff
                        .run(write_retries, || {
                            ledger.remove_stale_copies(&user.username, &stale)
                        })
                        .await
                        .context("removing a user's copies under identifiers it no longer has")?;
                    removed.fetch_add(stale.len() as u64, Ordering::Relaxed);
                }
                items.fetch_add(directory_keys(&user).len() as u64, Ordering::Relaxed);
                bar.inc(1);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_for_each(|()| async { Ok(()) })
        .await
    };
    let scanning = scan.users(options, Some(&groups), sink);
    let (scanned, written) = tokio::join!(scanning, writer);
    bar.finish_and_clear();
    // A failed write stops the writer, which then makes the scan fail too: report the cause.
    written?;
    let report = scanned.context("scanning the legacy pool's users")?;

    let mut warnings = Vec::new();
    if let Some(fallback) = &report.fallback {
        warnings.push(fallback.clone());
    }
    let strays = groups.members_missing_from(&report.usernames);
    if strays > 0 {
        warnings.push(format!(
            "{strays} group member(s) were not returned by ListUsers (created or deleted during the scan?); re-run to pick them up"
        ));
    }
    Ok(IndexSummary {
        users: report.users,
        items: items.load(Ordering::Relaxed),
        removed: removed.load(Ordering::Relaxed),
        groups: groups.groups.len(),
        memberships: groups.memberships(),
        elapsed: started.elapsed(),
        retries: scan.stats.retries.load(Ordering::Relaxed) + write_retries.load(Ordering::Relaxed),
        mfa_reads: scan
            .reads_mfa()
            .then(|| scan.stats.mfa_reads.load(Ordering::Relaxed)),
        scan: report,
        warnings,
    })
}
