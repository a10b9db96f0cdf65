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
//!
//! Each memory slot reserves 4 GiB of address space when the process allowance
//! ([`super::address_space`]) has room for the whole pool (no bounds checks in compiled code),
//! and only the memory cap otherwise.

use super::address_space::{self, AddressSpace, Lease};
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of async yields.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Linear memory kept resident per slot: a small call's pages (the ConnectWise plugin's
/// company listing writes fewer than eight: a stack page, its statics, 11 KB of heap) with
/// room to spare, so an ordinary call faults nothing in.
///
/// Why not more: without userfaultfd write protection, `PAGEMAP_SCAN` reports every present
/// page as written, so a slot's reset clears every page that any earlier call left resident
/// within the memory this call had, up to this budget. At 2 MiB, the calls a host makes at
/// start (its catalog) and any large one left the plugin's whole heap slack resident, and every
/// later call cleared it: about 140 KB per company listing in the bench, where the listing
/// itself writes under 32 KB (up to the plugin's whole 1.19 MiB initial memory, whose stack a
/// deep call can fill). A call that writes more pays for its own excess (released and
/// faulted in again), not the calls after it.
const KEEP_RESIDENT_BYTES: usize = 64 << 10;
/// Table bytes kept resident per slot (a component's tables are small).
const KEEP_RESIDENT_TABLE_BYTES: usize = 64 << 10;

#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// Largest linear memory a plugin may grow to.
    pub max_memory_bytes: usize,
    /// Instances alive at once: the calls in flight, each holding one slot of the pool.
    pub instance_slots: u32,
}

impl EngineSettings {
    /// The pool's slots: at least one, whatever the settings say.
    fn slots(&self) -> u32 {
        self.instance_slots.max(1)
    }
}

impl Default for EngineSettings {
    fn default() -> EngineSettings {
        EngineSettings {
            max_memory_bytes: 64 << 20,
            instance_slots: 16,
        }
    }
}

/// How the engine's linear memories are laid out in its address space.
#[derive(Debug)]
pub enum MemoryLayout {
    /// 4 GiB and a guard per memory: out-of-bounds accesses fault, code checks nothing. The
    /// lease holds the pool's share of the process allowance while the engine lives.
    Unchecked {
        /// Held for its `Drop`.
        _lease: Lease,
    },
    /// The memory cap and a guard per memory: compiled code checks every access's bounds.
    Checked,
}

impl MemoryLayout {
    /// `unchecked` or `checked`, for reports.
    pub fn name(&self) -> &'static str {
        match self {
            MemoryLayout::Unchecked { .. } => "unchecked",
            MemoryLayout::Checked => "checked",
        }
    }
}

/// An engine for `settings`, its memories laid out unchecked when the process allowance
/// has room for them (and the system grants the reservation), checked otherwise.
pub fn build_engine(settings: EngineSettings) -> wasmtime::Result<(Engine, MemoryLayout)> {
    build_engine_in(settings, &address_space::PROCESS)
}

fn build_engine_in(
    settings: EngineSettings,
    space: &'static AddressSpace,
) -> wasmtime::Result<(Engine, MemoryLayout)> {
    let slots = settings.slots();
    if let Some(lease) = space.lease(unchecked_bytes(slots)) {
        // Refused by the system (`ulimit -v`, a small address space): checked, below.
        match engine_with(settings, None) {
            Ok(engine) => return Ok((engine, MemoryLayout::Unchecked { _lease: lease })),
            Err(err) => {
                tracing::debug!("unchecked memory layout refused, checking bounds: {err:#}")
            }
        }
    }
    // A memory reserves only what the cap allows (plus the guard) and the compiled code
    // checks bounds. Either way the cap itself is the store's limiter (`MemoryCap`) and the
    // pool's `max_memory_size`.
    let reservation = settings.max_memory_bytes as u64;
    Ok((
        engine_with(settings, Some(reservation))?,
        MemoryLayout::Checked,
    ))
}

/// A wit-bindgen component has one memory; two per slot leave room for a composed one.
fn memories(slots: u32) -> u32 {
    slots.saturating_mul(2)
}

/// The address space a pool of `slots` reserves in the unchecked layout.
fn unchecked_bytes(slots: u32) -> u64 {
    u64::from(memories(slots)).saturating_mul(address_space::UNCHECKED_MEMORY_BYTES)
}

/// The engine, each memory reserving `reservation` bytes (`None`: wasmtime's 4 GiB).
fn engine_with(settings: EngineSettings, reservation: Option<u64>) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    if let Some(bytes) = reservation {
        config.memory_reservation(bytes);
    }
    let slots = settings.slots();
    let mut pool = PoolingAllocationConfig::new();
    // A wit-bindgen component is one main core module plus a few small shims.
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(8))
        .total_memories(memories(slots))
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

    /// `(module (memory 1) (func (export "near") (result i32) (i32.load (i32.const 65536)))
    /// (func (export "far") (result i32) (i32.load (i32.const -16))))`: one load just past
    /// the memory, one near the end of the 32-bit index space.
    const OUT_OF_BOUNDS: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // [] -> [i32]
        0x03, 0x03, 0x02, 0x00, 0x00, // near, far
        0x05, 0x03, 0x01, 0x00, 0x01, // one memory of one page
        0x07, 0x0e, 0x02, 0x04, b'n', b'e', b'a', b'r', 0x00, 0x00, 0x03, b'f', b'a', b'r', 0x00,
        0x01, // exports
        0x0a, 0x13, 0x02, // code: two bodies
        0x09, 0x00, 0x41, 0x80, 0x80, 0x04, 0x28, 0x02, 0x00, 0x0b, // near
        0x07, 0x00, 0x41, 0x70, 0x28, 0x02, 0x00, 0x0b, // far
    ];

    /// `(module (memory (export "m") 40) (func (export "dirty") (param $pages i32) (local $i
    /// i32) (block (loop (br_if 1 (i32.ge_u (local.get $i) (local.get $pages))) (i32.store8
    /// (i32.shl (local.get $i) (i32.const 12)) (i32.const 1)) (local.set $i (i32.add
    /// (local.get $i) (i32.const 1))) (br 0)))))`: writes a byte in each of the first
    /// `$pages` 4 KiB pages of a 2.5 MiB memory.
    const DIRTY: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00, // one type: [i32] -> []
        0x03, 0x02, 0x01, 0x00, // one function of it
        0x05, 0x03, 0x01, 0x00, 0x28, // one memory of 40 pages
        0x07, 0x0d, 0x02, 0x01, b'm', 0x02, 0x00, 0x05, b'd', b'i', b'r', b't', b'y', 0x00,
        0x00, // exports
        0x0a, 0x26, 0x01, 0x24, 0x01, 0x01, 0x7f, // code: one body, one i32 local
        0x02, 0x40, 0x03, 0x40, // block, loop
        0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, // i >= pages: break
        0x20, 0x01, 0x41, 0x0c, 0x74, 0x41, 0x01, 0x3a, 0x00, 0x00, // store8 at i << 12
        0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, // i += 1; continue
        0x0b, 0x0b, 0x0b, // end loop, block, function
    ];
    /// [`DIRTY`]'s memory: 40 wasm pages.
    const DIRTY_MEMORY_BYTES: usize = 40 << 16;

    /// `wasm` compiled on the engine as the host builds it, with a pool of one slot: every
    /// instance of it reuses the same slot and stack.
    fn one_slot_module(wasm: &[u8]) -> Module {
        one_slot_module_in(wasm, &address_space::PROCESS).0
    }

    fn one_slot_module_in(wasm: &[u8], space: &'static AddressSpace) -> (Module, MemoryLayout) {
        let settings = EngineSettings {
            instance_slots: 1,
            ..EngineSettings::default()
        };
        let (engine, layout) = build_engine_in(settings, space).unwrap();
        (Module::new(&engine, wasm).unwrap(), layout)
    }

    /// Either layout stops a load past the memory, near it or 4 GiB away: the unchecked one
    /// by its unmapped reservation, the checked one by the compiled bounds check.
    #[tokio::test]
    async fn out_of_bounds_loads_trap_in_both_layouts() {
        static ROOMY: AddressSpace = AddressSpace::new(u64::MAX);
        static NONE: AddressSpace = AddressSpace::new(0);
        for (space, expected) in [(&ROOMY, "unchecked"), (&NONE, "checked")] {
            let (module, layout) = one_slot_module_in(OUT_OF_BOUNDS, space);
            assert_eq!(layout.name(), expected);
            for export in ["near", "far"] {
                let (mut store, instance) = instantiate(&module).await;
                let load = instance
                    .get_typed_func::<(), i32>(&mut store, export)
                    .unwrap();
                let err = load.call_async(&mut store, ()).await.unwrap_err();
                assert_eq!(
                    err.downcast_ref::<Trap>(),
                    Some(&Trap::MemoryOutOfBounds),
                    "{expected} layout, {export}"
                );
            }
        }
    }

    /// An engine takes its pool's share of the allowance while it lives; one that would pass
    /// it is laid out checked, and the share comes back when the layout is dropped.
    #[test]
    fn engines_lay_out_unchecked_while_the_allowance_has_room() {
        let pool = 2 * address_space::UNCHECKED_MEMORY_BYTES;
        static ONE_POOL: AddressSpace =
            AddressSpace::new(2 * address_space::UNCHECKED_MEMORY_BYTES);
        let settings = EngineSettings {
            instance_slots: 1,
            ..EngineSettings::default()
        };
        let (first, first_layout) = build_engine_in(settings, &ONE_POOL).unwrap();
        assert_eq!(first_layout.name(), "unchecked");
        let (_second, second_layout) = build_engine_in(settings, &ONE_POOL).unwrap();
        assert_eq!(
            second_layout.name(),
            "checked",
            "no room for a second pool of {pool} bytes"
        );
        drop((first, first_layout));
        let (_third, third_layout) = build_engine_in(settings, &ONE_POOL).unwrap();
        assert_eq!(
            third_layout.name(),
            "unchecked",
            "the first pool's share came back"
        );
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

    /// The 4 KiB pages of `[base, base + len)` that are in memory (`/proc/self/pagemap`).
    #[cfg(target_os = "linux")]
    fn resident_pages(base: usize, len: usize) -> usize {
        use std::io::{Read, Seek, SeekFrom};
        let mut pagemap = std::fs::File::open("/proc/self/pagemap").unwrap();
        let mut entries = vec![0u8; len / 4096 * 8];
        pagemap
            .seek(SeekFrom::Start((base / 4096 * 8) as u64))
            .unwrap();
        pagemap.read_exact(&mut entries).unwrap();
        entries
            .chunks_exact(8)
            .filter(|entry| entry[7] & 0x80 != 0)
            .count()
    }

    /// A large call's pages are not left resident in its slot for every later call to reset:
    /// after a call that wrote 2 MiB and one that wrote a page, the slot keeps no more than
    /// its budget. (Kept at 2 MiB, all 512 pages stayed, and each small call cleared them.)
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_large_call_leaves_no_more_than_the_budget_resident() {
        let module = one_slot_module(DIRTY);
        let mut base = 0;
        for pages in [512, 1] {
            let (mut store, instance) = instantiate(&module).await;
            let memory = instance.get_memory(&mut store, "m").unwrap();
            base = memory.data_ptr(&store) as usize;
            let dirty = instance
                .get_typed_func::<i32, ()>(&mut store, "dirty")
                .unwrap();
            dirty.call_async(&mut store, pages).await.unwrap();
            assert!(resident_pages(base, DIRTY_MEMORY_BYTES) >= pages as usize);
        }
        // The last store is gone: its slot has been reset and is ready for the next call.
        // 64 KiB: the budget, stated here rather than read from it, so that a larger one fails.
        let resident = resident_pages(base, DIRTY_MEMORY_BYTES);
        assert!(
            resident <= 16,
            "{resident} pages resident after a one-page call"
        );
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
