//! Fiber stacks kept for the next call instead of mapped and unmapped for every call.
//!
//! Every call runs its instance on a fiber (the engine is async), and with on-demand
//! instances wasmtime maps a fresh stack for each store (`mmap`, `mprotect` for the guard
//! page, page faults as the call touches it) and unmaps it when the store is dropped, which
//! also makes the kernel flush the other cores' TLBs. Here a dropped stack goes back to a
//! short free list and the next call takes it as it is: no system call, no page fault.
//!
//! What a reused stack holds: the frames of the call that used it last (host and compiled
//! guest code; the guest's own data lives in its linear memory, which is never reused). No
//! guest can read the native stack, so nothing crosses from one call to the next; this is
//! what wasmtime's pooling allocator does too (stack zeroing is off by default there). When
//! wasmtime asks for a zeroed stack, a reused one is zeroed first (`MADV_DONTNEED`).
//!
//! What it keeps: at most [`FiberStacks::KEEP`] stacks, each with the pages the calls touched
//! (a few dozen KiB for an ordinary call; at worst the whole stack), beyond which a dropped
//! stack is unmapped as before. A burst of calls maps the stacks it needs and hands all but
//! `KEEP` back to the kernel when it ends.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use wasmtime::{StackCreator, StackMemory};

/// The stacks free for the next call, shared by every store of one engine.
pub(super) struct FiberStacks {
    free: Mutex<Vec<Mapping>>,
}

impl FiberStacks {
    /// How many free stacks are kept.
    pub(super) const KEEP: usize = 32;

    pub(super) fn new() -> Arc<FiberStacks> {
        Arc::new(FiberStacks {
            free: Mutex::new(Vec::new()),
        })
    }

    /// How many stacks wait for a call (for tests).
    #[cfg(test)]
    fn free_count(&self) -> usize {
        self.free.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn take(&self, stack_len: usize) -> Option<Mapping> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let at = free.iter().rposition(|m| m.stack_len == stack_len)?;
        Some(free.swap_remove(at))
    }

    fn give_back(&self, mapping: Mapping) {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if free.len() < Self::KEEP {
            free.push(mapping);
        }
        // Otherwise `mapping` is dropped here: unmapped.
    }
}

/// An adapter so one `Arc<FiberStacks>` can be both the engine's creator and each stack's
/// way home.
pub(super) struct FiberStackCreator(pub(super) Arc<FiberStacks>);

// SAFETY: every stack handed out is a private anonymous mapping of its own, page aligned,
// readable and writable, with a `PROT_NONE` guard page below it, and is never handed out
// again (nor unmapped) until wasmtime has dropped the `StackMemory` it was given as.
unsafe impl StackCreator for FiberStackCreator {
    fn new_stack(&self, size: usize, zeroed: bool) -> wasmtime::Result<Box<dyn StackMemory>> {
        let stack_len = round_up_to_page(size);
        let mapping = match self.0.take(stack_len) {
            Some(reused) => {
                if zeroed {
                    reused.zero()?;
                }
                reused
            }
            // A fresh anonymous mapping is zero-filled already.
            None => Mapping::new(stack_len)?,
        };
        Ok(Box::new(PooledStack {
            mapping: Some(mapping),
            home: self.0.clone(),
        }))
    }
}

/// A stack lent to one store; goes back to the free list when wasmtime drops it.
struct PooledStack {
    mapping: Option<Mapping>,
    home: Arc<FiberStacks>,
}

impl PooledStack {
    fn mapping(&self) -> &Mapping {
        self.mapping.as_ref().expect("present until dropped")
    }
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        if let Some(mapping) = self.mapping.take() {
            self.home.give_back(mapping);
        }
    }
}

// SAFETY: see `FiberStackCreator`: the ranges below describe exactly the mapping this value
// owns, which stays mapped for its whole life.
unsafe impl StackMemory for PooledStack {
    fn top(&self) -> *mut u8 {
        let m = self.mapping();
        m.base.wrapping_add(page_size() + m.stack_len)
    }

    fn range(&self) -> Range<usize> {
        let m = self.mapping();
        let start = m.base as usize + page_size();
        start..start + m.stack_len
    }

    fn guard_range(&self) -> Range<*mut u8> {
        let m = self.mapping();
        m.base..m.base.wrapping_add(page_size())
    }
}

/// One guard page, then `stack_len` bytes of stack (stacks grow down, towards the guard).
struct Mapping {
    base: *mut u8,
    stack_len: usize,
}

// SAFETY: the mapping is plain memory owned by this value; nothing in it is tied to a thread.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    fn new(stack_len: usize) -> wasmtime::Result<Mapping> {
        let page = page_size();
        // SAFETY: a new private anonymous mapping, nothing else refers to it; the guard page
        // stays `PROT_NONE` and only the stack above it is made accessible.
        unsafe {
            let base = rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                stack_len + page,
                rustix::mm::ProtFlags::empty(),
                rustix::mm::MapFlags::PRIVATE,
            )?;
            let mapping = Mapping {
                base: base.cast(),
                stack_len,
            };
            rustix::mm::mprotect(
                base.byte_add(page),
                stack_len,
                rustix::mm::MprotectFlags::READ | rustix::mm::MprotectFlags::WRITE,
            )?;
            Ok(mapping)
        }
    }

    /// Gives the stack's pages back to the kernel: the next touch reads zeros.
    fn zero(&self) -> wasmtime::Result<()> {
        // SAFETY: the range is this mapping's own private anonymous stack, not in use (it is
        // between two owners).
        unsafe {
            rustix::mm::madvise(
                self.base.add(page_size()).cast(),
                self.stack_len,
                rustix::mm::Advice::LinuxDontNeed,
            )?;
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `Mapping::new`, no longer lent to anyone.
        let unmapped =
            unsafe { rustix::mm::munmap(self.base.cast(), self.stack_len + page_size()) };
        debug_assert!(unmapped.is_ok());
    }
}

fn page_size() -> usize {
    rustix::param::page_size()
}

fn round_up_to_page(size: usize) -> usize {
    let page = page_size();
    size.max(1).div_ceil(page) * page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lend(creator: &FiberStackCreator, zeroed: bool) -> Box<dyn StackMemory> {
        creator.new_stack(64 * 1024, zeroed).unwrap()
    }

    #[test]
    fn a_dropped_stack_is_lent_again_and_the_free_list_is_bounded() {
        let stacks = FiberStacks::new();
        let creator = FiberStackCreator(stacks.clone());
        let first = lend(&creator, false);
        let range = first.range();
        assert_eq!(range.len(), 64 * 1024);
        assert_eq!(first.top() as usize, range.end);
        assert_eq!(first.guard_range().end as usize, range.start);
        drop(first);
        assert_eq!(stacks.free_count(), 1);
        // The same memory, not a new mapping.
        let again = lend(&creator, false);
        assert_eq!(again.range(), range);
        assert_eq!(stacks.free_count(), 0);
        drop(again);

        let many: Vec<_> = (0..FiberStacks::KEEP + 5)
            .map(|_| lend(&creator, false))
            .collect();
        drop(many);
        assert_eq!(stacks.free_count(), FiberStacks::KEEP);
    }

    /// `(module (func $f (export "f") (call $f)) (func (export "ok")))`
    const RECURSE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // one type: [] -> []
        0x03, 0x03, 0x02, 0x00, 0x00, // two functions of it
        0x07, 0x0a, 0x02, 0x01, b'f', 0x00, 0x00, 0x02, b'o', b'k', 0x00, 0x01, // exports
        0x0a, 0x09, 0x02, 0x04, 0x00, 0x10, 0x00, 0x0b, 0x02, 0x00, 0x0b, // f calls f; ok
    ];

    /// The engine as the host builds it: a runaway recursion still stops at wasmtime's
    /// stack limit, call after call on stacks that are reused, and the next call on the
    /// same engine runs.
    #[tokio::test]
    async fn runaway_recursion_on_reused_stacks_traps_and_the_next_call_runs() {
        use super::super::engine::{build_engine, EngineSettings};
        use wasmtime::{Instance, Module, Store, Trap};
        let engine = build_engine(EngineSettings::default()).unwrap();
        let module = Module::new(&engine, RECURSE).unwrap();
        for _ in 0..4 {
            let mut store = Store::new(&engine, ());
            store.set_epoch_deadline(u64::MAX / 2);
            let instance = Instance::new_async(&mut store, &module, &[]).await.unwrap();
            let recurse = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
            let err = recurse.call_async(&mut store, ()).await.unwrap_err();
            assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::StackOverflow));
            let ok = instance.get_typed_func::<(), ()>(&mut store, "ok").unwrap();
            ok.call_async(&mut store, ()).await.unwrap();
        }
    }

    #[test]
    fn a_stack_asked_for_zeroed_is_zeroed_when_reused() {
        let stacks = FiberStacks::new();
        let creator = FiberStackCreator(stacks.clone());
        let used = lend(&creator, false);
        let range = used.range();
        // SAFETY: the stack is ours and not running anything.
        unsafe { std::ptr::write_bytes((range.end - 4096) as *mut u8, 0xA5, 4096) };
        drop(used);
        let reused = lend(&creator, true);
        assert_eq!(reused.range(), range);
        // SAFETY: as above.
        let page = unsafe { std::slice::from_raw_parts((range.end - 4096) as *const u8, 4096) };
        assert!(page.iter().all(|&b| b == 0));
    }
}
