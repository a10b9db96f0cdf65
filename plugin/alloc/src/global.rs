//! The heap of [`super`] as the component's global allocator, over its linear memory.

use super::{Heap, Region, PAGE};
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

/// The component's linear memory.
pub struct LinearMemory;

extern "C" {
    /// Set by wasm-ld: the end of the static data and the stack, and the end of the
    /// initial memory.
    static __heap_base: u8;
    static __heap_end: u8;
}

impl Region for LinearMemory {
    fn initial(&self) -> (usize, usize) {
        // Only the symbols' addresses are taken, never their (absent) contents.
        (
            core::ptr::addr_of!(__heap_base) as usize,
            core::ptr::addr_of!(__heap_end) as usize,
        )
    }
    fn grow(&mut self, pages: usize) -> Option<usize> {
        let old = core::arch::wasm32::memory_grow(0, pages);
        (old != usize::MAX).then(|| old * PAGE)
    }
    fn read_link(&self, block: usize) -> usize {
        // SAFETY: `block` is a free block of at least MIN_BLOCK bytes, 16-aligned, inside
        // memory this heap grew; nobody else holds it while it is listed.
        unsafe { *(block as *const usize) }
    }
    fn write_link(&mut self, block: usize, next: usize) {
        // SAFETY: as in `read_link`; the block was just given back by its owner.
        unsafe { *(block as *mut usize) = next }
    }
}

pub struct SizeClasses(UnsafeCell<Heap<LinearMemory>>);

// SAFETY: wasm32-wasip2 components are single-threaded (no shared memory, no threads), so
// the heap is never used from two threads at once.
unsafe impl Sync for SizeClasses {}

impl SizeClasses {
    #[allow(clippy::mut_from_ref)]
    fn heap(&self) -> &mut Heap<LinearMemory> {
        // SAFETY: single-threaded (above), and no method of `Heap` calls back into the
        // allocator, so this is the only live reference while it is used.
        unsafe { &mut *self.0.get() }
    }
}

// SAFETY: every block handed out is `[addr, addr + 2^class)` with 2^class >= size, aligned
// to `align`, and not handed out again until it is freed: it is either cut from above the
// top (which only moves down when the topmost block is freed) or taken off a free list.
unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.heap().alloc(layout.size(), layout.align()) {
            Some(addr) => addr as *mut u8,
            None => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.heap()
            .dealloc(ptr as usize, layout.size(), layout.align())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let heap = self.heap();
        let (addr, align) = (ptr as usize, layout.align());
        if let Some(same) = heap.resize_in_place(addr, layout.size(), align, new_size) {
            return same as *mut u8;
        }
        let Some(moved) = heap.alloc(new_size, align) else {
            return core::ptr::null_mut();
        };
        // SAFETY: both blocks are live, distinct and at least min(old, new) bytes long.
        unsafe {
            core::ptr::copy_nonoverlapping(ptr, moved as *mut u8, layout.size().min(new_size))
        };
        heap.dealloc(addr, layout.size(), align);
        moved as *mut u8
    }
}

#[global_allocator]
pub(super) static ALLOCATOR: SizeClasses = SizeClasses(UnsafeCell::new(Heap::new(LinearMemory)));
