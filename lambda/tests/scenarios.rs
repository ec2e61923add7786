//! The shared scenario table (`core/tests/fixtures/scenarios.json`) through the handler on moto,
//! each step compared with the simulator run on the same ledger: one decision path, so the two
//! must agree on the outcome, the reason and the response.

mod support;

#[path = "../../core/tests/support/scenarios.rs"]
mod scenarios;

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::operation::admin_create_user::AdminCreateUserError;
use cognito_migrate_core::canonical_username;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::simulate::simulate;
use cognito_migrate_lambda::handler::decide;
use support::Stack;

/// The ledger as moto holds it, one entry a legacy user.
async fn ledger_entries(stack: &Stack) -> Vec<LedgerEntry> {
    let mut by_user: BTreeMap<String, LedgerEntry> = BTreeMap::new();
    for (_, _, record) in stack.ledger_items().await {
        by_user
            .entry(record.entry.user.username.clone())
            .or_insert(record.entry);
    }
    by_user.into_values().collect()
}

async fn seed(stack: &Stack, scenario: &scenarios::Scenario) {
    for user in &scenario.users {
        let attributes: Vec<(&str, &str)> = user
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        stack
            .create_user(&user.username, &attributes, &user.password)
            .await;
        let groups: Vec<&str> = user.groups.iter().map(String::as_str).collect();
        stack.add_to_groups(&user.username, &groups).await;
        if user.disabled {
            stack.disable_user(&user.username).await;
        }
    }
    stack.index().await;
}

#[tokio::test]
async fn the_handler_and_the_simulator_agree_on_every_scenario() {
    for scenario in scenarios::scenarios() {
        let stack = Stack::new().await;
        seed(&stack, &scenario).await;
        let deps = stack.deps(&[]).await;
        let mut config = deps.config().unwrap().migration.clone();
        // What the trigger reads from the ledger, as the index recorded it.
        config.legacy_sign_in = stack.ledger().legacy_sign_in().await.unwrap().unwrap();
        for (i, step) in scenario.steps.iter().enumerate() {
            let at = format!("{} (step {})", scenario.name, i + 1);
            let event = step.event();
            let before = ledger_entries(&stack).await;
            let simulated = simulate(&event, &before, &config, 0, |username| {
                step.assume(&scenario.users, username)
            });
            let outcome = decide(&deps, &event).await;

            assert_eq!(outcome.verdict, simulated.decision, "{at}");
            assert_eq!(outcome.reason, simulated.reason_code, "{at}");
            assert_eq!(outcome.response(), simulated.response, "{at}");
            assert_eq!(
                outcome.approval.as_ref().map(|a| &a.user_attributes),
                simulated.approval.as_ref().map(|a| &a.user_attributes),
                "{at}"
            );
            assert_eq!(outcome.verdict.as_str(), step.expect.decision, "{at}");
            assert_eq!(
                outcome.reason.map(|r| r.as_str().to_owned()),
                step.expect.reason,
                "{at}"
            );
            assert_eq!(
                outcome.approval.as_ref().map(|a| a.legacy_username.clone()),
                step.expect.legacy_username,
                "{at}"
            );
            if outcome.approval.is_some() {
                // Cognito creates the migrated user; the second pool plays the new pool. An
                // approval again stands for a creation that failed the first time.
                let created = stack
                    .idp
                    .admin_create_user()
                    .user_pool_id(&stack.new_pool_id)
                    .username(canonical_username(&step.user_name).unwrap().as_str())
                    .send()
                    .await;
                if let Err(error) = created {
                    assert!(
                        error
                            .as_service_error()
                            .is_some_and(AdminCreateUserError::is_username_exists_exception),
                        "{at}: {error:?}"
                    );
                }
            }
        }
    }
}
