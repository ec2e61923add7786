//! `cognito-migrate simulate`, end to end: the built binary on fixture files.

use std::process::Command;

use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_cognito-migrate"))
        .current_dir(FIXTURES)
        .args(args)
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

/// Runs `simulate EVENT --legacy users.json --json ARGS...` and returns its JSON.
fn simulate(event: &str, extra: &[&str]) -> Value {
    let mut args = vec!["simulate", event, "--legacy", "users.json", "--json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("one JSON object on stdout")
}

#[test]
fn a_collision_pair_is_told_apart_by_the_password() {
    let second = simulate(
        "auth-alice.json",
        &[
            "--assume",
            "Alice@Example.com=wrong",
            "--assume",
            "alice@example.com=ok",
        ],
    );
    assert_eq!(second["decision"], "approved");
    assert_eq!(
        second["candidates"],
        serde_json::json!(["Alice@Example.com", "alice@example.com"])
    );
    assert_eq!(second["approval"]["legacyUsername"], "alice@example.com");
    assert_eq!(
        second["response"]["response"]["userAttributes"]["custom:legacy_sub"],
        "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c02"
    );
    insta::assert_json_snapshot!("collision_second_user_password", second);

    let first = simulate(
        "auth-alice.json",
        &[
            "--assume",
            "Alice@Example.com=ok",
            "--assume",
            "alice@example.com=wrong",
        ],
    );
    assert_eq!(first["approval"]["legacyUsername"], "Alice@Example.com");
    assert_eq!(
        first["response"]["response"]["userAttributes"]["name"],
        "Alice Archer"
    );
}

#[test]
fn a_password_that_fits_both_users_is_ambiguous_unless_the_policy_picks_one() {
    let refused = simulate("auth-alice.json", &[]);
    assert_eq!(refused["decision"], "refused");
    assert_eq!(refused["reasonCode"], "ambiguous");
    assert_eq!(
        refused["clientMessage"],
        "NotAuthorizedException: Incorrect username or password."
    );
    // A refusal returns the event exactly as received.
    let event: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{FIXTURES}auth-alice.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(refused["response"], event);
    insta::assert_json_snapshot!("collision_ambiguous", refused);

    let picked = simulate("auth-alice.json", &["--collision", "most-recent"]);
    assert_eq!(picked["decision"], "approved");
    assert_eq!(
        picked["approval"]["legacyUsername"], "alice@example.com",
        "modified in 2024, the other in 2023"
    );
}

#[test]
fn a_disabled_user_is_never_migrated() {
    let out = simulate("auth-carol.json", &[]);
    assert_eq!(out["decision"], "refused");
    assert_eq!(out["reasonCode"], "disabled");
    assert_eq!(
        out["checks"],
        serde_json::json!([]),
        "no password check for a disabled user"
    );
    insta::assert_json_snapshot!("disabled", out);
}

#[test]
fn forgot_password_migrates_one_user_and_refuses_a_collision() {
    let bob = simulate("forgot-bob.json", &[]);
    assert_eq!(bob["decision"], "approved");
    assert_eq!(bob["approval"]["finalUserStatus"], "RESET_REQUIRED");
    assert_eq!(
        bob["response"]["response"]["finalUserStatus"],
        "RESET_REQUIRED"
    );
    insta::assert_json_snapshot!("forgot_password_bob", bob);

    let alice = simulate("forgot-alice.json", &[]);
    assert_eq!(alice["decision"], "refused");
    assert_eq!(alice["reasonCode"], "ambiguous");
}

#[test]
fn a_captured_cloudwatch_line_with_a_redacted_password_still_runs() {
    let out = simulate("cloudwatch-redacted.log", &["--assume-password", "sms-mfa"]);
    let notes = out["notes"].to_string();
    assert!(notes.contains("log line"), "{notes}");
    assert!(notes.contains("looks redacted"), "{notes}");
    assert_eq!(out["decision"], "approved");
    assert_eq!(out["approval"]["legacyUsername"], "Erin");
    assert_eq!(out["response"]["response"]["enableSMSMFA"], true);
    insta::assert_json_snapshot!("cloudwatch_redacted_sms_mfa", out);

    let refused = simulate(
        "cloudwatch-redacted.log",
        &["--assume-password", "sms-mfa", "--mfa", "refuse"],
    );
    assert_eq!(refused["reasonCode"], "mfa_refused");
}

#[test]
fn a_sign_in_event_without_a_password_gets_a_placeholder_that_never_shows() {
    let out = simulate(
        "record-without-password.json",
        &["--assume-password", "wrong"],
    );
    assert!(out["notes"].to_string().contains("placeholder"));
    assert_eq!(out["reasonCode"], "wrong_password");
    let request = out["response"]["request"].as_object().unwrap();
    assert!(
        !request.contains_key("password"),
        "the response is the event as captured: {request:?}"
    );
    insta::assert_json_snapshot!("record_without_password", out);
}

#[test]
fn malformed_json_is_a_clear_input_error() {
    let out = run(&["simulate", "malformed.json", "--legacy", "users.json"]);
    assert_eq!(out.code, Some(2), "stdout: {}", out.stdout);
    assert!(
        out.stderr.contains("malformed.json: not valid JSON"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 5 column 5"), "{}", out.stderr);
    assert!(out.stdout.is_empty());

    let out = run(&["simulate", "auth-alice.json", "--legacy", "malformed.json"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("malformed.json: not valid JSON")
            && out.stderr.contains("line 5 column 5"),
        "{}",
        out.stderr
    );

    let out = run(&["simulate", "missing.json", "--legacy", "users.json"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("missing.json: cannot be read"),
        "{}",
        out.stderr
    );

    let out = run(&[
        "simulate",
        "auth-alice.json",
        "--legacy",
        "users.json",
        "--assume",
        "Mallory=ok",
    ]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("`Mallory`"), "{}", out.stderr);

    let out = run(&[
        "simulate",
        "auth-alice.json",
        "--legacy",
        "users.json",
        "--assume",
        "Bob=maybe",
    ]);
    assert_eq!(out.code, Some(2), "a usage error");
    assert!(
        out.stderr.contains("`maybe` is not one of"),
        "{}",
        out.stderr
    );
}

#[test]
fn sign_up_and_token_events_use_their_own_decisions() {
    let signup = simulate("signup-alice.json", &[]);
    assert_eq!(signup["decision"], "refused");
    assert!(
        signup["clientMessage"]
            .as_str()
            .unwrap()
            .starts_with("UserLambdaValidationException: PreSignUp failed")
    );
    assert_eq!(signup["response"], Value::Null);
    insta::assert_json_snapshot!("sign_up_taken_email", signup);

    // Frank has not signed in yet: no new-pool user gets his groups, whatever it claims.
    let token = simulate("token-frank.json", &[]);
    assert_eq!(token["decision"], "unchanged");
    assert_eq!(token["reasonCode"], "not_owner");
    let out = run(&[
        "simulate",
        "token-frank.json",
        "--legacy",
        "frank-migrated.json",
        "--json",
    ]);
    assert_eq!(out.code, Some(0), "stderr: {}", out.stderr);
    let token: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(token["decision"], "groups-added");
    assert_eq!(
        token["response"]["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
        serde_json::json!(["staff", "admins"])
    );
    insta::assert_json_snapshot!("token_groups", token);
}

#[test]
fn the_text_report_shows_decision_reason_trace_and_response() {
    let out = run(&["simulate", "auth-alice.json", "--legacy", "users.json"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for part in [
        "Event: UserMigration_Authentication for `ALICE@EXAMPLE.COM` (match key `alice@example.com`)",
        "Decision: refused",
        "Reason: ambiguous: The password fits more than one legacy user",
        "Trace:\n  1. ",
        "The client sees: NotAuthorizedException: Incorrect username or password.",
        "Response event:\n{",
    ] {
        assert!(
            out.stdout.contains(part),
            "missing {part:?} in:\n{}",
            out.stdout
        );
    }
}
