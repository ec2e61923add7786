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
//!
//! A migration also writes, in the same transaction, a claim on the new pool's username: the
//! item `pk` = `n#` + new username, `sk` = `claim`, with `legacyUsername` and `atMs`. It is
//! written only if absent or already held by the same legacy user, so two legacy users of a
//! collision pair signing in at the same moment, each with its own password, are never both
//! recorded as the one user Cognito creates: the second transaction fails and that sign-in is
//! refused. Claims carry no `primary` flag, so scans of the users skip them.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem, Update,
};
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
            groups_copied_at_ms: get_n(item, attr::GROUPS_COPIED_AT_MS)?,
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
    counters: bool,
}

/// The attributes that make up a user's migration state, the same on every copy.
const STATE_ATTRIBUTES: [&str; 7] = [
    attr::STATE,
    attr::NEW_USERNAME,
    attr::AT_MS,
    attr::REASON,
    attr::METHOD,
    attr::GROUPS_COPIED,
    attr::GROUPS_COPIED_AT_MS,
];

const MIGRATABLE: &str = "attribute_not_exists(#state) OR #state IN (:pending, :refused) OR (#state = :migrated AND #newUsername = :newUsername)";

impl Ledger {
    /// The ledger in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            counters: false,
        }
    }

    /// The same ledger, keeping (or not) the aggregate [`counter`] items up to date in every
    /// state change. Off by default: a ledger without counter items is what older code and
    /// tools that read every item expect.
    #[must_use]
    pub fn with_counters(mut self, on: bool) -> Self {
        self.counters = on;
        self
    }

    /// True when state changes also update the counters.
    #[must_use]
    pub fn counts(&self) -> bool {
        self.counters
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
    /// change makes it fail with [`AwsError::Conflict`], and so does `new_username` claimed by
    /// another legacy user (see the module documentation).
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
        let anchor = anchor_copy(&copies, &own);
        let from = StoredState::of(record);
        let mut items = Vec::new();
        for pk in copies {
            let key = item_key(&pk, username);
            // With counters, one copy pins the exact state the deltas were computed from.
            let pin = (self.counters && pk == anchor).then(|| from.pin());
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
                    .condition_expression(match &pin {
                        Some(pin) => format!("({MIGRATABLE}) AND ({})", pin.expression),
                        None => MIGRATABLE.to_owned(),
                    })
                    .set_expression_attribute_values(pin.as_ref().map(Pin::values))
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
        if !already {
            items.push(self.claim(new_username, username, at_ms)?);
        }
        if self.counters && !already {
            let mut delta = from.leave();
            delta.merge(&CounterDelta::enter(&MigrationState::Migrated {
                new_username: new_username.to_owned(),
                at_ms,
            }));
            items.extend(delta.updates(&self.table, counter::shard_of(username))?);
        }
        self.transact(items).await?;
        Ok(if already {
            MigrationWrite::AlreadyRecorded
        } else {
            MigrationWrite::Recorded
        })
    }

    /// The claim of `legacy_username` on `new_username`: written when no one holds it, kept
    /// when this user already does, refused (transaction cancelled) when another user does.
    fn claim(
        &self,
        new_username: &str,
        legacy_username: &str,
        at_ms: i64,
    ) -> Result<TransactWriteItem, AwsError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(attr::PK, s(claim_partition_key(new_username)))
            .key(attr::SK, s(CLAIM_SORT_KEY))
            .update_expression("SET #legacyUsername = :legacyUsername, #atMs = :atMs")
            .condition_expression(
                "attribute_not_exists(#legacyUsername) OR #legacyUsername = :legacyUsername",
            )
            .expression_attribute_names("#legacyUsername", attr::LEGACY_USERNAME)
            .expression_attribute_names("#atMs", attr::AT_MS)
            .expression_attribute_values(":legacyUsername", s(legacy_username))
            .expression_attribute_values(":atMs", n(at_ms))
            .build()
            .map_err(|_| build_error("TransactWriteItems"))?;
        Ok(TransactWriteItem::builder().update(update).build())
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
        let mut delta = CounterDelta::default();
        for record in records {
            let copies = record.copies();
            let anchor = anchor_copy(
                &copies,
                &partition_key(&match_key(&record.entry.user.username)),
            );
            let from = StoredState::of(record);
            if self.counters {
                // refused -> refused with the same reason changes no counter; with another
                // reason it moves one user between reasons.
                delta.merge(&from.leave());
                delta.merge(&CounterDelta::enter(&MigrationState::Refused {
                    reason,
                    at_ms,
                }));
            }
            for pk in copies {
                let pin = (self.counters && pk == anchor).then(|| from.pin());
                let update = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(item_key(&pk, &record.entry.user.username)))
                    .update_expression("SET #state = :refused, #reason = :reason, #atMs = :atMs")
                    .condition_expression(match &pin {
                        Some(pin) => {
                            format!("#state IN (:pending, :refused) AND ({})", pin.expression)
                        }
                        None => "#state IN (:pending, :refused)".to_owned(),
                    })
                    .set_expression_attribute_values(pin.as_ref().map(Pin::values))
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
        if let Some(first) = records.first() {
            items
                .extend(delta.updates(&self.table, counter::shard_of(&first.entry.user.username))?);
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
    /// and `indexedAtMs` are rewritten, an existing state and `groupsCopied` are kept. Idempotent.
    ///
    /// The item under the username's own key is written first; a copy under a key the user did
    /// not have before (an e-mail address changed since the last run) starts with that item's
    /// state, so a migrated user is not `pending` under its new address. Returns the keys the
    /// user had and no longer has, whose copies are stale (`remove_stale_copies` deletes them).
    pub async fn upsert_indexed_user(
        &self,
        user: &LegacyUser,
        now_ms: i64,
    ) -> Result<Vec<String>, AwsError> {
        let user_json = serde_json::to_string(user)
            .map_err(|e| AwsError::MalformedItem(format!("the user does not serialise: {e}")))?;
        let mut keys: Vec<String> = directory_keys(user).iter().map(partition_key).collect();
        let own = partition_key(&match_key(&user.username));
        // The own key first: its earlier version tells the state and the keys the user had.
        keys.sort_by_key(|pk| *pk != own);
        let key_list = AttributeValue::L(keys.iter().map(s).collect());
        let mut primary_before: Option<Item> = None;
        for pk in &keys {
            let is_primary = *pk == own;
            let mut names: HashMap<String, String> = [
                ("#user", attr::USER),
                ("#keys", attr::KEYS),
                ("#primary", attr::PRIMARY),
                ("#indexedAtMs", attr::INDEXED_AT_MS),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            let mut values: Item = HashMap::from([
                (":user".to_owned(), s(&user_json)),
                (":keys".to_owned(), key_list.clone()),
                (":primary".to_owned(), AttributeValue::Bool(is_primary)),
                (":now".to_owned(), n(now_ms)),
            ]);
            let mut expression = String::from(
                "SET #user = :user, #keys = :keys, #primary = :primary, #indexedAtMs = :now",
            );
            // A new copy takes the primary's state attributes; an existing one keeps its own.
            let carried: Vec<(&str, AttributeValue)> = match primary_before
                .as_ref()
                .filter(|before| before.contains_key(attr::STATE))
            {
                Some(before) => STATE_ATTRIBUTES
                    .iter()
                    .filter_map(|&name| Some((name, before.get(name)?.clone())))
                    .collect(),
                None => vec![
                    (attr::STATE, s("pending")),
                    (attr::GROUPS_COPIED, AttributeValue::Bool(false)),
                ],
            };
            for (i, (name, value)) in carried.into_iter().enumerate() {
                use std::fmt::Write as _;
                let _ = write!(expression, ", #c{i} = if_not_exists(#c{i}, :c{i})");
                names.insert(format!("#c{i}"), name.to_owned());
                values.insert(format!(":c{i}"), value);
            }
            let answer = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(attr::PK, s(pk))
                .key(attr::SK, s(sort_key(&user.username)))
                .update_expression(expression)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .set_return_values(is_primary.then_some(ReturnValue::AllOld))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("UpdateItem", &e))?;
            if is_primary {
                let before = answer.attributes.unwrap_or_default();
                // Only the write that created the primary item sees no earlier state, so a
                // user is counted once however often it is indexed. A crash between the two
                // writes leaves that user uncounted until `status --recount`.
                if self.counters && !before.contains_key(attr::STATE) {
                    self.add_counters(&CounterDelta::new_user(), &user.username)
                        .await?;
                }
                primary_before = Some(before);
            }
        }
        let had: Vec<String> = primary_before
            .as_ref()
            .and_then(|before| before.get(attr::KEYS))
            .and_then(|keys| keys.as_l().ok())
            .map(|list| list.iter().filter_map(|k| k.as_s().ok().cloned()).collect())
            .unwrap_or_default();
        Ok(had.into_iter().filter(|pk| !keys.contains(pk)).collect())
    }

    /// Applies a delta outside any transaction (one `UpdateItem` per counter item).
    async fn add_counters(&self, delta: &CounterDelta, username: &str) -> Result<(), AwsError> {
        for item in delta.updates(&self.table, counter::shard_of(username))? {
            let Some(update) = item.update else { continue };
            self.client
                .update_item()
                .table_name(update.table_name)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
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
                .map(|(i, user)| async move {
                    (i, self.upsert_indexed_user(user, now_ms).await.map(drop))
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), AwsError> {
        match self.transact_codes(items).await {
            Ok(()) => Ok(()),
            Err(TransactFailure::Cancelled(codes)) => {
                if codes
                    .iter()
                    .any(|c| matches!(c.as_str(), "ConditionalCheckFailed" | "TransactionConflict"))
                {
                    Err(AwsError::Conflict {
                        operation: "TransactWriteItems",
                    })
                } else {
                    Err(AwsError::Service {
                        operation: "TransactWriteItems",
                        code: "TransactionCanceledException".into(),
                    })
                }
            }
            Err(TransactFailure::Other(error)) => Err(error),
        }
    }

    /// Runs a transaction. With counters, every transaction also touches a shared counter
    /// item, so one lost only to another transaction on it (no condition failed) is tried
    /// again a few times.
    async fn transact_codes(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactFailure> {
        let attempts: u32 = if self.counters { 6 } else { 1 };
        let mut attempt: u32 = 1;
        loop {
            match self.transact_once(items.clone()).await {
                Err(TransactFailure::Cancelled(codes))
                    if attempt < attempts
                        && codes.iter().any(|c| c == "TransactionConflict")
                        && !codes.iter().any(|c| c == "ConditionalCheckFailed") =>
                {
                    use std::hash::{BuildHasher as _, Hasher as _};
                    let jitter = std::collections::hash_map::RandomState::new()
                        .build_hasher()
                        .finish()
                        % 20;
                    tokio::time::sleep(std::time::Duration::from_millis(
                        10 * u64::from(attempt) + jitter,
                    ))
                    .await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn transact_once(&self, items: Vec<TransactWriteItem>) -> Result<(), TransactFailure> {
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
                let codes = error.as_service_error().and_then(|e| match e {
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancel) => {
                        Some(
                            cancel
                                .cancellation_reasons()
                                .iter()
                                .map(|r| r.code().unwrap_or("None").to_owned())
                                .collect::<Vec<_>>(),
                        )
                    }
                    _ => None,
                });
                match codes {
                    Some(codes) => Err(TransactFailure::Cancelled(codes)),
                    None => Err(TransactFailure::Other(AwsError::from_sdk(
                        OPERATION, &error,
                    ))),
                }
            }
        }
    }
}

/// Why a transaction did not apply.
#[derive(Debug)]
enum TransactFailure {
    /// Cancelled: one code per item, in order (`None` for the items that were fine).
    Cancelled(Vec<String>),
    /// Any other failure.
    Other(AwsError),
}

/// The copy whose condition pins the exact prior state: the username's own item when the
/// user has one, else the first.
fn anchor_copy(copies: &[String], own: &str) -> String {
    if copies.iter().any(|pk| pk == own) {
        own.to_owned()
    } else {
        copies.first().cloned().unwrap_or_default()
    }
}

/// The state a write starts from, as far as the counters care.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StoredState {
    /// No item yet (a user found by the exact fallback lookup).
    Absent,
    /// Stored with this state.
    Stored(MigrationState),
}

/// A condition that holds only while an item is in one exact state.
#[derive(Debug)]
struct Pin {
    expression: &'static str,
    reason: Option<String>,
}

impl Pin {
    /// The extra values the expression needs, merged into the update's own by the builder.
    fn values(&self) -> HashMap<String, AttributeValue> {
        let mut values = HashMap::from([
            (":pending".to_owned(), s("pending")),
            (":refused".to_owned(), s("refused")),
        ]);
        if let Some(reason) = &self.reason {
            values.insert(":fromReason".to_owned(), s(reason));
        }
        values
    }
}

impl StoredState {
    fn of(record: &LedgerRecord) -> Self {
        if record.indexed_at_ms.is_none() && record.entry.state == MigrationState::Pending {
            Self::Absent
        } else {
            Self::Stored(record.entry.state.clone())
        }
    }

    fn pin(&self) -> Pin {
        match self {
            Self::Absent => Pin {
                expression: "attribute_not_exists(#state)",
                reason: None,
            },
            Self::Stored(MigrationState::Refused { reason, .. }) => Pin {
                expression: "#state = :refused AND #reason = :fromReason",
                reason: Some(reason.as_str().to_owned()),
            },
            // Only pending and refused users are ever moved by these writes.
            Self::Stored(_) => Pin {
                expression: "#state = :pending",
                reason: None,
            },
        }
    }

    fn leave(&self) -> CounterDelta {
        match self {
            Self::Absent => CounterDelta::from_totals(&[(counter::USERS, 1)]),
            Self::Stored(state) => CounterDelta::enter(state).negated(),
        }
    }
}

/// The aggregate counters, kept in the ledger table itself so that `cognito-migrate status`
/// reads a few items instead of scanning a million.
///
/// | `pk`    | `sk`                    | numeric attributes                                   |
/// |---------|-------------------------|------------------------------------------------------|
/// | `stats` | `total#NN`              | `users`, `pending`, `migrated`, `refused`, `finished`, `refused_<reason>`, `finished_<method>` |
/// | `stats` | `day#YYYY-MM-DD#NN`     | `migrated`, `finished` that UTC day                   |
///
/// Each total is the sum over the shards `NN` (`00` to `15`). A user's writes go to the shard
/// of its username, so concurrent sign-ins rarely wait on the same counter item. Counters
/// change with `ADD` inside the transaction that changes the user's state, under a condition
/// pinning the state the change was computed from, so they never drift from the users.
pub mod counter {
    /// The counters' partition.
    pub const PK: &str = "stats";
    /// How many shards each counter item has.
    pub const SHARDS: u32 = 16;
    /// Users in the ledger (one per primary item).
    pub const USERS: &str = "users";
    /// Users in each state.
    pub const PENDING: &str = "pending";
    /// See [`PENDING`].
    pub const MIGRATED: &str = "migrated";
    /// See [`PENDING`].
    pub const REFUSED: &str = "refused";
    /// See [`PENDING`].
    pub const FINISHED: &str = "finished";

    /// The counter of refused users by reason.
    #[must_use]
    pub fn refused_by(reason: &str) -> String {
        format!("refused_{reason}")
    }

    /// The counter of finished users by method.
    #[must_use]
    pub fn finished_by(method: &str) -> String {
        format!("finished_{method}")
    }

    /// The sort key of one shard of the totals.
    #[must_use]
    pub fn total_sk(shard: u32) -> String {
        format!("total#{shard:02}")
    }

    /// The sort key of one shard of a day's counts.
    #[must_use]
    pub fn day_sk(day: &str, shard: u32) -> String {
        format!("day#{day}#{shard:02}")
    }

    /// The shard of a legacy username (FNV-1a, stable across builds).
    #[must_use]
    pub fn shard_of(username: &str) -> u32 {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in username.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        hash % SHARDS
    }

    /// The UTC date (`YYYY-MM-DD`) of a time in milliseconds since the Unix epoch.
    #[must_use]
    pub fn day_of(at_ms: i64) -> String {
        // Howard Hinnant's civil_from_days.
        let z = at_ms.div_euclid(86_400_000) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02}")
    }
}

/// Changes to the counters: totals, and counts per UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterDelta {
    /// Total counter name to change.
    pub totals: std::collections::BTreeMap<String, i64>,
    /// Day (`YYYY-MM-DD`) to counter name to change.
    pub days: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>>,
}

impl CounterDelta {
    fn from_totals(pairs: &[(&str, i64)]) -> Self {
        let mut delta = Self::default();
        for (name, by) in pairs {
            delta.add((*name).to_owned(), *by);
        }
        delta
    }

    /// A user new to the ledger, pending.
    #[must_use]
    pub fn new_user() -> Self {
        Self::from_totals(&[(counter::USERS, 1), (counter::PENDING, 1)])
    }

    /// One user entering `state` (its day counted for migrated and finished).
    #[must_use]
    pub fn enter(state: &MigrationState) -> Self {
        let mut delta = Self::default();
        match state {
            MigrationState::Pending => delta.add(counter::PENDING.into(), 1),
            MigrationState::Migrated { at_ms, .. } => {
                delta.add(counter::MIGRATED.into(), 1);
                delta.add_day(&counter::day_of(*at_ms), counter::MIGRATED, 1);
            }
            MigrationState::Refused { reason, .. } => {
                delta.add(counter::REFUSED.into(), 1);
                delta.add(counter::refused_by(reason.as_str()), 1);
            }
            MigrationState::Finished { method, at_ms } => {
                delta.add(counter::FINISHED.into(), 1);
                delta.add(counter::finished_by(finish_method_word(*method)), 1);
                delta.add_day(&counter::day_of(*at_ms), counter::FINISHED, 1);
            }
        }
        delta
    }

    /// The opposite change. A user leaving a state keeps its day counts: they record what
    /// happened that day.
    #[must_use]
    pub fn negated(&self) -> Self {
        Self {
            totals: self.totals.iter().map(|(k, v)| (k.clone(), -v)).collect(),
            days: std::collections::BTreeMap::new(),
        }
    }

    /// Adds `by` to one total.
    pub fn add(&mut self, name: String, by: i64) {
        *self.totals.entry(name).or_insert(0) += by;
    }

    /// Adds `by` to one day's counter.
    pub fn add_day(&mut self, day: &str, name: &str, by: i64) {
        *self
            .days
            .entry(day.to_owned())
            .or_default()
            .entry(name.to_owned())
            .or_insert(0) += by;
    }

    /// Adds another delta to this one.
    pub fn merge(&mut self, other: &Self) {
        for (name, by) in &other.totals {
            self.add(name.clone(), *by);
        }
        for (day, counts) in &other.days {
            for (name, by) in counts {
                self.add_day(day, name, *by);
            }
        }
    }

    /// True when nothing changes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.totals.values().all(|v| *v == 0)
            && self.days.values().all(|c| c.values().all(|v| *v == 0))
    }

    /// The transaction items applying this delta to one shard (none when nothing changes).
    pub fn updates(&self, table: &str, shard: u32) -> Result<Vec<TransactWriteItem>, AwsError> {
        let mut items = Vec::new();
        let mut targets: Vec<(String, &std::collections::BTreeMap<String, i64>)> =
            vec![(counter::total_sk(shard), &self.totals)];
        for (day, counts) in &self.days {
            targets.push((counter::day_sk(day, shard), counts));
        }
        for (sk, counts) in targets {
            let nonzero: Vec<(&String, &i64)> = counts.iter().filter(|(_, v)| **v != 0).collect();
            if nonzero.is_empty() {
                continue;
            }
            let mut update = Update::builder()
                .table_name(table)
                .key(attr::PK, s(counter::PK))
                .key(attr::SK, s(sk));
            let mut clauses = Vec::new();
            for (i, (name, by)) in nonzero.into_iter().enumerate() {
                clauses.push(format!("#c{i} :c{i}"));
                update = update
                    .expression_attribute_names(format!("#c{i}"), name.clone())
                    .expression_attribute_values(format!(":c{i}"), n(*by));
            }
            let update = update
                .update_expression(format!("ADD {}", clauses.join(", ")))
                .build()
                .map_err(|_| build_error("TransactWriteItems"))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        Ok(items)
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
