//! Running a `TransactWriteItems`: a cancelled transaction becomes [`AwsError::Conflict`] when
//! a condition failed, and one lost only to another transaction on a shared counter item is
//! tried again a few times.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::Ledger;
use crate::error::AwsError;

impl Ledger {
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
        let attempts: u32 = if self.counts() { 6 } else { 1 };
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
            .client()
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

pub(crate) fn build_error(operation: &'static str) -> AwsError {
    AwsError::Transport {
        operation,
        kind: "the request could not be built",
    }
}
