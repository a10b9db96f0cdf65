//! [`Gathering`]: holds matching requests until a given number of them have arrived, so a
//! test can make concurrent clients overlap for certain instead of hoping a delay is long
//! enough on a slow machine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A meeting point for `expected` requests; shared by every clone of its fault action.
#[derive(Clone, Debug)]
pub struct Gathering {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    expected: usize,
    at_most: Duration,
    arrived: AtomicUsize,
    all_here: Notify,
}

impl Gathering {
    /// Holds requests until `expected` have arrived, or each for at most `at_most`.
    pub fn new(expected: usize, at_most: Duration) -> Gathering {
        Gathering {
            inner: Arc::new(Inner {
                expected,
                at_most,
                arrived: AtomicUsize::new(0),
                all_here: Notify::new(),
            }),
        }
    }

    /// How many requests have arrived so far.
    pub fn arrived(&self) -> usize {
        self.inner.arrived.load(Ordering::SeqCst)
    }

    /// Counts this request and waits for the others (or the longest wait); whether all came.
    pub(crate) async fn meet(&self) -> bool {
        let inner = &self.inner;
        // Registered before counting, so the last arrival's wake-up cannot be missed.
        let all_here = inner.all_here.notified();
        let arrived = inner.arrived.fetch_add(1, Ordering::SeqCst) + 1;
        if arrived >= inner.expected {
            inner.all_here.notify_waiters();
            return true;
        }
        tokio::time::timeout(inner.at_most, all_here).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_last_arrival_releases_everyone_and_a_short_meeting_times_out() {
        let gathering = Gathering::new(3, Duration::from_secs(30));
        let early: Vec<_> = (0..2)
            .map(|_| {
                tokio::spawn({
                    let g = gathering.clone();
                    async move { g.meet().await }
                })
            })
            .collect();
        while gathering.arrived() < 2 {
            tokio::task::yield_now().await;
        }
        assert!(gathering.meet().await);
        for waiting in early {
            assert!(waiting.await.unwrap(), "released by the third arrival");
        }

        let alone = Gathering::new(2, Duration::from_millis(20));
        assert!(!alone.meet().await, "gave up after at_most");
    }
}
