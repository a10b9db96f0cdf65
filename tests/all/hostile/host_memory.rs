//! Host memory outside the guest: every handle a plugin holds (a header map, a request, a
//! stream) lives in the host's Store, not in the plugin's capped linear memory. A plugin that
//! hoards them must hit a typed host-side cap while the host's RSS stays small.

use super::{expect_failure, hostile, still_serves};
use e2e::*;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toolhost_sandbox::{CallFailure, CallLimits};

/// Host RSS the header hoard may add. The default caps allow 128 live maps of 16 KiB as
/// wasi-http counts them (~3 MiB as allocated); the rest is headroom for the tests running
/// alongside in this process. Without the caps the same call grows RSS by ~230 MiB.
const HOARD_RSS_BOUND: u64 = 32 << 20;

/// This process's resident set in bytes (`VmRSS` in /proc/self/status).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        << 10
}

/// Awaits `call` while sampling RSS every millisecond (freed memory may or may not go back
/// to the OS, so a reading after the call alone could miss the growth): its result, the RSS
/// before it, the peak growth during it and the growth still resident after it.
async fn with_rss<T>(call: impl std::future::Future<Output = T>) -> (T, u64, u64, u64) {
    let done = Arc::new(AtomicBool::new(false));
    let before = rss_bytes();
    let watching = done.clone();
    let sampler = std::thread::spawn(move || {
        let mut peak = before;
        while !watching.load(Relaxed) {
            peak = peak.max(rss_bytes());
            std::thread::sleep(Duration::from_millis(1));
        }
        peak.max(rss_bytes())
    });
    let result = call.await;
    done.store(true, Relaxed);
    let peak = sampler.join().unwrap();
    let after = rss_bytes().saturating_sub(before);
    (result, before, peak - before, after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hoarded_header_maps_hit_host_side_caps_and_the_host_keeps_serving() {
    let env = hostile().await;
    let limits = CallLimits::default();
    // One map past the per-map cap (~86 bytes a field as counted): stopped at the append
    // that crosses it, where wasmtime's default would have taken all 1400 fields.
    let err = expect_failure(
        "header-hoard seed",
        env.call("hostile:header-hoard", json!({"seed": 1400, "clones": 0}))
            .await,
        |f| matches!(f, CallFailure::HeaderLimit { limit_bytes } if *limit_bytes == limits.max_header_bytes),
    );
    eprintln!("FIGURE header-hoard one map: {err}");
    still_serves(&env).await;

    // A map under the cap, cloned and each clone made a private copy: without a cap on live
    // handles, 10 000 clones hold ~230 MiB of host memory while guest memory barely moves.
    let started = Instant::now();
    let args = json!({"seed": 180, "clones": 10_000});
    let (result, before, grew, after) = with_rss(env.call("hostile:header-hoard", args)).await;
    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    eprintln!(
        "FIGURE header-hoard clones: {result:?} after {} ms; RSS before {:.1} MiB, peak +{:.1} MiB, after +{:.1} MiB",
        started.elapsed().as_millis(),
        mib(before),
        mib(grew),
        mib(after),
    );
    expect_failure(
        "header-hoard clones",
        result,
        |f| matches!(f, CallFailure::HostResourceLimit { limit } if *limit == limits.max_host_resources),
    );
    assert!(grew < HOARD_RSS_BOUND, "RSS grew {:.1} MiB", mib(grew));
    still_serves(&env).await;
}
