//! What one call may make the host allocate outside the guest's linear memory.
//!
//! The memory cap bounds the guest's own heap, but every handle a guest holds (a header map,
//! a request, a body, a stream, a pollable) is a value in the Store's `ResourceTable`, in host
//! memory. Left at wasmtime's defaults (a million live entries, 128 KiB per header map) a guest
//! cloning header maps in a loop grows the host by gigabytes while its own memory stays small.
//! Two knobs wasmtime 48 already has bound it, so nothing of wasi-http is re-implemented here:
//! `ResourceTable::set_max_capacity` (live handles) and `WasiHttpCtx::set_field_size_limit`
//! (bytes per header map). The header memory one call can hold is about their product.

use super::call_failure::CallFailure;
use super::call_limits::CallLimits;
#[cfg(test)]
use super::call_limits::DEFAULT_MAX_HEADER_BYTES;
use wasmtime::component::{ResourceTable, ResourceTableError};
use wasmtime_wasi_http::{FieldMapError, WasiHttpCtx};

/// A per-call resource table that refuses new entries past the call's cap.
pub(super) fn resource_table(limits: &CallLimits) -> ResourceTable {
    let mut table = ResourceTable::new();
    table.set_max_capacity(limits.max_host_resources);
    table
}

/// A per-call wasi-http context whose header maps stop growing at the call's cap.
pub(super) fn http_ctx(limits: &CallLimits) -> WasiHttpCtx {
    let mut http = WasiHttpCtx::new();
    http.set_field_size_limit(limits.max_header_bytes);
    http
}

/// The typed failure for a trap one of the caps above caused, or `None` for any other trap.
///
/// wasmtime-wasi-http turns both refusals into traps (not guest-visible errors), keeping the
/// original error in the chain, so the cause is found by type rather than by message.
pub(super) fn host_limit_failure(
    err: &wasmtime::Error,
    limits: &CallLimits,
) -> Option<CallFailure> {
    if let Some(ResourceTableError::Full) = err.downcast_ref::<ResourceTableError>() {
        return Some(CallFailure::HostResourceLimit {
            limit: limits.max_host_resources,
        });
    }
    match err.downcast_ref::<FieldMapError>() {
        Some(FieldMapError::TotalSizeTooBig | FieldMapError::TooManyFields) => {
            Some(CallFailure::HeaderLimit {
                limit_bytes: limits.max_header_bytes,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::component::Resource;
    use wasmtime_wasi_http::p2::bindings::http::types::HostFields;
    use wasmtime_wasi_http::{default_hooks, WasiHttpCtxView};

    /// What wasi-http adds to each field's name and value bytes when it counts a map.
    const FIELD_OVERHEAD: usize = size_of::<http::HeaderName>() + size_of::<http::HeaderValue>();

    fn limits(max_host_resources: usize, max_header_bytes: usize) -> CallLimits {
        CallLimits {
            max_host_resources,
            max_header_bytes,
            ..CallLimits::default()
        }
    }

    #[test]
    fn other_traps_are_not_limit_failures() {
        let limits = CallLimits::default();
        let plain = wasmtime::Error::msg("unreachable executed");
        assert_eq!(host_limit_failure(&plain, &limits), None);
        let stale = wasmtime::Error::from(ResourceTableError::NotPresent).context("get");
        assert_eq!(host_limit_failure(&stale, &limits), None);
        let full = wasmtime::Error::from(ResourceTableError::Full).context("[new_fields] push");
        assert!(host_limit_failure(&full, &limits).is_some());
    }

    #[test]
    fn the_table_refuses_entries_past_the_cap() {
        let mut table = resource_table(&limits(8, DEFAULT_MAX_HEADER_BYTES));
        let held: Vec<_> = (0..8).map(|i| table.push(i).unwrap()).collect();
        assert!(matches!(table.push(8), Err(ResourceTableError::Full)));
        // Dropping a handle gives its slot back: the cap is on live resources, not a budget.
        table.delete(held.into_iter().next().unwrap()).unwrap();
        table.push(9).unwrap();
    }

    /// Through wasi-http's own `fields` implementation: cloning fills the table and traps,
    /// appending past the map's cap traps, and both traps map to their typed failure.
    #[test]
    fn wasi_http_fields_stop_at_both_caps_with_typed_failures() {
        let limits = limits(4, 1024);
        let mut table = resource_table(&limits);
        let mut ctx = http_ctx(&limits);
        let mut view = WasiHttpCtxView {
            ctx: &mut ctx,
            table: &mut table,
            hooks: default_hooks(),
        };
        let map = HostFields::new(&mut view).unwrap();
        let mut appended = 0;
        let size_err = loop {
            let name = format!("x-field-{appended:04}");
            let borrowed = Resource::new_borrow(map.rep());
            match HostFields::append(&mut view, borrowed, name, b"1".to_vec()) {
                Ok(()) => appended += 1,
                Err(err) => break err,
            }
        };
        // 12-byte names and 1-byte values, counted with wasi-http's per-field overhead.
        assert_eq!(appended, 1024 / (13 + FIELD_OVERHEAD));
        let trap = size_err.downcast().expect_err("a map past its cap traps");
        assert_eq!(
            host_limit_failure(&trap, &limits),
            Some(CallFailure::HeaderLimit { limit_bytes: 1024 })
        );

        let mut clones = Vec::new();
        let table_err = loop {
            match HostFields::clone(&mut view, Resource::new_borrow(map.rep())) {
                Ok(copy) => clones.push(copy),
                Err(err) => break err,
            }
        };
        assert_eq!(
            clones.len(),
            3,
            "the original plus three clones fill four slots"
        );
        assert_eq!(
            host_limit_failure(&table_err, &limits),
            Some(CallFailure::HostResourceLimit { limit: 4 })
        );
    }
}
