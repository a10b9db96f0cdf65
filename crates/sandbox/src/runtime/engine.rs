//! The wasmtime engine: a fresh instance per call, allocated on demand; epoch interruption
//! for wall-clock deadlines.
//!
//! Instances are allocated on demand rather than from a pooling allocator. A pool has to be
//! sized for the most calls in flight, and with the number of calls following the memory budget
//! (1,024 by default) a pool cost every process about 8 ms at start (one `mprotect` per fiber
//! stack guard page, and the mappings torn down at exit: `toolhost call` 28.0 ms median against
//! 19.9 ms on demand), about 2,050 kernel mappings per engine (Linux allows 65,530 per process,
//! so about 31 hosts per process) and, at wasmtime's default reservation, 8 TiB of address space
//! per engine. On demand, an instance costs about 12 us more to create (27-29 us against
//! 15-17 us), within the noise of a whole call; see docs/PERFORMANCE.md. Fiber stacks, the one
//! per-call mapping that does not depend on the plugin, are kept between calls (`fiber_stacks`).

use super::fiber_stacks::{FiberStackCreator, FiberStacks};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy};

/// How often the epoch advances: the granularity of deadlines and of async yields.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Largest linear memory a plugin may grow to.
    pub max_memory_bytes: usize,
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            max_memory_bytes: 64 << 20,
        }
    }
}

pub fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // A linear memory reserves what the cap allows (plus wasmtime's guard), not wasmtime's
    // default 4 GiB of address space: 1,000 calls in flight would otherwise reserve 4 TiB.
    // The compiled code checks bounds explicitly instead; no cost showed in the bench
    // (docs/PERFORMANCE.md). The cap itself is the store's limiter (`MemoryCap`).
    config.memory_reservation(settings.max_memory_bytes as u64);
    config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    // A dropped store's fiber stack is kept for the next call instead of unmapped
    // (`fiber_stacks`): no mmap, mprotect, page faults or TLB flush for it per call.
    config.with_host_stack(Arc::new(FiberStackCreator(FiberStacks::new())));
    let engine = Engine::new(&config)?;
    start_epoch_ticker(&engine)?;
    Ok(engine)
}

/// Advances the engine's epoch every tick until the engine is dropped.
fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("toolhost-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
}
