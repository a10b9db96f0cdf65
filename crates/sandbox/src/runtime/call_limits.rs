//! The limits every call runs under, each with a safe default and a typed failure when hit.

use std::time::Duration;

/// Live host resources a call may hold by default. A sequential plugin holds about a dozen
/// per request in flight (the real one passes every end-to-end test with the cap at 32); 128
/// leaves room for fan-out while keeping the worst case small.
pub(crate) const DEFAULT_MAX_HOST_RESOURCES: usize = 128;

/// Largest header map by default, as wasi-http counts it (name and value bytes plus about
/// 72 bytes per field): room for ~100 ordinary fields or an 8 KiB cookie, twice what common
/// proxies accept on the wire, and an eighth of wasi-http's own default.
pub(crate) const DEFAULT_MAX_HEADER_BYTES: usize = 16 << 10;

/// Per-call limits. Each has a safe default and produces a typed failure when hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Largest linear memory one instance may grow to ([`CallFailure::MemoryLimit`]).
    pub max_memory_bytes: usize,
    /// Wall-clock time for one call, instantiation included ([`CallFailure::Deadline`]).
    pub deadline: Duration,
    /// Largest tool result, in bytes of JSON ([`CallFailure::OutputTooLarge`]).
    pub max_output_bytes: usize,
    /// Calls running at once; further calls wait for a slot, holding no instance and no
    /// memory while they wait. By default the budget's share: see [`CallLimits::concurrency_for_budget`].
    pub max_concurrent_calls: usize,
    /// Linear memory all calls in flight may hold together; a call whose memory would pass
    /// it is refused ([`CallFailure::MemoryBudget`]).
    pub memory_budget_bytes: usize,
    /// Host resources one call may hold at once: handles to header maps, requests, bodies,
    /// streams, pollables. They live in host memory, outside `max_memory_bytes`
    /// ([`CallFailure::HostResourceLimit`]).
    pub max_host_resources: usize,
    /// Largest header map a plugin may build, in bytes as wasi-http counts them: each field's
    /// name and value plus about 72 bytes ([`CallFailure::HeaderLimit`]). With
    /// `max_host_resources` it bounds the header memory one call can hold.
    pub max_header_bytes: usize,
}

impl Default for CallLimits {
    fn default() -> CallLimits {
        CallLimits {
            max_memory_bytes: 64 << 20,
            deadline: Duration::from_secs(60),
            max_output_bytes: 4 << 20,
            max_concurrent_calls: CallLimits::concurrency_for_budget(
                CallLimits::DEFAULT_MEMORY_BUDGET_BYTES,
            ),
            memory_budget_bytes: CallLimits::DEFAULT_MEMORY_BUDGET_BYTES,
            max_host_resources: DEFAULT_MAX_HOST_RESOURCES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}

impl CallLimits {
    /// Linear memory all calls in flight may hold together by default (`limits.memory_budget_mib`):
    /// room for 1,000 ordinary calls at once and for larger ones beside them.
    pub const DEFAULT_MEMORY_BUDGET_BYTES: usize = 2 << 30;

    /// The linear memory one ordinary call is sized at, which the default number of calls in
    /// flight is derived from (budget / this). The ConnectWise plugin starts at 19 pages (1.19
    /// MiB: the toolchain's 1 MiB shadow stack, its data and 128 KiB of heap) and a one-request
    /// tool does not grow it; 2 MiB leaves room for growth. What such a call commits is far less (about 75 KiB
    /// resident, docs/PERFORMANCE.md), but a size is what a guest may touch, so it is charged.
    pub const CALL_MEMORY_ESTIMATE_BYTES: usize = 2 << 20;

    /// The most calls in flight any budget allows: each holds an instance with its own address
    /// space reservation (4 GiB or the memory cap, plus a guard, per memory: see
    /// `address_space`), so the count is bounded however large the budget.
    pub const MAX_CONCURRENT_CALLS: usize = 4096;

    /// The default number of calls in flight for a memory budget: as many ordinary calls
    /// ([`Self::CALL_MEMORY_ESTIMATE_BYTES`] each) as the budget holds, at least one and at most
    /// [`Self::MAX_CONCURRENT_CALLS`].
    pub fn concurrency_for_budget(budget_bytes: usize) -> usize {
        (budget_bytes / Self::CALL_MEMORY_ESTIMATE_BYTES).clamp(1, Self::MAX_CONCURRENT_CALLS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_MEMORY_BUDGET_BYTES: usize = CallLimits::DEFAULT_MEMORY_BUDGET_BYTES;
    const CALL_MEMORY_ESTIMATE_BYTES: usize = CallLimits::CALL_MEMORY_ESTIMATE_BYTES;
    const MAX_CONCURRENT_CALLS: usize = CallLimits::MAX_CONCURRENT_CALLS;

    #[test]
    fn the_default_concurrency_is_the_budgets_share() {
        let limits = CallLimits::default();
        assert_eq!(limits.memory_budget_bytes, DEFAULT_MEMORY_BUDGET_BYTES);
        assert_eq!(
            limits.max_concurrent_calls,
            DEFAULT_MEMORY_BUDGET_BYTES / CALL_MEMORY_ESTIMATE_BYTES
        );
        assert_eq!(CallLimits::concurrency_for_budget(0), 1);
        assert_eq!(
            CallLimits::concurrency_for_budget(usize::MAX),
            MAX_CONCURRENT_CALLS
        );
        assert_eq!(
            CallLimits::concurrency_for_budget(256 * CALL_MEMORY_ESTIMATE_BYTES),
            256
        );
    }
}
