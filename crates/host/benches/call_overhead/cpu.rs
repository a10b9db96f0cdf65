//! This process's CPU time (every thread, user and system): what a run of calls cost the
//! machine, which wall time on a shared, busy machine hides. The simulator of the loopback
//! part runs in this process too; the concurrent part's runs in a child process.

use std::time::Duration;

/// CPU time this process has used so far.
pub fn now() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill in; the clock always exists.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Microseconds of CPU per item: `spent` over `items`, rounded to 0.1 us.
pub fn per_item_us(spent: Duration, items: usize) -> f64 {
    (spent.as_secs_f64() * 1e6 / items as f64 * 10.0).round() / 10.0
}

/// Context switches of this process so far (every thread, voluntary or not): a thread that
/// sleeps and is woken again, each time a task hands work to another thread.
pub fn context_switches() -> u64 {
    // SAFETY: an all-zero rusage is a valid value for the call to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid for writes; RUSAGE_SELF always exists.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_SELF)");
    (usage.ru_nvcsw + usage.ru_nivcsw) as u64
}
