//! The shared scenario table through the simulator. The Lambda's tests run the same table
//! through the handler on moto and compare the two.

#[path = "support/scenarios.rs"]
mod support;

use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::migrate::MigrationConfig;
use cognito_migrate_core::simulate::simulate;

const NOW: i64 = 1_764_000_000_000;

#[test]
fn every_scenario_has_its_outcomes_in_the_simulator() {
    let config = MigrationConfig::default();
    let scenarios = support::scenarios();
    assert!(scenarios.len() >= 10);
    for scenario in scenarios {
        let mut ledger: Vec<LedgerEntry> =
            scenario.users.iter().map(support::User::entry).collect();
        for (i, step) in scenario.steps.iter().enumerate() {
            let event = step.event();
            let simulation = simulate(&event, &ledger, &config, NOW, |username| {
                step.assume(&scenario.users, username)
            });
            let at = format!("{} (step {})", scenario.name, i + 1);
            let decision = serde_json::to_value(simulation.decision).unwrap();
            assert_eq!(
                decision,
                step.expect.decision.as_str(),
                "{at}: {:?}",
                simulation.trace
            );
            assert_eq!(
                simulation.reason_code.map(|r| r.as_str().to_owned()),
                step.expect.reason,
                "{at}"
            );
            assert_eq!(
                simulation
                    .approval
                    .as_ref()
                    .map(|a| a.legacy_username.clone()),
                step.expect.legacy_username,
                "{at}"
            );
            if simulation.approval.is_none() && simulation.decision.as_str() != "groups-added" {
                let unchanged = event.unchanged();
                assert!(
                    simulation.response == unchanged || simulation.response.is_null(),
                    "{at}: only an approval or a token override changes the event"
                );
            }
            ledger = simulation.ledger;
        }
    }
}
