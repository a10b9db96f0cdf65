//! The guest memory all calls in flight may hold together, shared by every call of a plugin.
//!
//! Each call's linear memories are charged to one budget as they are created and grown
//! (wasmtime asks the store's limiter before both), and given back when the call's store is
//! dropped. A call whose memory would take the total past the budget is refused that memory
//! ([`CallFailure::MemoryBudget`](super::CallFailure::MemoryBudget)), so however the plugin
//! behaves, all instances together never hold more linear memory than the budget. The charge
//! is the memory's size, not the pages it has touched: a size is what a guest may touch at
//! will, so it is the only figure that bounds what it can commit.
//!
//! Calls waiting for a slot hold nothing: the slot is taken before the store exists, so a
//! queued call has no instance, no linear memory and no charge.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Linear memory charged to all calls in flight, and the calls themselves.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: usize,
    charged: AtomicUsize,
    peak_charged: AtomicUsize,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

/// What a plugin's calls hold now and at most so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occupancy {
    /// The budget all calls share (`limits.memory_budget_mib`), in bytes.
    pub memory_budget_bytes: usize,
    /// Linear memory charged to the calls in flight now.
    pub memory_charged_bytes: usize,
    /// The most linear memory ever charged at once.
    pub peak_memory_charged_bytes: usize,
    /// Calls holding a slot (and so possibly an instance) now.
    pub calls_in_flight: usize,
    /// The most calls that ever held a slot at once.
    pub peak_calls_in_flight: usize,
    /// Instances made ahead of the next call (0 or 1), each holding a slot; kept only while
    /// no call runs or waits.
    pub warm_instances: usize,
    /// The part of `memory_charged_bytes` charged to the warm instance.
    pub warm_memory_bytes: usize,
}

impl MemoryBudget {
    pub(crate) fn new(limit: usize) -> MemoryBudget {
        MemoryBudget {
            limit,
            charged: AtomicUsize::new(0),
            peak_charged: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak_in_flight: AtomicUsize::new(0),
        }
    }

    /// The budget in bytes.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Charges `bytes` if the total stays within the budget; `false` charges nothing.
    pub(crate) fn try_charge(&self, bytes: usize) -> bool {
        let update = self
            .charged
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |charged| {
                charged
                    .checked_add(bytes)
                    .filter(|&total| total <= self.limit)
            });
        match update {
            Ok(before) => {
                self.peak_charged
                    .fetch_max(before + bytes, Ordering::AcqRel);
                true
            }
            Err(_) => false,
        }
    }

    /// Gives back `bytes` charged earlier.
    pub(crate) fn release(&self, bytes: usize) {
        self.charged.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Counts a call that holds a slot until the returned guard is dropped.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::AcqRel);
        InFlight(self)
    }

    pub(crate) fn occupancy(&self) -> Occupancy {
        Occupancy {
            memory_budget_bytes: self.limit,
            memory_charged_bytes: self.charged.load(Ordering::Acquire),
            peak_memory_charged_bytes: self.peak_charged.load(Ordering::Acquire),
            calls_in_flight: self.in_flight.load(Ordering::Acquire),
            peak_calls_in_flight: self.peak_in_flight.load(Ordering::Acquire),
            warm_instances: 0,
            warm_memory_bytes: 0,
        }
    }
}

/// A call holding a slot; leaving drops the count.
pub(crate) struct InFlight<'a>(&'a MemoryBudget);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_stop_at_the_budget_and_come_back_on_release() {
        let budget = MemoryBudget::new(100);
        assert!(budget.try_charge(60));
        assert!(!budget.try_charge(41), "past the budget: refused");
        assert_eq!(
            budget.occupancy().memory_charged_bytes,
            60,
            "nothing charged"
        );
        assert!(budget.try_charge(40));
        budget.release(60);
        assert!(budget.try_charge(50));
        let o = budget.occupancy();
        assert_eq!(
            (o.memory_charged_bytes, o.peak_memory_charged_bytes),
            (90, 100)
        );
        assert!(
            !budget.try_charge(usize::MAX),
            "an overflowing charge is refused"
        );
    }

    #[test]
    fn calls_in_flight_are_counted_with_their_peak() {
        let budget = MemoryBudget::new(1);
        let a = budget.enter();
        let b = budget.enter();
        drop(a);
        let _c = budget.enter();
        drop(b);
        let o = budget.occupancy();
        assert_eq!((o.calls_in_flight, o.peak_calls_in_flight), (1, 2));
    }
}
