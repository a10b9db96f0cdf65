//! [`TimerAnchor`]: one timer kept pending on the multi-thread runtime that runs calls, so
//! that the timers every call sets do not each wake a sleeping worker.
//!
//! Every call sets three tokio timers: its deadline, the first-byte timeout of its request
//! and the between-bytes timeout of the answer. Tokio's time driver is parked by one worker
//! at a time, sleeping until the earliest pending timer; a timer set earlier than that wakes
//! the parked worker (a write to its event fd) so it can sleep again with the new time. When
//! no timer is pending the driver sleeps without a limit, so on an otherwise idle runtime
//! every timer a call sets is "earlier" and wakes a worker that has nothing to do: about
//! 3.5 of the 8.9 context switches of a loopback call (`profile front-door`, multi-thread).
//! A timer that fires every [`PERIOD`] bounds the driver's sleep, so a timer set further
//! out than that (the defaults are 10 s and more) wakes nobody. The price is one wake-up
//! per [`PERIOD`] while the anchor's runtime lives.
//!
//! The current-thread runtime parks on the calling thread itself, so it needs no anchor.

use std::sync::Mutex;
use std::time::Duration;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinHandle;

/// How often the anchor's timer fires: shorter than any timeout a call sets by default.
const PERIOD: Duration = Duration::from_secs(1);

/// The anchor task, if one runs; shared by every call of a plugin.
#[derive(Debug, Default)]
pub(crate) struct TimerAnchor {
    task: Mutex<Option<JoinHandle<()>>>,
}

impl TimerAnchor {
    /// Makes sure an anchor runs on the multi-thread runtime of the caller: starts one when
    /// none runs (none yet, or its runtime was shut down). A plugin called from several
    /// runtimes at once anchors the one that called first; the others only lose the saving.
    pub(crate) fn ensure(&self) {
        let Ok(runtime) = Handle::try_current() else {
            return;
        };
        if runtime.runtime_flavor() != RuntimeFlavor::MultiThread {
            return;
        }
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if alive(&task) {
            return;
        }
        *task = Some(runtime.spawn(async {
            let mut ticks = tokio::time::interval(PERIOD);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
            }
        }));
    }

    /// Whether an anchor task is running now.
    #[cfg(test)]
    fn running(&self) -> bool {
        alive(&self.task.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Whether `task` was started and has not ended (its runtime shut down, or it was aborted).
fn alive(task: &Option<JoinHandle<()>>) -> bool {
    task.as_ref().is_some_and(|t| !t.is_finished())
}

impl Drop for TimerAnchor {
    fn drop(&mut self) {
        let task = self.task.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multi_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn one_anchor_runs_per_multi_thread_runtime() {
        let anchor = TimerAnchor::default();
        let runtime = multi_thread();
        runtime.block_on(async {
            anchor.ensure();
            let first = anchor.task.lock().unwrap().as_ref().unwrap().id();
            anchor.ensure();
            let second = anchor.task.lock().unwrap().as_ref().unwrap().id();
            assert_eq!(first, second, "a second call must reuse the running anchor");
            assert!(anchor.running());
        });
    }

    #[test]
    fn a_runtime_shut_down_gets_a_new_anchor_on_the_next() {
        let anchor = TimerAnchor::default();
        let first = multi_thread();
        first.block_on(async { anchor.ensure() });
        drop(first);
        assert!(!anchor.running(), "the anchor ends with its runtime");
        let second = multi_thread();
        second.block_on(async {
            anchor.ensure();
            assert!(anchor.running());
        });
    }

    #[test]
    fn no_anchor_without_a_multi_thread_runtime() {
        let anchor = TimerAnchor::default();
        anchor.ensure();
        assert!(!anchor.running(), "outside any runtime");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { anchor.ensure() });
        assert!(
            !anchor.running(),
            "the current-thread runtime parks on its caller"
        );
    }

    #[test]
    fn dropping_the_anchor_stops_its_task() {
        let runtime = multi_thread();
        runtime.block_on(async {
            let anchor = TimerAnchor::default();
            anchor.ensure();
            let task = anchor.task.lock().unwrap().as_ref().unwrap().abort_handle();
            drop(anchor);
            for _ in 0..100 {
                if task.is_finished() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the anchor's task outlived the anchor");
        });
    }
}
