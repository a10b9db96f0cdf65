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
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    /// Largest linear memory one instance may grow to ([`CallFailure::MemoryLimit`]).
    pub max_memory_bytes: usize,
    /// Wall-clock time for one call, instantiation included ([`CallFailure::Deadline`]).
    pub deadline: Duration,
    /// Largest tool result, in bytes of JSON ([`CallFailure::OutputTooLarge`]).
    pub max_output_bytes: usize,
    /// Calls running at once; further calls wait for a slot.
    pub max_concurrent_calls: usize,
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
            max_concurrent_calls: 16,
            max_host_resources: DEFAULT_MAX_HOST_RESOURCES,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }
}
