//! When the gate may send a request again, and how long it waits first.
//!
//! Only idempotent requests (GET, HEAD) are retried, and only for failures that say "try
//! again": connection errors, 429, 502, 503, 504. A write is never retried blindly; the
//! one exception, the replay after a 401, lives in the gate because the 401 proves the
//! request was not processed.

use std::time::Duration;

/// How often and how patiently the gate retries an idempotent request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The backoff before the first retry; it doubles for each further one.
    pub base_delay: Duration,
    /// The longest single wait; a `Retry-After` beyond it ends the retries instead.
    pub max_delay: Duration,
    /// No retry starts after this much time has passed since the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }
}

/// What an attempt produced, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The connection failed before the request could have been processed.
    ConnectFailed,
    /// A response arrived with this status and optional Retry-After.
    Status(u16, Option<Duration>),
}

pub fn is_idempotent(method: &http::Method) -> bool {
    matches!(*method, http::Method::GET | http::Method::HEAD)
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based), or `None` to stop. `elapsed` is the
    /// time since the first attempt; `jitter` is a number in [0, 1).
    pub fn next_delay(
        &self,
        method: &http::Method,
        result: AttemptResult,
        retry: u32,
        elapsed: Duration,
        jitter: f64,
    ) -> Option<Duration> {
        if !is_idempotent(method) || retry > self.max_retries {
            return None;
        }
        let delay = match result {
            AttemptResult::ConnectFailed => self.backoff(retry, jitter),
            AttemptResult::Status(status, retry_after) if is_retryable_status(status) => {
                match retry_after {
                    // The server said when; a wait longer than we allow is a reason to stop, not
                    // to come back early.
                    Some(after) if after > self.max_delay => return None,
                    Some(after) => after,
                    None => self.backoff(retry, jitter),
                }
            }
            AttemptResult::Status(..) => return None,
        };
        (elapsed + delay <= self.max_elapsed).then_some(delay)
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        capped / 2 + capped.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// A cheap jitter source; retries need spread, not cryptographic randomness.
pub fn jitter() -> f64 {
    let n = uuid::Uuid::new_v4().as_u128() as u64;
    (n >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn writes_are_never_retried() {
        let p = RetryPolicy::default();
        for result in [
            AttemptResult::ConnectFailed,
            AttemptResult::Status(503, None),
        ] {
            assert_eq!(
                p.next_delay(&Method::POST, result, 1, Duration::ZERO, 0.5),
                None
            );
            assert_eq!(
                p.next_delay(&Method::PATCH, result, 1, Duration::ZERO, 0.5),
                None
            );
        }
    }

    #[test]
    fn reads_retry_on_transient_failures_only() {
        let p = RetryPolicy::default();
        for status in [429, 502, 503, 504] {
            assert!(p
                .next_delay(
                    &Method::GET,
                    AttemptResult::Status(status, None),
                    1,
                    Duration::ZERO,
                    0.5
                )
                .is_some());
        }
        for status in [400, 401, 403, 404, 500] {
            assert_eq!(
                p.next_delay(
                    &Method::GET,
                    AttemptResult::Status(status, None),
                    1,
                    Duration::ZERO,
                    0.5
                ),
                None
            );
        }
        assert!(p
            .next_delay(
                &Method::HEAD,
                AttemptResult::ConnectFailed,
                1,
                Duration::ZERO,
                0.5
            )
            .is_some());
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_bounded() {
        let p = RetryPolicy::default();
        let d = |retry, jitter| {
            p.next_delay(
                &Method::GET,
                AttemptResult::ConnectFailed,
                retry,
                Duration::ZERO,
                jitter,
            )
            .unwrap()
        };
        assert_eq!(d(1, 0.0), Duration::from_millis(100));
        let near_max = d(1, 0.999_999);
        assert!(near_max > Duration::from_millis(199) && near_max < Duration::from_millis(200));
        assert_eq!(d(3, 0.0), Duration::from_millis(400));
        let big = RetryPolicy {
            max_retries: 30,
            max_elapsed: Duration::from_secs(3600),
            ..p
        };
        let late = big
            .next_delay(
                &Method::GET,
                AttemptResult::ConnectFailed,
                30,
                Duration::ZERO,
                1.0,
            )
            .unwrap();
        assert!(late <= big.max_delay);
    }

    #[test]
    fn honours_retry_after_and_the_budgets() {
        let p = RetryPolicy::default();
        let got = p.next_delay(
            &Method::GET,
            AttemptResult::Status(429, Some(2 * SEC)),
            1,
            Duration::ZERO,
            0.5,
        );
        assert_eq!(got, Some(2 * SEC));
        // Longer than we would ever wait: stop and let the caller see the 429.
        assert_eq!(
            p.next_delay(
                &Method::GET,
                AttemptResult::Status(429, Some(600 * SEC)),
                1,
                Duration::ZERO,
                0.5
            ),
            None
        );
        // Count and elapsed-time budgets.
        assert_eq!(
            p.next_delay(
                &Method::GET,
                AttemptResult::ConnectFailed,
                4,
                Duration::ZERO,
                0.5
            ),
            None
        );
        assert_eq!(
            p.next_delay(&Method::GET, AttemptResult::ConnectFailed, 1, 30 * SEC, 0.5),
            None
        );
    }
}
