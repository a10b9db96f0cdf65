//! This process's resident memory, from /proc/self/status (Linux).

/// Resident memory now (`VmRSS`) and its high-water mark (`VmHWM`), in KiB.
pub fn now_and_peak_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Starts a new high-water mark at the current resident memory (`clear_refs` 5, Linux 4.0+),
/// so `VmHWM` afterwards is the peak of what follows.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}
