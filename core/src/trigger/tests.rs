use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;
use crate::ledger::MigrationState;
use crate::migrate::FinalUserStatus;
use crate::user::LegacyUser;

const NOW: i64 = 1_700_000_000_000;

fn event(name: &str, user_name: &str) -> TriggerEvent {
    let path = format!(
        "{}/tests/fixtures/events/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw["userName"] = user_name.into();
    TriggerEvent::from_value(raw).unwrap()
}

fn user(name: &str) -> LegacyUser {
    let mut user = LegacyUser::new(
        name,
        [
            ("email".to_owned(), name.to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
        ]
        .into(),
    );
    user.groups = vec!["staff".into()];
    user
}

fn pending(name: &str) -> LedgerEntry {
    LedgerEntry::pending(user(name))
}

/// A legacy user migrated to the new-pool user `new_username`.
fn migrated(name: &str, new_username: &str) -> LedgerEntry {
    LedgerEntry {
        state: MigrationState::Migrated {
            new_username: new_username.into(),
            at_ms: NOW - 5_000,
            new_sub: None,
        },
        ..pending(name)
    }
}

fn group(name: &str) -> GroupSpec {
    GroupSpec {
        name: name.into(),
        description: None,
        precedence: None,
        role_arn: None,
    }
}

/// Runs an invocation against a scripted adapter; returns every request made and the outcome.
fn drive(
    event: &TriggerEvent,
    mut script: impl FnMut(&Request) -> Answer,
) -> (Vec<Request>, Outcome) {
    let config = MigrationConfig::default();
    let mut invocation = Invocation::start(event, Context::new(&config, NOW));
    let mut asked = Vec::new();
    while let Some(request) = invocation.request() {
        asked.push(request.clone());
        let answer = script(request);
        invocation.answer(answer);
        assert!(asked.len() < 50, "the invocation does not end");
    }
    (asked, invocation.finish())
}

fn kinds(requests: &[Request]) -> Vec<&'static str> {
    requests
        .iter()
        .map(|r| match r {
            Request::LedgerCandidates { .. } => "candidates",
            Request::LegacyUser { .. } => "legacy-user",
            Request::CheckPassword { .. } => "password",
            Request::LedgerRecord { .. } => "record",
            Request::AliasHolders { .. } => "alias-holders",
            Request::RecordMigration { .. } => "record-migration",
            Request::ConfirmMigration { .. } => "confirm-migration",
            Request::RecordRefusal { .. } => "record-refusal",
            Request::LegacyGroups { .. } => "legacy-groups",
            Request::NewPoolGroups { .. } => "new-pool-groups",
            Request::ApplyGroups { .. } => "apply-groups",
            Request::MarkGroupsCopied { .. } => "mark-groups",
        })
        .collect()
}

/// A ledger holding `entries`, whose password checks accept `owner` only and whose writes
/// answer `write`.
fn ledger<'e>(
    entries: &'e [LedgerEntry],
    owner: &'e str,
    write: WriteResult,
) -> impl FnMut(&Request) -> Answer + 'e {
    move |request| match request {
        Request::LedgerCandidates { keys } => {
            Answer::Records(filed_under(entries, keys).into_iter().cloned().collect())
        }
        Request::LegacyUser { username } => Answer::LegacyUser(
            entries
                .iter()
                .find(|e| &e.user.username == username)
                .map(|e| e.user.clone()),
        ),
        Request::CheckPassword { username } if username == owner => {
            Answer::Password(PasswordOutcome::Accepted)
        }
        Request::CheckPassword { .. } => Answer::Password(PasswordOutcome::WrongPassword),
        Request::RecordMigration { .. } => Answer::Migration(write),
        Request::LedgerRecord { legacy_username } => Answer::Record(
            entries
                .iter()
                .find(|e| &e.user.username == legacy_username)
                .cloned(),
        ),
        Request::LegacyGroups { legacy_username } => Answer::LegacyGroups(
            entries
                .iter()
                .filter(|e| &e.user.username == legacy_username)
                .flat_map(|e| e.user.groups.iter().map(|name| group(name)))
                .collect(),
        ),
        _ => Answer::Done,
    }
}

#[test]
fn a_sign_in_reads_checks_and_records_then_approves() {
    let entries = [pending("Name@Acme.com"), pending("name@acme.com")];
    let e = event("user-migration-authentication", "NAME@acme.com");
    let (asked, outcome) = drive(&e, ledger(&entries, "name@acme.com", WriteResult::Recorded));
    assert_eq!(
        kinds(&asked),
        [
            "candidates",
            "password",
            "password",
            "legacy-user",
            "record-migration"
        ]
    );
    assert_eq!(
        asked.last(),
        Some(&Request::RecordMigration {
            legacy_username: "name@acme.com".into(),
            new_username: "name@acme.com".into(),
            at_ms: NOW,
        })
    );
    assert_eq!(outcome.verdict, Verdict::Approved);
    assert_eq!(outcome.reason, None);
    assert_eq!(outcome.password_checks, 2);
    assert_eq!(outcome.candidates, ["Name@Acme.com", "name@acme.com"]);
    let response = outcome.result.unwrap();
    assert_eq!(response["response"]["finalUserStatus"], "CONFIRMED");
    assert_eq!(
        response["response"]["userAttributes"]["custom:legacy_username"],
        "name@acme.com"
    );
}

#[test]
fn a_retried_or_concurrent_write_of_the_same_migration_is_approved_again() {
    let e = event("user-migration-authentication", "name@acme.com");
    let entries = [pending("name@acme.com")];
    let (_, outcome) = drive(
        &e,
        ledger(&entries, "name@acme.com", WriteResult::AlreadyRecorded),
    );
    assert_eq!(outcome.verdict, Verdict::ApprovedAgain);

    // The write lost a race; the record, read again, shows this very migration.
    let recorded = [LedgerEntry {
        state: MigrationState::Approved {
            new_username: "name@acme.com".into(),
            at_ms: 1,
        },
        ..pending("name@acme.com")
    }];
    let (asked, outcome) = drive(&e, |request| match request {
        Request::LedgerCandidates { .. } => Answer::Records(vec![pending("name@acme.com")]),
        Request::RecordMigration { .. } => Answer::Migration(WriteResult::Conflict),
        other => ledger(&recorded, "name@acme.com", WriteResult::Conflict)(other),
    });
    assert_eq!(
        kinds(&asked),
        [
            "candidates",
            "password",
            "legacy-user",
            "record-migration",
            "record"
        ]
    );
    assert_eq!(outcome.verdict, Verdict::ApprovedAgain);
    assert!(outcome.result.unwrap()["response"]["userAttributes"].is_object());
}

#[test]
fn a_write_lost_to_another_legacy_user_or_a_failed_write_refuses() {
    let e = event("user-migration-authentication", "name@acme.com");
    let entries = [pending("name@acme.com")];
    let (_, outcome) = drive(&e, ledger(&entries, "name@acme.com", WriteResult::Conflict));
    assert_eq!(outcome.verdict, Verdict::Refused);
    assert_eq!(outcome.reason, Some(ReasonCode::LedgerConflict));
    assert_eq!(outcome.result.unwrap(), e.unchanged());

    let (_, outcome) = drive(&e, |request| match request {
        Request::RecordMigration { .. } => Answer::Failed,
        other => ledger(&entries, "name@acme.com", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.reason, Some(ReasonCode::LedgerUnavailable));
    assert_eq!(outcome.result.unwrap(), e.unchanged());
}

#[test]
fn failures_of_each_read_refuse_with_their_own_reason() {
    let e = event("user-migration-authentication", "name@acme.com");
    let (_, outcome) = drive(&e, |_| Answer::Failed);
    assert_eq!(outcome.reason, Some(ReasonCode::LedgerUnavailable));
    let (asked, outcome) = drive(&e, |request| match request {
        Request::LedgerCandidates { .. } => Answer::Records(Vec::new()),
        _ => Answer::Failed,
    });
    assert_eq!(kinds(&asked), ["candidates", "legacy-user"]);
    assert_eq!(outcome.reason, Some(ReasonCode::LegacyUnavailable));
    let (_, outcome) = drive(&e, |request| match request {
        Request::LedgerCandidates { .. } => Answer::Records(vec![pending("name@acme.com")]),
        _ => Answer::Failed,
    });
    assert_eq!(outcome.reason, Some(ReasonCode::LegacyUnavailable));
    // An answer of the wrong kind is a failure too.
    let (_, outcome) = drive(&e, |_| Answer::Done);
    assert_eq!(outcome.verdict, Verdict::Refused);
    assert_eq!(outcome.reason, Some(ReasonCode::LedgerUnavailable));
    assert_eq!(outcome.result.unwrap(), e.unchanged());
}

#[test]
fn an_unindexed_user_is_found_by_the_exact_name() {
    let e = event("user-migration-authentication", "Late@Acme.com");
    let (asked, outcome) = drive(&e, |request| match request {
        Request::LedgerCandidates { .. } => Answer::Records(Vec::new()),
        Request::LegacyUser { username } => {
            assert_eq!(username, "Late@Acme.com");
            Answer::LegacyUser(Some(user("Late@Acme.com")))
        }
        Request::CheckPassword { .. } => Answer::Password(PasswordOutcome::Accepted),
        Request::RecordMigration { .. } => Answer::Migration(WriteResult::Recorded),
        _ => Answer::Failed,
    });
    assert_eq!(
        kinds(&asked),
        ["candidates", "legacy-user", "password", "record-migration"]
    );
    assert_eq!(outcome.verdict, Verdict::Approved);
    let (_, outcome) = drive(&e, |request| match request {
        Request::LedgerCandidates { .. } => Answer::Records(Vec::new()),
        _ => Answer::LegacyUser(None),
    });
    assert_eq!(outcome.reason, Some(ReasonCode::NoCandidates));
}

#[test]
fn an_ambiguous_password_records_the_refusal_on_the_users_it_fitted() {
    let entries = [
        pending("Name@Acme.com"),
        pending("name@acme.com"),
        pending("NAME@acme.com"),
    ];
    let e = event("user-migration-authentication", "name@ACME.com");
    let (asked, outcome) = drive(&e, |request| match request {
        Request::CheckPassword { username } if username == "NAME@acme.com" => {
            Answer::Password(PasswordOutcome::WrongPassword)
        }
        Request::CheckPassword { .. } => Answer::Password(PasswordOutcome::Accepted),
        other => ledger(&entries, "", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.reason, Some(ReasonCode::Ambiguous));
    let Some(Request::RecordRefusal {
        legacy_usernames,
        reason,
        ..
    }) = asked.last()
    else {
        panic!("no refusal recorded: {asked:?}");
    };
    assert_eq!(*reason, ReasonCode::Ambiguous);
    let refused: BTreeSet<&str> = legacy_usernames.iter().map(String::as_str).collect();
    assert_eq!(refused, BTreeSet::from(["Name@Acme.com", "name@acme.com"]));
    assert_eq!(outcome.result.unwrap(), e.unchanged());
}

#[test]
fn forgot_password_checks_no_password_and_records_every_candidate_of_an_ambiguity() {
    let e = event("user-migration-forgot-password", "name@acme.com");
    let one = [pending("name@acme.com")];
    let (asked, outcome) = drive(&e, ledger(&one, "", WriteResult::Recorded));
    assert_eq!(
        kinds(&asked),
        ["candidates", "legacy-user", "record-migration"]
    );
    assert_eq!(
        outcome.approval.unwrap().final_user_status,
        FinalUserStatus::ResetRequired
    );
    let two = [pending("Name@Acme.com"), pending("name@acme.com")];
    let (asked, outcome) = drive(&e, ledger(&two, "", WriteResult::Recorded));
    assert_eq!(outcome.reason, Some(ReasonCode::Ambiguous));
    assert!(
        matches!(asked.last(), Some(Request::RecordRefusal { legacy_usernames, .. }) if legacy_usernames.len() == 2)
    );
}

#[test]
fn forgot_password_asks_the_legacy_pool_not_the_index() {
    let e = event("user-migration-forgot-password", "name@acme.com");
    let indexed = &[pending("name@acme.com")];
    let live = |edit: fn(&mut LegacyUser)| {
        let mut user = user("name@acme.com");
        edit(&mut user);
        user
    };
    let answer_live = |user: Option<LegacyUser>| {
        move |request: &Request| match request {
            Request::LegacyUser { .. } => Answer::LegacyUser(user.clone()),
            other => ledger(indexed, "", WriteResult::Recorded)(other),
        }
    };
    // Deleted or disabled since the index ran: refused, nothing written.
    let (asked, outcome) = drive(&e, answer_live(None));
    assert_eq!(kinds(&asked), ["candidates", "legacy-user"]);
    assert_eq!(outcome.reason, Some(ReasonCode::NoCandidates));
    let (_, outcome) = drive(&e, answer_live(Some(live(|u| u.enabled = false))));
    assert_eq!(outcome.reason, Some(ReasonCode::Disabled));
    // The live attributes are the ones migrated; without a verified channel, no reset.
    let (_, outcome) = drive(
        &e,
        answer_live(Some(live(|u| {
            u.attributes.insert("email_verified".into(), "false".into());
        }))),
    );
    assert_eq!(outcome.reason, Some(ReasonCode::NoVerifiedContact));
    // A second factor follows the MFA policy: SMS on a verified phone is kept, TOTP is not.
    let (_, outcome) = drive(
        &e,
        answer_live(Some(live(|u| {
            u.mfa.sms = true;
            u.attributes
                .insert("phone_number".into(), "+15550100".into());
            u.attributes
                .insert("phone_number_verified".into(), "true".into());
        }))),
    );
    let approval = outcome.approval.unwrap();
    assert!(approval.enable_sms_mfa);
    assert_eq!(approval.final_user_status, FinalUserStatus::ResetRequired);
    let (_, outcome) = drive(&e, answer_live(Some(live(|u| u.mfa.totp = true))));
    assert_eq!(outcome.reason, Some(ReasonCode::MfaNotRestorable));
    let (_, outcome) = drive(&e, |request| match request {
        Request::LegacyUser { .. } => Answer::Failed,
        other => ledger(indexed, "", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.reason, Some(ReasonCode::LegacyUnavailable));
}

#[test]
fn sign_ups_are_refused_allowed_or_fail_closed() {
    let entries = [pending("Name@Acme.com")];
    let mut e = event("pre-sign-up", "someone");
    let (asked, outcome) = drive(&e, ledger(&entries, "", WriteResult::Recorded));
    assert_eq!(kinds(&asked), ["candidates"]);
    assert_eq!(outcome.verdict, Verdict::Refused);
    assert_eq!(outcome.reason, Some(ReasonCode::IdentifierTaken));
    assert_eq!(outcome.result, Err(Failure::SignUpRefused));
    assert!(
        outcome
            .client_message(e.source())
            .contains(SIGN_UP_REFUSED_MESSAGE)
    );

    let (_, outcome) = drive(&e, |_| Answer::Failed);
    assert_eq!(outcome.verdict, Verdict::FailedClosed);
    assert_eq!(outcome.result, Err(Failure::SignUpUnavailable));

    let (_, outcome) = drive(&e, |_| Answer::Records(Vec::new()));
    assert_eq!(outcome.verdict, Verdict::Allowed);
    assert_eq!(outcome.result.unwrap(), e.unchanged());

    let mut raw = e.unchanged();
    raw["triggerSource"] = "PreSignUp_AdminCreateUser".into();
    e = TriggerEvent::from_value(raw).unwrap();
    let (asked, outcome) = drive(&e, |_| Answer::Failed);
    assert!(asked.is_empty());
    assert_eq!(outcome.verdict, Verdict::Allowed);
}

fn with_attributes(name: &str, attributes: &Value) -> TriggerEvent {
    let mut raw = event(name, "name@acme.com").unchanged();
    raw["request"]["userAttributes"] = attributes.clone();
    TriggerEvent::from_value(raw).unwrap()
}

#[test]
fn post_authentication_copies_every_group_once() {
    let e = event("post-authentication", "name@acme.com");
    let legacy = [migrated("Name@Acme.com", "name@acme.com")];
    let mut applied = None;
    let (asked, outcome) = drive(&e, |request| match request {
        Request::LegacyGroups { .. } => Answer::LegacyGroups(vec![
            GroupSpec {
                name: "staff".into(),
                description: Some("Staff".into()),
                precedence: Some(2),
                role_arn: None,
            },
            GroupSpec {
                name: "admins".into(),
                description: None,
                precedence: None,
                role_arn: None,
            },
        ]),
        Request::NewPoolGroups {
            user_pool_id,
            username,
        } => {
            assert_eq!(user_pool_id, "us-east-1_NewPool01");
            assert_eq!(username, "name@acme.com");
            Answer::NewPoolGroups {
                existing: BTreeSet::from(["staff".to_owned()]),
                memberships: BTreeSet::new(),
            }
        }
        Request::ApplyGroups { plan, .. } => {
            applied = Some(plan.clone());
            Answer::Done
        }
        other => ledger(&legacy, "", WriteResult::Recorded)(other),
    });
    assert_eq!(
        kinds(&asked),
        [
            "record",
            "legacy-groups",
            "new-pool-groups",
            "apply-groups",
            "mark-groups"
        ]
    );
    let plan = applied.unwrap();
    assert_eq!(plan.create.len(), 1);
    assert_eq!(plan.add, ["staff", "admins"]);
    assert_eq!(outcome.verdict, Verdict::GroupsCopied);
    assert_eq!(outcome.result.unwrap(), e.unchanged());

    // Copied before, failing, or not a migrated user: nothing changes.
    let copied = [LedgerEntry {
        groups_copied: true,
        ..migrated("Name@Acme.com", "name@acme.com")
    }];
    let (asked, outcome) = drive(&e, ledger(&copied, "", WriteResult::Recorded));
    assert_eq!(kinds(&asked), ["record"]);
    assert_eq!(outcome.reason, Some(ReasonCode::GroupsAlreadyCopied));
    let (_, outcome) = drive(&e, |request| match request {
        Request::ApplyGroups { .. } => Answer::Failed,
        Request::LegacyGroups { .. } => Answer::LegacyGroups(vec![GroupSpec {
            name: "g".into(),
            description: None,
            precedence: None,
            role_arn: None,
        }]),
        Request::NewPoolGroups { .. } => Answer::NewPoolGroups {
            existing: BTreeSet::new(),
            memberships: BTreeSet::new(),
        },
        other => ledger(&legacy, "", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.reason, Some(ReasonCode::GroupsNotCopied));
    assert_eq!(outcome.result.unwrap(), e.unchanged());
    let stranger = with_attributes("post-authentication", &json!({"email": "x@y.z"}));
    let (asked, outcome) = drive(&stranger, |_| Answer::Failed);
    assert!(asked.is_empty());
    assert_eq!(outcome.reason, Some(ReasonCode::NotMigrated));
    // A user in no legacy group is marked without touching the new pool.
    let (asked, _) = drive(&e, |request| match request {
        Request::LegacyGroups { .. } => Answer::LegacyGroups(Vec::new()),
        other => ledger(&legacy, "", WriteResult::Recorded)(other),
    });
    assert_eq!(kinds(&asked), ["record", "legacy-groups", "mark-groups"]);
}

#[test]
fn tokens_carry_the_legacy_groups_until_the_copy_shows() {
    let e = event("token-generation-authentication", "name@acme.com");
    let legacy = [migrated("Name@Acme.com", "name@acme.com")];
    let (_, outcome) = drive(&e, ledger(&legacy, "", WriteResult::Recorded));
    assert_eq!(outcome.verdict, Verdict::GroupsAdded);
    assert_eq!(
        outcome.result.unwrap()["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
        json!(["staff"])
    );
    let just_copied = [LedgerEntry {
        groups_copied: true,
        groups_copied_at_ms: Some(NOW - 1_000),
        ..migrated("Name@Acme.com", "name@acme.com")
    }];
    let (_, outcome) = drive(&e, ledger(&just_copied, "", WriteResult::Recorded));
    assert_eq!(outcome.verdict, Verdict::GroupsAdded);
    let long_ago = [LedgerEntry {
        groups_copied: true,
        groups_copied_at_ms: Some(NOW - GROUPS_FRESH_MS - 1),
        ..migrated("Name@Acme.com", "name@acme.com")
    }];
    let (_, outcome) = drive(&e, ledger(&long_ago, "", WriteResult::Recorded));
    assert_eq!(outcome.reason, Some(ReasonCode::GroupsAlreadyCopied));
    // A membership removed from the legacy pool since the index never reaches a token.
    let indexed = [LedgerEntry {
        user: LegacyUser {
            groups: vec!["staff".into(), "admins".into()],
            ..user("Name@Acme.com")
        },
        ..migrated("Name@Acme.com", "name@acme.com")
    }];
    let (asked, outcome) = drive(&e, |request| match request {
        Request::LegacyGroups { .. } => Answer::LegacyGroups(vec![group("staff")]),
        other => ledger(&indexed, "", WriteResult::Recorded)(other),
    });
    assert_eq!(kinds(&asked), ["record", "legacy-groups"]);
    assert_eq!(
        outcome.result.unwrap()["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
        json!(["staff"])
    );
    let (_, outcome) = drive(&e, |request| match request {
        Request::LegacyGroups { .. } => Answer::Failed,
        other => ledger(&indexed, "", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.reason, Some(ReasonCode::LegacyUnavailable));
    let (_, outcome) = drive(&e, |_| Answer::Record(None));
    assert_eq!(outcome.reason, Some(ReasonCode::NotInLedger));
    let (_, outcome) = drive(&e, |_| Answer::Failed);
    assert_eq!(outcome.reason, Some(ReasonCode::LedgerUnavailable));
    assert_eq!(outcome.result.unwrap(), e.unchanged());
}

#[test]
fn nothing_of_a_legacy_user_reaches_a_new_pool_user_it_was_not_migrated_to() {
    // A fresh new-pool user naming a legacy admin in its own custom:legacy_username.
    let squatter = with_attributes(
        "token-generation-authentication",
        &json!({"custom:legacy_username": "Name@Acme.com", "email": "evil@evil.test"}),
    );
    let mut raw = squatter.unchanged();
    raw["userName"] = "evil".into();
    let squatter = TriggerEvent::from_value(raw).unwrap();
    for entries in [
        vec![pending("Name@Acme.com")],
        vec![migrated("Name@Acme.com", "name@acme.com")],
    ] {
        let (_, outcome) = drive(&squatter, ledger(&entries, "", WriteResult::Recorded));
        assert_eq!(outcome.reason, Some(ReasonCode::NotOwner));
        assert_eq!(outcome.result.unwrap(), squatter.unchanged());
    }
    let mut raw = squatter.unchanged();
    raw["triggerSource"] = "PostAuthentication_Authentication".into();
    let squatter = TriggerEvent::from_value(raw).unwrap();
    let entries = [migrated("Name@Acme.com", "name@acme.com")];
    let (asked, outcome) = drive(&squatter, ledger(&entries, "", WriteResult::Recorded));
    assert_eq!(kinds(&asked), ["record"], "no group is read or written");
    assert_eq!(outcome.reason, Some(ReasonCode::NotOwner));
}

#[test]
fn in_an_email_as_username_pool_the_owner_is_known_by_the_email() {
    let config = MigrationConfig {
        new_pool_username_attributes: vec!["email".into()],
        ..MigrationConfig::default()
    };
    let mut raw = event("token-generation-authentication", "0d5e8a31-uuid").unchanged();
    raw["request"]["userAttributes"] =
        json!({"email": "Name@Acme.com", "custom:legacy_username": "Name@Acme.com"});
    let e = TriggerEvent::from_value(raw).unwrap();
    let entries = [migrated("Name@Acme.com", "name@acme.com")];
    let mut invocation = Invocation::start(&e, Context::new(&config, NOW));
    while let Some(request) = invocation.request() {
        let answer = ledger(&entries, "", WriteResult::Recorded)(request);
        invocation.answer(answer);
    }
    assert_eq!(invocation.finish().verdict, Verdict::GroupsAdded);
    // Without that setting the generated username names nobody.
    let (_, outcome) = drive(&e, ledger(&entries, "", WriteResult::Recorded));
    assert_eq!(outcome.reason, Some(ReasonCode::NotOwner));
}

#[test]
fn other_sources_configuration_errors_and_deadlines_have_their_outcomes() {
    let other = event("custom-message", "x");
    let (asked, outcome) = drive(&other, |_| Answer::Failed);
    assert!(asked.is_empty());
    assert_eq!(outcome.reason, Some(ReasonCode::UnhandledSource));
    assert_eq!(outcome.result.unwrap(), other.unchanged());

    let sign_in = event("user-migration-authentication", "name@acme.com");
    let sign_up = event("pre-sign-up", "someone");
    let tokens = event("token-generation-authentication", "name@acme.com");
    assert_eq!(unconfigured(&sign_in).result, Err(Failure::Unavailable));
    assert_eq!(
        unconfigured(&sign_up).result,
        Err(Failure::SignUpUnavailable)
    );
    assert_eq!(unconfigured(&tokens).result, Ok(tokens.unchanged()));
    assert_eq!(
        unconfigured(&sign_in).reason,
        Some(ReasonCode::Configuration)
    );
    let late = timed_out(&sign_in);
    assert_eq!(late.verdict, Verdict::Refused);
    assert_eq!(late.result, Ok(sign_in.unchanged()));
    assert_eq!(timed_out(&sign_up).result, Err(Failure::SignUpUnavailable));
    assert_eq!(timed_out(&tokens).reason, Some(ReasonCode::Deadline));
}

#[test]
fn only_refused_sign_ins_are_held_to_the_floor() {
    let entries = [pending("name@acme.com")];
    let sign_in = event("user-migration-authentication", "name@acme.com");
    let (_, refused) = drive(&sign_in, ledger(&entries, "", WriteResult::Recorded));
    assert_eq!(refused.verdict, Verdict::Refused);
    assert_eq!(refused.hold_ms, 1_000);
    let (_, approved) = drive(
        &sign_in,
        ledger(&entries, "name@acme.com", WriteResult::Recorded),
    );
    assert_eq!(approved.hold_ms, 0);
    let sign_up = event("pre-sign-up", "someone");
    let (_, refused_sign_up) = drive(&sign_up, |_| {
        Answer::Records(vec![pending("Name@Acme.com")])
    });
    assert_eq!(refused_sign_up.verdict, Verdict::Refused);
    assert_eq!(refused_sign_up.hold_ms, 0);
}

#[test]
fn an_invocation_left_unanswered_fails_closed() {
    let config = MigrationConfig::default();
    let e = event("user-migration-authentication", "name@acme.com");
    let invocation = Invocation::start(&e, Context::new(&config, NOW));
    assert!(invocation.request().is_some());
    let outcome = invocation.finish();
    assert_eq!(outcome.verdict, Verdict::Refused);
    assert_eq!(outcome.result.unwrap(), e.unchanged());
}

#[test]
fn failure_messages_are_generic() {
    for failure in [
        Failure::Unavailable,
        Failure::SignUpRefused,
        Failure::SignUpUnavailable,
        Failure::MalformedEvent,
    ] {
        let text = failure.to_string();
        assert!(!text.contains('@') && !text.contains("name"), "{text}");
    }
}

/// A legacy user approved under `new_username`, not confirmed yet.
fn approved(name: &str, new_username: &str) -> LedgerEntry {
    LedgerEntry {
        state: MigrationState::Approved {
            new_username: new_username.into(),
            at_ms: NOW - 5_000,
        },
        ..pending(name)
    }
}

#[test]
fn the_first_post_authentication_confirms_the_approval_with_the_new_sub() {
    let e = event("post-authentication", "name@acme.com");
    let entries = [approved("Name@Acme.com", "name@acme.com")];
    let new_pool = |request: &Request| match request {
        Request::NewPoolGroups { .. } => Answer::NewPoolGroups {
            existing: BTreeSet::new(),
            memberships: BTreeSet::new(),
        },
        other => ledger(&entries, "", WriteResult::Recorded)(other),
    };
    let (asked, outcome) = drive(&e, new_pool);
    assert_eq!(
        kinds(&asked),
        [
            "record",
            "confirm-migration",
            "legacy-groups",
            "new-pool-groups",
            "apply-groups",
            "mark-groups"
        ]
    );
    assert_eq!(
        asked[1],
        Request::ConfirmMigration {
            legacy_username: "Name@Acme.com".into(),
            new_username: "name@acme.com".into(),
            new_sub: Some("0d5e8a31-9a7b-4b6c-8d2e-3f4a5b6c7d8e".into()),
            at_ms: NOW,
        }
    );
    assert_eq!(outcome.verdict, Verdict::GroupsCopied);

    // A confirmation that cannot be written now leaves the groups to go on.
    let (asked, outcome) = drive(&e, |request| match request {
        Request::ConfirmMigration { .. } => Answer::Failed,
        other => new_pool(other),
    });
    assert_eq!(
        kinds(&asked)[..3],
        ["record", "confirm-migration", "legacy-groups"]
    );
    assert_eq!(outcome.verdict, Verdict::GroupsCopied);

    // Another new-pool user never confirms someone else's approval.
    let stranger = with_attributes(
        "post-authentication",
        &json!({"sub": "ffff", "custom:legacy_username": "Name@Acme.com"}),
    );
    let mut raw = stranger.unchanged();
    raw["userName"] = "mallory".into();
    let stranger = TriggerEvent::from_value(raw).unwrap();
    let (asked, outcome) = drive(&stranger, ledger(&entries, "", WriteResult::Recorded));
    assert_eq!(kinds(&asked), ["record"]);
    assert_eq!(outcome.reason, Some(ReasonCode::NotOwner));
}

#[test]
fn once_confirmed_only_the_recorded_sub_is_the_owner() {
    let bound = [LedgerEntry {
        state: MigrationState::Migrated {
            new_username: "name@acme.com".into(),
            at_ms: NOW - 5_000,
            new_sub: Some("0d5e8a31-9a7b-4b6c-8d2e-3f4a5b6c7d8e".into()),
        },
        ..pending("Name@Acme.com")
    }];
    let owner = event("token-generation-authentication", "name@acme.com");
    let (_, outcome) = drive(&owner, ledger(&bound, "", WriteResult::Recorded));
    assert_eq!(outcome.verdict, Verdict::GroupsAdded);
    // The same username with another sub: a user created again under that name (after the
    // first was deleted) is not the one the legacy user moved to.
    let mut raw = owner.unchanged();
    raw["request"]["userAttributes"]["sub"] = "11111111-other".into();
    let other = TriggerEvent::from_value(raw).unwrap();
    let (_, outcome) = drive(&other, ledger(&bound, "", WriteResult::Recorded));
    assert_eq!(outcome.reason, Some(ReasonCode::NotOwner));
}

#[test]
fn an_unconfirmed_approval_blocks_sign_ups_and_other_usernames_but_not_a_retry() {
    let entries = [approved("Name@Acme.com", "name@acme.com")];
    // A stranger's sign-up with the user's e-mail is refused while Cognito may still be
    // creating the user.
    let mut raw = event("pre-sign-up", "7c1d3b2a-uuid").unchanged();
    raw["request"]["userAttributes"] = json!({"email": "NAME@acme.com"});
    let sign_up = TriggerEvent::from_value(raw).unwrap();
    let (_, outcome) = drive(&sign_up, ledger(&entries, "", WriteResult::Recorded));
    assert_eq!(outcome.reason, Some(ReasonCode::IdentifierTaken));
    // The same username again: approved again.
    let retry = event("user-migration-authentication", "NAME@acme.com");
    let (_, outcome) = drive(
        &retry,
        ledger(&entries, "Name@Acme.com", WriteResult::AlreadyRecorded),
    );
    assert_eq!(outcome.verdict, Verdict::ApprovedAgain);
}

/// Runs an invocation under `config`; returns every request made and the outcome.
fn drive_with(
    config: &MigrationConfig,
    event: &TriggerEvent,
    mut script: impl FnMut(&Request) -> Answer,
) -> (Vec<Request>, Outcome) {
    let mut invocation = Invocation::start(event, Context::new(config, NOW));
    let mut asked = Vec::new();
    while let Some(request) = invocation.request() {
        asked.push(request.clone());
        let answer = script(request);
        invocation.answer(answer);
        assert!(asked.len() < 50, "the invocation does not end");
    }
    (asked, invocation.finish())
}

fn alias_pool() -> MigrationConfig {
    MigrationConfig {
        new_pool_alias_attributes: vec!["email".into(), "preferred_username".into()],
        ..MigrationConfig::default()
    }
}

fn holder(username: &str, attributes: &[(&str, &str)]) -> LegacyUser {
    LegacyUser::new(
        username,
        attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn in_an_alias_pool_the_ledger_records_the_username_the_response_names() {
    let config = alias_pool();
    let mut legacy = user("Name@Acme.com");
    legacy
        .attributes
        .insert("sub".into(), "0d5e8a31-legacy".into());
    let entries = [LedgerEntry::pending(legacy)];
    let sign_in = event("user-migration-authentication", "NAME@acme.com");
    let (asked, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::AliasHolders { .. } => Answer::NewPoolUsers(Vec::new()),
        other => ledger(&entries, "Name@Acme.com", WriteResult::Recorded)(other),
    });
    assert_eq!(
        kinds(&asked),
        [
            "candidates",
            "password",
            "legacy-user",
            "alias-holders",
            "record-migration"
        ]
    );
    assert_eq!(
        asked[3],
        Request::AliasHolders {
            user_pool_id: "us-east-1_NewPool01".into(),
            aliases: vec![("email".into(), "NAME@acme.com".into())],
        }
    );
    assert_eq!(
        asked[4],
        Request::RecordMigration {
            legacy_username: "Name@Acme.com".into(),
            new_username: "u-0d5e8a31-legacy".into(),
            at_ms: NOW,
        }
    );
    assert_eq!(outcome.verdict, Verdict::Approved);
    let response = outcome.result.unwrap();
    let attributes = &response["response"]["userAttributes"];
    assert_eq!(attributes["username"], "u-0d5e8a31-legacy");
    assert_eq!(attributes["email"], "NAME@acme.com");
    assert_eq!(attributes["email_verified"], "true");
    assert_eq!(response["response"]["forceAliasCreation"], false);

    // Post authentication comes for the username Cognito created: it is the owner.
    let approved_entries = [LedgerEntry {
        state: MigrationState::Approved {
            new_username: "u-0d5e8a31-legacy".into(),
            at_ms: NOW,
        },
        ..entries[0].clone()
    }];
    let mut raw = event("post-authentication", "u-0d5e8a31-legacy").unchanged();
    raw["request"]["userAttributes"] = json!({
        "sub": "new-sub", "email": "name@acme.com", "custom:legacy_username": "Name@Acme.com"
    });
    let post = TriggerEvent::from_value(raw).unwrap();
    let (asked, _) = drive_with(
        &config,
        &post,
        ledger(&approved_entries, "", WriteResult::Recorded),
    );
    assert_eq!(kinds(&asked)[..2], ["record", "confirm-migration"]);
    // The typed e-mail names nobody there: Cognito's user is the generated one.
    let mut raw = post.unchanged();
    raw["userName"] = "name@acme.com".into();
    raw["request"]["userAttributes"]["email"] = "other@acme.com".into();
    let squatter = TriggerEvent::from_value(raw).unwrap();
    let (_, outcome) = drive_with(
        &config,
        &squatter,
        ledger(&approved_entries, "", WriteResult::Recorded),
    );
    assert_eq!(outcome.reason, Some(ReasonCode::NotOwner));
}

#[test]
fn an_alias_another_new_pool_user_holds_refuses_the_migration_before_the_ledger() {
    let config = alias_pool();
    let entries = [pending("alice")];
    let mut alice = entries[0].clone();
    alice
        .user
        .attributes
        .insert("email".into(), "Alice@Acme.test".into());
    let entries = [alice];
    let sign_in = event("user-migration-authentication", "alice@acme.test");
    let entries = &entries;
    let run = |holders: Vec<LegacyUser>| {
        drive_with(&config, &sign_in, move |request| match request {
            Request::AliasHolders { .. } => Answer::NewPoolUsers(holders.clone()),
            other => ledger(entries, "alice", WriteResult::Recorded)(other),
        })
    };
    let taken = holder(
        "bob",
        &[("email", "ALICE@acme.test"), ("email_verified", "true")],
    );
    let (asked, outcome) = run(vec![taken]);
    assert_eq!(
        kinds(&asked),
        ["candidates", "password", "legacy-user", "alias-holders"]
    );
    assert_eq!(outcome.verdict, Verdict::Refused);
    assert_eq!(outcome.reason, Some(ReasonCode::AliasTaken));
    assert_eq!(outcome.result.unwrap(), sign_in.unchanged());
    // An unverified e-mail is no alias; the user itself (a retry after Cognito created it)
    // takes nothing from itself.
    for holders in [
        vec![holder("bob", &[("email", "alice@acme.test")])],
        vec![holder(
            "ALICE",
            &[("email", "alice@acme.test"), ("email_verified", "true")],
        )],
    ] {
        let (asked, outcome) = run(holders);
        assert_eq!(kinds(&asked).last(), Some(&"record-migration"));
        assert_eq!(outcome.verdict, Verdict::Approved);
    }
    // A new pool that cannot answer leaves the refusal of a taken alias to Cognito.
    let (asked, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::AliasHolders { .. } => Answer::Failed,
        other => ledger(entries, "alice", WriteResult::Recorded)(other),
    });
    assert_eq!(kinds(&asked).last(), Some(&"record-migration"));
    assert_eq!(outcome.verdict, Verdict::Approved);
    // Without aliases, the new pool is never asked.
    let (asked, _) = drive(&sign_in, ledger(entries, "alice", WriteResult::Recorded));
    assert_eq!(
        kinds(&asked),
        ["candidates", "password", "legacy-user", "record-migration"]
    );
}

#[test]
fn a_username_in_email_format_never_becomes_a_verified_alias_unless_the_legacy_pool_verified_it() {
    // Bob registered `alice@corp.test` as his username in a pool that never checked it; his
    // own, verified address is another. A verified alias would send Alice's mailbox the reset
    // codes of Bob's account.
    let config = alias_pool();
    let bob = LegacyUser::new(
        "alice@corp.test",
        [
            ("sub".to_owned(), "b0b".to_owned()),
            ("email".to_owned(), "bob@home.test".to_owned()),
            ("email_verified".to_owned(), "true".to_owned()),
        ]
        .into(),
    );
    let entries = [LedgerEntry::pending(bob)];
    let sign_in = event("user-migration-authentication", "alice@corp.test");
    let (_, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::AliasHolders { .. } => Answer::NewPoolUsers(Vec::new()),
        other => ledger(&entries, "alice@corp.test", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.verdict, Verdict::Approved);
    let response = outcome.result.unwrap();
    let attributes = &response["response"]["userAttributes"];
    assert_eq!(attributes["username"], "u-b0b");
    assert_eq!(attributes["email"], "alice@corp.test");
    assert_eq!(attributes["email_verified"], "false");

    // The same name, verified by the legacy pool as the user's own address: a verified alias.
    let mut alice = LegacyUser::new("alice@corp.test", std::collections::BTreeMap::new());
    alice.attributes.extend([
        ("sub".to_owned(), "a11ce".to_owned()),
        ("email".to_owned(), "Alice@Corp.test".to_owned()),
        ("email_verified".to_owned(), "true".to_owned()),
    ]);
    let entries = [LedgerEntry::pending(alice)];
    let (_, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::AliasHolders { .. } => Answer::NewPoolUsers(Vec::new()),
        other => ledger(&entries, "alice@corp.test", WriteResult::Recorded)(other),
    });
    let response = outcome.result.unwrap();
    assert_eq!(
        response["response"]["userAttributes"]["email_verified"],
        "true"
    );
}

#[test]
fn a_sign_in_value_another_legacy_user_holds_more_strongly_never_reaches_the_new_pool() {
    // Nick's preferred_username `Boss` was his alias in a case-sensitive legacy pool; in the
    // case-insensitive new one it would sign in `boss`, another user's username.
    let mut config = alias_pool();
    config.legacy_sign_in.alias_attributes = vec!["preferred_username".into()];
    let entries = [
        LedgerEntry::pending(holder("nick", &[("preferred_username", "Boss")])),
        pending("boss"),
    ];
    let sign_in = event("user-migration-authentication", "nick");
    let (asked, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::AliasHolders { .. } => Answer::NewPoolUsers(Vec::new()),
        other => ledger(&entries, "nick", WriteResult::Recorded)(other),
    });
    assert!(asked.contains(&Request::LedgerCandidates {
        keys: vec![match_key("Boss")]
    }));
    assert_eq!(outcome.verdict, Verdict::Approved);
    let approval = outcome.approval.clone().unwrap();
    assert!(!approval.user_attributes.contains_key("preferred_username"));
    let response = outcome.result.unwrap();
    assert!(response["response"]["userAttributes"]["preferred_username"].is_null());

    // Where e-mail is the username and the address Mallory verified is another user's
    // username, she would sign in with it: refused. So is a ledger that cannot say.
    let config = MigrationConfig {
        new_pool_username_attributes: vec!["email".into()],
        ..MigrationConfig::default()
    };
    let entries = [
        LedgerEntry::pending(holder(
            "mallory",
            &[("email", "Boss@acme.test"), ("email_verified", "true")],
        )),
        pending("boss@acme.test"),
    ];
    let sign_in = event("user-migration-authentication", "mallory");
    let (_, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::AliasHolders { .. } => Answer::NewPoolUsers(Vec::new()),
        other => ledger(&entries, "mallory", WriteResult::Recorded)(other),
    });
    assert_eq!(outcome.verdict, Verdict::Refused);
    assert_eq!(outcome.reason, Some(ReasonCode::IdentifierOwned));
    let mut queries = 0;
    let (_, outcome) = drive_with(&config, &sign_in, |request| match request {
        Request::LedgerCandidates { .. } if queries > 0 => Answer::Failed,
        other => {
            queries += usize::from(matches!(other, Request::LedgerCandidates { .. }));
            ledger(&entries[..1], "mallory", WriteResult::Recorded)(other)
        }
    });
    assert_eq!(outcome.reason, Some(ReasonCode::LedgerUnavailable));
}

#[test]
fn where_email_is_the_username_an_address_another_new_pool_user_has_refuses_the_migration() {
    // Sam signs in with his phone; his verified address is also another new-pool user's
    // (the legacy pool had it twice). Where e-mail is the username it signs in whoever has
    // it, verified or not: Cognito would refuse, so the trigger does, before the ledger.
    let config = MigrationConfig {
        new_pool_username_attributes: vec!["email".into(), "phone_number".into()],
        ..MigrationConfig::default()
    };
    let entries = [LedgerEntry::pending(holder(
        "sam",
        &[
            ("phone_number", "+15550100"),
            ("phone_number_verified", "true"),
            ("email", "shared@acme.test"),
            ("email_verified", "true"),
        ],
    ))];
    let sign_in = event("user-migration-authentication", "+15550100");
    let entries = &entries;
    let run = |holders: Vec<LegacyUser>| {
        drive_with(&config, &sign_in, move |request| match request {
            Request::AliasHolders { .. } => Answer::NewPoolUsers(holders.clone()),
            other => ledger(entries, "sam", WriteResult::Recorded)(other),
        })
    };
    let (asked, outcome) = run(vec![holder(
        "5f1c-generated",
        &[("email", "SHARED@acme.test")],
    )]);
    assert!(asked.contains(&Request::AliasHolders {
        user_pool_id: "us-east-1_NewPool01".into(),
        aliases: vec![
            ("email".into(), "shared@acme.test".into()),
            ("phone_number".into(), "+15550100".into())
        ],
    }));
    assert!(!kinds(&asked).contains(&"record-migration"));
    assert_eq!(outcome.reason, Some(ReasonCode::AliasTaken));
    let (_, outcome) = run(Vec::new());
    assert_eq!(outcome.verdict, Verdict::Approved);
}
