//! The shared scenario table (`core/tests/fixtures/scenarios.json`): legacy users and a sequence
//! of trigger events with the outcome each must have. The core runs it through the simulator,
//! the Lambda's tests through the handler on moto, and both compare their outcomes.

use std::collections::BTreeMap;

use cognito_migrate_core::event::TriggerEvent;
use cognito_migrate_core::ledger::LedgerEntry;
use cognito_migrate_core::simulate::AssumedOutcome;
use cognito_migrate_core::user::LegacyUser;
use serde::Deserialize;
use serde_json::Value;

/// One scenario.
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub users: Vec<User>,
    pub steps: Vec<Step>,
}

/// A legacy user with its password.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub username: String,
    pub attributes: BTreeMap<String, String>,
    pub password: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub disabled: bool,
}

/// One event and the outcome it must have.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// The fixture in `core/tests/fixtures/events/`.
    pub event: String,
    pub user_name: String,
    pub password: Option<String>,
    /// Replaces `request.userAttributes` when present.
    pub attributes: Option<BTreeMap<String, String>>,
    pub expect: Expect,
}

/// The expected outcome.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expect {
    pub decision: String,
    pub reason: Option<String>,
    pub legacy_username: Option<String>,
}

fn fixtures() -> String {
    format!("{}/../core/tests/fixtures", env!("CARGO_MANIFEST_DIR"))
}

/// Every scenario of the table.
pub fn scenarios() -> Vec<Scenario> {
    let text = std::fs::read_to_string(format!("{}/scenarios.json", fixtures())).unwrap();
    serde_json::from_str(&text).unwrap()
}

impl Step {
    /// The event, from its fixture, with this step's name, password and attributes.
    pub fn event(&self) -> TriggerEvent {
        let path = format!("{}/events/{}.json", fixtures(), self.event);
        let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        raw["userName"] = self.user_name.clone().into();
        if let Some(password) = &self.password {
            raw["request"]["password"] = password.clone().into();
        }
        if let Some(attributes) = &self.attributes {
            raw["request"]["userAttributes"] = serde_json::to_value(attributes).unwrap();
        }
        TriggerEvent::from_value(raw).unwrap()
    }

    /// What the legacy pool answers this step's password for `username`.
    pub fn assume(&self, users: &[User], username: &str) -> AssumedOutcome {
        match users.iter().find(|u| u.username == username) {
            Some(user) if user.disabled => AssumedOutcome::Disabled,
            Some(user) if Some(&user.password) == self.password.as_ref() => AssumedOutcome::Ok,
            Some(_) => AssumedOutcome::Wrong,
            None => AssumedOutcome::NotFound,
        }
    }
}

impl User {
    /// The user as the index files it.
    #[allow(
        dead_code,
        reason = "the Lambda's tests read the entries from the ledger instead"
    )]
    pub fn entry(&self) -> LedgerEntry {
        let mut user = LegacyUser::new(&self.username, self.attributes.clone());
        user.groups.clone_from(&self.groups);
        user.enabled = !self.disabled;
        LedgerEntry::pending(user)
    }
}
