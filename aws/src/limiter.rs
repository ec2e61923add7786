//! Pacing per Cognito quota category: a token bucket holding one token, refilled at the
//! category's rate, shared by every task of a run (`finish`, the scan's MFA reads). A bucket of
//! one never bursts above the per-second quota, which Cognito counts per account across both
//! pools.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// One quota category's bucket.
#[derive(Debug)]
pub struct Limiter {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Limiter {
    /// At most `per_second` calls a second.
    #[must_use]
    pub fn new(per_second: u32) -> Self {
        Self {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(None),
        }
    }

    /// Waits for this call's turn.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |at| at.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_shared_bucket_paces_every_task_to_the_rate_exactly() {
        // Sixteen chains asking at once, 25 calls a second between them: on a paused clock the
        // 101st call starts exactly 4 s after the first, whoever makes it.
        let limiter = std::sync::Arc::new(Limiter::new(25));
        let start = Instant::now();
        let tasks: Vec<_> = (0..16)
            .map(|chain| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    let mut starts = Vec::new();
                    for _ in 0..(if chain == 0 { 11 } else { 6 }) {
                        limiter.acquire().await;
                        starts.push(Instant::now());
                    }
                    starts
                })
            })
            .collect();
        let mut starts = Vec::new();
        for task in tasks {
            starts.extend(task.await.unwrap());
        }
        starts.sort();
        assert_eq!(starts.len(), 101);
        for pair in starts.windows(2) {
            assert_eq!(pair[1] - pair[0], Duration::from_millis(40));
        }
        assert_eq!(starts[100] - start, Duration::from_secs(4));
    }

    #[tokio::test]
    async fn paces_calls_at_the_rate() {
        let limiter = std::sync::Arc::new(Limiter::new(100));
        let start = Instant::now();
        let tasks: Vec<_> = (0..21)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move { limiter.acquire().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // The first call goes at once, then one every 10 ms, whoever asks.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");
    }
}
