//! The component's global allocator: power-of-two size classes over a bump region.
//!
//! Why not wasi-libc's dlmalloc (what std uses on wasip2): every call runs in a fresh instance
//! that the host throws away when the call returns, so the heap never lives long enough to
//! need dlmalloc's coalescing, trimming or bins. Replacing it (with `c_api`, which takes its
//! symbols) made the component about 10.5 KB smaller, bought back as speed in Cargo.toml,
//! and a 10,000-endpoint listing's linear memory went from 9.7 to 8.5 MiB. Its own speed is
//! on par with dlmalloc (the plugin's CPU per call is in JSON, not in allocation).
//!
//! A crate of its own so that it is optimised for speed while the component is optimised for
//! size (`[profile.release.package.cw-rmm-alloc]` in the plugin's Cargo.toml): each call makes
//! about 190 allocations, and at opt-level "z" each paid for calls that were not inlined.
//!
//! - a request is rounded up to a power of two (at least [`MIN_BLOCK`] bytes): its class;
//! - a freed block goes on its class's free list (a singly linked list threaded through the
//!   free blocks themselves), and the next request of that class takes it back;
//! - otherwise a block is split off a larger free block (what a doubling buffer left behind),
//!   or cut from the top of the region, which grows by whole wasm pages;
//! - freeing the topmost block lowers the top instead, and growing the topmost block
//!   (`realloc`) extends it in place, so a buffer that grows while nothing is allocated after
//!   it is never copied.
//!
//! No headers: `GlobalAlloc` hands `dealloc` and `realloc` the block's layout, and the layout
//! names the class. The bookkeeping ([`Heap`]) is safe Rust over addresses; only reading and
//! writing the free-list links and the `GlobalAlloc` glue are `unsafe`.

/// The smallest block: room for a free-list link and the 16-byte alignment `malloc` promises.
pub const MIN_BLOCK: usize = 16;
/// Classes up to 2^31 bytes: beyond any wasm32 memory the host would grant.
const CLASSES: usize = 32;
/// A WebAssembly page.
pub const PAGE: usize = 64 * 1024;

/// Where the heap's bytes come from: `memory.grow` in the component, a buffer in unit tests.
pub trait Region {
    /// The free bytes the region starts with (`start..end`, possibly empty), used before it
    /// grows: in the component, the initial memory's slack after the static data.
    fn initial(&self) -> (usize, usize);
    /// Makes `pages` more pages available and returns the address of the first new byte
    /// (the end of memory before growing), or `None` when refused (the memory cap).
    fn grow(&mut self, pages: usize) -> Option<usize>;
    /// The next free-list entry stored in the free block at `block`.
    fn read_link(&self, block: usize) -> usize;
    /// Stores `next` as the free-list link in the free block at `block`.
    fn write_link(&mut self, block: usize, next: usize);
}

/// The class of a request: log2 of its block size, or `None` when no block can be that big.
pub fn class_of(size: usize, align: usize) -> Option<u32> {
    let block = size.max(align).max(MIN_BLOCK).checked_next_power_of_two()?;
    let class = block.trailing_zeros();
    ((class as usize) < CLASSES).then_some(class)
}

/// The heap's state: the free list heads (0 = empty, address 0 is never a block) and the bump
/// region `[top, end)`.
pub struct Heap<R> {
    free: [usize; CLASSES],
    /// Bit `c` set when class `c`'s list is not empty: finds a larger free block at once.
    listed: u32,
    top: usize,
    end: usize,
    region: R,
}

impl<R: Region> Heap<R> {
    pub const fn new(region: R) -> Self {
        Heap {
            free: [0; CLASSES],
            listed: 0,
            top: 0,
            end: 0,
            region,
        }
    }

    /// The address of a new block for `size` bytes aligned to `align`, or `None` when the
    /// region cannot grow (the caller reports an allocation failure).
    pub fn alloc(&mut self, size: usize, align: usize) -> Option<usize> {
        let class = class_of(size, align)?;
        // Every listed block is at least MIN_BLOCK-aligned; a stricter alignment (rare) is
        // always cut fresh from the top.
        if align <= MIN_BLOCK {
            if let Some(block) = self.pop(class) {
                return Some(block);
            }
            if let Some(block) = self.split_larger(class) {
                return Some(block);
            }
        }
        let align = align.max(MIN_BLOCK);
        self.reach(align_up(self.top, align)?, 1 << class, align, true)
    }

    /// A block of `class` cut from the smallest larger free block: its upper halves go on the
    /// lists of the classes in between. So memory a big buffer left behind when it grew (the
    /// answer's text doubles) serves smaller blocks instead of the region growing for them.
    fn split_larger(&mut self, class: u32) -> Option<usize> {
        let above = self.listed >> (class + 1);
        if above == 0 {
            return None;
        }
        let mut larger = class + 1 + above.trailing_zeros();
        let block = self.pop(larger)?;
        while larger > class {
            larger -= 1;
            self.push(larger, block + (1 << larger));
        }
        Some(block)
    }

    fn pop(&mut self, class: u32) -> Option<usize> {
        let head = self.free[class as usize];
        if head == 0 {
            return None;
        }
        let next = self.region.read_link(head);
        self.free[class as usize] = next;
        if next == 0 {
            self.listed &= !(1 << class);
        }
        Some(head)
    }

    fn push(&mut self, class: u32, block: usize) {
        self.region.write_link(block, self.free[class as usize]);
        self.free[class as usize] = block;
        self.listed |= 1 << class;
    }

    /// Gives back the block at `addr` allocated for `size` and `align`.
    pub fn dealloc(&mut self, addr: usize, size: usize, align: usize) {
        let Some(class) = class_of(size, align) else {
            return;
        };
        if addr + (1 << class) == self.top {
            self.top = addr;
        } else {
            self.push(class, addr);
        }
    }

    /// Resizes the block at `addr` in place when it can: same class, or the topmost block.
    /// `None` means the caller must move it (allocate, copy, free).
    pub fn resize_in_place(
        &mut self,
        addr: usize,
        old_size: usize,
        align: usize,
        new_size: usize,
    ) -> Option<usize> {
        let old = class_of(old_size, align)?;
        let new = class_of(new_size, align)?;
        if old == new {
            return Some(addr);
        }
        if addr + (1 << old) != self.top {
            return None;
        }
        self.reach(addr, 1 << new, align, false)
    }

    /// Makes `[start, start + size)` the topmost block, growing the region when it ends below,
    /// and returns its address. When the grown pages do not follow the region (the first
    /// growth, or something else grew the memory), the region restarts in them and the old
    /// tail is abandoned: a `movable` block is placed there, any other is refused (`None`).
    fn reach(&mut self, start: usize, size: usize, align: usize, movable: bool) -> Option<usize> {
        if self.end == 0 {
            // The first block: the region starts where its initial bytes are.
            (self.top, self.end) = self.region.initial();
            if self.end == 0 {
                return None;
            }
            let start = align_up(self.top, align)?;
            return self.reach(start, size, align, movable);
        }
        let new_top = start.checked_add(size)?;
        if new_top <= self.end {
            self.top = new_top;
            return Some(start);
        }
        let pages = (new_top - self.end).div_ceil(PAGE);
        let first = self.region.grow(pages)?;
        if first == self.end {
            self.end += pages * PAGE;
            self.top = new_top;
            return Some(start);
        }
        self.top = first;
        self.end = first + pages * PAGE;
        if !movable {
            return None;
        }
        self.reach(align_up(first, align)?, size, align, false)
    }
}

fn align_up(addr: usize, align: usize) -> Option<usize> {
    Some(addr.checked_add(align - 1)? & !(align - 1))
}

#[cfg(target_arch = "wasm32")]
mod c_api;
#[cfg(target_arch = "wasm32")]
mod global;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A region of `limit` pages whose links live in a map: the bookkeeping without memory.
    struct Pages {
        base: usize,
        pages: usize,
        limit: usize,
        links: HashMap<usize, usize>,
    }

    impl Pages {
        fn new(limit: usize) -> Heap<Pages> {
            Heap::new(Pages {
                base: 17 * PAGE,
                pages: 0,
                limit,
                links: HashMap::new(),
            })
        }
    }

    impl Region for Pages {
        fn initial(&self) -> (usize, usize) {
            // Part of the last initial page is free, as after a component's static data.
            (self.base - 100, self.base)
        }
        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.pages + pages > self.limit {
                return None;
            }
            let first = self.base + self.pages * PAGE;
            self.pages += pages;
            Some(first)
        }
        fn read_link(&self, block: usize) -> usize {
            self.links[&block]
        }
        fn write_link(&mut self, block: usize, next: usize) {
            self.links.insert(block, next);
        }
    }

    #[test]
    fn classes_are_powers_of_two_from_sixteen_bytes() {
        assert_eq!(class_of(1, 1), Some(4));
        assert_eq!(class_of(16, 8), Some(4));
        assert_eq!(class_of(17, 1), Some(5));
        assert_eq!(class_of(3, 64), Some(6));
        assert_eq!(class_of(1 << 31, 1), Some(31));
        assert_eq!(class_of((1 << 31) + 1, 1), None);
        assert_eq!(class_of(usize::MAX, 1), None);
    }

    #[test]
    fn blocks_do_not_overlap_and_keep_their_alignment() {
        let mut heap = Pages::new(64);
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        for (i, &(size, align)) in [(1, 1), (40, 8), (100, 64), (5000, 4096), (16, 16)]
            .iter()
            .cycle()
            .take(50)
            .enumerate()
        {
            let addr = heap.alloc(size + i, align).unwrap();
            assert_eq!(addr % align, 0, "{size} bytes aligned to {align}");
            assert_eq!(addr % MIN_BLOCK, 0);
            blocks.push((addr, addr + size + i));
        }
        blocks.sort();
        for pair in blocks.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "overlap: {pair:?}");
        }
    }

    #[test]
    fn a_freed_block_is_reused_by_its_class_only() {
        let mut heap = Pages::new(16);
        let a = heap.alloc(24, 8).unwrap();
        let _pin = heap.alloc(8, 8).unwrap();
        heap.dealloc(a, 24, 8);
        // A 64-byte request is another class: it must not get the 32-byte block.
        let other = heap.alloc(64, 8).unwrap();
        assert_ne!(other, a);
        assert_eq!(heap.alloc(30, 8), Some(a), "same class, same block");
        assert_ne!(heap.alloc(30, 8), Some(a), "handed out once");
    }

    #[test]
    fn a_large_free_block_is_split_for_smaller_ones() {
        let mut heap = Pages::new(64);
        let big = heap.alloc(1 << 16, 8).unwrap();
        let _pin = heap.alloc(8, 8).unwrap();
        heap.dealloc(big, 1 << 16, 8);
        let top = heap.top;
        // A quarter, then the rest in halves: all inside the freed block, the top unmoved.
        let a = heap.alloc(1 << 14, 8).unwrap();
        let b = heap.alloc(1 << 14, 8).unwrap();
        let c = heap.alloc(1 << 15, 8).unwrap();
        let mut parts = [(a, 1 << 14), (b, 1 << 14), (c, 1 << 15)];
        parts.sort();
        assert_eq!(
            parts,
            [
                (big, 1 << 14),
                (big + (1 << 14), 1 << 14),
                (big + (1 << 15), 1 << 15)
            ]
        );
        assert_eq!(heap.top, top);
        assert_eq!(heap.listed, 0, "every list is empty again");
    }

    #[test]
    fn freeing_the_topmost_block_lowers_the_top() {
        let mut heap = Pages::new(16);
        let first = heap.alloc(100, 8).unwrap();
        let second = heap.alloc(100, 8).unwrap();
        heap.dealloc(second, 100, 8);
        assert_eq!(heap.alloc(1000, 8), Some(second), "the top came back down");
        assert!(
            heap.free.iter().all(|&head| head == 0),
            "nothing was listed"
        );
        assert_ne!(first, second);
    }

    #[test]
    fn the_topmost_block_grows_in_place_across_pages() {
        let mut heap = Pages::new(64);
        let _below = heap.alloc(32, 8).unwrap();
        let buffer = heap.alloc(1000, 1).unwrap();
        let mut size = 1000;
        for _ in 0..10 {
            let grown = size * 2;
            assert_eq!(heap.resize_in_place(buffer, size, 1, grown), Some(buffer));
            size = grown;
        }
        assert!(heap.region.pages <= 16 + 1, "{} pages", heap.region.pages);
        // Once something sits above it, it can no longer grow in place (but its class can).
        let _above = heap.alloc(8, 8).unwrap();
        assert_eq!(heap.resize_in_place(buffer, size, 1, size * 2), None);
        assert_eq!(
            heap.resize_in_place(buffer, size, 1, size - 1),
            Some(buffer)
        );
    }

    #[test]
    fn a_refused_growth_is_an_allocation_failure_not_a_panic() {
        let mut heap = Pages::new(2);
        assert!(heap.alloc(PAGE, 1).is_some());
        assert!(heap.alloc(PAGE, 1).is_some());
        assert_eq!(heap.alloc(PAGE, 1), None, "the region is full");
        assert_eq!(heap.region.pages, 2, "nothing past the limit");
        assert_eq!(heap.alloc(usize::MAX / 2, 1), None, "no class that big");
    }

    #[test]
    fn a_gap_in_the_region_is_skipped_not_handed_out() {
        let mut heap = Pages::new(64);
        let a = heap.alloc(100, 8).unwrap();
        // Someone else grows the memory by a page: the heap must not use that page.
        heap.region.pages += 1;
        let foreign = (heap.region.base + PAGE, heap.region.base + 2 * PAGE);
        let b = heap.alloc(PAGE, 8).unwrap();
        assert!(
            b >= foreign.1 || b + PAGE <= foreign.0,
            "{b:#x} in {foreign:x?}"
        );
        assert_ne!(a, b);
    }
}
