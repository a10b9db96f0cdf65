//! Where a call's instance comes from: a fresh one for every call, usually made before the
//! call arrives.
//!
//! After a call returns, a task drops its store (giving its pool slot back) and, when no
//! other call is running or waiting, instantiates the next call's instance ahead of time:
//! the warm instance. The next call then waits neither for instantiation nor for the last
//! call's teardown: 20 to 60 us less per call on loopback, a third of the front door's
//! overhead (docs/PERFORMANCE.md, "Session 14").
//!
//! Why making it ahead changes nothing a plugin or a call can tell:
//! - It is a fresh instance that has served no call, and one call takes it.
//! - Whatever the plugin runs while it is instantiated runs offline: a gate that refuses
//!   every request, no configuration, the same memory cap, budget and deadline as a call.
//!   The call installs its own gate, ledger and configuration before the export runs
//!   ([`CallState::begin_call`]).
//! - It never takes capacity from a call. It is made only after a call that returned with
//!   no other call running or waiting, and a call that arrives meanwhile waits for that
//!   work (the last call's teardown and the instance being made) and takes the instance
//!   over with its slot and memory charge. So a returned call's memory is back before the
//!   next call needs any, no call in flight ever shares the budget or the slots with an
//!   instance made ahead, and under concurrent load there is none.

use super::call_limits::CallLimits;
use super::call_state::CallState;
use super::memory_budget::{MemoryBudget, Occupancy};
use crate::outbound::tool_routes::ToolRoutes;
use crate::outbound::{CallLedger, OutboundPolicy};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Engine, Store};

/// Makes the instances of one linked plugin and keeps at most one warm.
pub(crate) struct Instances {
    engine: Engine,
    instance_pre: InstancePre<CallState>,
    limits: CallLimits,
    budget: Arc<MemoryBudget>,
    /// One per instance alive: the calls in flight and the warm instance.
    slots: Arc<Semaphore>,
    warm: Mutex<Option<WarmInstance>>,
    /// Calls that have arrived and not returned, waiting for a slot or running.
    calls: AtomicUsize,
    /// Set when instantiating ahead failed for a reason other than the shared budget: a
    /// plugin that cannot be instantiated offline is instantiated by its calls only.
    ahead_failed: AtomicBool,
    /// Work after a call in progress: its teardown, then the next instance being made. A
    /// call arriving meanwhile waits for it, so it is never refused memory the returned call
    /// or the instance being made still holds.
    after_work: AtomicUsize,
    after_work_done: Notify,
}

/// After-call work in progress; dropping it (done, or its task cancelled) wakes the waiters.
struct AfterWork(Arc<Instances>);

impl AfterWork {
    fn begin(instances: &Arc<Instances>) -> AfterWork {
        instances.after_work.fetch_add(1, Ordering::SeqCst);
        AfterWork(instances.clone())
    }
}

impl Drop for AfterWork {
    fn drop(&mut self) {
        self.0.after_work.fetch_sub(1, Ordering::SeqCst);
        self.0.after_work_done.notify_waiters();
    }
}

/// An instance made ahead, with its slot.
struct WarmInstance {
    store: Store<CallState>,
    instance: Instance,
    slot: OwnedSemaphorePermit,
    instantiate: Duration,
}

/// The store a call runs in, with its slot, and its instance when one was made ahead.
pub(crate) struct CallInstance {
    pub(crate) store: Store<CallState>,
    /// The warm instance and how long making it took; `None`: instantiate in `store`.
    pub(crate) warm: Option<(Instance, Duration)>,
    _slot: Option<OwnedSemaphorePermit>,
}

/// A call that has arrived and not returned; a warm instance is made only when there is none.
pub(crate) struct Arrival<'a>(&'a AtomicUsize);

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The parts of a call's context its store needs.
pub(crate) struct CallSetup<'a> {
    pub(crate) outbound: Arc<OutboundPolicy>,
    pub(crate) tool_routes: Arc<ToolRoutes>,
    pub(crate) ledger: Arc<CallLedger>,
    pub(crate) config: &'a [(String, String)],
}

impl Instances {
    pub(crate) fn new(
        engine: Engine,
        instance_pre: InstancePre<CallState>,
        limits: CallLimits,
    ) -> Instances {
        Instances {
            slots: Arc::new(Semaphore::new(limits.max_concurrent_calls.max(1))),
            budget: Arc::new(MemoryBudget::new(limits.memory_budget_bytes)),
            engine,
            instance_pre,
            limits,
            warm: Mutex::new(None),
            calls: AtomicUsize::new(0),
            ahead_failed: AtomicBool::new(false),
            after_work: AtomicUsize::new(0),
            after_work_done: Notify::new(),
        }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn instance_pre(&self) -> &InstancePre<CallState> {
        &self.instance_pre
    }

    pub(crate) fn budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }

    /// Counts a call from its arrival (before it waits for a slot) until the guard drops.
    pub(crate) fn arrive(&self) -> Arrival<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Arrival(&self.calls)
    }

    /// The store for a call that has arrived (`_arrived`: counted first, so no instance
    /// is made ahead beside it), once the work after the last call is done: the warm
    /// instance's, given the call's gate and configuration, or a new one under a slot it
    /// waits for. Nothing of a call exists before its slot, so a queued call holds no store,
    /// no instance and no memory.
    pub(crate) async fn for_call(
        &self,
        _arrived: &Arrival<'_>,
        setup: CallSetup<'_>,
    ) -> CallInstance {
        if self.after_work.load(Ordering::SeqCst) > 0 {
            // The work runs under the deadline; the wait is bounded by it too, so a call never
            // waits on work whose runtime has stalled (its memory may then still be held).
            let _ = tokio::time::timeout(self.limits.deadline, self.after_work_done()).await;
        }
        if let Some(warm) = self.lock_warm().take() {
            let mut store = warm.store;
            store.data_mut().begin_call(
                setup.outbound,
                setup.tool_routes,
                setup.ledger,
                setup.config,
            );
            return CallInstance {
                store,
                warm: Some((warm.instance, warm.instantiate)),
                _slot: Some(warm.slot),
            };
        }
        // The semaphore is never closed, so acquiring only waits.
        let slot = self.slots.clone().acquire_owned().await.ok();
        let state = CallState::new(
            setup.outbound,
            setup.tool_routes,
            setup.ledger,
            setup.config,
            &self.limits,
            self.budget.clone(),
        );
        CallInstance {
            store: self.new_store(state),
            warm: None,
            _slot: slot,
        }
    }

    /// Tears a returned call's instance down off the caller's path, then makes the next
    /// call's instance if no call is running or waiting; a call arriving meanwhile waits for
    /// both (`for_call`). When none can be made ahead (other calls run or wait, making one
    /// failed before, or no tokio runtime runs) the instance is dropped here: a task only to
    /// drop it measured slower than dropping it in place.
    pub(crate) fn after_call(self: &Arc<Self>, used: CallInstance) {
        if self.ahead_failed.load(Ordering::Relaxed) || self.calls.load(Ordering::SeqCst) > 0 {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Counted before `calls` is read again: a call that arrives from here on waits for
        // this work; one that arrived before is seen here and the store is dropped in place.
        let work = AfterWork::begin(self);
        if self.calls.load(Ordering::SeqCst) > 0 {
            // The store first: the calls waiting are woken when `work` drops.
            drop(used);
            drop(work);
            return;
        }
        runtime.spawn(async move {
            drop(used);
            work.0.make_warm().await;
            drop(work);
        });
    }

    /// Returns once no work after a call is in progress: a teardown and an instantiation
    /// under the call deadline.
    async fn after_work_done(&self) {
        loop {
            let done = self.after_work_done.notified();
            tokio::pin!(done);
            // Registered before the count is read, so the last wake-up cannot be missed.
            done.as_mut().enable();
            if self.after_work.load(Ordering::SeqCst) == 0 {
                return;
            }
            done.await;
        }
    }

    /// The budget's occupancy, with the warm instance and the memory charged to it.
    pub(crate) fn occupancy(&self) -> Occupancy {
        let warm = self
            .lock_warm()
            .as_ref()
            .map(|warm| warm.store.data().memory.charged());
        Occupancy {
            warm_instances: usize::from(warm.is_some()),
            warm_memory_bytes: warm.unwrap_or(0),
            ..self.budget.occupancy()
        }
    }

    /// Runs only as the work after a call, which starts when no call is in flight: a call
    /// counted since is waiting for this work (`for_call`) and takes the instance, so calls
    /// arriving meanwhile do not stop it being made.
    async fn make_warm(&self) {
        if self.ahead_failed.load(Ordering::Relaxed) || self.lock_warm().is_some() {
            return;
        }
        // Fails while calls wait for a slot: a released slot goes to them first.
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return;
        };
        let state = CallState::new(
            Arc::new(OutboundPolicy::deny_all()),
            Arc::new(ToolRoutes::default()),
            Arc::new(CallLedger::observed(None)),
            &[],
            &self.limits,
            self.budget.clone(),
        );
        let mut store = self.new_store(state);
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let started = Instant::now();
        let made = tokio::time::timeout(
            self.limits.deadline,
            self.instance_pre.instantiate_async(&mut store),
        )
        .await;
        let instance = match made {
            Ok(Ok(instance)) => instance,
            Ok(Err(_)) if store.data().memory.budget_hit => return,
            Ok(Err(err)) => {
                tracing::debug!("instantiating ahead of a call failed; calls instantiate: {err:#}");
                self.ahead_failed.store(true, Ordering::Relaxed);
                return;
            }
            Err(_) => {
                tracing::debug!(
                    "instantiating ahead of a call passed the deadline; calls instantiate"
                );
                self.ahead_failed.store(true, Ordering::Relaxed);
                return;
            }
        };
        let warm = WarmInstance {
            store,
            instance,
            slot,
            instantiate: started.elapsed(),
        };
        // A call that arrived meanwhile is waiting for this instance and takes it.
        let mut kept = self.lock_warm();
        if kept.is_none() {
            *kept = Some(warm);
        } else {
            drop(kept);
            drop(warm);
        }
    }

    fn new_store(&self, state: CallState) -> Store<CallState> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        store
    }

    fn lock_warm(&self) -> MutexGuard<'_, Option<WarmInstance>> {
        self.warm.lock().unwrap_or_else(|e| e.into_inner())
    }
}
