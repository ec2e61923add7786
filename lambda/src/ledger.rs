//! The ledger table: the case-insensitive directory of the legacy pool and each user's
//! migration state. Every `DynamoDB` call of the trigger is in this file.
//!
//! # Item format
//!
//! Table key: partition `pk` (S), sort `sk` (S). A legacy user is stored as one item per
//! distinct key of [`directory_keys`], so one `Query` on `pk` returns every candidate for a typed
//! identifier:
//!
//! | attribute     | type | content                                                            |
//! |---------------|------|--------------------------------------------------------------------|
//! | `pk`          | S    | `k#` + match key                                                    |
//! | `sk`          | S    | `u#` + legacy username (exact case)                                 |
//! | `user`        | S    | the [`LegacyUser`] as JSON (serde)                                  |
//! | `state`       | S    | `pending`, `migrated`, `refused` or `finished`                      |
//! | `newUsername` | S    | migrated: the new pool's username                                   |
//! | `atMs`        | N    | migrated, refused, finished: when                                   |
//! | `reason`      | S    | refused: the [`ReasonCode`]                                         |
//! | `method`      | S    | finished: the [`FinishMethod`] (`csv-import`, `admin-create-user`)  |
//! | `groupsCopied`| BOOL | the user's groups exist in the new pool                             |
//! | `groupsCopiedAtMs` | N | when they were copied                                            |
//! | `keys`        | L(S) | every `pk` of this user, so a state change updates all copies       |
//! | `primary`     | BOOL | true on the item under the username's own key (count users by it)   |
//! | `indexedAtMs` | N    | when the index last wrote the item                                  |
//!
//! State changes update every copy in one `TransactWriteItems` with a condition, so Cognito's
//! retries and concurrent sign-ins never migrate twice or lose an update.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use cognito_migrate_core::ledger::{FinishMethod, LedgerEntry, MigrationState, directory_keys};
use cognito_migrate_core::migrate::ReasonCode;
use cognito_migrate_core::user::LegacyUser;
use cognito_migrate_core::{MatchKey, match_key};
use futures::StreamExt;
use serde_json::{Map, Value};

use crate::error::AwsError;

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
    /// The new pool's username (migrated).
    pub const NEW_USERNAME: &str = "newUsername";
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
}

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
    fn copies(&self) -> Vec<String> {
        if self.keys.is_empty() {
            vec![self.pk.clone()]
        } else {
            self.keys.clone()
        }
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The items that store `entry`, one per directory key, written at `indexed_at_ms`.
pub fn entry_to_items(entry: &LedgerEntry, indexed_at_ms: i64) -> Result<Vec<Item>, AwsError> {
    let user_json = serde_json::to_string(&entry.user)
        .map_err(|e| AwsError::MalformedItem(format!("the user does not serialise: {e}")))?;
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
        MigrationState::Migrated {
            new_username,
            at_ms,
        } => {
            item.insert(attr::NEW_USERNAME.into(), s(new_username));
            item.insert(attr::AT_MS.into(), n(*at_ms));
        }
        MigrationState::Refused { reason, at_ms } => {
            item.insert(attr::REASON.into(), s(reason.as_str()));
            item.insert(attr::AT_MS.into(), n(*at_ms));
        }
        MigrationState::Finished { method, at_ms } => {
            item.insert(attr::METHOD.into(), s(finish_method_word(*method)));
            item.insert(attr::AT_MS.into(), n(*at_ms));
        }
    }
}

fn finish_method_word(method: FinishMethod) -> &'static str {
    match method {
        FinishMethod::CsvImport => "csv-import",
        FinishMethod::AdminCreateUser => "admin-create-user",
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
    let user: LegacyUser = serde_json::from_str(user_json)
        .map_err(|e| AwsError::MalformedItem(format!("`user` is not a legacy user: {e}")))?;
    let state_name = get_s(item, attr::STATE).unwrap_or("pending");
    let mut state = Map::new();
    state.insert("state".into(), state_name.into());
    let at_ms = get_n(item, attr::AT_MS)?;
    match state_name {
        "pending" => {}
        "migrated" => {
            state.insert(
                "newUsername".into(),
                get_s(item, attr::NEW_USERNAME).unwrap_or_default().into(),
            );
            state.insert("atMs".into(), at_ms.unwrap_or_default().into());
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
        other => return Err(AwsError::MalformedItem(format!("unknown state `{other}`"))),
    }
    let state: MigrationState = serde_json::from_value(Value::Object(state))
        .map_err(|e| AwsError::MalformedItem(format!("bad `{state_name}` state: {e}")))?;
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
        },
        keys,
        pk: pk.to_owned(),
        primary: get_bool(item, attr::PRIMARY),
        indexed_at_ms: get_n(item, attr::INDEXED_AT_MS)?,
        groups_copied_at_ms: get_n(item, attr::GROUPS_COPIED_AT_MS)?,
    })
}

/// What [`Ledger::record_migration`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationWrite {
    /// The state became `migrated`.
    Recorded,
    /// It already was `migrated` to the same username (a retried invocation): nothing changed.
    AlreadyRecorded,
}

/// The ledger table.
#[derive(Debug, Clone)]
pub struct Ledger {
    client: Client,
    table: String,
}

const MIGRATABLE: &str = "attribute_not_exists(#state) OR #state IN (:pending, :refused) OR (#state = :migrated AND #newUsername = :newUsername)";

impl Ledger {
    /// The ledger in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The `DynamoDB` client, for operator code that reads the whole table.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every user filed under `key`: one strongly consistent `Query` (more pages only if the
    /// items outgrow one 1 MB page).
    pub async fn candidates(&self, key: &MatchKey) -> Result<Vec<LedgerRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_values(":pk", s(partition_key(key)))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("Query", &e))?;
            for item in page.items() {
                records.push(item_to_record(item)?);
            }
            match page.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => return Ok(records),
            }
        }
    }

    /// The record of one legacy user, read from the item under its username's own key.
    pub async fn record(&self, legacy_username: &str) -> Result<Option<LedgerRecord>, AwsError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK, s(partition_key(&match_key(legacy_username))))
            .key(attr::SK, s(sort_key(legacy_username)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetItem", &e))?;
        answer.item.as_ref().map(item_to_record).transpose()
    }

    /// Marks `record`'s user migrated to `new_username`, on every copy, in one transaction.
    ///
    /// Allowed over `pending` and `refused`, and over `migrated` to the same username (Cognito
    /// retrying a migration that did not complete). When the record already says so, the
    /// transaction only checks that it still does, and nothing changes. Any other concurrent
    /// change makes it fail with [`AwsError::Conflict`].
    pub async fn record_migration(
        &self,
        record: &LedgerRecord,
        new_username: &str,
        at_ms: i64,
    ) -> Result<MigrationWrite, AwsError> {
        let username = &record.entry.user.username;
        let already = matches!(
            &record.entry.state,
            MigrationState::Migrated { new_username: recorded, .. } if recorded == new_username
        );
        let user_json = serde_json::to_string(&record.entry.user)
            .map_err(|e| AwsError::MalformedItem(format!("the user does not serialise: {e}")))?;
        let copies = record.copies();
        let key_list = AttributeValue::L(copies.iter().map(s).collect());
        let own = partition_key(&match_key(username));
        let mut items = Vec::new();
        for pk in copies {
            let key = item_key(&pk, username);
            let item = if already {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .condition_expression("#state = :migrated AND #newUsername = :newUsername")
                    .expression_attribute_names("#state", attr::STATE)
                    .expression_attribute_names("#newUsername", attr::NEW_USERNAME)
                    .expression_attribute_values(":migrated", s("migrated"))
                    .expression_attribute_values(":newUsername", s(new_username))
                    .build()
                    .map_err(|_| build_error("TransactWriteItems"))?;
                TransactWriteItem::builder().condition_check(check).build()
            } else {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    // A user found by the exact fallback lookup has no items yet: they are
                    // created complete, so the next query reads them like indexed ones.
                    .update_expression(
                        "SET #state = :migrated, #newUsername = :newUsername, #atMs = :atMs, \
                         #user = if_not_exists(#user, :user), #keys = if_not_exists(#keys, :keys), \
                         #primary = if_not_exists(#primary, :primary), \
                         #groupsCopied = if_not_exists(#groupsCopied, :false) \
                         REMOVE #reason, #method",
                    )
                    .condition_expression(MIGRATABLE)
                    .expression_attribute_names("#state", attr::STATE)
                    .expression_attribute_names("#newUsername", attr::NEW_USERNAME)
                    .expression_attribute_names("#atMs", attr::AT_MS)
                    .expression_attribute_names("#reason", attr::REASON)
                    .expression_attribute_names("#method", attr::METHOD)
                    .expression_attribute_names("#user", attr::USER)
                    .expression_attribute_names("#keys", attr::KEYS)
                    .expression_attribute_names("#primary", attr::PRIMARY)
                    .expression_attribute_names("#groupsCopied", attr::GROUPS_COPIED)
                    .expression_attribute_values(":pending", s("pending"))
                    .expression_attribute_values(":refused", s("refused"))
                    .expression_attribute_values(":migrated", s("migrated"))
                    .expression_attribute_values(":newUsername", s(new_username))
                    .expression_attribute_values(":atMs", n(at_ms))
                    .expression_attribute_values(":user", s(&user_json))
                    .expression_attribute_values(":keys", key_list.clone())
                    .expression_attribute_values(":primary", AttributeValue::Bool(pk == own))
                    .expression_attribute_values(":false", AttributeValue::Bool(false))
                    .build()
                    .map_err(|_| build_error("TransactWriteItems"))?;
                TransactWriteItem::builder().update(update).build()
            };
            items.push(item);
        }
        self.transact(items).await?;
        Ok(if already {
            MigrationWrite::AlreadyRecorded
        } else {
            MigrationWrite::Recorded
        })
    }

    /// Records a refusal on every copy of each user, only where the state is `pending` or
    /// `refused` (a refusal never hides a migration).
    pub async fn record_refusal(
        &self,
        records: &[&LedgerRecord],
        reason: ReasonCode,
        at_ms: i64,
    ) -> Result<(), AwsError> {
        let mut items = Vec::new();
        for record in records {
            for pk in record.copies() {
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(item_key(&pk, &record.entry.user.username)))
                    .update_expression("SET #state = :refused, #reason = :reason, #atMs = :atMs")
                    .condition_expression("#state IN (:pending, :refused)")
                    .expression_attribute_names("#state", attr::STATE)
                    .expression_attribute_names("#reason", attr::REASON)
                    .expression_attribute_names("#atMs", attr::AT_MS)
                    .expression_attribute_values(":pending", s("pending"))
                    .expression_attribute_values(":refused", s("refused"))
                    .expression_attribute_values(":reason", s(reason.as_str()))
                    .expression_attribute_values(":atMs", n(at_ms))
                    .build()
                    .map_err(|_| build_error("TransactWriteItems"))?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
        }
        if items.is_empty() {
            return Ok(());
        }
        self.transact(items).await
    }

    /// Marks the user's groups copied, on every copy, only over `migrated` or `finished`.
    pub async fn mark_groups_copied(
        &self,
        record: &LedgerRecord,
        at_ms: i64,
    ) -> Result<(), AwsError> {
        let mut items = Vec::new();
        for pk in record.copies() {
            let update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(item_key(&pk, &record.entry.user.username)))
                .update_expression("SET #groupsCopied = :true, #groupsCopiedAtMs = :atMs")
                .condition_expression("#state IN (:migrated, :finished)")
                .expression_attribute_names("#state", attr::STATE)
                .expression_attribute_names("#groupsCopied", attr::GROUPS_COPIED)
                .expression_attribute_names("#groupsCopiedAtMs", attr::GROUPS_COPIED_AT_MS)
                .expression_attribute_values(":migrated", s("migrated"))
                .expression_attribute_values(":finished", s("finished"))
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":atMs", n(at_ms))
                .build()
                .map_err(|_| build_error("TransactWriteItems"))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        self.transact(items).await
    }

    /// Files (or refreshes) one legacy user under each of its keys: `user`, `keys`, `primary`
    /// and `indexedAtMs` are rewritten, an existing state and `groupsCopied` are kept, a new
    /// item starts `pending`. Idempotent.
    pub async fn upsert_indexed_user(
        &self,
        user: &LegacyUser,
        now_ms: i64,
    ) -> Result<(), AwsError> {
        let user_json = serde_json::to_string(user)
            .map_err(|e| AwsError::MalformedItem(format!("the user does not serialise: {e}")))?;
        let keys: Vec<String> = directory_keys(user).iter().map(partition_key).collect();
        let own = partition_key(&match_key(&user.username));
        let key_list = AttributeValue::L(keys.iter().map(s).collect());
        for pk in &keys {
            self.client
                .update_item()
                .table_name(&self.table)
                .key(attr::PK, s(pk))
                .key(attr::SK, s(sort_key(&user.username)))
                .update_expression(
                    "SET #user = :user, #keys = :keys, #primary = :primary, #indexedAtMs = :now, \
                     #state = if_not_exists(#state, :pending), \
                     #groupsCopied = if_not_exists(#groupsCopied, :false)",
                )
                .expression_attribute_names("#user", attr::USER)
                .expression_attribute_names("#keys", attr::KEYS)
                .expression_attribute_names("#primary", attr::PRIMARY)
                .expression_attribute_names("#indexedAtMs", attr::INDEXED_AT_MS)
                .expression_attribute_names("#state", attr::STATE)
                .expression_attribute_names("#groupsCopied", attr::GROUPS_COPIED)
                .expression_attribute_values(":user", s(&user_json))
                .expression_attribute_values(":keys", key_list.clone())
                .expression_attribute_values(":primary", AttributeValue::Bool(*pk == own))
                .expression_attribute_values(":now", n(now_ms))
                .expression_attribute_values(":pending", s("pending"))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdateItem", &e))?;
        }
        Ok(())
    }

    /// [`Self::upsert_indexed_user`] for many users, `concurrency` at a time. Returns one result
    /// per user, in the order given.
    pub async fn upsert_indexed_users(
        &self,
        users: &[LegacyUser],
        now_ms: i64,
        concurrency: usize,
    ) -> Vec<Result<(), AwsError>> {
        let mut results: Vec<(usize, Result<(), AwsError>)> =
            futures::stream::iter(users.iter().enumerate())
                .map(|(i, user)| async move { (i, self.upsert_indexed_user(user, now_ms).await) })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), AwsError> {
        const OPERATION: &str = "TransactWriteItems";
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) => {
                let conflict = error.as_service_error().is_some_and(|e| match e {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancel) => {
                        cancel
                            .cancellation_reasons()
                            .iter()
                            .any(|r| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict")))
                    }
                    _ => false,
                });
                if conflict {
                    Err(AwsError::Conflict {
                        operation: OPERATION,
                    })
                } else {
                    Err(AwsError::from_sdk(OPERATION, &error))
                }
            }
        }
    }
}

/// The table key of one copy.
fn item_key(pk: &str, legacy_username: &str) -> Item {
    HashMap::from([
        (attr::PK.to_owned(), s(pk)),
        (attr::SK.to_owned(), s(sort_key(legacy_username))),
    ])
}

fn build_error(operation: &'static str) -> AwsError {
    AwsError::Transport {
        operation,
        kind: "the request could not be built",
    }
}

#[cfg(test)]
mod tests {
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
            MigrationState::Migrated {
                new_username: "name@acme.com".into(),
                at_ms: 7,
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
    fn finish_method_words_match_the_core() {
        for method in [FinishMethod::CsvImport, FinishMethod::AdminCreateUser] {
            assert_eq!(
                serde_json::to_value(method).unwrap(),
                finish_method_word(method)
            );
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
