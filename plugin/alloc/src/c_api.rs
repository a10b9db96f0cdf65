//! C's allocator, for the C parts of the component (wasi-libc's `atexit` and locales) and
//! std's `System`. Defined here, the linker takes these instead of wasi-libc's dlmalloc, so
//! the component carries one allocator, not two, and the heap may start in the initial
//! memory's slack (`__heap_base..__heap_end`), which dlmalloc would otherwise own: a
//! duplicate symbol would fail the link, so the two can never share it.

use super::global::ALLOCATOR;
use core::alloc::{GlobalAlloc, Layout};

/// Before each C block: where the Rust block starts and its size, as `free` needs them.
const HEADER: usize = 16;
const ENOMEM: i32 = 48;
const EINVAL: i32 = 28;

unsafe fn aligned(size: usize, align: usize) -> *mut u8 {
    // C callers may pass any number; only a power of two is an alignment (else: no memory).
    if !align.is_power_of_two() {
        return core::ptr::null_mut();
    }
    let align = align.max(HEADER);
    // The block is HEADER-aligned, so the first `align`-aligned address past the header
    // is at most `align` bytes in: `size + align` bytes hold header and data.
    let Some(layout) = size
        .checked_add(align)
        .and_then(|total| Layout::from_size_align(total, HEADER).ok())
    else {
        return core::ptr::null_mut();
    };
    // SAFETY: the header and data lie inside the block (above); the header is 16-aligned.
    unsafe {
        let block = ALLOCATOR.alloc(layout);
        if block.is_null() {
            return block;
        }
        let ptr = block.add(HEADER).add(block.add(HEADER).align_offset(align));
        *(ptr.sub(HEADER) as *mut [usize; 2]) = [block as usize, layout.size()];
        ptr
    }
}

#[no_mangle]
pub unsafe extern "C" fn malloc(size: usize) -> *mut u8 {
    unsafe { aligned(size, HEADER) }
}

#[no_mangle]
pub unsafe extern "C" fn __libc_malloc(size: usize) -> *mut u8 {
    unsafe { aligned(size, HEADER) }
}

#[no_mangle]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut u8, align: usize, size: usize) -> i32 {
    // SAFETY: `out` is the caller's result slot (C's contract).
    unsafe {
        if !align.is_power_of_two() || !align.is_multiple_of(core::mem::size_of::<usize>()) {
            return EINVAL;
        }
        let ptr = aligned(size, align);
        if ptr.is_null() {
            return ENOMEM;
        }
        *out = ptr;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn free(ptr: *mut u8) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from this module (C's contract), so its header precedes it.
    unsafe {
        let [block, total] = *(ptr.sub(HEADER) as *const [usize; 2]);
        ALLOCATOR.dealloc(
            block as *mut u8,
            Layout::from_size_align_unchecked(total, HEADER),
        );
    }
}

#[no_mangle]
pub unsafe extern "C" fn __libc_free(ptr: *mut u8) {
    unsafe { free(ptr) }
}

#[no_mangle]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    let Some(total) = count.checked_mul(size) else {
        return core::ptr::null_mut();
    };
    // SAFETY: `malloc` returned `total` writable bytes or null.
    unsafe {
        let ptr = malloc(total);
        if !ptr.is_null() {
            core::ptr::write_bytes(ptr, 0, total);
        }
        ptr
    }
}

#[no_mangle]
pub unsafe extern "C" fn __libc_calloc(count: usize, size: usize) -> *mut u8 {
    unsafe { calloc(count, size) }
}

#[no_mangle]
pub unsafe extern "C" fn realloc(ptr: *mut u8, size: usize) -> *mut u8 {
    // SAFETY: as in `aligned` and `free`; the old data is at most its block's size.
    unsafe {
        let new = malloc(size);
        if !ptr.is_null() && !new.is_null() {
            let [block, total] = *(ptr.sub(HEADER) as *const [usize; 2]);
            let old = block + total - ptr as usize;
            core::ptr::copy_nonoverlapping(ptr, new, old.min(size));
            free(ptr);
        }
        new
    }
}
