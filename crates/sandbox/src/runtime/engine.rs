//! The wasmtime engine: a fresh instance per call from wasmtime's pooling allocator, with the
//! pages a call touched kept resident for the next; epoch interruption for wall-clock deadlines.
//!
//! Why a pool with resident memory: on demand, every call mapped a linear memory, faulted in
//! the pages it touched (zeroed or copied from the image) and unmapped them at the end, with a
//! TLB shoot-down to every core. A pool slot is reused as it is: the pages a call dirtied are
//! reset in place (`pagemap_scan` finds them; `memset` clears them) and stay mapped. Measured
//! with `profile call-tool` (docs/PERFORMANCE.md): about 70 us of CPU less per call.
//!
//! The cost is sizing: a slot per call in flight (`instance_slots`), each with a fiber stack
//! whose guard page is one `mprotect` at start. So the pool is sized to the calls a host lets
//! run at once, and a one-shot command opens its host for a few calls (`toolhost call` does).

use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of async yields.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Linear memory kept resident per slot: the ConnectWise plugin's whole initial memory (1.19
/// MiB) and room to grow, so an ordinary call faults nothing in. Only pages a call touched stay.
const KEEP_RESIDENT_BYTES: usize = 2 << 20;
/// Table bytes kept resident per slot (a component's tables are small).
const KEEP_RESIDENT_TABLE_BYTES: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Largest linear memory a plugin may grow to.
    pub max_memory_bytes: usize,
    /// Instances alive at once: the calls in flight, each holding one slot of the pool.
    pub instance_slots: u32,
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            max_memory_bytes: 64 << 20,
            instance_slots: 16,
        }
    }
}

pub fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // A linear memory reserves what the cap allows (plus wasmtime's guard), not wasmtime's
    // default 4 GiB of address space: a pool of 1,000 slots would otherwise reserve 4 TiB.
    // The compiled code checks bounds explicitly instead; no cost showed in the bench
    // (docs/PERFORMANCE.md). The cap itself is the store's limiter (`MemoryCap`).
    config.memory_reservation(settings.max_memory_bytes as u64);
    let slots = settings.instance_slots.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // A wit-bindgen component is one main core module plus a few small shims.
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(8))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(8))
        .total_stacks(slots)
        .max_memory_size(settings.max_memory_bytes)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES.min(settings.max_memory_bytes))
        .table_keep_resident(KEEP_RESIDENT_TABLE_BYTES)
        .pagemap_scan(Enabled::Auto);
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Instance, Module, Store, Trap};

    /// `(module (func $f (export "f") (call $f)) (func (export "ok")))`
    const RECURSE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // one type: [] -> []
        0x03, 0x03, 0x02, 0x00, 0x00, // two functions of it
        0x07, 0x0a, 0x02, 0x01, b'f', 0x00, 0x00, 0x02, b'o', b'k', 0x00, 0x01, // exports
        0x0a, 0x09, 0x02, 0x04, 0x00, 0x10, 0x00, 0x0b, 0x02, 0x00, 0x0b, // f calls f; ok
    ];

    /// `(module (memory (export "m") 1) (func (export "poke") (i32.store (i32.const 64)
    /// (i32.const 0x5a5a5a5a))) (func (export "peek") (result i32) (i32.load (i32.const 64))))`
    const POKE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x08, 0x02, 0x60, 0x00, 0x00, 0x60, 0x00, 0x01, 0x7f, // [] -> [], [] -> [i32]
        0x03, 0x03, 0x02, 0x00, 0x01, // poke, peek
        0x05, 0x03, 0x01, 0x00, 0x01, // one memory of one page
        0x07, 0x13, 0x03, 0x01, b'm', 0x02, 0x00, 0x04, b'p', b'o', b'k', b'e', 0x00, 0x00, 0x04,
        b'p', b'e', b'e', b'k', 0x00, 0x01, // exports
        0x0a, 0x19, 0x02, // code: two bodies
        0x0e, 0x00, 0x41, 0xc0, 0x00, 0x41, 0xda, 0xb4, 0xe9, 0xd2, 0x05, 0x36, 0x02, 0x00,
        0x0b, // poke
        0x08, 0x00, 0x41, 0xc0, 0x00, 0x28, 0x02, 0x00, 0x0b, // peek
    ];

    /// `wasm` compiled on the engine as the host builds it, with a pool of one slot: every
    /// instance of it reuses the same slot and stack.
    fn one_slot_module(wasm: &[u8]) -> Module {
        let settings = EngineSettings {
            instance_slots: 1,
            ..EngineSettings::default()
        };
        Module::new(&build_engine(settings).unwrap(), wasm).unwrap()
    }

    /// A fresh store (no deadline to speak of) and an instance of `module` in it.
    async fn instantiate(module: &Module) -> (Store<()>, Instance) {
        let mut store = Store::new(module.engine(), ());
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = Instance::new_async(&mut store, module, &[]).await.unwrap();
        (store, instance)
    }

    /// The engine as the host builds it: a runaway recursion still stops at wasmtime's
    /// stack limit, call after call on reused slots and stacks, and the next call runs.
    #[tokio::test]
    async fn runaway_recursion_on_reused_slots_traps_and_the_next_call_runs() {
        let module = one_slot_module(RECURSE);
        for _ in 0..4 {
            let (mut store, instance) = instantiate(&module).await;
            let recurse = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
            let err = recurse.call_async(&mut store, ()).await.unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
            let ok = instance.get_typed_func::<(), ()>(&mut store, "ok").unwrap();
            ok.call_async(&mut store, ()).await.unwrap();
        }
    }

    /// What one call wrote in its memory is gone for the next call on the same (only) slot,
    /// although the slot's pages stay resident: nothing passes between calls.
    #[tokio::test]
    async fn a_reused_slot_starts_from_a_clean_memory() {
        let module = one_slot_module(POKE);
        for round in 0..3 {
            let (mut store, instance) = instantiate(&module).await;
            let peek = instance
                .get_typed_func::<(), i32>(&mut store, "peek")
                .unwrap();
            assert_eq!(
                peek.call_async(&mut store, ()).await.unwrap(),
                0,
                "round {round}"
            );
            let poke = instance
                .get_typed_func::<(), ()>(&mut store, "poke")
                .unwrap();
            poke.call_async(&mut store, ()).await.unwrap();
            assert_eq!(peek.call_async(&mut store, ()).await.unwrap(), 0x5a5a5a5a);
        }
    }
}
