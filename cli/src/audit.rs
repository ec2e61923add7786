//! `cognito-migrate audit`: the core's audit over a live scan or an export file, written as
//! `audit.md` and `audit.json`.
//!
//! An export is read as a stream, a section at a time, never whole: one thread reads and cuts
//! the text at users (`section_cut`), one per core reads the sections (JSON, keys), and the
//! main thread adds them to one `Auditor` in order. The report is the one a single pass over
//! the whole text gives.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self as channel, Receiver, SyncSender};

use anyhow::Context as _;
use cognito_migrate_core::audit::{AuditReport, Auditor, Section, SectionReader, section_cut};
use cognito_migrate_core::user::LegacyUser;
use tokio::sync::mpsc;

use crate::progress;
use crate::{BadInput, input};
use cognito_migrate_aws::cli::legacy_scan::{LegacyScan, ScanOptions, ScanReport};

/// Bytes read at a time, and about the size of a section.
const SECTION_BYTES: usize = 1 << 20;

/// Without a place to cut in this many sections' worth of text (one huge line), the text is
/// added as it is, in order, by the main thread.
const MAX_UNCUT_SECTIONS: usize = 8;

/// Bytes per user of a `list-users` export as `aws` prints it, rounded down: a file's size over
/// this is a fair guess of its users.
const EXPORT_BYTES_PER_USER: u64 = 700;

/// Audits an export (`aws cognito-idp list-users` output, NDJSON, ...); `-` reads standard
/// input.
pub fn from_file(path: &Path) -> anyhow::Result<AuditReport> {
    let (mut stream, name) = input::open_stream(path)?;
    let from_stdin = path == Path::new("-");
    let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let mut auditor = Auditor::new();
    if let Some(metadata) = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file() && !from_stdin)
    {
        let users = metadata.len() / EXPORT_BYTES_PER_USER;
        auditor.reserve(usize::try_from(users).unwrap_or(0));
    }
    let (report, _) = read_export(&mut stream, auditor, SECTION_BYTES, threads)
        .map_err(|e| BadInput(format!("{name}: cannot be read: {e}")))?;
    Ok(report)
}

/// A part of the export, in text order.
enum Slot {
    /// Being read by another thread.
    Reading,
    Read(Box<Section>),
    /// For the main thread to add as text.
    Text(String),
}

type Job = (u64, SectionReader, Vec<u8>);
type Done = (u64, Result<Section, io::Error>);

fn invalid_utf8() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "stream did not contain valid UTF-8",
    )
}

/// Audits what `input` gives, cut into sections of about `section_bytes` by one thread and
/// read by `threads` others (by this one when `threads` is 1). Also says how many sections the
/// audit took as the other threads read them.
fn read_export(
    input: &mut (dyn Read + Send),
    auditor: Auditor,
    section_bytes: usize,
    threads: usize,
) -> io::Result<(AuditReport, u64)> {
    let readers = if threads > 1 { threads } else { 0 };
    let (jobs, queued) = channel::sync_channel::<Job>(readers);
    let queued = Mutex::new(queued);
    let (done, finished) = channel::channel::<Done>();
    let (parts, cut) = channel::sync_channel::<io::Result<Vec<u8>>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || cut_parts(input, section_bytes, &parts));
        for _ in 0..readers {
            let done = done.clone();
            let queued = &queued;
            scope.spawn(move || {
                while let Some((number, reader, bytes)) =
                    queued.lock().ok().and_then(|queue| queue.recv().ok())
                {
                    // The core does not panic on input; should it all the same, the audit
                    // fails instead of waiting for this section forever.
                    let section = String::from_utf8(bytes)
                        .map_err(|_| invalid_utf8())
                        .and_then(|text| {
                            std::panic::catch_unwind(AssertUnwindSafe(|| reader.read(text)))
                                .map_err(|_| io::Error::other("a section could not be read"))
                        });
                    if done.send((number, section)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut pipeline = Pipeline {
            auditor,
            reader: None,
            slots: VecDeque::new(),
            first: 0,
            jobs: (readers > 0).then_some(jobs),
            finished: &finished,
            max_slots: 4 * readers,
            taken_as_read: 0,
        };
        let outcome = pipeline.run(cut);
        // Ends the reading threads, also after an error (the cutting thread ends as `cut`
        // is dropped).
        pipeline.jobs = None;
        outcome.map(|()| (pipeline.auditor.finish(), pipeline.taken_as_read))
    })
}

/// Reads `input` and sends it on in parts that end where a section may start.
fn cut_parts(
    input: &mut (dyn Read + Send),
    section_bytes: usize,
    parts: &SyncSender<io::Result<Vec<u8>>>,
) {
    let mut pending: Vec<u8> = Vec::with_capacity(section_bytes);
    loop {
        let read = match (&mut *input)
            .take(section_bytes as u64)
            .read_to_end(&mut pending)
        {
            Ok(read) => read,
            Err(error) => {
                let _ = parts.send(Err(error));
                return;
            }
        };
        let end = read < section_bytes;
        let cut = if end {
            pending.len()
        } else if let Some(cut) = section_cut(&pending).filter(|&cut| cut > 0) {
            cut
        } else if pending.len() >= MAX_UNCUT_SECTIONS * section_bytes {
            match std::str::from_utf8(&pending) {
                Ok(_) => pending.len(),
                Err(error) if error.error_len().is_none() => error.valid_up_to(),
                Err(_) => {
                    let _ = parts.send(Err(invalid_utf8()));
                    return;
                }
            }
        } else {
            continue;
        };
        // The next part starts with the rest, with room for the next read.
        let rest = pending.get(cut..).unwrap_or_default();
        let mut next = Vec::with_capacity(rest.len() + section_bytes);
        next.extend_from_slice(rest);
        pending.truncate(cut);
        if parts
            .send(Ok(std::mem::replace(&mut pending, next)))
            .is_err()
            || end
        {
            return;
        }
    }
}

/// The main thread's side: hands out sections, adds them in order.
struct Pipeline<'a> {
    auditor: Auditor,
    /// For the next section, while the audit stands between two users.
    reader: Option<SectionReader>,
    /// Parts not yet added, in text order; the first has number `first`.
    slots: VecDeque<Slot>,
    first: u64,
    jobs: Option<SyncSender<Job>>,
    finished: &'a Receiver<Done>,
    max_slots: usize,
    taken_as_read: u64,
}

impl Pipeline<'_> {
    fn run(&mut self, parts: Receiver<io::Result<Vec<u8>>>) -> io::Result<()> {
        for part in parts {
            self.hand_out(part?)?;
        }
        self.settle(true)
    }

    fn hand_out(&mut self, part: Vec<u8>) -> io::Result<()> {
        let number = self.first + self.slots.len() as u64;
        if let (Some(jobs), Some(reader)) = (&self.jobs, &self.reader) {
            jobs.send((number, reader.clone(), part))
                .map_err(|_| io::Error::other("a reading thread stopped"))?;
            self.slots.push_back(Slot::Reading);
        } else {
            let text = String::from_utf8(part).map_err(|_| invalid_utf8())?;
            self.slots.push_back(Slot::Text(text));
        }
        self.settle(false)
    }

    /// Adds the parts that are ready, in order; waits for the first one while too many are
    /// out, or for all of them at the end.
    fn settle(&mut self, all: bool) -> io::Result<()> {
        loop {
            while let Ok(done) = self.finished.try_recv() {
                self.take(done)?;
            }
            match self.slots.front() {
                None => return Ok(()),
                Some(Slot::Reading) => {
                    if !all && self.slots.len() < self.max_slots {
                        return Ok(());
                    }
                    let done = self
                        .finished
                        .recv()
                        .map_err(|_| io::Error::other("a reading thread stopped"))?;
                    self.take(done)?;
                }
                Some(Slot::Read(_) | Slot::Text(_)) => {
                    match self.slots.pop_front() {
                        Some(Slot::Read(section)) => {
                            let as_read = self.auditor.push_section(*section);
                            self.taken_as_read += u64::from(as_read);
                        }
                        Some(Slot::Text(text)) => self.auditor.push_text(&text),
                        _ => {}
                    }
                    self.first += 1;
                    self.reader = self
                        .jobs
                        .as_ref()
                        .and_then(|_| self.auditor.section_reader());
                }
            }
        }
    }

    fn take(&mut self, (number, section): Done) -> io::Result<()> {
        let section = section?;
        let at = usize::try_from(number - self.first).unwrap_or(usize::MAX);
        if let Some(slot) = self.slots.get_mut(at) {
            *slot = Slot::Read(Box::new(section));
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use cognito_migrate_core::audit::audit_export;
    use serde_json::json;

    use super::*;

    /// At most `step` bytes a read, as from a pipe.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            let (now, later) = self.bytes.split_at(n);
            buf[..n].copy_from_slice(now);
            self.bytes = later;
            Ok(n)
        }
    }

    fn user(i: usize, name: &str) -> serde_json::Value {
        json!({
            "Username": name,
            "Attributes": [
                {"Name": "sub", "Value": format!("5f1c-{i}")},
                {"Name": "email", "Value": format!("{}@example.com", name.to_uppercase())},
                {"Name": "email_verified", "Value": if i.is_multiple_of(4) { "false" } else { "true" }},
            ],
            "Enabled": !i.is_multiple_of(9),
            "UserStatus": if i.is_multiple_of(5) { "FORCE_CHANGE_PASSWORD" } else { "CONFIRMED" },
        })
    }

    /// A page as `aws` prints it (with names that collide and some that are not ASCII), a broken
    /// record, a line longer than several small sections, then users one per line.
    fn export() -> String {
        let names = [
            "ann",
            "Ann",
            "zo\u{eb}",
            "ZOE\u{308}",
            "stra\u{df}e",
            "STRASSE",
            "bob",
        ];
        let users: Vec<_> = (0..300)
            .map(|i| user(i, &format!("{}{}", names[i % names.len()], i / names.len())))
            .collect();
        let page = serde_json::to_string_pretty(&json!({"Users": users}))
            .unwrap()
            .replacen("\"Enabled\": true", "\"Enabled\": tru", 1);
        let long = json!({"Username": "long", "Attributes": [
            {"Name": "custom:notes", "Value": "\u{e9}".repeat(3000)}]});
        let lines: String = (300..400)
            .map(|i| user(i, &format!("line{}", i % 90)).to_string() + "\n")
            .collect();
        format!("\u{feff}{page}\n{long}\n{lines}")
    }

    #[test]
    fn sections_on_threads_give_the_report_of_the_whole_text() {
        let text = export();
        let whole = audit_export(&text);
        assert!(whole.total_users > 300 && whole.input_error_count > 0);
        assert!(!whole.collisions.is_empty());
        for (section_bytes, step, threads) in [
            (64, 7, 2),
            (300, 1000, 3),
            (1024, 13, 2),
            (4096, 4096, 1),
            (4096, 4096, 2),
            (1 << 20, 1 << 16, 2),
        ] {
            let mut input = Trickle {
                bytes: text.as_bytes(),
                step,
            };
            let (report, taken) =
                read_export(&mut input, Auditor::new(), section_bytes, threads).unwrap();
            let case = format!("sections of {section_bytes}, reads of {step}, {threads} threads");
            assert_eq!(report.to_json(), whole.to_json(), "{case}");
            assert_eq!(report.to_markdown(), whole.to_markdown(), "{case}");
            // Sections that hold whole users are cut between them.
            if threads > 1 && (1024..text.len()).contains(&section_bytes) {
                assert!(
                    taken * 2 > (text.len() / section_bytes) as u64,
                    "{case}: {taken}"
                );
            } else if threads == 1 {
                assert_eq!(taken, 0, "{case}");
            }
        }
    }

    #[test]
    fn refuses_text_that_is_not_utf8_wherever_it_is() {
        let text = export();
        for at in [0, text.len() / 3, text.len() - 1] {
            let mut bytes = text.clone().into_bytes();
            bytes.insert(at, 0xff);
            for threads in [1, 2] {
                let mut input = Trickle {
                    bytes: &bytes,
                    step: 512,
                };
                let error = read_export(&mut input, Auditor::new(), 1024, threads).unwrap_err();
                assert_eq!(error.kind(), io::ErrorKind::InvalidData, "at {at}");
                assert_eq!(error.to_string(), "stream did not contain valid UTF-8");
            }
        }
        // A character cut in two by a read or a section is whole again.
        let mut input = Trickle {
            bytes: "{\"Username\": \"\u{e9}\u{e9}\"}\n".as_bytes(),
            step: 1,
        };
        assert_eq!(
            read_export(&mut input, Auditor::new(), 1, 2)
                .unwrap()
                .0
                .total_users,
            1
        );
    }

    #[test]
    fn empty_input_gives_an_empty_report() {
        let mut input = Trickle {
            bytes: b"",
            step: 1,
        };
        let (report, _) = read_export(&mut input, Auditor::new(), 1024, 2).unwrap();
        assert_eq!(report, audit_export(""));
    }
}
