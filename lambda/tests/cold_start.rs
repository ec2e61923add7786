//! The trigger binary from process start to ready (configuration read, clients built).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

#[tokio::test]
async fn the_binary_starts_configured_and_says_ready_once() {
    let stack = support::Stack::new().await;
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cognito-migrate-trigger"))
        .env_clear()
        .envs(stack.env(&[]))
        .env("AWS_ENDPOINT_URL", &stack.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        // Nothing listens there: the runtime loop fails after start-up, which is all we time.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "cognito-migrate-trigger")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut ready = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        if value["message"] == "ready" {
            ready = Some((started.elapsed(), value));
            break;
        }
    }
    child.kill().ok();
    child.wait().ok();
    let (elapsed, line) = ready.expect("no ready line");
    assert_eq!(line["configured"], true);
    eprintln!(
        "cold start: process start to ready {elapsed:?} (self-reported {} ms)",
        line["ready_ms"]
    );
}
