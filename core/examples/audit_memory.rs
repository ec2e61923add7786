//! Time and peak memory of the audit of a generated export.
//!
//! ```sh
//! cargo run --release -p cognito-migrate-core --example audit_memory -- [whole|chunks] [USERS]
//! cargo run --release -p cognito-migrate-core --example audit_memory -- generate USERS > export.json
//! cargo run --release -p cognito-migrate-core --example audit_memory -- file export.json
//! cargo run --release -p cognito-migrate-core --example audit_memory -- report export.json DIR
//! ```
//!
//! `whole` generates the export in memory and audits it in one call, so the peak includes the
//! text itself (as in a program that reads the whole file first). `chunks` feeds the same export to an
//! `Auditor` 64 KiB at a time as it is generated (as the browser reads a file), so the peak is
//! the audit's own. `generate` prints the export; `file` reads an export (generated or real)
//! into memory and audits it in one call. The peak is the process high-water mark, `VmHWM` in
//! `/proc/self/status`. `report` writes the audit of the whole text as `audit.json` and
//! `audit.md` into `DIR`, as `cognito-migrate audit` writes them: the reference a streamed
//! audit must match byte for byte.

#[path = "support/synthetic_export.rs"]
mod synthetic_export;

use std::time::Instant;

use cognito_migrate_core::audit::{AuditReport, Auditor, audit_export};

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// User plus system CPU time so far, in seconds (the machine may be shared: wall time is not
/// the audit's own). Assumes the usual 100 clock ticks a second.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn mib(bytes: usize) -> f64 {
    f64::from(u32::try_from(bytes / 1024).unwrap_or(u32::MAX)) / 1024.0
}

fn summary(report: &AuditReport) -> String {
    format!(
        "{} users, {} without issues, {} collision groups, {} input errors",
        report.total_users,
        report.users_without_issues,
        report.collisions.len(),
        report.input_error_count
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "whole".to_owned());
    let argument = args.next();
    let users: usize = argument
        .as_deref()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    match mode.as_str() {
        "generate" => {
            use std::io::Write as _;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            synthetic_export::write_export(users, |piece| {
                out.write_all(piece.as_bytes()).expect("stdout");
            });
            out.flush().expect("stdout");
        }
        "report" => {
            let path = argument.expect("usage: audit_memory report PATH DIR");
            let dir =
                std::path::PathBuf::from(args.next().expect("usage: audit_memory report PATH DIR"));
            let text = std::fs::read_to_string(&path).expect("a readable UTF-8 file");
            let report = audit_export(&text);
            std::fs::create_dir_all(&dir).expect("a folder for the report");
            std::fs::write(dir.join("audit.md"), report.to_markdown()).expect("audit.md");
            std::fs::write(dir.join("audit.json"), report.to_json() + "\n").expect("audit.json");
            println!("report: {}", summary(&report));
        }
        "file" => {
            let path = argument.expect("usage: audit_memory file PATH");
            let text = std::fs::read_to_string(&path).expect("a readable UTF-8 file");
            let before = peak_mib();
            let cpu = cpu_seconds();
            let started = Instant::now();
            let report = audit_export(&text);
            let elapsed = started.elapsed();
            let cpu = cpu_seconds() - cpu;
            println!("file: {}", summary(&report));
            println!(
                "file: {:.0} MiB of text; audit {:.2} s ({cpu:.2} s CPU); peak {:.0} MiB (text alone {:.0} MiB)",
                mib(text.len()),
                elapsed.as_secs_f64(),
                peak_mib(),
                before
            );
        }
        "whole" => {
            let text = synthetic_export::synthetic_export(users);
            let before = peak_mib();
            let cpu = cpu_seconds();
            let started = Instant::now();
            let report = audit_export(&text);
            let elapsed = started.elapsed();
            let cpu = cpu_seconds() - cpu;
            println!("whole: {}", summary(&report));
            println!(
                "whole: {:.0} MiB of text; audit {:.2} s ({cpu:.2} s CPU); peak {:.0} MiB (text alone {:.0} MiB)",
                mib(text.len()),
                elapsed.as_secs_f64(),
                peak_mib(),
                before
            );
        }
        "chunks" => {
            let started = Instant::now();
            let mut auditor = Auditor::new();
            let mut buffer = String::with_capacity(64 * 1024);
            let mut bytes = 0usize;
            synthetic_export::write_export(users, |piece| {
                buffer.push_str(piece);
                if buffer.len() >= 64 * 1024 {
                    bytes += buffer.len();
                    auditor.push_text(&buffer);
                    buffer.clear();
                }
            });
            bytes += buffer.len();
            auditor.push_text(&buffer);
            let report = auditor.finish();
            println!("chunks: {}", summary(&report));
            println!(
                "chunks: {:.0} MiB of text in 64 KiB chunks; generation and audit {:.2} s; peak {:.0} MiB",
                mib(bytes),
                started.elapsed().as_secs_f64(),
                peak_mib()
            );
        }
        other => {
            eprintln!(
                "unknown mode `{other}`: use `whole`, `chunks`, `generate`, `file` or `report`"
            );
            std::process::exit(2);
        }
    }
}
