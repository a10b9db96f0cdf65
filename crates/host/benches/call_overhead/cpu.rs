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

/// The machine's CPU time so far, all cores, in clock ticks: `(stolen, total)`, where stolen
/// is what the hypervisor gave to other guests while this one wanted to run (`/proc/stat`).
/// `None` where the kernel does not say.
pub fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice, counted in user]
    let stolen = *ticks.get(7)?;
    Some((stolen, ticks.iter().take(8).sum()))
}

/// The share of the machine's CPU time stolen between two [`machine_ticks`] readings, in
/// percent: a run on a machine whose host is busy measures the host, not the code.
pub fn stolen_percent(before: Option<(u64, u64)>, after: Option<(u64, u64)>) -> Option<f64> {
    let ((stolen_0, total_0), (stolen_1, total_1)) = (before?, after?);
    let total = total_1.checked_sub(total_0).filter(|t| *t > 0)?;
    let stolen = stolen_1.saturating_sub(stolen_0);
    Some((stolen as f64 * 1000.0 / total as f64).round() / 10.0)
}
