//! `audit --from-file` reads an export as a stream, in sections on several threads: the files
//! it writes are byte for byte those of the core's single pass over the whole text, from a
//! file and from standard input.

#[path = "../../core/examples/support/synthetic_export.rs"]
mod synthetic_export;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use cognito_migrate_core::audit::{AuditReport, audit_export};

/// A generated `list-users` export of several MiB (several sections), damaged in two places:
/// a broken record and a user exported twice.
fn export() -> String {
    let mut text = synthetic_export::synthetic_export(9_000);
    let second = text
        .match_indices("        {\n")
        .nth(1)
        .map(|(at, _)| at)
        .unwrap();
    let third = text
        .match_indices("        {\n")
        .nth(2)
        .map(|(at, _)| at)
        .unwrap();
    let repeated = text[second..third].to_owned();
    let late = text
        .match_indices("        {\n")
        .nth(7_000)
        .map(|(at, _)| at)
        .unwrap();
    text.insert_str(late, &repeated);
    let broken = text
        .match_indices("\"Enabled\": true")
        .nth(3_000)
        .map(|(at, _)| at)
        .unwrap();
    text.replace_range(broken..broken + 15, "\"Enabled\": tru");
    text
}

fn audit(args: &[&str], stdin: Option<&str>, out_dir: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
        .arg("audit")
        .args(args)
        .arg("--out-dir")
        .arg(out_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let text = stdin.unwrap_or_default().to_owned();
    let feeder = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    output
}

fn assert_same_files(output: &Output, out_dir: &Path, whole: &AuditReport, how: &str) {
    assert_eq!(output.status.code(), Some(0), "{how}: {output:?}");
    let json = std::fs::read_to_string(out_dir.join("audit.json")).unwrap();
    let markdown = std::fs::read_to_string(out_dir.join("audit.md")).unwrap();
    assert!(json == whole.to_json() + "\n", "{how}: audit.json differs");
    assert!(markdown == whole.to_markdown(), "{how}: audit.md differs");
    assert!(
        output.stdout == markdown.as_bytes(),
        "{how}: the Markdown printed differs"
    );
}

#[test]
fn a_file_and_standard_input_give_the_report_of_the_whole_text() {
    let text = export();
    assert!(
        text.len() > 6 << 20,
        "several sections: {} bytes",
        text.len()
    );
    let whole = audit_export(&text);
    // The broken record is lost, the repeated one counts once.
    assert_eq!(whole.total_users, 8_999);
    assert_eq!(whole.input_error_count, 2);
    assert!(whole.collisions.len() > 10);

    let dir = std::env::temp_dir().join(format!("cognito-migrate-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export.json");
    std::fs::write(&path, &text).unwrap();

    let from_file = dir.join("file");
    let output = audit(&["--from-file", path.to_str().unwrap()], None, &from_file);
    assert_same_files(&output, &from_file, &whole, "file");

    let from_stdin = dir.join("stdin");
    let output = audit(&["--from-file", "-"], Some(&text), &from_stdin);
    assert_same_files(&output, &from_stdin, &whole, "standard input");

    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn refuses_an_export_that_is_not_utf8() {
    let dir = std::env::temp_dir().join(format!("cognito-migrate-latin1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = audit(
        &["--from-file", "-"],
        Some("{\"Username\": \"ann\"}\n"),
        &dir,
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let path = dir.join("latin1.json");
    std::fs::write(&path, b"{\"Username\": \"J\xfcrgen\"}\n").unwrap();
    let output = audit(&["--from-file", path.to_str().unwrap()], None, &dir);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("latin1.json: cannot be read: stream did not contain valid UTF-8"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
