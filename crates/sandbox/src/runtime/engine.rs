//! The wasmtime engine: pooling allocator for cheap fresh instances, epoch interruption
//! for wall-clock deadlines.

use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of async yields.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Instances alive at once (pool slots). Calls beyond wait for a slot.
    pub pool_slots: u32,
    /// Largest linear memory a plugin may grow to.
    pub max_memory_bytes: usize,
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            pool_slots: 32,
            max_memory_bytes: 64 << 20,
        }
    }
}

pub fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    let slots = settings.pool_slots;
    let mut pool = PoolingAllocationConfig::new();
    // A wit-bindgen component is one main core module plus a few small shims.
    pool.total_component_instances(slots)
        .total_core_instances(slots * 8)
        .total_memories(slots * 2)
        .total_tables(slots * 8)
        .total_stacks(slots)
        .max_memory_size(settings.max_memory_bytes);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
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
