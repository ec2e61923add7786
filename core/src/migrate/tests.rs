use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::attributes::MAX_ATTRIBUTE_BYTES;
use crate::ledger::FinishMethod;

fn sign_in(user_name: &str) -> TriggerEvent {
    let mut raw = crate::event::tests::fixture("user-migration-authentication");
    raw["userName"] = user_name.into();
    TriggerEvent::from_value(raw).unwrap()
}

fn forgot(user_name: &str) -> TriggerEvent {
    let mut raw = crate::event::tests::fixture("user-migration-forgot-password");
    raw["userName"] = user_name.into();
    TriggerEvent::from_value(raw).unwrap()
}

fn user(username: &str, attributes: &[(&str, &str)]) -> LegacyUser {
    let mut all: BTreeMap<String, String> = attributes
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.entry("sub".into())
        .or_insert_with(|| format!("sub-of-{username}"));
    LegacyUser::new(username, all)
}

fn verified(username: &str) -> LegacyUser {
    user(username, &[("email", username), ("email_verified", "true")])
}

fn pending(users: &[LegacyUser]) -> Vec<LedgerEntry> {
    users.iter().cloned().map(LedgerEntry::pending).collect()
}

/// Runs a migration where `right` lists the usernames whose password check gives `outcome`;
/// every other check is a wrong password. Returns the decision and the usernames checked.
fn run(
    event: &TriggerEvent,
    candidates: Vec<LedgerEntry>,
    config: &MigrationConfig,
    right: &[&str],
    outcome: &PasswordOutcome,
) -> (Decision, Vec<String>) {
    let mut checked = Vec::new();
    let decision = decide_with(event, candidates, config, |username| {
        checked.push(username.to_owned());
        if right.contains(&username) {
            outcome.clone()
        } else {
            PasswordOutcome::WrongPassword
        }
    });
    (decision, checked)
}

fn accepted() -> PasswordOutcome {
    PasswordOutcome::Accepted
}

fn with_policy(edit: impl FnOnce(&mut Policy)) -> MigrationConfig {
    let mut config = MigrationConfig::default();
    edit(&mut config.policy);
    config
}

#[test]
fn a_mixed_case_legacy_user_is_found_from_every_casing() {
    let legacy = verified("Name@Acme.com");
    for typed in [
        "name@acme.com",
        "NAME@ACME.COM",
        "Name@acme.com",
        "Name@Acme.com",
        " name@acme.com ",
    ] {
        let (decision, checked) = run(
            &sign_in(typed),
            pending(std::slice::from_ref(&legacy)),
            &MigrationConfig::default(),
            &["Name@Acme.com"],
            &accepted(),
        );
        assert_eq!(checked, ["Name@Acme.com"], "{typed}");
        let approval = decision.approval.as_ref().unwrap();
        assert_eq!(approval.final_user_status, FinalUserStatus::Confirmed);
        assert_eq!(approval.legacy_username, "Name@Acme.com");
    }
}

#[test]
fn the_confirmed_response_shape() {
    let legacy = user(
        "Name@Acme.com",
        &[
            ("email", "Name@Acme.com"),
            ("email_verified", "true"),
            ("given_name", "Ann"),
            ("custom:unknown", "x"),
        ],
    );
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        pending(&[legacy]),
        &MigrationConfig::default(),
        &["Name@Acme.com"],
        &accepted(),
    );
    insta::assert_json_snapshot!("confirmed", decision.response());
    assert_eq!(decision.password_checks, 1);
    assert_eq!(decision.reason(), None);
}

#[test]
fn an_alias_finds_the_user() {
    let legacy = user(
        "alice",
        &[("email", "Alice@Acme.com"), ("email_verified", "true")],
    );
    let (decision, checked) = run(
        &sign_in("alice@acme.com"),
        pending(&[legacy]),
        &MigrationConfig::default(),
        &["alice"],
        &accepted(),
    );
    assert_eq!(checked, ["alice"]);
    assert!(decision.approval.is_some());
}

#[test]
fn exact_case_candidates_are_checked_first() {
    let a = verified("Name@Acme.com");
    let b = verified("name@acme.com");
    let (_, checked) = run(
        &sign_in("name@acme.com"),
        pending(&[a.clone(), b.clone()]),
        &MigrationConfig::default(),
        &[],
        &accepted(),
    );
    assert_eq!(checked, ["name@acme.com", "Name@Acme.com"]);
    let (_, checked) = run(
        &sign_in("Name@Acme.com"),
        pending(&[b, a]),
        &MigrationConfig::default(),
        &[],
        &accepted(),
    );
    assert_eq!(checked, ["Name@Acme.com", "name@acme.com"]);
}

#[test]
fn a_collision_is_resolved_by_the_password() {
    let a = verified("Name@Acme.com");
    let b = verified("name@acme.com");
    for (owner, typed) in [
        ("Name@Acme.com", "NAME@acme.com"),
        ("name@acme.com", "NAME@acme.com"),
    ] {
        let (decision, checked) = run(
            &sign_in(typed),
            pending(&[a.clone(), b.clone()]),
            &MigrationConfig::default(),
            &[owner],
            &accepted(),
        );
        assert_eq!(
            checked.len(),
            2,
            "every candidate is checked, to detect a shared password"
        );
        assert_eq!(decision.approval.unwrap().legacy_username, owner);
    }
}

#[test]
fn a_password_that_fits_two_users_is_refused_as_ambiguous() {
    let a = verified("Name@Acme.com");
    let b = verified("name@acme.com");
    let event = sign_in("name@acme.com");
    let (decision, _) = run(
        &event,
        pending(&[a, b]),
        &MigrationConfig::default(),
        &["Name@Acme.com", "name@acme.com"],
        &accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::Ambiguous));
    assert_eq!(decision.response(), &event.unchanged());
}

#[test]
fn the_most_recent_policy_picks_the_newest_and_refuses_ties() {
    let mut a = verified("Name@Acme.com");
    let mut b = verified("name@acme.com");
    a.last_modified_ms = Some(2_000);
    b.last_modified_ms = Some(1_000);
    let config = with_policy(|p| p.collision = CollisionPolicy::MostRecent);
    let both = ["Name@Acme.com", "name@acme.com"];
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        pending(&[a.clone(), b.clone()]),
        &config,
        &both,
        &accepted(),
    );
    assert_eq!(decision.approval.unwrap().legacy_username, "Name@Acme.com");
    b.last_modified_ms = Some(2_000);
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        pending(&[a.clone(), b.clone()]),
        &config,
        &both,
        &accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::Ambiguous));
    b.last_modified_ms = None;
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        pending(&[a, b]),
        &config,
        &both,
        &accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::Ambiguous));
}

#[test]
fn disabled_users_are_never_migrated() {
    let mut off = verified("Name@Acme.com");
    off.enabled = false;
    let (decision, checked) = run(
        &sign_in("name@acme.com"),
        pending(&[off.clone()]),
        &MigrationConfig::default(),
        &["Name@Acme.com"],
        &accepted(),
    );
    assert!(checked.is_empty(), "no password check for a disabled user");
    assert_eq!(decision.reason(), Some(ReasonCode::Disabled));
    // The other candidate of a pair still migrates on its own password.
    let on = verified("name@acme.com");
    let (decision, checked) = run(
        &sign_in("name@acme.com"),
        pending(&[off, on]),
        &MigrationConfig::default(),
        &["name@acme.com"],
        &accepted(),
    );
    assert_eq!(checked, ["name@acme.com"]);
    assert_eq!(decision.approval.unwrap().legacy_username, "name@acme.com");
    // A user the ledger thinks enabled but the legacy pool reports disabled.
    let (decision, _) = run(
        &sign_in("x@acme.com"),
        pending(&[verified("x@acme.com")]),
        &MigrationConfig::default(),
        &["x@acme.com"],
        &PasswordOutcome::Disabled,
    );
    assert_eq!(decision.reason(), Some(ReasonCode::Disabled));
}

#[test]
fn too_many_candidates_are_refused_without_checking() {
    let users: Vec<LegacyUser> = ["ab@x.io", "AB@x.io", "Ab@x.io", "aB@x.io"]
        .iter()
        .map(|u| verified(u))
        .collect();
    let config = with_policy(|p| p.max_candidates = 3);
    let (decision, checked) = run(
        &sign_in("ab@x.io"),
        pending(&users),
        &config,
        &["ab@x.io"],
        &accepted(),
    );
    assert!(checked.is_empty());
    assert_eq!(decision.reason(), Some(ReasonCode::TooManyCandidates));
}

#[test]
fn wrong_password_and_unknown_user_look_the_same() {
    let event = sign_in("name@acme.com");
    let (wrong, _) = run(
        &event,
        pending(&[verified("Name@Acme.com")]),
        &MigrationConfig::default(),
        &[],
        &accepted(),
    );
    let (unknown, checked) = run(
        &event,
        Vec::new(),
        &MigrationConfig::default(),
        &[],
        &accepted(),
    );
    assert!(checked.is_empty());
    assert_eq!(wrong.reason(), Some(ReasonCode::WrongPassword));
    assert_eq!(unknown.reason(), Some(ReasonCode::NoCandidates));
    assert_eq!(wrong.response(), unknown.response());
    assert_eq!(wrong.response(), &event.unchanged());
    let source = event.source();
    assert_eq!(wrong.client_message(source), unknown.client_message(source));
    insta::assert_json_snapshot!("refused", wrong.response());
}

#[test]
fn unconfirmed_and_reset_required_legacy_users_are_refused() {
    let event = sign_in("n@x.io");
    let (decision, _) = run(
        &event,
        pending(&[verified("n@x.io")]),
        &MigrationConfig::default(),
        &["n@x.io"],
        &PasswordOutcome::NotConfirmed,
    );
    assert_eq!(decision.reason(), Some(ReasonCode::NotConfirmed));
    let mut reset = verified("n@x.io");
    reset.status = UserStatus::ResetRequired;
    let (decision, checked) = run(
        &event,
        pending(&[reset]),
        &MigrationConfig::default(),
        &["n@x.io"],
        &accepted(),
    );
    assert!(checked.is_empty());
    assert_eq!(decision.reason(), Some(ReasonCode::LegacyResetRequired));
    let mut federated = verified("n@x.io");
    federated.status = UserStatus::ExternalProvider;
    let (decision, _) = run(
        &event,
        pending(&[federated]),
        &MigrationConfig::default(),
        &["n@x.io"],
        &accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::ExternalProvider));
}

fn sms_user() -> LegacyUser {
    let mut u = user(
        "m@x.io",
        &[
            ("email", "m@x.io"),
            ("email_verified", "true"),
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
        ],
    );
    u.mfa.sms = true;
    u
}

#[test]
fn sms_mfa_is_kept_by_default() {
    let (decision, _) = run(
        &sign_in("m@x.io"),
        pending(&[sms_user()]),
        &MigrationConfig::default(),
        &["m@x.io"],
        &PasswordOutcome::Challenge(Challenge::SmsMfa),
    );
    let approval = decision.approval.clone().unwrap();
    assert!(approval.enable_sms_mfa);
    assert_eq!(approval.final_user_status, FinalUserStatus::Confirmed);
    insta::assert_json_snapshot!("sms_mfa", decision.response());
}

#[test]
fn a_second_factor_is_never_dropped_silently() {
    let challenge = |c: Challenge| PasswordOutcome::Challenge(c);
    let mut totp = user("t@x.io", &[("email", "t@x.io"), ("email_verified", "true")]);
    totp.mfa.totp = true;
    // TOTP cannot be carried over: the default refuses.
    let (decision, _) = run(
        &sign_in("t@x.io"),
        pending(&[totp.clone()]),
        &MigrationConfig::default(),
        &["t@x.io"],
        &challenge(Challenge::SoftwareTokenMfa),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::MfaNotRestorable));
    // SMS MFA without a phone number the new pool takes: refused.
    let mut no_phone = sms_user();
    no_phone.attributes.remove("phone_number");
    let (decision, _) = run(
        &sign_in("m@x.io"),
        pending(&[no_phone]),
        &MigrationConfig::default(),
        &["m@x.io"],
        &challenge(Challenge::SmsMfa),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::MfaNotRestorable));
    // Both factors: SMS is kept.
    let mut both = sms_user();
    both.mfa.totp = true;
    let (decision, _) = run(
        &sign_in("m@x.io"),
        pending(&[both]),
        &MigrationConfig::default(),
        &["m@x.io"],
        &challenge(Challenge::SelectMfaType),
    );
    assert!(decision.approval.unwrap().enable_sms_mfa);
    // Refuse policy.
    let refuse = with_policy(|p| p.mfa = MfaPolicy::Refuse);
    let (decision, _) = run(
        &sign_in("m@x.io"),
        pending(&[sms_user()]),
        &refuse,
        &["m@x.io"],
        &challenge(Challenge::SmsMfa),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::MfaRefused));
    // Reset policy: the user proves control of a verified address instead.
    let reset = with_policy(|p| p.mfa = MfaPolicy::ResetRequired);
    let (decision, _) = run(
        &sign_in("t@x.io"),
        pending(&[totp]),
        &reset,
        &["t@x.io"],
        &challenge(Challenge::SoftwareTokenMfa),
    );
    let approval = decision.approval.unwrap();
    assert_eq!(approval.final_user_status, FinalUserStatus::ResetRequired);
    assert!(!approval.enable_sms_mfa);
    // MFA required but never set up: nothing to drop.
    let (decision, _) = run(
        &sign_in("n@x.io"),
        pending(&[verified("n@x.io")]),
        &MigrationConfig::default(),
        &["n@x.io"],
        &challenge(Challenge::MfaSetup),
    );
    assert_eq!(
        decision.approval.unwrap().final_user_status,
        FinalUserStatus::Confirmed
    );
    // A challenge nobody knows.
    let (decision, _) = run(
        &sign_in("n@x.io"),
        pending(&[verified("n@x.io")]),
        &MigrationConfig::default(),
        &["n@x.io"],
        &challenge(Challenge::parse("CUSTOM_CHALLENGE")),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::UnsupportedChallenge));
}

#[test]
fn an_accepted_password_keeps_configured_sms_mfa() {
    let (decision, _) = run(
        &sign_in("m@x.io"),
        pending(&[sms_user()]),
        &MigrationConfig::default(),
        &["m@x.io"],
        &accepted(),
    );
    assert!(decision.approval.unwrap().enable_sms_mfa);
    let refuse = with_policy(|p| p.mfa = MfaPolicy::Refuse);
    let (decision, _) = run(
        &sign_in("m@x.io"),
        pending(&[sms_user()]),
        &refuse,
        &["m@x.io"],
        &accepted(),
    );
    assert!(!decision.approval.unwrap().enable_sms_mfa);
}

#[test]
fn temporary_passwords_follow_the_policy() {
    let temp = PasswordOutcome::Challenge(Challenge::NewPasswordRequired);
    let mut fresh = verified("t@x.io");
    fresh.status = UserStatus::ForceChangePassword;
    let (decision, _) = run(
        &sign_in("t@x.io"),
        pending(&[fresh.clone()]),
        &MigrationConfig::default(),
        &["t@x.io"],
        &temp,
    );
    assert_eq!(
        decision.approval.as_ref().unwrap().final_user_status,
        FinalUserStatus::ResetRequired
    );
    insta::assert_json_snapshot!("temporary_password_reset_required", decision.response());
    let refuse = with_policy(|p| p.temporary_password = TemporaryPasswordPolicy::Refuse);
    let (decision, _) = run(
        &sign_in("t@x.io"),
        pending(&[fresh]),
        &refuse,
        &["t@x.io"],
        &temp,
    );
    assert_eq!(
        decision.reason(),
        Some(ReasonCode::TemporaryPasswordRefused)
    );
    let unverified = user("u@x.io", &[("email", "u@x.io")]);
    let (decision, _) = run(
        &sign_in("u@x.io"),
        pending(&[unverified]),
        &MigrationConfig::default(),
        &["u@x.io"],
        &temp,
    );
    assert_eq!(decision.reason(), Some(ReasonCode::NoVerifiedContact));
}

#[test]
fn forgot_password_migrates_one_verified_user_as_reset_required() {
    let event = forgot("NAME@acme.com");
    let config = MigrationConfig::default();
    let mut machine = SignInMigration::new(&event, pending(&[verified("Name@Acme.com")]), &config);
    assert_eq!(machine.next_step(), Step::Done, "no password to check");
    machine.record(PasswordOutcome::Accepted);
    let decision = machine.finish();
    assert_eq!(decision.password_checks, 0);
    assert_eq!(
        decision.approval.as_ref().unwrap().final_user_status,
        FinalUserStatus::ResetRequired
    );
    insta::assert_json_snapshot!("forgot_password", decision.response());
}

#[test]
fn forgot_password_refuses_what_it_cannot_tell_apart_or_reach() {
    let config = MigrationConfig::default();
    let pair = pending(&[verified("Name@Acme.com"), verified("name@acme.com")]);
    let decision = decide_with(&forgot("name@acme.com"), pair, &config, |_| {
        PasswordOutcome::Accepted
    });
    assert_eq!(decision.reason(), Some(ReasonCode::Ambiguous));
    let unverified = pending(&[user(
        "u@x.io",
        &[("email", "u@x.io"), ("email_verified", "false")],
    )]);
    let decision = decide_with(&forgot("u@x.io"), unverified, &config, |_| {
        PasswordOutcome::Accepted
    });
    assert_eq!(decision.reason(), Some(ReasonCode::NoVerifiedContact));
    let phone = pending(&[user(
        "p",
        &[
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
        ],
    )]);
    let decision = decide_with(&forgot("P"), phone, &config, |_| PasswordOutcome::Accepted);
    assert!(decision.approval.is_some());
    let mut off = verified("d@x.io");
    off.enabled = false;
    let decision = decide_with(&forgot("d@x.io"), pending(&[off]), &config, |_| {
        PasswordOutcome::Accepted
    });
    assert_eq!(decision.reason(), Some(ReasonCode::Disabled));
}

#[test]
fn migrated_users_are_skipped_but_an_unfinished_migration_may_repeat() {
    let legacy = verified("Name@Acme.com");
    let elsewhere = LedgerEntry {
        user: legacy.clone(),
        state: MigrationState::Migrated {
            new_username: "other-identifier".into(),
            at_ms: 1,
            new_sub: None,
        },
        groups_copied: false,
        groups_copied_at_ms: None,
    };
    let (decision, checked) = run(
        &sign_in("name@acme.com"),
        vec![elsewhere],
        &MigrationConfig::default(),
        &["Name@Acme.com"],
        &accepted(),
    );
    assert!(checked.is_empty());
    assert_eq!(decision.reason(), Some(ReasonCode::AlreadyMigrated));
    let retried = LedgerEntry {
        user: legacy.clone(),
        state: MigrationState::Migrated {
            new_username: "name@acme.com".into(),
            at_ms: 1,
            new_sub: None,
        },
        groups_copied: false,
        groups_copied_at_ms: None,
    };
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        vec![retried],
        &MigrationConfig::default(),
        &["Name@Acme.com"],
        &accepted(),
    );
    assert!(decision.approval.is_some());
    let finished = LedgerEntry {
        user: legacy,
        state: MigrationState::Finished {
            method: FinishMethod::AdminCreateUser,
            at_ms: 1,
        },
        groups_copied: true,
        groups_copied_at_ms: None,
    };
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        vec![finished],
        &MigrationConfig::default(),
        &["Name@Acme.com"],
        &accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::AlreadyMigrated));
}

#[test]
fn stale_candidates_and_duplicates_are_ignored() {
    let moved = verified("someone-else@x.io");
    let (decision, checked) = run(
        &sign_in("name@acme.com"),
        pending(&[moved]),
        &MigrationConfig::default(),
        &[],
        &accepted(),
    );
    assert!(checked.is_empty());
    assert_eq!(decision.reason(), Some(ReasonCode::NoCandidates));
    let twice = pending(&[verified("Name@Acme.com"), verified("Name@Acme.com")]);
    let (_, checked) = run(
        &sign_in("name@acme.com"),
        twice,
        &MigrationConfig::default(),
        &[],
        &accepted(),
    );
    assert_eq!(checked.len(), 1);
}

#[test]
fn attributes_the_new_pool_would_reject_refuse_the_migration() {
    let long = "x".repeat(MAX_ATTRIBUTE_BYTES + 1);
    let legacy = user("n@x.io", &[("email", "n@x.io"), ("name", &long)]);
    let (decision, _) = run(
        &sign_in("n@x.io"),
        pending(&[legacy]),
        &MigrationConfig::default(),
        &["n@x.io"],
        &accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::AttributesRejected));
}

#[test]
fn other_triggers_and_empty_identifiers_are_refused() {
    let token = TriggerEvent::from_value(crate::event::tests::fixture(
        "token-generation-authentication",
    ))
    .unwrap();
    let decision = decide_with(
        &token,
        pending(&[verified("name@acme.com")]),
        &MigrationConfig::default(),
        |_| accepted(),
    );
    assert_eq!(decision.reason(), Some(ReasonCode::NotAMigrationEvent));
    assert_eq!(decision.response(), &token.unchanged());
    let blank = sign_in("\u{200B} ");
    let decision = decide_with(&blank, Vec::new(), &MigrationConfig::default(), |_| {
        accepted()
    });
    assert_eq!(decision.reason(), Some(ReasonCode::EmptyIdentifier));
}

#[test]
fn the_trace_tells_the_story_without_the_password() {
    let (decision, _) = run(
        &sign_in("name@acme.com"),
        pending(&[verified("Name@Acme.com")]),
        &MigrationConfig::default(),
        &["Name@Acme.com"],
        &accepted(),
    );
    let story = decision.trace.join("\n");
    assert!(story.contains("match key `name@acme.com`"), "{story}");
    assert!(
        story.contains("Migrate `Name@Acme.com` as CONFIRMED"),
        "{story}"
    );
    assert!(!story.contains("canary-Pa55word!"));
}

#[test]
fn reason_codes_serialise_as_their_strings() {
    for code in [
        ReasonCode::Ambiguous,
        ReasonCode::NoVerifiedContact,
        ReasonCode::LegacyUnavailable,
    ] {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
        assert!(!code.explain().is_empty());
    }
}

fn outcome() -> impl Strategy<Value = PasswordOutcome> {
    prop_oneof![
        Just(PasswordOutcome::Accepted),
        Just(PasswordOutcome::WrongPassword),
        Just(PasswordOutcome::Disabled),
        Just(PasswordOutcome::UserNotFound),
        Just(PasswordOutcome::ResetRequired),
        Just(PasswordOutcome::NotConfirmed),
        prop::sample::select(vec![
            "SMS_MFA",
            "SOFTWARE_TOKEN_MFA",
            "SELECT_MFA_TYPE",
            "MFA_SETUP",
            "NEW_PASSWORD_REQUIRED",
            "X"
        ])
        .prop_map(|c| PasswordOutcome::Challenge(Challenge::parse(c))),
    ]
}

proptest! {
    #[test]
    fn any_outcomes_give_a_well_formed_decision(
        typed in prop::sample::select(vec!["name@acme.com", "NAME@ACME.COM", "x", " "]),
        names in prop::collection::vec(prop::sample::select(vec!["Name@Acme.com", "name@acme.com", "NAME@acme.com", "x", "X"]), 0..5),
        outcomes in prop::collection::vec(outcome(), 5),
        flags in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 5),
        most_recent in any::<bool>(),
    ) {
        let candidates: Vec<LedgerEntry> = names.iter().zip(&flags).map(|(name, (enabled, sms, verified_email))| {
            let mut u = user(name, &[("email", name), ("email_verified", if *verified_email { "true" } else { "false" }), ("phone_number", "+15550100")]);
            u.enabled = *enabled;
            u.mfa.sms = *sms;
            LedgerEntry::pending(u)
        }).collect();
        let config = with_policy(|p| if most_recent { p.collision = CollisionPolicy::MostRecent });
        let event = sign_in(typed);
        let mut i = 0;
        let decision = decide_with(&event, candidates, &config, |_| { i += 1; outcomes[(i - 1) % outcomes.len()].clone() });
        prop_assert!(decision.password_checks <= config.policy.max_candidates);
        match (&decision.approval, decision.refusal) {
            (Some(approval), None) => {
                let original = event.unchanged();
                for (key, value) in original.as_object().unwrap() {
                    if key != "response" { prop_assert_eq!(&decision.response[key], value); }
                }
                prop_assert_eq!(&decision.response["response"]["messageAction"], "SUPPRESS");
                prop_assert_eq!(&decision.response["response"]["forceAliasCreation"], false);
                prop_assert!(!approval.user_attributes.contains_key("sub"));
            }
            (None, Some(_)) => prop_assert_eq!(decision.response(), &event.unchanged()),
            _ => prop_assert!(false, "a decision is an approval or a refusal"),
        }
    }
}

#[test]
fn a_variant_of_the_registered_name_is_refused_and_the_registered_one_approved() {
    let config = MigrationConfig::default();
    for (registered, variant) in [
        ("strasse@acme.test", "straße@acme.test"),
        ("istanbul@acme.test", "İSTANBUL@acme.test"),
        ("anna@acme.test", "ａｎｎａ@acme.test"),
        ("office@acme.test", "o\u{fb03}ce@acme.test"),
    ] {
        let legacy = pending(&[verified(registered)]);
        let (decision, checked) = run(
            &sign_in(variant),
            legacy.clone(),
            &config,
            &[registered],
            &accepted(),
        );
        assert_eq!(checked, [registered], "{variant} finds its candidate");
        assert_eq!(
            decision.refusal,
            Some(ReasonCode::IdentifierVariant),
            "{variant}"
        );
        assert_eq!(decision.response(), &sign_in(variant).unchanged());
        let typed = registered.to_uppercase();
        let (decision, _) = run(
            &sign_in(&typed),
            legacy,
            &config,
            &[registered],
            &accepted(),
        );
        assert!(decision.approval.is_some(), "{typed}");
    }
}

#[test]
fn a_username_outranks_another_users_alias() {
    let config = MigrationConfig::default();
    let owner = verified("boss@acme.test");
    let squatter = user(
        "mallory",
        &[("email", "Boss@acme.test"), ("email_verified", "true")],
    );
    let entries = pending(&[owner, squatter]);
    // The squatter's password is never even checked under the owner's username.
    let (decision, checked) = run(
        &sign_in("BOSS@acme.test"),
        entries.clone(),
        &config,
        &["mallory"],
        &accepted(),
    );
    assert_eq!(checked, ["boss@acme.test"]);
    assert_eq!(decision.refusal, Some(ReasonCode::WrongPassword));
    let (decision, _) = run(
        &sign_in("BOSS@acme.test"),
        entries,
        &config,
        &["boss@acme.test"],
        &accepted(),
    );
    assert_eq!(decision.approval.unwrap().legacy_username, "boss@acme.test");
    // With the owner gone from the ledger's answer, the alias holder alone is a candidate.
    let alone = pending(&[user(
        "mallory",
        &[("email", "Boss@acme.test"), ("email_verified", "true")],
    )]);
    let (decision, _) = run(
        &sign_in("boss@acme.test"),
        alone,
        &config,
        &["mallory"],
        &accepted(),
    );
    assert!(decision.approval.is_some());
}

fn legacy_pool(username_attributes: &[&str], alias_attributes: &[&str]) -> MigrationConfig {
    MigrationConfig {
        legacy_sign_in: LegacySignIn {
            username_attributes: username_attributes.iter().map(|&s| s.to_owned()).collect(),
            alias_attributes: alias_attributes.iter().map(|&s| s.to_owned()).collect(),
        },
        ..MigrationConfig::default()
    }
}

#[test]
fn an_unverified_email_or_phone_finds_nobody_in_a_pool_of_plain_usernames() {
    // Mallory typed the victim's address as her own e-mail and never verified it.
    let squatter = user(
        "mallory",
        &[("email", "victim@acme.test"), ("phone_number", "+15550100")],
    );
    for typed in ["victim@acme.test", "+15550100"] {
        let (decision, checked) = run(
            &sign_in(typed),
            pending(std::slice::from_ref(&squatter)),
            &MigrationConfig::default(),
            &["mallory"],
            &accepted(),
        );
        assert!(checked.is_empty(), "{typed}: {checked:?}");
        assert_eq!(decision.refusal, Some(ReasonCode::NoCandidates), "{typed}");
    }
    // Where the legacy pool signed in with the e-mail as username, it was hers to use.
    let (decision, checked) = run(
        &sign_in("victim@acme.test"),
        pending(&[squatter]),
        &legacy_pool(&["email"], &[]),
        &["mallory"],
        &accepted(),
    );
    assert_eq!(checked, ["mallory"]);
    assert!(decision.approval.is_some());
}

#[test]
fn a_preferred_username_counts_only_when_the_legacy_pool_aliases_it() {
    let nick = user("alice", &[("preferred_username", "Ally")]);
    let (refused, checked) = run(
        &sign_in("ally"),
        pending(std::slice::from_ref(&nick)),
        &MigrationConfig::default(),
        &["alice"],
        &accepted(),
    );
    assert!(checked.is_empty());
    assert_eq!(refused.refusal, Some(ReasonCode::NoCandidates));
    let (approved, _) = run(
        &sign_in("Ally"),
        pending(&[nick]),
        &legacy_pool(&[], &["preferred_username"]),
        &["alice"],
        &accepted(),
    );
    assert_eq!(approved.approval.unwrap().legacy_username, "alice");
}

#[test]
fn a_verified_value_outranks_the_same_value_held_unverified() {
    // Both held `Name@acme.test` as the sign-in e-mail of an e-mail-as-username pool (with
    // generated usernames); only one proved it.
    let config = legacy_pool(&["email"], &[]);
    let claimant = user("1111-uuid", &[("email", "NAME@acme.test")]);
    let owner = user(
        "2222-uuid",
        &[("email", "name@acme.test"), ("email_verified", "true")],
    );
    let entries = pending(&[claimant, owner]);
    let (decision, checked) = run(
        &sign_in("NAME@acme.test"),
        entries.clone(),
        &config,
        &["1111-uuid"],
        &accepted(),
    );
    assert_eq!(checked, ["2222-uuid"]);
    assert_eq!(decision.refusal, Some(ReasonCode::WrongPassword));
    let (decision, _) = run(
        &sign_in("name@acme.test"),
        entries,
        &config,
        &["2222-uuid"],
        &accepted(),
    );
    assert_eq!(decision.approval.unwrap().legacy_username, "2222-uuid");
}

fn new_pool(username_attributes: &[&str], alias_attributes: &[&str]) -> MigrationConfig {
    MigrationConfig {
        new_pool_username_attributes: username_attributes.iter().map(|&s| s.to_owned()).collect(),
        new_pool_alias_attributes: alias_attributes.iter().map(|&s| s.to_owned()).collect(),
        ..MigrationConfig::default()
    }
}

/// The approval of `typed` for `legacy` (whose password is right) under `config`.
fn approve_one(typed: &str, legacy: &LegacyUser, config: &MigrationConfig) -> Approval {
    let (decision, _) = run(
        &sign_in(typed),
        pending(std::slice::from_ref(legacy)),
        config,
        &[legacy.username.as_str()],
        &accepted(),
    );
    let response = decision.response()["response"]["userAttributes"].clone();
    let approval = decision
        .approval
        .unwrap_or_else(|| panic!("{typed}: refused ({:?})", decision.refusal));
    assert_eq!(
        response,
        serde_json::to_value(&approval.user_attributes).unwrap(),
        "{typed}: the response carries the approval's attributes"
    );
    approval
}

#[test]
fn plain_usernames_never_name_a_username_in_the_response() {
    // Even a schema and a legacy record that hold a `username` attribute do not reach it.
    let config = MigrationConfig {
        schema: TargetSchemaOrDefault(crate::attributes::TargetSchema::new([
            "email",
            "email_verified",
            "username",
        ])),
        ..MigrationConfig::default()
    };
    let legacy = user(
        "Name@Acme.com",
        &[
            ("email", "Name@Acme.com"),
            ("email_verified", "true"),
            ("username", "someone-else"),
        ],
    );
    for typed in ["NAME@acme.com", "name@acme.com"] {
        let approval = approve_one(typed, &legacy, &config);
        assert!(
            !approval.user_attributes.contains_key("username"),
            "{typed}"
        );
        assert_eq!(approval.new_username, "name@acme.com");
        assert_eq!(approval.user_attributes["email"], "Name@Acme.com");
    }
}

#[test]
fn email_as_username_records_the_typed_email_and_never_names_a_username() {
    let config = new_pool(&["email"], &[]);
    // The verified legacy value stays as it was: it is the typed one.
    let approval = approve_one("NAME@acme.com", &verified("Name@Acme.com"), &config);
    assert!(!approval.user_attributes.contains_key("username"));
    assert_eq!(approval.user_attributes["email"], "Name@Acme.com");
    assert_eq!(approval.user_attributes["email_verified"], "true");
    assert_eq!(approval.new_username, "name@acme.com");
    // A handle whose verified e-mail is typed.
    let bob = user(
        "bob",
        &[("email", "Bob@Acme.test"), ("email_verified", "true")],
    );
    assert_eq!(
        approve_one("bob@acme.test", &bob, &config).new_username,
        "bob@acme.test"
    );
    // Typed as the handle: the user signs in with its e-mail from now on.
    let by_handle = approve_one("Bob", &bob, &config);
    assert_eq!(by_handle.new_username, "bob@acme.test");
    assert!(!by_handle.user_attributes.contains_key("username"));
    // An e-mail-format username without the e-mail attribute: the attribute carries it,
    // without a verification flag the legacy pool never gave.
    let bare = user("Old@Acme.com", &[]);
    let approval = approve_one("old@acme.com", &bare, &config);
    assert_eq!(approval.user_attributes["email"], "old@acme.com");
    assert!(!approval.user_attributes.contains_key("email_verified"));
    assert_eq!(approval.new_username, "old@acme.com");
    // A handle with nothing to sign in with is refused: Cognito could not create it.
    let (decision, _) = run(
        &sign_in("carol"),
        pending(&[user("carol", &[])]),
        &config,
        &["carol"],
        &accepted(),
    );
    assert_eq!(decision.refusal, Some(ReasonCode::AttributesRejected));
}

#[test]
fn an_alias_typed_goes_on_its_attribute_and_the_legacy_username_is_returned() {
    let config = MigrationConfig {
        legacy_sign_in: legacy_pool(&[], &["email", "preferred_username"]).legacy_sign_in,
        ..new_pool(&[], &["email", "preferred_username"])
    };
    let alice = user(
        "Alice",
        &[
            ("email", "Alice@Acme.test"),
            ("email_verified", "true"),
            ("preferred_username", "Ally"),
        ],
    );
    // The attribute gets the userName exactly as Cognito sent it: Cognito compares the two.
    let approval = approve_one("ALICE@acme.test", &alice, &config);
    assert_eq!(approval.user_attributes["email"], "ALICE@acme.test");
    assert_eq!(approval.user_attributes["email_verified"], "true");
    assert_eq!(approval.user_attributes["username"], "alice");
    assert_eq!(approval.new_username, "alice");
    let approval = approve_one("ally", &alice, &config);
    assert_eq!(approval.user_attributes["preferred_username"], "ally");
    assert_eq!(approval.user_attributes["username"], "alice");
    assert_eq!(approval.new_username, "alice");
    // Typed as the username itself: Cognito creates it under the typed name.
    let approval = approve_one("alice", &alice, &config);
    assert!(!approval.user_attributes.contains_key("username"));
    assert_eq!(approval.new_username, "alice");
    // A legacy username in e-mail format is refused by an e-mail-alias pool: generated.
    let bob = user(
        "Bob@Acme.test",
        &[
            ("sub", "5f0c-42"),
            ("email", "Bob@Acme.test"),
            ("email_verified", "true"),
            ("preferred_username", "bobby"),
        ],
    );
    let approval = approve_one("bobby", &bob, &config);
    assert_eq!(approval.user_attributes["username"], "u-5f0c-42");
    assert_eq!(approval.user_attributes["preferred_username"], "bobby");
    assert_eq!(approval.new_username, "u-5f0c-42");
}

#[test]
fn an_email_format_username_typed_in_an_email_alias_pool_gets_a_generated_username() {
    let config = new_pool(&[], &["email", "preferred_username"]);
    let legacy = user(
        "Name@Acme.com",
        &[
            ("sub", "0D5E8A31-77"),
            ("email", "name@acme.com"),
            ("email_verified", "true"),
        ],
    );
    // A username in e-mail format that the legacy pool never verified as the user's address
    // arrives unverified: an inactive alias, which receives no reset code.
    let unproven = user("Name@Acme.com", &[("sub", "0D5E8A31-77")]);
    let approval = approve_one("name@acme.com", &unproven, &config);
    assert_eq!(approval.user_attributes["email_verified"], "false");
    for typed in ["name@acme.com", "NAME@ACME.COM"] {
        let approval = approve_one(typed, &legacy, &config);
        assert_eq!(approval.user_attributes["username"], "u-0d5e8a31-77");
        assert_eq!(approval.user_attributes["email"], typed);
        assert_eq!(approval.user_attributes["email_verified"], "true");
        assert_eq!(approval.new_username, "u-0d5e8a31-77");
        assert_eq!(
            approval.user_attributes["custom:legacy_username"],
            "Name@Acme.com"
        );
    }
    // Where only preferred_username is an alias, the e-mail-format username is allowed.
    let approval = approve_one(
        "name@acme.com",
        &legacy,
        &new_pool(&[], &["preferred_username"]),
    );
    assert!(!approval.user_attributes.contains_key("username"));
    assert_eq!(approval.new_username, "name@acme.com");
}

#[test]
fn a_phone_alias_is_verified_on_its_attribute() {
    let config = new_pool(&[], &["phone_number"]);
    let carol = user(
        "carol",
        &[
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
        ],
    );
    let approval = approve_one("+15550100", &carol, &config);
    assert_eq!(approval.user_attributes["phone_number"], "+15550100");
    assert_eq!(approval.user_attributes["phone_number_verified"], "true");
    assert_eq!(approval.user_attributes["username"], "carol");
    assert_eq!(approval.new_username, "carol");
    // An e-mail the pool does not alias is typed as before: it becomes the username.
    let dave = user(
        "dave",
        &[("email", "dave@acme.test"), ("email_verified", "true")],
    );
    let approval = approve_one("dave@acme.test", &dave, &config);
    assert!(!approval.user_attributes.contains_key("username"));
    assert_eq!(approval.new_username, "dave@acme.test");
}

#[test]
fn only_verified_or_unflagged_aliases_are_active_and_another_holder_takes_them() {
    let aliases: Vec<String> = ["email", "phone_number", "preferred_username"]
        .map(str::to_owned)
        .to_vec();
    let attributes: BTreeMap<String, String> = [
        ("email", "a@acme.test"),
        ("email_verified", "true"),
        ("phone_number", "+15550100"),
        ("preferred_username", "ally"),
        ("name", "A"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let active = active_aliases(&aliases, &attributes);
    assert_eq!(
        active,
        [
            ("email".to_owned(), "a@acme.test".to_owned()),
            ("preferred_username".to_owned(), "ally".to_owned())
        ]
    );
    let holder = |name: &str, attrs: &[(&str, &str)]| user(name, attrs);
    let verified_holder = holder(
        "other",
        &[("email", "A@Acme.test"), ("email_verified", "true")],
    );
    assert!(holds_alias(&verified_holder, "alice", &active));
    // The user being created (a retry after Cognito created it) does not take its own alias.
    assert!(!holds_alias(&verified_holder, "OTHER", &active));
    // An unverified e-mail is not an alias.
    assert!(!holds_alias(
        &holder("other", &[("email", "a@acme.test")]),
        "alice",
        &active
    ));
    assert!(holds_alias(
        &holder("other", &[("preferred_username", "Ally")]),
        "alice",
        &active
    ));
}

#[test]
fn where_email_is_the_username_a_handle_never_signs_in_with_an_address_it_did_not_verify() {
    // Mallory typed someone else's address into her legacy profile, unverified. Where e-mail
    // is the username, any address on the user signs it in, verified or not: she would sign in
    // as that address, and its owner never again.
    let config = new_pool(&["email", "phone_number"], &[]);
    let mallory = user(
        "mallory",
        &[
            ("email", "VICTIM@acme.test"),
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
        ],
    );
    for typed in ["mallory", "+15550100"] {
        let approval = approve_one(typed, &mallory, &config);
        assert_eq!(approval.new_username, "+15550100", "{typed}");
        assert!(!approval.user_attributes.contains_key("email"), "{typed}");
    }
    // With nothing verified to sign in with, she is refused.
    let (decision, _) = run(
        &sign_in("mallory"),
        pending(&[user("mallory", &[("email", "VICTIM@acme.test")])]),
        &config,
        &["mallory"],
        &accepted(),
    );
    assert_eq!(decision.refusal, Some(ReasonCode::AttributesRejected));
}

#[test]
fn a_preferred_username_the_legacy_pool_never_signed_in_with_is_no_alias_of_the_new_pool() {
    // Nick's profile says `Boss`, another user's username; his legacy pool never signed in
    // with it. As an alias it would sign `boss` in as Nick.
    let mut config = new_pool(&[], &["email", "preferred_username"]);
    let nick = user("nick", &[("preferred_username", "Boss")]);
    let approval = approve_one("nick", &nick, &config);
    assert!(!approval.user_attributes.contains_key("preferred_username"));
    // Where the legacy pool signed in with it, it stays (the trigger then asks the ledger
    // whether another legacy user holds it more strongly).
    config.legacy_sign_in.alias_attributes = vec!["preferred_username".into()];
    let approval = approve_one("nick", &nick, &config);
    assert_eq!(approval.user_attributes["preferred_username"], "Boss");
}

#[test]
fn an_unconfirmed_approval_under_a_name_other_than_the_one_typed_may_repeat() {
    // Cognito retries an alias sign-in whose answer came too late: the ledger holds the
    // approval under the generated username, not under the address typed.
    let config = new_pool(&[], &["email"]);
    let legacy = user(
        "Name@Acme.com",
        &[
            ("sub", "0d5e"),
            ("email", "Name@Acme.com"),
            ("email_verified", "true"),
        ],
    );
    let first = approve_one("name@acme.com", &legacy, &config);
    assert_eq!(first.new_username, "u-0d5e");
    let approved = LedgerEntry {
        user: legacy,
        state: MigrationState::Approved {
            new_username: first.new_username.clone(),
            at_ms: 1,
        },
        groups_copied: false,
        groups_copied_at_ms: None,
    };
    let again = |entry: &LedgerEntry, config: &MigrationConfig| {
        run(
            &sign_in("name@acme.com"),
            vec![entry.clone()],
            config,
            &["Name@Acme.com"],
            &accepted(),
        )
    };
    let (decision, _) = again(&approved, &config);
    assert_eq!(decision.approval.unwrap().new_username, "u-0d5e");
    // Confirmed by a sign-in, the user is in the new pool: no longer a candidate.
    let migrated = LedgerEntry {
        state: MigrationState::Migrated {
            new_username: "u-0d5e".into(),
            at_ms: 2,
            new_sub: Some("new-sub".into()),
        },
        ..approved.clone()
    };
    let (decision, checked) = again(&migrated, &config);
    assert!(checked.is_empty());
    assert_eq!(decision.reason(), Some(ReasonCode::AlreadyMigrated));
    // With plain usernames the name recorded is the name typed: another one is another
    // migration.
    let (decision, checked) = again(&approved, &MigrationConfig::default());
    assert!(checked.is_empty());
    assert_eq!(decision.reason(), Some(ReasonCode::AlreadyMigrated));
}

#[test]
fn a_verified_holder_outranks_an_unverified_one_even_when_it_cannot_migrate_now() {
    // The owner proved the address; the claimant only signed in with it unverified. The owner
    // being disabled, or in the new pool already, does not hand the address to the claimant.
    let config = legacy_pool(&["email"], &[]);
    let claimant = user("1111-uuid", &[("email", "NAME@acme.test")]);
    let owner = user(
        "2222-uuid",
        &[("email", "name@acme.test"), ("email_verified", "true")],
    );
    let mut disabled = owner.clone();
    disabled.enabled = false;
    let migrated = LedgerEntry {
        user: owner,
        state: MigrationState::Migrated {
            new_username: "name@acme.test".into(),
            at_ms: 1,
            new_sub: Some("new-sub".into()),
        },
        groups_copied: true,
        groups_copied_at_ms: None,
    };
    for entries in [
        pending(&[claimant.clone(), disabled]),
        vec![LedgerEntry::pending(claimant.clone()), migrated],
    ] {
        let (decision, checked) = run(
            &sign_in("NAME@acme.test"),
            entries,
            &config,
            &["1111-uuid"],
            &accepted(),
        );
        assert!(!checked.contains(&"1111-uuid".to_owned()), "{checked:?}");
        assert!(decision.approval.is_none());
    }
}

#[test]
fn an_approval_under_the_username_an_alias_sign_in_gives_may_repeat() {
    // Approved, but the new-pool user was never created (a timeout, a crash): the user types
    // the e-mail alias again, and the username that gives is the one approved before.
    let config = new_pool(&[], &["email", "preferred_username"]);
    let approved = |legacy: &LegacyUser, new_username: &str| LedgerEntry {
        user: legacy.clone(),
        state: MigrationState::Approved {
            new_username: new_username.into(),
            at_ms: 1,
        },
        groups_copied: false,
        groups_copied_at_ms: None,
    };
    let handle = user(
        "Cora",
        &[("email", "Cora@Acme.com"), ("email_verified", "true")],
    );
    let email_named = verified("Cora.Crashed@Acme.com");
    for (legacy, new_username) in [
        (&handle, "cora".to_owned()),
        (&email_named, generated_username(&email_named)),
    ] {
        let typed = legacy.attributes["email"].to_lowercase();
        let (decision, checked) = run(
            &sign_in(&typed),
            vec![approved(legacy, &new_username)],
            &config,
            &[legacy.username.as_str()],
            &accepted(),
        );
        assert_eq!(checked, std::slice::from_ref(&legacy.username), "{typed}");
        assert_eq!(decision.approval.unwrap().new_username, new_username);
        // Approved under another username: never approved again under this one (the name is
        // known only once the password has been checked and the user read again).
        let (decision, checked) = run(
            &sign_in(&typed),
            vec![approved(legacy, "someone-else")],
            &config,
            &[legacy.username.as_str()],
            &accepted(),
        );
        assert_eq!(
            decision.reason(),
            Some(ReasonCode::AlreadyMigrated),
            "{typed}"
        );
        assert_eq!(checked, std::slice::from_ref(&legacy.username), "{typed}");
    }
}
