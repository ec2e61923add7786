//! `cognito-migrate audit`: the core's audit over a live scan or an export file, written as
//! `audit.md` and `audit.json`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use cognito_migrate_core::audit::{AuditReport, Auditor, audit_export};
use cognito_migrate_core::user::LegacyUser;
use tokio::sync::mpsc;

use crate::BadInput;
use crate::progress;
use cognito_migrate_aws::cli::legacy_scan::{LegacyScan, ScanOptions, ScanReport};

/// Audits an export (`aws cognito-idp list-users` output, NDJSON, ...).
pub fn from_file(path: &Path) -> anyhow::Result<AuditReport> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput(format!("{}: cannot be read: {e}", path.display())))?;
    Ok(audit_export(&text))
}

/// Audits the live pool: the user scan, without groups, fed to the core's auditor as pages come.
pub async fn from_pool(
    scan: &LegacyScan,
    options: ScanOptions,
) -> anyhow::Result<(AuditReport, ScanReport)> {
    let estimate = scan
        .estimated_users()
        .await
        .ok()
        .and_then(|n| u64::try_from(n).ok());
    let bar = progress::users_bar(estimate, "audited");
    let (sink, mut pages) = mpsc::channel::<Vec<LegacyUser>>(64);
    let consumer = async {
        let mut auditor = Auditor::new();
        while let Some(page) = pages.recv().await {
            for user in &page {
                auditor.push_user(user);
            }
            bar.inc(page.len() as u64);
        }
        auditor.finish()
    };
    let (scanned, report) = tokio::join!(scan.users(options, None, sink), consumer);
    bar.finish_and_clear();
    let scanned = scanned.context("scanning the legacy pool's users")?;
    Ok((report, scanned))
}

/// Writes `audit.md` and `audit.json` into `dir` (created when missing); returns their paths.
pub fn write(report: &AuditReport, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let markdown = dir.join("audit.md");
    let json = dir.join("audit.json");
    std::fs::write(&markdown, report.to_markdown())
        .with_context(|| format!("writing {}", markdown.display()))?;
    std::fs::write(&json, report.to_json() + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    Ok((markdown, json))
}
