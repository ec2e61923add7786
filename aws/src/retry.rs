//! Exponential backoff with full jitter for the long-running operator scans.
//!
//! The SDK's standard retry gives up after a few quick attempts; a scan of a large pool runs for
//! minutes against per-second quotas shared with production traffic, so throttling is expected
//! and each call is retried here on top, for longer, with random spacing so that parallel chains
//! do not retry in lockstep.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::AwsError;

/// How long and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first retry waits up to this.
    pub base: Duration,
    /// No retry waits longer than this.
    pub cap: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(20),
            max_attempts: 10,
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first): a random duration up to
    /// `min(cap, base * 2^(retry-1))`.
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1_u32 << retry.saturating_sub(1).min(20))
            .min(self.cap);
        let ceiling_ms = u64::try_from(ceiling.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        Duration::from_millis(random_u64() % (ceiling_ms + 1))
    }

    /// Runs `call` until it succeeds, fails with an error that retrying cannot fix, or runs out
    /// of attempts. Each retry is counted in `retries`.
    pub async fn run<T, F, Fut>(&self, retries: &AtomicU64, mut call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AwsError>>,
    {
        let mut attempt = 1;
        loop {
            match call().await {
                Err(error) if attempt < self.max_attempts && is_transient(&error) => {
                    retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.delay(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// Throttling, server-side failures and lost connections: worth another try.
#[must_use]
pub fn is_transient(error: &AwsError) -> bool {
    match error {
        AwsError::Service { code, .. } => matches!(
            code.as_str(),
            "TooManyRequestsException"
                | "ThrottlingException"
                | "Throttling"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded"
                | "InternalErrorException"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "TransactionConflictException"
        ),
        AwsError::Timeout { .. } | AwsError::Transport { .. } => true,
        AwsError::Conflict { .. }
        | AwsError::MalformedItem(_)
        | AwsError::MalformedAnswer { .. }
        | AwsError::Stopped => false,
    }
}

/// A random number from the process's hash seed and a counter: enough to spread retries, with
/// no dependency.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let backoff = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            max_attempts: 5,
        };
        for retry in 1..40 {
            let ceiling = (100_u64 << (retry - 1).min(20)).min(1000);
            for _ in 0..50 {
                assert!(backoff.delay(retry) <= Duration::from_millis(ceiling));
            }
        }
        // Full jitter: the spread covers most of the range, so chains do not retry together.
        let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(4)).collect();
        assert!(delays.iter().any(|d| *d < Duration::from_millis(200)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(600)));
    }

    #[tokio::test]
    async fn retries_throttling_but_not_other_errors() {
        let backoff = Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
            max_attempts: 4,
        };
        let retries = AtomicU64::new(0);
        let mut calls = 0;
        let result: Result<(), AwsError> = backoff
            .run(&retries, || {
                calls += 1;
                let code = "TooManyRequestsException".to_owned();
                async move {
                    Err(AwsError::Service {
                        operation: "ListUsers",
                        code,
                    })
                }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 4);
        assert_eq!(retries.load(Ordering::Relaxed), 3);

        let mut calls = 0;
        let result: Result<u8, AwsError> = backoff
            .run(&retries, || {
                calls += 1;
                let code = "ResourceNotFoundException".to_owned();
                async move {
                    Err(AwsError::Service {
                        operation: "ListUsers",
                        code,
                    })
                }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);

        let mut calls = 0;
        let result = backoff
            .run(&retries, || {
                calls += 1;
                let outcome = if calls < 3 {
                    Err(AwsError::Service {
                        operation: "ListUsers",
                        code: "TooManyRequestsException".into(),
                    })
                } else {
                    Ok(7)
                };
                async move { outcome }
            })
            .await;
        assert_eq!(result, Ok(7));
    }
}
