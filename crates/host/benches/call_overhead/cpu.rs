//! This process's CPU time (every thread, user and system): what a run of calls cost the
//! machine, which wall time on a shared, busy machine hides. The simulator of the loopback
//! part runs in this process too; the concurrent part's runs in a child process.

use std::time::Duration;

/// CPU time this process has used so far.
pub fn now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Microseconds of CPU per item: `spent` over `items`, rounded to 0.1 us.
pub fn per_item_us(spent: Duration, items: usize) -> f64 {
    (spent.as_secs_f64() * 1e6 / items as f64 * 10.0).round() / 10.0
}
