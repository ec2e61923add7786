//! Reads: every candidate of a key, one user's record. Both strongly consistent, since a
//! sign-in reads what a concurrent one may just have written.

use cognito_migrate_core::{MatchKey, match_key};

use super::{Item, Ledger, LedgerRecord, attr, item_to_record, partition_key, s, sort_key};
use crate::error::AwsError;

impl Ledger {
    /// Every user filed under `key`: one strongly consistent `Query` (more pages only if the
    /// items outgrow one 1 MB page).
    pub async fn candidates(&self, key: &MatchKey) -> Result<Vec<LedgerRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client()
                .query()
                .table_name(self.table())
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
            .client()
            .get_item()
            .table_name(self.table())
            .key(attr::PK, s(partition_key(&match_key(legacy_username))))
            .key(attr::SK, s(sort_key(legacy_username)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetItem", &e))?;
        answer.item.as_ref().map(item_to_record).transpose()
    }
}
