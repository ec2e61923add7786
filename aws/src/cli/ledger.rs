//! Operator-only ledger calls for `cognito-migrate index`, `status` and `finish`: filing users
//! under their keys, reading and rebuilding the aggregate counters, a parallel scan of every
//! user, and the bulk-finish mark. The trigger never runs these (`Scan`, `BatchWriteItem`,
//! `DeleteItem`, the index's `UpdateItem`s), so they live apart from [`crate::ledger`].

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, PutRequest, ReturnValue, TransactWriteItem, Update, WriteRequest,
};
pub use cognito_migrate_core::counters::Counters;
use cognito_migrate_core::counters::{self as counter, CounterDelta};
use cognito_migrate_core::ledger::{FinishMethod, MigrationState, directory_keys};
use cognito_migrate_core::match_key;
use cognito_migrate_core::user::{LegacySignIn, LegacyUser};
use futures::StreamExt as _;

use crate::error::{AwsError, json_error};
use crate::ledger::{
    Item, LEGACY_POOL_SK, Ledger, LedgerRecord, META_PK, SIGN_IN, STATE_ATTRIBUTES, attr,
    counter_updates, item_to_record, n, partition_key, s, sort_key,
};

/// The counters of a set of primary records, as a recount computes them.
#[must_use]
pub fn counters_of_records<'a>(records: impl IntoIterator<Item = &'a LedgerRecord>) -> Counters {
    Counters::of_states(records.into_iter().map(|r| &r.entry.state))
}

fn number(value: &AttributeValue) -> Option<i64> {
    value.as_n().ok().and_then(|text| text.parse().ok())
}

impl Ledger {
    /// Reads every counter item (one `Query` on the counters' partition, a page or two) and
    /// sums the shards.
    pub async fn counters(&self) -> Result<Counters, AwsError> {
        Ok(sum_counter_items(self.counter_items(None).await?))
    }

    /// The totals and the per-day counts from `from_day` (`YYYY-MM-DD`) on: two `Query`s of
    /// a few hundred small items at most, whatever the ledger's size and the window's age.
    pub async fn recent_counters(&self, from_day: &str) -> Result<Counters, AwsError> {
        let mut items = self
            .counter_items(Some(("total#".to_owned(), "total#~".to_owned())))
            .await?;
        items.extend(
            self.counter_items(Some((format!("day#{from_day}"), "day#~".to_owned())))
                .await?,
        );
        Ok(sum_counter_items(items))
    }

    /// True when the ledger has counter items: someone started the counters (`status
    /// --recount`), so every writer must keep them.
    pub async fn has_counters(&self) -> Result<bool, AwsError> {
        let page = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", attr::PK)
            .expression_attribute_values(":pk", s(counter::PK))
            .limit(1)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("Query", &e))?;
        Ok(!page.items().is_empty())
    }
}

fn sum_counter_items(items: Vec<Item>) -> Counters {
    let mut counters = Counters::default();
    for item in items {
        counters.items += 1;
        let Some(sk) = item.get(attr::SK).and_then(|v| v.as_s().ok()) else {
            continue;
        };
        let target = if sk.starts_with("total#") {
            &mut counters.totals
        } else if let Some(rest) = sk.strip_prefix("day#") {
            let day = rest.split('#').next().unwrap_or_default().to_owned();
            counters.days.entry(day).or_default()
        } else {
            continue;
        };
        for (name, value) in &item {
            if name == attr::PK || name == attr::SK {
                continue;
            }
            if let Some(value) = number(value) {
                *target.entry(name.clone()).or_insert(0) += value;
            }
        }
    }
    counters
}

impl Ledger {
    /// The counter items, all or those with a sort key in `range` (inclusive).
    async fn counter_items(&self, range: Option<(String, String)>) -> Result<Vec<Item>, AwsError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_values(":pk", s(counter::PK))
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            query = match &range {
                None => query.key_condition_expression("#pk = :pk"),
                Some((from, to)) => query
                    .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                    .expression_attribute_names("#sk", attr::SK)
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to)),
            };
            let page = query
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("Query", &e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// Every user of the ledger, read from its primary item, through a parallel `Scan` of
    /// `segments` segments. Counter items and non-primary copies are skipped.
    pub async fn scan_users(&self, segments: u16) -> Result<Vec<LedgerRecord>, AwsError> {
        let segments = i32::from(segments.max(1));
        let chains = (0..segments).map(|segment| self.scan_segment(segment, segments));
        let pages: Vec<Result<Vec<LedgerRecord>, AwsError>> = futures::stream::iter(chains)
            .buffer_unordered(usize::try_from(segments).unwrap_or(1))
            .collect()
            .await;
        let mut users = Vec::new();
        for page in pages {
            users.extend(page?);
        }
        users.sort_by(|a, b| a.entry.user.username.cmp(&b.entry.user.username));
        Ok(users)
    }

    async fn scan_segment(&self, segment: i32, total: i32) -> Result<Vec<LedgerRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client()
                .scan()
                .table_name(self.table())
                .segment(segment)
                .total_segments(total)
                .filter_expression("#primary = :true")
                .expression_attribute_names("#primary", attr::PRIMARY)
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("Scan", &e))?;
            for item in page.items() {
                records.push(item_to_record(item)?);
            }
            match page.last_evaluated_key {
                Some(next) if !next.is_empty() => start = Some(next),
                _ => return Ok(records),
            }
        }
    }

    /// Replaces every counter item with `counters` (written to shard `00`). Not atomic with
    /// live traffic: run it when no sign-in is migrating, or accept a drift of the writes made
    /// meanwhile.
    pub async fn replace_counters(&self, counters: &Counters) -> Result<usize, AwsError> {
        let mut requests = Vec::new();
        for item in self.counter_items(None).await? {
            let key = [attr::PK, attr::SK]
                .iter()
                .filter_map(|name| item.get(*name).map(|v| ((*name).to_owned(), v.clone())))
                .collect();
            let delete = DeleteRequest::builder()
                .set_key(Some(key))
                .build()
                .map_err(|_| build_error())?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        let mut puts = Vec::new();
        let mut total = Item::from([
            (attr::PK.to_owned(), s(counter::PK)),
            (attr::SK.to_owned(), s(counter::total_sk(0))),
        ]);
        for (name, value) in &counters.totals {
            total.insert(name.clone(), n(*value));
        }
        puts.push(total);
        for (day, counts) in &counters.days {
            let mut item = Item::from([
                (attr::PK.to_owned(), s(counter::PK)),
                (attr::SK.to_owned(), s(counter::day_sk(day, 0))),
            ]);
            for (name, value) in counts {
                item.insert(name.clone(), n(*value));
            }
            puts.push(item);
        }
        let written = puts.len();
        // The deletes go first: a put of the same key in one batch would be refused.
        self.batch_write(requests).await?;
        let puts = puts
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
                    .map_err(|_| build_error())
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_write(puts).await?;
        Ok(written)
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), AwsError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0_u32;
            while !pending.is_empty() {
                let answer = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), pending)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("BatchWriteItem", &e))?;
                pending = answer
                    .unprocessed_items
                    .and_then(|mut left| left.remove(self.table()))
                    .unwrap_or_default();
                attempt += 1;
                if !pending.is_empty() {
                    if attempt > 8 {
                        return Err(AwsError::Service {
                            operation: "BatchWriteItem",
                            code: "UnprocessedItems".into(),
                        });
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6)))
                        .await;
                }
            }
        }
        Ok(())
    }

    /// Rebuilds the counters from a full parallel scan and stores them. Returns them.
    pub async fn recount(&self, segments: u16) -> Result<Counters, AwsError> {
        let users = self.scan_users(segments).await?;
        let mut counters = counters_of_records(&users);
        counters.items = self.replace_counters(&counters).await?;
        Ok(counters)
    }

    /// Records how the legacy pool lets users sign in (see [`crate::ledger::META_PK`]), read by
    /// every later sign-in.
    pub async fn record_legacy_sign_in(
        &self,
        sign_in: &LegacySignIn,
        at_ms: i64,
    ) -> Result<(), AwsError> {
        let json = serde_json::to_string(sign_in).map_err(|e| {
            AwsError::MalformedItem(format!(
                "the settings do not serialise ({})",
                json_error(&e)
            ))
        })?;
        self.client()
            .put_item()
            .table_name(self.table())
            .item(attr::PK, s(META_PK))
            .item(attr::SK, s(LEGACY_POOL_SK))
            .item(SIGN_IN, s(json))
            .item(attr::AT_MS, n(at_ms))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("PutItem", &e))?;
        Ok(())
    }

    /// Marks a user created in the new pool in bulk as `finished` (and its groups copied, when
    /// `groups_copied`), on every copy, in one transaction: only from the state the record was
    /// read in (`pending`, `refused`, or `approved` to the username the finish looked up), so a
    /// user who migrated by signing in meanwhile is never overwritten. The counters move in the
    /// same transaction when this ledger keeps them. A user filed under one key, without counters, needs no transaction: one
    /// conditional `UpdateItem` is as safe and costs half.
    pub async fn record_finish(
        &self,
        record: &LedgerRecord,
        method: FinishMethod,
        at_ms: i64,
        groups_copied: bool,
    ) -> Result<(), AwsError> {
        let username = &record.entry.user.username;
        // Pinned to the state the record was read in.
        let (pin, from): (&str, [(&str, &str); 2]) = match &record.entry.state {
            MigrationState::Pending => (
                "#state = :pending",
                [(":pending", "pending"), (":pending", "pending")],
            ),
            MigrationState::Refused { reason, .. } => (
                "#state = :refused AND #reason = :fromReason",
                [(":refused", "refused"), (":fromReason", reason.as_str())],
            ),
            MigrationState::Approved { new_username, .. } => (
                "#state = :approved AND #newUsername = :fromUsername",
                [(":approved", "approved"), (":fromUsername", new_username)],
            ),
            _ => {
                return Err(AwsError::Conflict {
                    operation: "TransactWriteItems",
                });
            }
        };
        let copies = if record.keys.is_empty() {
            vec![record.pk.clone()]
        } else {
            record.keys.clone()
        };
        let method_word = counter::method_word(method);
        let mut items = Vec::new();
        for pk in &copies {
            let mut update = Update::builder()
                .table_name(self.table())
                .key(attr::PK, s(pk))
                .key(attr::SK, s(sort_key(username)))
                .update_expression(if groups_copied {
                    "SET #state = :finished, #method = :method, #atMs = :atMs, \
                     #groupsCopied = :true, #groupsCopiedAtMs = :atMs REMOVE #reason, #newUsername"
                } else {
                    "SET #state = :finished, #method = :method, #atMs = :atMs \
                     REMOVE #reason, #newUsername"
                })
                .condition_expression(pin)
                .expression_attribute_names("#state", attr::STATE)
                .expression_attribute_names("#method", attr::METHOD)
                .expression_attribute_names("#atMs", attr::AT_MS)
                .expression_attribute_names("#reason", attr::REASON)
                .expression_attribute_names("#newUsername", attr::NEW_USERNAME)
                .expression_attribute_values(":finished", s("finished"))
                .expression_attribute_values(":method", s(method_word))
                .expression_attribute_values(":atMs", n(at_ms));
            if groups_copied {
                update = update
                    .expression_attribute_names("#groupsCopied", attr::GROUPS_COPIED)
                    .expression_attribute_names("#groupsCopiedAtMs", attr::GROUPS_COPIED_AT_MS)
                    .expression_attribute_values(":true", AttributeValue::Bool(true));
            }
            for (name, value) in from {
                update = update.expression_attribute_values(name, s(value));
            }
            let update = update.build().map_err(|_| build_error())?;
            if copies.len() == 1 && !self.counts() {
                return self.update_alone(update).await;
            }
            items.push(TransactWriteItem::builder().update(update).build());
        }
        if self.counts() {
            let delta = CounterDelta::transition(
                Some(&record.entry.state),
                &MigrationState::Finished { method, at_ms },
            );
            items.extend(counter_updates(
                &delta,
                self.table(),
                counter::shard_of(username),
            )?);
        }
        self.transact(items).await
    }

    /// Applies one transaction item's update by itself, its condition failing as a conflict.
    async fn update_alone(&self, update: Update) -> Result<(), AwsError> {
        let result = self
            .client()
            .update_item()
            .table_name(update.table_name)
            .set_key(Some(update.key))
            .update_expression(update.update_expression)
            .set_condition_expression(update.condition_expression)
            .set_expression_attribute_names(update.expression_attribute_names)
            .set_expression_attribute_values(update.expression_attribute_values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
            {
                Err(AwsError::Conflict {
                    operation: "UpdateItem",
                })
            }
            Err(error) => Err(AwsError::from_sdk("UpdateItem", &error)),
        }
    }

    /// Deletes the copies of `legacy_username` under `stale` keys (those
    /// [`Ledger::upsert_indexed_user`] reports): the user no longer has the identifier, so the
    /// copy would only make a sign-up with it look taken. A primary item is never deleted.
    pub async fn remove_stale_copies(
        &self,
        legacy_username: &str,
        stale: &[String],
    ) -> Result<(), AwsError> {
        for pk in stale {
            let result = self
                .client()
                .delete_item()
                .table_name(self.table())
                .key(attr::PK, s(pk))
                .key(attr::SK, s(sort_key(legacy_username)))
                .condition_expression("attribute_not_exists(#primary) OR #primary = :false")
                .expression_attribute_names("#primary", attr::PRIMARY)
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(DeleteItemError::is_conditional_check_failed_exception) => {}
                Err(error) => return Err(AwsError::from_sdk("DeleteItem", &error)),
            }
        }
        Ok(())
    }

    /// Writes counter items as given, one per shard `00`: for measuring `status` on a ledger of
    /// any size without creating the users.
    pub async fn write_counter_items(&self, counters: &Counters) -> Result<usize, AwsError> {
        self.replace_counters(counters).await
    }
}

fn build_error() -> AwsError {
    AwsError::Transport {
        operation: "BatchWriteItem",
        kind: "the request could not be built",
    }
}

impl Ledger {
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
                .client()
                .update_item()
                .table_name(self.table())
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
                if self.counts() && !before.contains_key(attr::STATE) {
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
        for item in counter_updates(delta, self.table(), counter::shard_of(username))? {
            let Some(update) = item.update else { continue };
            self.client()
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
}
