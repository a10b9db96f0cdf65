//! The address space a process lets its engines reserve for wasmtime's unchecked memory layout.
//!
//! In that layout every linear memory reserves 4 GiB plus a guard, so an out-of-bounds access
//! always lands on an unmapped page and compiled code needs no bounds check (and no Spectre
//! guard) on loads and stores. Measured on the ConnectWise plugin: about 15 us less CPU per
//! `call-tool` (docs/PERFORMANCE.md, "Session 8"). The price is address space: a pool of 1,024
//! call slots with two memories each reserves about 8 TiB, and a process has 128 TiB (47-bit
//! user space on x86-64 and aarch64). So the engines of one process share an allowance; an
//! engine that would pass it reserves only its memory cap (checked layout) instead, and every
//! engine can still be opened. Reserved is not committed: none of it is resident until used.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the engines of this process may reserve together in the unchecked layout: a quarter
/// of the user address space, room for several default-sized engines (`serve` shares one
/// engine among all tenants) and for whatever else the process maps.
pub(crate) const PROCESS_ALLOWANCE_BYTES: u64 = 32 << 40;

/// One linear memory in the unchecked layout: 4 GiB and wasmtime's default 32 MiB guard.
pub(crate) const UNCHECKED_MEMORY_BYTES: u64 = (4 << 30) + (32 << 20);

// Checked when compiling: a default-sized engine (1,024 slots, two memories each) fits
// several times, and the allowance stays a quarter of a 47-bit user address space.
const _: () = assert!(PROCESS_ALLOWANCE_BYTES / (1024 * 2 * UNCHECKED_MEMORY_BYTES) >= 3);
const _: () = assert!(PROCESS_ALLOWANCE_BYTES <= (128 << 40) / 4);

/// The allowance of the whole process.
pub(crate) static PROCESS: AddressSpace = AddressSpace::new(PROCESS_ALLOWANCE_BYTES);

/// An allowance of address space, leased out in pieces.
#[derive(Debug)]
pub(crate) struct AddressSpace {
    limit: u64,
    leased: AtomicU64,
}

/// `bytes` of an [`AddressSpace`], given back when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    space: &'static AddressSpace,
    bytes: u64,
}

impl AddressSpace {
    pub(crate) const fn new(limit: u64) -> AddressSpace {
        AddressSpace {
            limit,
            leased: AtomicU64::new(0),
        }
    }

    /// `bytes` if what is leased stays within the allowance; `None` leases nothing.
    pub(crate) fn lease(&'static self, bytes: u64) -> Option<Lease> {
        self.leased
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |leased| {
                leased
                    .checked_add(bytes)
                    .filter(|&total| total <= self.limit)
            })
            .ok()
            .map(|_| Lease { space: self, bytes })
    }

    /// What is leased now.
    #[cfg(test)]
    fn leased(&self) -> u64 {
        self.leased.load(Ordering::Acquire)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.space.leased.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_stop_at_the_allowance_and_come_back_when_dropped() {
        static SPACE: AddressSpace = AddressSpace::new(100);
        let first = SPACE.lease(60).expect("within the allowance");
        assert!(SPACE.lease(41).is_none(), "past the allowance: refused");
        assert_eq!(SPACE.leased(), 60, "a refusal leases nothing");
        let second = SPACE.lease(40).expect("exactly the allowance");
        drop(first);
        assert_eq!(SPACE.leased(), 40);
        assert!(
            SPACE.lease(u64::MAX).is_none(),
            "an overflowing lease is refused"
        );
        drop(second);
        assert_eq!(SPACE.leased(), 0);
    }
}
