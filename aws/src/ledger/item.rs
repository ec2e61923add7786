//! The item format (see the [module documentation](super)): a record to items and back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use cognito_migrate_core::counters::method_word;
use cognito_migrate_core::ledger::{LedgerEntry, MigrationState, directory_keys};
use cognito_migrate_core::user::LegacyUser;
use cognito_migrate_core::{MatchKey, match_key};
use serde_json::{Map, Value};

use crate::error::{AwsError, json_error};

/// A ledger item as `DynamoDB` returns it.
pub type Item = HashMap<String, AttributeValue>;

/// Attribute names.
pub mod attr {
    /// Partition key.
    pub const PK: &str = "pk";
    /// Sort key.
    pub const SK: &str = "sk";
    /// The legacy user as JSON.
    pub const USER: &str = "user";
    /// The state's name.
    pub const STATE: &str = "state";
    /// The new pool's username (approved, migrated).
    pub const NEW_USERNAME: &str = "newUsername";
    /// The new pool's `sub` of the user (migrated, once confirmed).
    pub const NEW_SUB: &str = "newSub";
    /// When the state was reached.
    pub const AT_MS: &str = "atMs";
    /// Why (refused).
    pub const REASON: &str = "reason";
    /// How (finished).
    pub const METHOD: &str = "method";
    /// The groups exist in the new pool.
    pub const GROUPS_COPIED: &str = "groupsCopied";
    /// When the groups were copied.
    pub const GROUPS_COPIED_AT_MS: &str = "groupsCopiedAtMs";
    /// Every `pk` of the user.
    pub const KEYS: &str = "keys";
    /// The item under the username's own key.
    pub const PRIMARY: &str = "primary";
    /// When the index last wrote the item.
    pub const INDEXED_AT_MS: &str = "indexedAtMs";
    /// The legacy user holding a claim on a new-pool username.
    pub const LEGACY_USERNAME: &str = "legacyUsername";
}

/// The partition key of the claim on a new-pool username: `n#` + username.
#[must_use]
pub fn claim_partition_key(new_username: &str) -> String {
    format!("n#{new_username}")
}

/// The sort key of a claim.
pub const CLAIM_SORT_KEY: &str = "claim";

/// The partition key of a match key: `k#` + key.
#[must_use]
pub fn partition_key(key: &MatchKey) -> String {
    format!("k#{key}")
}

/// The sort key of a legacy user: `u#` + username.
#[must_use]
pub fn sort_key(legacy_username: &str) -> String {
    format!("u#{legacy_username}")
}

/// The `pk` of a user's own item.
#[must_use]
pub fn own_partition_key(legacy_username: &str) -> String {
    partition_key(&match_key(legacy_username))
}

/// The attributes that make up a user's migration state, the same on every copy.
pub(crate) const STATE_ATTRIBUTES: [&str; 8] = [
    attr::STATE,
    attr::NEW_USERNAME,
    attr::NEW_SUB,
    attr::AT_MS,
    attr::REASON,
    attr::METHOD,
    attr::GROUPS_COPIED,
    attr::GROUPS_COPIED_AT_MS,
];

/// One user as read from one of its items: the core's entry plus what the adapter needs to
/// update every copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRecord {
    /// The user and its state.
    pub entry: LedgerEntry,
    /// Every `pk` the user is filed under.
    pub keys: Vec<String>,
    /// The `pk` of the item this record was read from.
    pub pk: String,
    /// True when read from the item under the username's own key.
    pub primary: bool,
    /// When the index last wrote the item.
    pub indexed_at_ms: Option<i64>,
    /// When the groups were copied, if they were.
    pub groups_copied_at_ms: Option<i64>,
}

impl LedgerRecord {
    /// The `pk`s to update on a state change: the recorded keys, or at least the one read.
    pub(crate) fn copies(&self) -> Vec<String> {
        if self.keys.is_empty() {
            vec![self.pk.clone()]
        } else {
            self.keys.clone()
        }
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The items that store `entry`, one per directory key, written at `indexed_at_ms`.
pub fn entry_to_items(entry: &LedgerEntry, indexed_at_ms: i64) -> Result<Vec<Item>, AwsError> {
    let user_json = serde_json::to_string(&entry.user).map_err(|e| {
        AwsError::MalformedItem(format!("the user does not serialise ({})", json_error(&e)))
    })?;
    let keys: Vec<String> = directory_keys(&entry.user)
        .iter()
        .map(partition_key)
        .collect();
    let own = partition_key(&match_key(&entry.user.username));
    let mut items = Vec::with_capacity(keys.len());
    for pk in &keys {
        let mut item = Item::new();
        item.insert(attr::PK.into(), s(pk));
        item.insert(attr::SK.into(), s(sort_key(&entry.user.username)));
        item.insert(attr::USER.into(), s(&user_json));
        item.insert(
            attr::KEYS.into(),
            AttributeValue::L(keys.iter().map(s).collect()),
        );
        item.insert(attr::PRIMARY.into(), AttributeValue::Bool(*pk == own));
        item.insert(attr::INDEXED_AT_MS.into(), n(indexed_at_ms));
        item.insert(
            attr::GROUPS_COPIED.into(),
            AttributeValue::Bool(entry.groups_copied),
        );
        state_to_attributes(&entry.state, &mut item);
        items.push(item);
    }
    Ok(items)
}

fn state_to_attributes(state: &MigrationState, item: &mut Item) {
    item.insert(attr::STATE.into(), s(state.name()));
    match state {
        MigrationState::Pending => {}
        MigrationState::Approved {
            new_username,
            at_ms,
        } => {
            item.insert(attr::NEW_USERNAME.into(), s(new_username));
            item.insert(attr::AT_MS.into(), n(*at_ms));
        }
        MigrationState::Migrated {
            new_username,
            at_ms,
            new_sub,
        } => {
            item.insert(attr::NEW_USERNAME.into(), s(new_username));
            item.insert(attr::AT_MS.into(), n(*at_ms));
            if let Some(sub) = new_sub {
                item.insert(attr::NEW_SUB.into(), s(sub));
            }
        }
        MigrationState::Refused { reason, at_ms } => {
            item.insert(attr::REASON.into(), s(reason.as_str()));
            item.insert(attr::AT_MS.into(), n(*at_ms));
        }
        MigrationState::Finished { method, at_ms } => {
            item.insert(attr::METHOD.into(), s(method_word(*method)));
            item.insert(attr::AT_MS.into(), n(*at_ms));
        }
    }
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_n(item: &Item, name: &str) -> Result<Option<i64>, AwsError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(AttributeValue::N(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| AwsError::MalformedItem(format!("`{name}` is not an integer"))),
        Some(_) => Err(AwsError::MalformedItem(format!("`{name}` is not a number"))),
    }
}

fn get_bool(item: &Item, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

/// Reads one item back into a record. Unknown attributes are ignored.
pub fn item_to_record(item: &Item) -> Result<LedgerRecord, AwsError> {
    let pk = get_s(item, attr::PK).ok_or_else(|| AwsError::MalformedItem("no `pk`".into()))?;
    let user_json =
        get_s(item, attr::USER).ok_or_else(|| AwsError::MalformedItem("no `user`".into()))?;
    let user: LegacyUser = serde_json::from_str(user_json).map_err(|e| {
        AwsError::MalformedItem(format!("`user` is not a legacy user ({})", json_error(&e)))
    })?;
    let state_name = get_s(item, attr::STATE).unwrap_or("pending");
    let mut state = Map::new();
    state.insert("state".into(), state_name.into());
    let at_ms = get_n(item, attr::AT_MS)?;
    match state_name {
        "pending" => {}
        "approved" | "migrated" => {
            state.insert(
                "newUsername".into(),
                get_s(item, attr::NEW_USERNAME).unwrap_or_default().into(),
            );
            state.insert("atMs".into(), at_ms.unwrap_or_default().into());
            if let Some(sub) = get_s(item, attr::NEW_SUB) {
                state.insert("newSub".into(), sub.into());
            }
        }
        "refused" => {
            state.insert(
                "reason".into(),
                get_s(item, attr::REASON).unwrap_or_default().into(),
            );
            state.insert("atMs".into(), at_ms.unwrap_or_default().into());
        }
        "finished" => {
            state.insert(
                "method".into(),
                get_s(item, attr::METHOD).unwrap_or_default().into(),
            );
            state.insert("atMs".into(), at_ms.unwrap_or_default().into());
        }
        _ => return Err(AwsError::MalformedItem("unknown state".into())),
    }
    let state: MigrationState = serde_json::from_value(Value::Object(state)).map_err(|e| {
        AwsError::MalformedItem(format!("bad `{state_name}` state ({})", json_error(&e)))
    })?;
    let keys = match item.get(attr::KEYS) {
        Some(AttributeValue::L(list)) => {
            list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
        }
        Some(AttributeValue::Ss(list)) => list.clone(),
        _ => Vec::new(),
    };
    Ok(LedgerRecord {
        entry: LedgerEntry {
            user,
            state,
            groups_copied: get_bool(item, attr::GROUPS_COPIED),
            groups_copied_at_ms: get_n(item, attr::GROUPS_COPIED_AT_MS)?,
        },
        keys,
        pk: pk.to_owned(),
        primary: get_bool(item, attr::PRIMARY),
        indexed_at_ms: get_n(item, attr::INDEXED_AT_MS)?,
        groups_copied_at_ms: get_n(item, attr::GROUPS_COPIED_AT_MS)?,
    })
}

/// The table key of one copy.
pub(crate) fn item_key(pk: &str, legacy_username: &str) -> Item {
    HashMap::from([
        (attr::PK.to_owned(), s(pk)),
        (attr::SK.to_owned(), s(sort_key(legacy_username))),
    ])
}

#[cfg(test)]
mod tests {
    use cognito_migrate_core::ledger::FinishMethod;
    use cognito_migrate_core::migrate::ReasonCode;

    use super::*;

    fn user() -> LegacyUser {
        LegacyUser::new(
            "Name@Acme.com",
            [
                ("email".to_owned(), "NAME@acme.com".to_owned()),
                ("preferred_username".to_owned(), "Nick".to_owned()),
            ]
            .into(),
        )
    }

    #[test]
    fn every_state_round_trips_through_items() {
        let states = [
            MigrationState::Pending,
            MigrationState::Approved {
                new_username: "name@acme.com".into(),
                at_ms: 6,
            },
            MigrationState::Migrated {
                new_username: "name@acme.com".into(),
                at_ms: 7,
                new_sub: None,
            },
            MigrationState::Migrated {
                new_username: "name@acme.com".into(),
                at_ms: 7,
                new_sub: Some("0f6b2c1e-new".into()),
            },
            MigrationState::Refused {
                reason: ReasonCode::Ambiguous,
                at_ms: 8,
            },
            MigrationState::Finished {
                method: FinishMethod::CsvImport,
                at_ms: 9,
            },
        ];
        for state in states {
            let entry = LedgerEntry {
                user: user(),
                state,
                groups_copied: true,
                groups_copied_at_ms: None,
            };
            let items = entry_to_items(&entry, 42).unwrap();
            assert_eq!(items.len(), 2, "one item per distinct key");
            for item in &items {
                let record = item_to_record(item).unwrap();
                assert_eq!(record.entry, entry);
                assert_eq!(record.keys, ["k#name@acme.com", "k#nick"]);
                assert_eq!(record.indexed_at_ms, Some(42));
            }
            let primaries: Vec<bool> = items
                .iter()
                .map(|i| item_to_record(i).unwrap().primary)
                .collect();
            assert_eq!(primaries, [true, false]);
        }
    }

    #[test]
    fn unreadable_items_are_errors() {
        let mut item = entry_to_items(&LedgerEntry::pending(user()), 1)
            .unwrap()
            .remove(0);
        item.insert(attr::STATE.into(), s("lost"));
        assert!(matches!(
            item_to_record(&item),
            Err(AwsError::MalformedItem(_))
        ));
        item.remove(attr::USER);
        assert!(matches!(
            item_to_record(&item),
            Err(AwsError::MalformedItem(_))
        ));
    }
}
