//! The state of one Store: one tool call, built fresh and dropped after the call.

use super::call_limits::CallLimits;
use super::host_limits;
use super::memory_budget::MemoryBudget;
use crate::outbound::tool_routes::ToolRoutes;
use crate::outbound::{CallLedger, OutboundGate, OutboundPolicy};
use std::sync::Arc;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_config::WasiConfigVariables;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// How much of a plugin's stdout/stderr is kept as its log.
const PLUGIN_LOG_BYTES: usize = 64 * 1024;

pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    gate: OutboundGate,
    pub(super) config: WasiConfigVariables,
    pub(super) memory: MemoryCap,
    log: MemoryOutputPipe,
}

impl CallState {
    pub fn new(
        outbound: Arc<OutboundPolicy>,
        tool_routes: Arc<ToolRoutes>,
        ledger: Arc<CallLedger>,
        config: &[(String, String)],
        limits: &CallLimits,
        budget: Arc<MemoryBudget>,
    ) -> CallState {
        let log = MemoryOutputPipe::new(PLUGIN_LOG_BYTES);
        // Nothing is inherited: no environment, no arguments, no stdin, no preopened
        // directories, no sockets (the linker does not even offer them).
        let wasi = WasiCtx::builder()
            .stdout(log.clone())
            .stderr(log.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        CallState {
            wasi,
            // Handles and header maps live in host memory, not under `memory`: capped apart.
            table: host_limits::resource_table(limits),
            http: host_limits::http_ctx(limits),
            gate: OutboundGate::new(outbound, tool_routes, ledger),
            config: config.iter().cloned().collect(),
            memory: MemoryCap::new(limits.max_memory_bytes, budget),
            log,
        }
    }

    /// Gives a store made ahead of its call (offline, see [`super::instances`]) the call's
    /// gate, ledger and configuration, before any of the call's code runs.
    pub fn begin_call(
        &mut self,
        outbound: Arc<OutboundPolicy>,
        tool_routes: Arc<ToolRoutes>,
        ledger: Arc<CallLedger>,
        config: &[(String, String)],
    ) {
        self.gate = OutboundGate::new(outbound, tool_routes, ledger);
        self.config = config.iter().cloned().collect();
    }

    /// What the plugin wrote to stdout/stderr.
    pub fn plugin_log(&self) -> String {
        String::from_utf8_lossy(&self.log.contents()).into_owned()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.gate,
        }
    }
}

/// Caps each linear memory of the call and charges all of them to the budget shared by the
/// calls in flight, and remembers which refusal happened, so the host can say "memory limit"
/// or "memory budget" instead of relaying whatever the guest's allocator did next.
pub struct MemoryCap {
    max_bytes: usize,
    pub(super) hit: bool,
    budget: Arc<MemoryBudget>,
    /// What this call has charged to `budget`, given back when the store is dropped.
    charged: usize,
    pub(super) budget_hit: bool,
    /// Times an existing memory grew: each is an `mprotect` now and another when the pool
    /// slot is next reused.
    pub(super) grows: u32,
}

impl MemoryCap {
    fn new(max_bytes: usize, budget: Arc<MemoryBudget>) -> MemoryCap {
        MemoryCap {
            max_bytes,
            hit: false,
            budget,
            charged: 0,
            budget_hit: false,
            grows: 0,
        }
    }

    /// The linear memory this store has charged to the budget.
    pub(super) fn charged(&self) -> usize {
        self.charged
    }
}

impl Drop for MemoryCap {
    fn drop(&mut self) {
        self.budget.release(self.charged);
    }
}

impl ResourceLimiter for MemoryCap {
    /// Called before a memory is created (`current` 0) and before it grows.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Ok(false);
        }
        let more = desired.saturating_sub(current);
        if !self.budget.try_charge(more) {
            self.budget_hit = true;
            return Ok(false);
        }
        self.charged += more;
        if current > 0 {
            self.grows += 1;
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
