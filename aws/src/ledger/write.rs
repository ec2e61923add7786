//! Conditional state changes of one user, on every copy in one transaction, each pinned to the
//! state it starts from so that retries and concurrent sign-ins never migrate twice or lose an
//! update.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use cognito_migrate_core::counters::{CounterDelta, shard_of};
use cognito_migrate_core::ledger::MigrationState;
use cognito_migrate_core::match_key;
use cognito_migrate_core::migrate::ReasonCode;

use super::{
    CLAIM_SORT_KEY, Ledger, LedgerRecord, attr, build_error, claim_partition_key, counter_updates,
    item_key, n, partition_key, s,
};
use crate::error::{AwsError, json_error};

/// What [`Ledger::record_migration`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationWrite {
    /// The state became `approved`.
    Recorded,
    /// It already was `approved` to the same username (a retried invocation): nothing changed.
    AlreadyRecorded,
}

const APPROVABLE: &str = "attribute_not_exists(#state) OR #state IN (:pending, :refused) OR (#state IN (:approved, :migrated) AND #newUsername = :newUsername)";

const CONFLICT: AwsError = AwsError::Conflict {
    operation: "TransactWriteItems",
};

impl Ledger {
    /// Marks `record`'s user approved under `new_username`, on every copy, in one transaction
    /// that also claims `new_username` for it: the first phase of the binding, which post
    /// authentication confirms ([`Self::confirm_migration`]).
    ///
    /// Allowed where [`MigrationState::approve`] allows it: over `pending` and `refused`, and
    /// over a binding to the same username (Cognito retrying a migration that did not
    /// complete). When the record already says approved to it, the transaction only checks
    /// that it still does, and nothing changes. Any other concurrent change makes it fail with
    /// [`AwsError::Conflict`], and so does `new_username` claimed by another legacy user (see
    /// the module documentation).
    pub async fn record_migration(
        &self,
        record: &LedgerRecord,
        new_username: &str,
        at_ms: i64,
    ) -> Result<MigrationWrite, AwsError> {
        let username = &record.entry.user.username;
        let to = record
            .entry
            .state
            .approve(new_username, at_ms)
            .map_err(|_| CONFLICT)?;
        let user_json = serde_json::to_string(&record.entry.user).map_err(|e| {
            AwsError::MalformedItem(format!("the user does not serialise ({})", json_error(&e)))
        })?;
        let copies = record.copies();
        let key_list = AttributeValue::L(copies.iter().map(s).collect());
        let own = partition_key(&match_key(username));
        let anchor = anchor_copy(&copies, &own);
        let from = StoredState::of(record);
        let mut items = Vec::new();
        for pk in copies {
            let key = item_key(&pk, username);
            // With counters, one copy pins the exact state the deltas were computed from.
            let pin = (self.counts() && pk == anchor).then(|| from.pin());
            let item = if to.is_none() {
                let check = ConditionCheck::builder()
                    .table_name(self.table())
                    .set_key(Some(key))
                    .condition_expression("#state = :approved AND #newUsername = :newUsername")
                    .expression_attribute_names("#state", attr::STATE)
                    .expression_attribute_names("#newUsername", attr::NEW_USERNAME)
                    .expression_attribute_values(":approved", s("approved"))
                    .expression_attribute_values(":newUsername", s(new_username))
                    .build()
                    .map_err(|_| build_error("TransactWriteItems"))?;
                TransactWriteItem::builder().condition_check(check).build()
            } else {
                let update = Update::builder()
                    .table_name(self.table())
                    .set_key(Some(key))
                    // A user found by the exact fallback lookup has no items yet: they are
                    // created complete, so the next query reads them like indexed ones.
                    .update_expression(
                        "SET #state = :approved, #newUsername = :newUsername, #atMs = :atMs, \
                         #user = if_not_exists(#user, :user), #keys = if_not_exists(#keys, :keys), \
                         #primary = if_not_exists(#primary, :primary), \
                         #groupsCopied = if_not_exists(#groupsCopied, :false) \
                         REMOVE #reason, #method, #newSub",
                    )
                    .condition_expression(match &pin {
                        Some(pin) => format!("({APPROVABLE}) AND ({})", pin.expression),
                        None => APPROVABLE.to_owned(),
                    })
                    .set_expression_attribute_values(pin.as_ref().map(Pin::values))
                    .expression_attribute_names("#state", attr::STATE)
                    .expression_attribute_names("#newUsername", attr::NEW_USERNAME)
                    .expression_attribute_names("#atMs", attr::AT_MS)
                    .expression_attribute_names("#reason", attr::REASON)
                    .expression_attribute_names("#method", attr::METHOD)
                    .expression_attribute_names("#newSub", attr::NEW_SUB)
                    .expression_attribute_names("#user", attr::USER)
                    .expression_attribute_names("#keys", attr::KEYS)
                    .expression_attribute_names("#primary", attr::PRIMARY)
                    .expression_attribute_names("#groupsCopied", attr::GROUPS_COPIED)
                    .expression_attribute_values(":pending", s("pending"))
                    .expression_attribute_values(":refused", s("refused"))
                    .expression_attribute_values(":approved", s("approved"))
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
        let Some(to) = to else {
            self.transact(items).await?;
            return Ok(MigrationWrite::AlreadyRecorded);
        };
        items.push(self.claim(new_username, username, at_ms)?);
        if self.counts() {
            let delta = CounterDelta::transition(from.stored(), &to);
            items.extend(counter_updates(&delta, self.table(), shard_of(username))?);
        }
        self.transact(items).await?;
        Ok(MigrationWrite::Recorded)
    }

    /// Confirms `record`'s approval under `new_username`: the new-pool user signed in, so the
    /// state becomes `migrated` with its `sub`, on every copy, in one transaction. Only from
    /// `approved` to that very username; anything else is [`AwsError::Conflict`].
    pub async fn confirm_migration(
        &self,
        record: &LedgerRecord,
        new_username: &str,
        new_sub: Option<&str>,
        at_ms: i64,
    ) -> Result<(), AwsError> {
        let username = &record.entry.user.username;
        let to = record
            .entry
            .state
            .confirm(new_username, new_sub, at_ms)
            .map_err(|_| CONFLICT)?;
        let mut items = Vec::new();
        for pk in record.copies() {
            let mut update = Update::builder()
                .table_name(self.table())
                .set_key(Some(item_key(&pk, username)))
                .condition_expression("#state = :approved AND #newUsername = :newUsername")
                .expression_attribute_names("#state", attr::STATE)
                .expression_attribute_names("#newUsername", attr::NEW_USERNAME)
                .expression_attribute_names("#atMs", attr::AT_MS)
                .expression_attribute_values(":approved", s("approved"))
                .expression_attribute_values(":migrated", s("migrated"))
                .expression_attribute_values(":newUsername", s(new_username))
                .expression_attribute_values(":atMs", n(at_ms));
            update = match new_sub {
                Some(sub) => update
                    .update_expression("SET #state = :migrated, #atMs = :atMs, #newSub = :newSub")
                    .expression_attribute_names("#newSub", attr::NEW_SUB)
                    .expression_attribute_values(":newSub", s(sub)),
                None => update.update_expression("SET #state = :migrated, #atMs = :atMs"),
            };
            let update = update
                .build()
                .map_err(|_| build_error("TransactWriteItems"))?;
            items.push(TransactWriteItem::builder().update(update).build());
        }
        if self.counts() {
            let delta = CounterDelta::transition(Some(&record.entry.state), &to);
            items.extend(counter_updates(&delta, self.table(), shard_of(username))?);
        }
        self.transact(items).await
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
            .table_name(self.table())
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
            if self.counts() {
                // refused -> refused with the same reason changes no counter; with another
                // reason it moves one user between reasons.
                delta.merge(&CounterDelta::transition(
                    from.stored(),
                    &MigrationState::Refused { reason, at_ms },
                ));
            }
            for pk in copies {
                let pin = (self.counts() && pk == anchor).then(|| from.pin());
                let update = Update::builder()
                    .table_name(self.table())
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
            items.extend(counter_updates(
                &delta,
                self.table(),
                shard_of(&first.entry.user.username),
            )?);
        }
        self.transact(items).await
    }

    /// Marks the user's groups copied, on every copy, only over `approved`, `migrated` or
    /// `finished`.
    pub async fn mark_groups_copied(
        &self,
        record: &LedgerRecord,
        at_ms: i64,
    ) -> Result<(), AwsError> {
        let mut items = Vec::new();
        for pk in record.copies() {
            let update = Update::builder()
                .table_name(self.table())
                .set_key(Some(item_key(&pk, &record.entry.user.username)))
                .update_expression("SET #groupsCopied = :true, #groupsCopiedAtMs = :atMs")
                .condition_expression("#state IN (:approved, :migrated, :finished)")
                .expression_attribute_names("#state", attr::STATE)
                .expression_attribute_values(":approved", s("approved"))
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
            Self::Stored(MigrationState::Migrated { .. }) => Pin {
                expression: "#state = :migrated",
                reason: None,
            },
            // Otherwise only pending and refused users are ever moved by these writes.
            Self::Stored(_) => Pin {
                expression: "#state = :pending",
                reason: None,
            },
        }
    }

    /// The state the counters count this user in; `None` when it has no item yet.
    fn stored(&self) -> Option<&MigrationState> {
        match self {
            Self::Absent => None,
            Self::Stored(state) => Some(state),
        }
    }
}
