//! The counter items' updates: a [`CounterDelta`] as `ADD` updates of one shard's total and
//! day items, written inside the transaction that changes the user's state. Which counters a
//! change moves is [`cognito_migrate_core::counters`]'s arithmetic.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use cognito_migrate_core::counters::{self as counter, CounterDelta};

use super::{attr, build_error, n, s};
use crate::error::AwsError;

/// The transaction items applying `delta` to one shard (none when nothing changes).
pub fn counter_updates(
    delta: &CounterDelta,
    table: &str,
    shard: u32,
) -> Result<Vec<TransactWriteItem>, AwsError> {
    let mut items = Vec::new();
    let mut targets: Vec<(String, &BTreeMap<String, i64>)> =
        vec![(counter::total_sk(shard), &delta.totals)];
    for (day, counts) in &delta.days {
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
