//! The trigger handler end to end against moto's server: a case-sensitive legacy pool, a second
//! pool as the new one, and the ledger table. Responses are pinned with JSON snapshots.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cognito_migrate_aws::legacy_pool::secret_hash;
use cognito_migrate_core::ledger::MigrationState;
use cognito_migrate_core::migrate::ReasonCode;
use cognito_migrate_core::signup::SIGN_UP_REFUSED_MESSAGE;
use cognito_migrate_lambda::config::Config;
use cognito_migrate_lambda::handler::{Deps, TriggerError, handle};
use serde_json::{Value, json};
use support::{PASSWORD, Stack, capture_logs, capture_logs_at, fixture, sign_in};

macro_rules! snapshot {
    ($value:expr) => {
        insta::assert_json_snapshot!($value, {
            ".response.userAttributes[\"custom:legacy_sub\"]" => "[legacy sub]",
        })
    };
}

fn approved(response: &Value) -> bool {
    response["response"]["finalUserStatus"].is_string()
}

async fn stack_with_jane() -> Stack {
    let stack = Stack::new().await;
    stack
        .create_user(
            "JaneDoe",
            &[
                ("email", "Jane.Doe@Example.COM"),
                ("email_verified", "true"),
                ("name", "Jane Doe"),
            ],
            PASSWORD,
        )
        .await;
    stack.index().await;
    stack
}

#[tokio::test]
async fn mixed_case_username_and_email_migrate_from_every_casing() {
    let mut responses = Vec::new();
    for typed in [
        "janedoe",
        "JANEDOE",
        "JaneDoe",
        "jane.doe@example.com",
        "JANE.DOE@EXAMPLE.COM",
        "Jane.Doe@Example.COM",
    ] {
        // A fresh stack each time: once migrated, the user is no longer a candidate for another
        // identifier.
        let stack = stack_with_jane().await;
        let deps = stack.deps(&[]).await;
        let response = handle(&deps, sign_in(typed, PASSWORD)).await.unwrap();
        assert!(approved(&response), "{typed}: {response}");
        assert_eq!(response["userName"], typed, "userName is echoed verbatim");
        assert_eq!(
            response["response"]["userAttributes"]["custom:legacy_username"],
            "JaneDoe"
        );
        let items = stack.ledger_items().await;
        assert_eq!(
            items.len(),
            2,
            "filed under the username's and the email's keys"
        );
        for (_, _, record) in &items {
            let expected = cognito_migrate_core::canonical_username(typed)
                .unwrap()
                .into_string();
            assert!(
                matches!(&record.entry.state, MigrationState::Approved { new_username, .. } if *new_username == expected)
            );
        }
        responses.push(response);
    }
    snapshot!(&responses[0]);
}

#[tokio::test]
async fn collision_is_resolved_by_the_password() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "Bob",
            &[("email", "bob@acme.test"), ("email_verified", "true")],
            "Password-Of-Big-Bob-1",
        )
        .await;
    stack
        .create_user("bob", &[], "Password-Of-Small-Bob-2")
        .await;
    stack.index().await;
    let deps = stack.deps(&[]).await;
    let response = handle(&deps, sign_in("BOB", "Password-Of-Small-Bob-2"))
        .await
        .unwrap();
    assert_eq!(
        response["response"]["userAttributes"]["custom:legacy_username"],
        "bob"
    );
    snapshot!(response);
}

#[tokio::test]
async fn ambiguous_collision_is_refused_and_recorded() {
    let stack = Stack::new().await;
    stack.create_user("Carol", &[], "Same-Password-1").await;
    stack.create_user("carol", &[], "Same-Password-1").await;
    stack.index().await;
    let deps = stack.deps(&[]).await;
    let event = sign_in("carol", "Same-Password-1");
    let response = handle(&deps, event.clone()).await.unwrap();
    assert_eq!(response, event, "refused: the event comes back unchanged");
    let states: Vec<_> = stack
        .ledger_items()
        .await
        .into_iter()
        .map(|(_, sk, r)| (sk, r.entry.state))
        .collect();
    assert_eq!(states.len(), 2);
    for (_, state) in states {
        assert!(
            matches!(
                state,
                MigrationState::Refused {
                    reason: ReasonCode::Ambiguous,
                    ..
                }
            ),
            "{state:?}"
        );
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_indistinguishable() {
    let known = Stack::new().await;
    known.create_user("dave", &[], PASSWORD).await;
    known.index().await;
    let unknown = Stack::new().await;
    let event = sign_in("dave", "Not-The-Password-1");
    let wrong = handle(&known.deps(&[]).await, event.clone()).await.unwrap();
    let missing = handle(&unknown.deps(&[]).await, event.clone())
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_vec(&wrong).unwrap(),
        serde_json::to_vec(&missing).unwrap()
    );
    assert_eq!(wrong, event);
}

#[tokio::test]
async fn disabled_users_are_refused_even_when_the_ledger_is_stale() {
    let stack = Stack::new().await;
    stack.create_user("erin", &[], PASSWORD).await;
    stack.index().await;
    // Disabled after the index ran: only the password check can tell.
    stack.disable_user("erin").await;
    let deps = stack.deps(&[]).await;
    let event = sign_in("erin", PASSWORD);
    assert_eq!(handle(&deps, event.clone()).await.unwrap(), event);
    // Indexed as disabled: refused without a password check.
    stack.index().await;
    stack.log.clear();
    assert_eq!(handle(&deps, event.clone()).await.unwrap(), event);
    assert!(
        !stack.log.calls().iter().any(|c| c == "AdminInitiateAuth"),
        "{:?}",
        stack.log.calls()
    );
}

#[tokio::test]
async fn temporary_passwords_follow_the_policy() {
    let stack = Stack::new().await;
    stack
        .create_user_with_temporary(
            "frank",
            &[("email", "frank@acme.test"), ("email_verified", "true")],
            "Temporary-Pass-9",
        )
        .await;
    stack.index().await;
    let refuse = stack.deps(&[("TEMPORARY_PASSWORD_POLICY", "refuse")]).await;
    let event = sign_in("frank", "Temporary-Pass-9");
    assert_eq!(handle(&refuse, event.clone()).await.unwrap(), event);
    let reset = stack
        .deps(&[("TEMPORARY_PASSWORD_POLICY", "reset-required")])
        .await;
    let response = handle(&reset, event).await.unwrap();
    assert_eq!(response["response"]["finalUserStatus"], "RESET_REQUIRED");
    snapshot!(response);
}

#[tokio::test]
async fn sms_mfa_users_follow_the_policy() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "grace",
            &[
                ("phone_number", "+15550100"),
                ("phone_number_verified", "true"),
                ("email", "grace@acme.test"),
                ("email_verified", "true"),
            ],
            PASSWORD,
        )
        .await;
    stack.enable_sms_mfa("grace").await;
    stack.index().await;
    let event = sign_in("grace", PASSWORD);
    let refuse = stack.deps(&[("MFA_POLICY", "refuse")]).await;
    assert_eq!(handle(&refuse, event.clone()).await.unwrap(), event);
    let reset = stack.deps(&[("MFA_POLICY", "reset-required")]).await;
    let response = handle(&reset, event.clone()).await.unwrap();
    assert_eq!(response["response"]["finalUserStatus"], "RESET_REQUIRED");
    let keep = stack.deps(&[("MFA_POLICY", "sms")]).await;
    let response = handle(&keep, event).await.unwrap();
    assert_eq!(response["response"]["enableSMSMFA"], true);
    snapshot!(response);
}

#[tokio::test]
async fn a_legacy_client_with_a_secret_gets_the_secret_hash() {
    let stack = Stack::new().await;
    stack.create_user("heidi", &[], PASSWORD).await;
    stack.index().await;
    let deps = stack
        .deps(&[
            ("LEGACY_CLIENT_ID", stack.legacy_secret_client_id.as_str()),
            ("LEGACY_CLIENT_SECRET", stack.legacy_client_secret.as_str()),
        ])
        .await;
    let response = handle(&deps, sign_in("HEIDI", PASSWORD)).await.unwrap();
    assert!(approved(&response));
    let expected = secret_hash(
        &stack.legacy_client_secret,
        "heidi",
        &stack.legacy_secret_client_id,
    );
    assert_eq!(stack.log.secret_hashes(), [Some(expected)]);
}

#[tokio::test]
async fn a_retried_invocation_is_approved_again_and_changes_nothing() {
    let stack = stack_with_jane().await;
    let deps = stack.deps(&[]).await;
    let first = handle(&deps, sign_in("jane.doe@example.com", PASSWORD))
        .await
        .unwrap();
    assert!(approved(&first));
    let ledger_after_first = stack.raw_ledger().await;
    let second = handle(&deps, sign_in("jane.doe@example.com", PASSWORD))
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(stack.raw_ledger().await, ledger_after_first);
}

#[tokio::test]
async fn concurrent_invocations_for_one_user_agree() {
    let stack = stack_with_jane().await;
    let deps = stack.deps(&[]).await;
    let runs = (0..6).map(|_| handle(&deps, sign_in("janedoe", PASSWORD)));
    let responses = futures::future::join_all(runs).await;
    for response in &responses {
        assert!(approved(response.as_ref().unwrap()));
    }
    for (_, _, record) in stack.ledger_items().await {
        assert!(
            matches!(record.entry.state, MigrationState::Approved { ref new_username, .. } if new_username == "janedoe")
        );
    }
}

/// `Bob` and `bob`, a collision pair, each with its own password.
async fn stack_with_the_bobs() -> Stack {
    let stack = Stack::new().await;
    stack.create_user("Bob", &[], "Password-Of-Big-Bob-1").await;
    stack
        .create_user("bob", &[], "Password-Of-Small-Bob-2")
        .await;
    stack.index().await;
    stack
}

/// The legacy users the ledger records as approved under (or migrated to) `new_username`.
async fn migrated_to(stack: &Stack, new_username: &str) -> BTreeSet<String> {
    stack
        .ledger_items()
        .await
        .into_iter()
        .filter(|(_, _, record)| record.entry.state.bound_to() == Some(new_username))
        .map(|(_, _, record)| record.entry.user.username)
        .collect()
}

#[tokio::test]
async fn a_new_username_is_recorded_for_one_legacy_user_only() {
    let stack = stack_with_the_bobs().await;
    let deps = stack.deps(&[]).await;
    let big = handle(&deps, sign_in("BOB", "Password-Of-Big-Bob-1"))
        .await
        .unwrap();
    assert!(approved(&big));
    // Cognito would now find `bob` in the new pool and never ask again; an invocation that was
    // already under way (the other Bob signing in at the same moment) is refused by the claim.
    let small = handle(&deps, sign_in("bob", "Password-Of-Small-Bob-2"))
        .await
        .unwrap();
    assert!(!approved(&small), "{small}");
    assert_eq!(
        migrated_to(&stack, "bob").await,
        BTreeSet::from(["Bob".to_owned()])
    );
    let bob = stack.ledger().record("bob").await.unwrap().unwrap();
    assert_eq!(bob.entry.state, MigrationState::Pending);
}

#[tokio::test]
async fn both_users_of_a_collision_pair_signing_in_at_once_get_one_account() {
    let stack = stack_with_the_bobs().await;
    let deps = stack.deps(&[]).await;
    let (big, small) = tokio::join!(
        handle(&deps, sign_in("BOB", "Password-Of-Big-Bob-1")),
        handle(&deps, sign_in("bob", "Password-Of-Small-Bob-2")),
    );
    let responses = [big.unwrap(), small.unwrap()];
    let approved_as: Vec<&Value> = responses
        .iter()
        .filter(|r| approved(r))
        .map(|r| &r["response"]["userAttributes"]["custom:legacy_username"])
        .collect();
    assert_eq!(approved_as.len(), 1, "{responses:#?}");
    assert_eq!(
        migrated_to(&stack, "bob").await,
        BTreeSet::from([approved_as[0].as_str().unwrap().to_owned()]),
        "the ledger records the one who got the account"
    );
}

#[tokio::test]
async fn a_successful_migration_costs_four_calls_once_the_settings_are_read() {
    let stack = stack_with_jane().await;
    let deps = stack.deps(&[]).await;
    stack.log.clear();
    let started = Instant::now();
    let response = handle(&deps, sign_in("JaneDoe", PASSWORD)).await.unwrap();
    let elapsed = started.elapsed();
    assert!(approved(&response));
    let migration_calls = stack.log.calls();
    // The legacy pool's sign-in settings are read once per container, then kept; the user is
    // read again before the approval, since the index may be stale.
    assert_eq!(
        migration_calls,
        [
            "GetItem",
            "Query",
            "AdminInitiateAuth",
            "AdminGetUser",
            "TransactWriteItems"
        ]
    );
    stack.log.clear();
    let again = handle(&deps, sign_in("nobody", PASSWORD)).await.unwrap();
    assert!(!approved(&again));
    assert_eq!(stack.log.calls(), ["Query", "AdminGetUser"]);
    eprintln!("sign-in migration against local moto: {elapsed:?}, calls {migration_calls:?}");
}

#[tokio::test]
async fn an_unindexed_user_is_found_by_exact_name_and_filed() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "ivan",
            &[("email", "Ivan@Acme.test"), ("email_verified", "true")],
            PASSWORD,
        )
        .await;
    let deps = stack.deps(&[]).await;
    let response = handle(&deps, sign_in("ivan", PASSWORD)).await.unwrap();
    assert!(approved(&response));
    let items = stack.ledger_items().await;
    assert_eq!(items.len(), 2, "both keys are written complete");
    assert!(
        items
            .iter()
            .all(|(_, _, r)| r.entry.user.username == "ivan" && r.entry.state.name() == "approved")
    );
}

#[tokio::test]
async fn forgot_password_migrates_with_a_reset() {
    let stack = stack_with_jane().await;
    let deps = stack.deps(&[]).await;
    let mut event = fixture("user_migration_forgot_password");
    event["userName"] = "JANE.DOE@example.com".into();
    let response = handle(&deps, event).await.unwrap();
    assert_eq!(response["response"]["finalUserStatus"], "RESET_REQUIRED");
    snapshot!(response);
}

#[tokio::test]
async fn sign_up_cannot_take_a_pending_legacy_identifier() {
    let stack = stack_with_jane().await;
    let deps = stack.deps(&[]).await;
    let mut event = fixture("pre_sign_up_sign_up");
    event["request"]["userAttributes"]["email"] = "JANE.doe@example.com".into();
    let refused = handle(&deps, event).await.unwrap_err();
    assert_eq!(refused, TriggerError::SignUpRefused);
    assert_eq!(refused.to_string(), SIGN_UP_REFUSED_MESSAGE);
    let mut fresh = fixture("pre_sign_up_sign_up");
    fresh["request"]["userAttributes"]["email"] = "someone.else@example.com".into();
    assert_eq!(handle(&deps, fresh.clone()).await.unwrap(), fresh);
}

#[tokio::test]
async fn post_authentication_copies_more_than_sixty_groups() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "Kim",
            &[("email", "kim@acme.test"), ("email_verified", "true")],
            PASSWORD,
        )
        .await;
    for i in 0..65 {
        let name = format!("group-{i:02}");
        stack
            .idp
            .create_group()
            .user_pool_id(&stack.legacy_pool_id)
            .group_name(&name)
            .description(format!("legacy {name}"))
            .precedence(i)
            .send()
            .await
            .unwrap();
        stack
            .idp
            .admin_add_user_to_group()
            .user_pool_id(&stack.legacy_pool_id)
            .username("Kim")
            .group_name(&name)
            .send()
            .await
            .unwrap();
    }
    stack.index().await;
    let deps = stack.deps(&[]).await;
    assert!(approved(
        &handle(&deps, sign_in("kim", PASSWORD)).await.unwrap()
    ));
    // Cognito creates the user in the new pool; here the second pool plays that part.
    stack
        .idp
        .admin_create_user()
        .user_pool_id(&stack.new_pool_id)
        .username("kim")
        .send()
        .await
        .unwrap();

    // Before the copy, the first tokens get the legacy groups through the override.
    let mut token = fixture("token_generation_authentication");
    token["userName"] = "kim".into();
    token["request"]["userAttributes"]["email"] = "kim@acme.test".into();
    token["request"]["userAttributes"]["custom:legacy_username"] = "Kim".into();
    let overridden = handle(&deps, token.clone()).await.unwrap();
    let groups =
        overridden["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"]
            .as_array()
            .unwrap();
    assert_eq!(groups.len(), 65);

    let mut event = fixture("post_authentication");
    event["userName"] = "kim".into();
    event["request"]["userAttributes"]["email"] = "kim@acme.test".into();
    event["request"]["userAttributes"]["custom:legacy_username"] = "Kim".into();
    assert_eq!(handle(&deps, event.clone()).await.unwrap(), event);

    let mut copied = Vec::new();
    let mut pages = stack
        .idp
        .admin_list_groups_for_user()
        .user_pool_id(&stack.new_pool_id)
        .username("kim")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        copied.extend(page.unwrap().groups().iter().map(|g| {
            (
                g.group_name().unwrap().to_owned(),
                g.description().map(str::to_owned),
                g.precedence(),
            )
        }));
    }
    copied.sort();
    assert_eq!(copied.len(), 65);
    assert_eq!(
        copied[7],
        (
            "group-07".to_owned(),
            Some("legacy group-07".to_owned()),
            Some(7)
        )
    );
    assert!(
        stack
            .ledger_items()
            .await
            .iter()
            .all(|(_, _, r)| r.entry.groups_copied)
    );

    // Again: nothing left to do, no group call.
    stack.log.clear();
    assert_eq!(
        handle(&deps, event).await.unwrap(),
        fixture_like(&stack, "kim")
    );
    assert_eq!(stack.log.calls(), ["GetItem"]);
}

fn fixture_like(_stack: &Stack, user: &str) -> Value {
    let mut event = fixture("post_authentication");
    event["userName"] = user.into();
    event["request"]["userAttributes"]["email"] = "kim@acme.test".into();
    event["request"]["userAttributes"]["custom:legacy_username"] = "Kim".into();
    event
}

#[tokio::test]
async fn users_not_from_the_legacy_pool_cost_nothing_after_sign_in() {
    let stack = Stack::new().await;
    let deps = stack.deps(&[]).await;
    for name in ["post_authentication", "token_generation_authentication"] {
        let mut event = fixture(name);
        event["userName"] = "native".into();
        event["request"]["userAttributes"]
            .as_object_mut()
            .unwrap()
            .remove("custom:legacy_username");
        assert_eq!(handle(&deps, event.clone()).await.unwrap(), event);
    }
    assert!(stack.log.calls().is_empty());
}

#[tokio::test]
async fn the_password_never_reaches_the_logs() {
    const CANARY: &str = "Canary-7f3a-Do-Not-Log";
    let stack = Stack::new().await;
    stack
        .create_user(
            "Leo.Secret",
            &[
                ("email", "leo.secret@private.test"),
                ("email_verified", "true"),
            ],
            CANARY,
        )
        .await;
    stack.index().await;
    let deps = stack.deps(&[]).await;
    let (logs, _guard) = capture_logs();
    assert!(approved(
        &handle(&deps, sign_in("leo.secret", CANARY)).await.unwrap()
    ));
    handle(
        &deps,
        sign_in("leo.secret@private.test", "wrong-but-also-secret"),
    )
    .await
    .unwrap();
    handle(
        &deps,
        json!({"triggerSource": 5, "request": {"password": CANARY}}),
    )
    .await
    .unwrap_err();
    let text = logs.text();
    for secret in [CANARY, "wrong-but-also-secret", "leo.secret", "Leo.Secret"] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the logs:\n{text}"
        );
    }
    let decisions: Vec<Value> = logs
        .lines()
        .into_iter()
        .filter(|l| l["message"] == "decision")
        .collect();
    assert_eq!(decisions.len(), 2, "one line per decision:\n{text}");
    assert_eq!(decisions[0]["outcome"], "approved");
    assert_eq!(decisions[0]["trigger"], "UserMigration_Authentication");
    assert_eq!(decisions[0]["user"], "l\u{2026}(10)");
    assert_eq!(decisions[0]["candidates"], 1);
    assert_eq!(decisions[0]["password_checks"], 1);
    assert!(decisions[0]["elapsed_ms"].is_u64());
    assert_eq!(decisions[1]["outcome"], "refused");
    assert_eq!(decisions[1]["reason"], "already_migrated");
}

#[tokio::test]
async fn a_configuration_error_fails_every_invocation_closed() {
    let (logs, _guard) = capture_logs();
    let error = Config::from_lookup(|name| {
        (name == "LEGACY_CLIENT_ID" || name == "LEDGER_TABLE").then(|| "x".to_owned())
    })
    .unwrap_err();
    let deps = Deps::unconfigured(error);
    let refused = handle(&deps, sign_in("janedoe", PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "Migration is unavailable.");
    let mut forgot = fixture("user_migration_forgot_password");
    forgot["userName"] = "janedoe".into();
    assert_eq!(
        handle(&deps, forgot).await.unwrap_err(),
        TriggerError::Unavailable
    );
    assert_eq!(
        handle(&deps, fixture("pre_sign_up_sign_up"))
            .await
            .unwrap_err(),
        TriggerError::SignUpUnavailable
    );
    let mut post = fixture("post_authentication");
    post["userName"] = "janedoe".into();
    assert_eq!(handle(&deps, post.clone()).await.unwrap(), post);
    let lines = logs.lines();
    let config_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["variable"] == "LEGACY_USER_POOL_ID")
        .collect();
    assert_eq!(
        config_lines.len(),
        1,
        "one line naming the variable:\n{}",
        logs.text()
    );
    assert_eq!(config_lines[0]["level"], "ERROR");
}

#[tokio::test]
async fn a_malformed_event_is_an_error_without_details() {
    let stack = Stack::new().await;
    let deps = stack.deps(&[]).await;
    let error = handle(
        &deps,
        json!({"triggerSource": "UserMigration_Authentication", "userName": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(error, TriggerError::MalformedEvent);
    assert!(stack.log.calls().is_empty());
}

#[tokio::test]
async fn a_silent_legacy_pool_fails_closed_within_the_deadline() {
    // A server that accepts connections and never answers: the SDK's attempt timeout and the
    // handler's deadline must both hold.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    let _keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let stack = stack_with_jane().await;
    let deps = stack
        .deps(&[
            ("LEGACY_ENDPOINT_URL", silent.as_str()),
            ("DEADLINE_MS", "800"),
        ])
        .await;
    let event = sign_in("janedoe", PASSWORD);
    let started = Instant::now();
    let response = handle(&deps, event.clone()).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response, event);
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
    assert!(
        stack
            .ledger_items()
            .await
            .iter()
            .all(|(_, _, r)| r.entry.state == MigrationState::Pending),
        "nothing written"
    );
}

#[tokio::test]
async fn forgot_password_refuses_a_user_disabled_or_deleted_since_the_index() {
    let stack = stack_with_jane().await;
    let deps = stack.deps(&[]).await;
    let forgot = |user: &str| {
        let mut event = fixture("user_migration_forgot_password");
        event["userName"] = user.into();
        event
    };
    // The index still says enabled; the legacy pool knows better.
    stack.disable_user("JaneDoe").await;
    let response = handle(&deps, forgot("jane.doe@example.com")).await.unwrap();
    assert!(!approved(&response), "a disabled user reset its way in");
    stack
        .idp
        .admin_delete_user()
        .user_pool_id(&stack.legacy_pool_id)
        .username("JaneDoe")
        .send()
        .await
        .unwrap();
    let response = handle(&deps, forgot("janedoe")).await.unwrap();
    assert!(!approved(&response), "a deleted user reset its way in");
    let records = stack.ledger_items().await;
    assert!(
        records
            .iter()
            .all(|(_, _, r)| r.entry.state == MigrationState::Pending),
        "a refusal writes no migration"
    );
}

#[tokio::test]
async fn no_personal_data_reaches_the_logs_even_at_trace() {
    const CANARY: &str = "Canary-91bd-Do-Not-Log";
    let stack = Stack::new().await;
    stack
        .create_user(
            "Tess.Private",
            &[
                ("email", "tess.private@private.test"),
                ("email_verified", "true"),
                ("phone_number", "+15550104321"),
            ],
            CANARY,
        )
        .await;
    stack.index().await;
    let sub = stack
        .ledger_items()
        .await
        .into_iter()
        .find_map(|(_, _, r)| r.entry.user.sub().map(str::to_owned))
        .unwrap();
    let deps = stack.deps(&[]).await;
    let (logs, _guard) = capture_logs_at("trace");
    assert!(approved(
        &handle(&deps, sign_in("tess.private", CANARY))
            .await
            .unwrap()
    ));
    handle(
        &deps,
        sign_in("tess.private@private.test", "wrong-canary-2"),
    )
    .await
    .unwrap();
    let mut token = fixture("token_generation_authentication");
    token["userName"] = "tess.private".into();
    token["request"]["userAttributes"]["custom:legacy_username"] = "Tess.Private".into();
    handle(&deps, token).await.unwrap();
    let text = logs.text();
    assert!(
        text.lines().count() >= 3,
        "the decisions are logged:\n{text}"
    );
    for secret in [
        CANARY,
        "wrong-canary-2",
        "tess.private",
        "Tess.Private",
        "15550104321",
        sub.as_str(),
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} leaked into the logs at trace:\n{text}"
        );
    }
    assert!(text.contains("t\u{2026}(12)"), "only masked forms:\n{text}");
}

#[tokio::test]
async fn a_membership_removed_since_the_index_never_reaches_a_token() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "Rae",
            &[("email", "rae@acme.test"), ("email_verified", "true")],
            PASSWORD,
        )
        .await;
    stack.add_to_groups("Rae", &["staff", "admins"]).await;
    stack.index().await;
    // Rae is no longer an admin in the legacy pool; the ledger still says so.
    stack
        .idp
        .admin_remove_user_from_group()
        .user_pool_id(&stack.legacy_pool_id)
        .username("Rae")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let deps = stack.deps(&[]).await;
    assert!(approved(
        &handle(&deps, sign_in("rae", PASSWORD)).await.unwrap()
    ));
    let mut token = fixture("token_generation_authentication");
    token["userName"] = "rae".into();
    token["request"]["userAttributes"]["custom:legacy_username"] = "Rae".into();
    let response = handle(&deps, token).await.unwrap();
    assert_eq!(
        response["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"],
        json!(["staff"])
    );
}

#[tokio::test]
async fn the_legacy_pools_own_sign_in_rule_decides_which_identifiers_count() {
    let stack = Stack::new().await;
    // The legacy pool aliases e-mail and preferred_username; Pat never verified the e-mail.
    stack
        .create_user(
            "Pat",
            &[("email", "pat@acme.test"), ("preferred_username", "Patty")],
            PASSWORD,
        )
        .await;
    stack.index().await;
    let deps = stack.deps(&[]).await;
    let by_email = handle(&deps, sign_in("pat@acme.test", PASSWORD))
        .await
        .unwrap();
    assert!(
        !approved(&by_email),
        "an unverified e-mail is not Pat's sign-in"
    );

    // Before the index records the pool's settings, only usernames and verified values count.
    stack.forget_legacy_sign_in().await;
    let unrecorded = stack.deps(&[]).await;
    let early = handle(&unrecorded, sign_in("patty", PASSWORD))
        .await
        .unwrap();
    assert!(!approved(&early));

    stack.index().await;
    let recorded = stack.deps(&[]).await;
    let by_alias = handle(&recorded, sign_in("patty", PASSWORD)).await.unwrap();
    assert!(approved(&by_alias), "{by_alias}");
    assert_eq!(
        by_alias["response"]["userAttributes"]["custom:legacy_username"],
        "Pat"
    );
}

#[tokio::test]
async fn a_sign_in_decides_on_the_legacy_user_as_it_is_now_not_as_indexed() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "Vic",
            &[("email", "vic@acme.test"), ("email_verified", "true")],
            PASSWORD,
        )
        .await;
    stack.index().await;
    // Since the index, Vic's address changed: the old one is no longer Vic's to sign in with.
    stack
        .idp
        .admin_update_user_attributes()
        .user_pool_id(&stack.legacy_pool_id)
        .username("Vic")
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("email")
                .value("vic.new@acme.test")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deps = stack.deps(&[]).await;
    let old = handle(&deps, sign_in("vic@acme.test", PASSWORD))
        .await
        .unwrap();
    assert!(!approved(&old), "{old}");
    let by_name = handle(&deps, sign_in("vic", PASSWORD)).await.unwrap();
    assert!(approved(&by_name));
    assert_eq!(
        by_name["response"]["userAttributes"]["email"], "vic.new@acme.test",
        "the attributes come from the legacy pool, not the index"
    );
}

/// A new pool that signs in with usernames plus e-mail and `preferred_username` aliases.
async fn alias_new_pool(stack: &Stack) -> String {
    use aws_sdk_cognitoidentityprovider::types::{AliasAttributeType, UsernameConfigurationType};
    let pool = stack
        .idp
        .create_user_pool()
        .pool_name(format!("new-alias-{}", std::process::id()))
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(false)
                .build()
                .unwrap(),
        )
        .alias_attributes(AliasAttributeType::Email)
        .alias_attributes(AliasAttributeType::PreferredUsername)
        .send()
        .await
        .unwrap();
    pool.user_pool().unwrap().id().unwrap().to_owned()
}

#[tokio::test]
async fn an_alias_pool_gets_the_alias_on_its_attribute_and_a_username_of_its_own() {
    let stack = Stack::new().await;
    stack
        .create_user(
            "Ann",
            &[("email", "Ann@Acme.test"), ("email_verified", "true")],
            PASSWORD,
        )
        .await;
    stack
        .create_user(
            "Zed",
            &[("email", "zed@acme.test"), ("email_verified", "true")],
            PASSWORD,
        )
        .await;
    stack.index().await;
    let pool = alias_new_pool(&stack).await;
    // Someone already holds Zed's e-mail as a verified alias in the new pool.
    stack
        .idp
        .admin_create_user()
        .user_pool_id(&pool)
        .username("zoe")
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("email")
                .value("zed@acme.test")
                .build()
                .unwrap(),
        )
        .user_attributes(
            aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deps = stack
        .deps(&[
            ("NEW_USER_POOL_ID", pool.as_str()),
            ("NEW_POOL_ALIAS_ATTRIBUTES", "email,preferred_username"),
        ])
        .await;

    let response = handle(&deps, sign_in("ANN@acme.test", PASSWORD))
        .await
        .unwrap();
    assert!(approved(&response), "{response}");
    let attributes = &response["response"]["userAttributes"];
    assert_eq!(attributes["username"], "ann");
    assert_eq!(
        attributes["email"], "ANN@acme.test",
        "the userName as Cognito sent it"
    );
    assert_eq!(attributes["email_verified"], "true");
    assert_eq!(response["response"]["forceAliasCreation"], false);
    assert!(stack.log.calls().iter().any(|c| c == "ListUsers"));
    let ann: Vec<_> = stack
        .ledger_items()
        .await
        .into_iter()
        .filter(|(_, _, r)| r.entry.user.username == "Ann")
        .collect();
    assert!(!ann.is_empty());
    for (_, _, record) in ann {
        assert!(
            matches!(&record.entry.state, MigrationState::Approved { new_username, .. } if new_username == "ann"),
            "{:?}",
            record.entry.state
        );
    }

    let event = sign_in("zed@acme.test", PASSWORD);
    let (logs, _guard) = capture_logs();
    let result = handle(&deps, event.clone()).await;
    assert_eq!(
        result.unwrap(),
        event,
        "refused: the event comes back unchanged"
    );
    assert!(logs.text().contains("alias_taken"), "{}", logs.text());
    for (_, _, record) in stack.ledger_items().await {
        if record.entry.user.username == "Zed" {
            assert_eq!(record.entry.state, MigrationState::Pending);
        }
    }
}
