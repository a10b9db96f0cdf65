//! 1,000 calls at once against a simulator answering after 50 ms (TLS, HTTP/2 by ALPN, in a
//! child process), through `ToolHost::call` with the default limits (the number of calls in
//! flight follows `limits.memory_budget_mib`), versus a native keep-alive reqwest client
//! sending the same 1,000 requests at once; bursts alternate, so both see the same machine.
//! Beside the times: the bench process's peak resident memory during each burst (`VmHWM`
//! after `clear_refs`), what one call in flight commits, and the host's own counts.

use crate::child_simulator::{ChildOptions, ChildSimulator};
use crate::rss;
use crate::stats::{stats, Report};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use toolhost_host::{Caller, DeferApprovals};

const CALLS: usize = 1_000;
const BURSTS: u32 = 5;
const WARMUP: u32 = 1;
const TOOL: &str = "cw-rmm-list-companies";
const COMPANIES: &str = "/api/platform/v1/company/companies";

/// One burst's wall time and the process's resident memory before it and at its peak.
struct Burst {
    took: Duration,
    /// The process's CPU time during the burst (the simulator is another process).
    cpu: Duration,
    before_kib: u64,
    peak_kib: u64,
}

pub async fn run(plugin: &Path, home: &Path, report: &mut Report) -> anyhow::Result<()> {
    let sim = ChildSimulator::start(&ChildOptions {
        round_trip: crate::wan::ROUND_TRIP,
        endpoints: 0,
        tls: true,
    })?;
    let root = sim.root.clone().expect("a TLS child has a root");
    toolhost_sandbox::tls::trust_root_for_tests(&root)?;
    let native = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(&root)?)
        .build()?;
    let host =
        Arc::new(crate::connected_host(&home.join("concurrent"), plugin, &sim.base_url).await?);
    let limits = host.config().limits;
    println!(
        "{CALLS} concurrent calls, simulator over TLS with {} ms round trip in a child process \
         ({BURSTS} bursts each after {WARMUP} warm-up); limits: memory_budget_mib {}, \
         max_concurrent_calls {} (from the budget), memory_mb {}",
        crate::wan::ROUND_TRIP.as_millis(),
        limits.memory_budget_bytes >> 20,
        limits.max_concurrent_calls,
        limits.max_memory_bytes >> 20,
    );
    let token = crate::mint_token(&sim.base_url, &native).await?;
    let url = format!("{}{COMPANIES}", sim.base_url);

    let (mut hosted, mut direct) = (Vec::new(), Vec::new());
    for round in 0..WARMUP + BURSTS {
        let h = burst(|| {
            let host = host.clone();
            async move {
                host.call(TOOL, "{}", &Caller::new("bench", None), &DeferApprovals)
                    .await
                    .expect("concurrent call");
            }
        })
        .await;
        let n = burst(|| {
            let request = native.get(&url).bearer_auth(&token);
            async move {
                let response = request.send().await.expect("native GET");
                assert!(response.status().is_success());
                response.bytes().await.expect("native body");
            }
        })
        .await;
        if round >= WARMUP {
            hosted.push(h);
            direct.push(n);
        }
    }
    let occupancy = host.runtime().linked().occupancy();
    let host_stats = stats(hosted.iter().map(|b| b.took).collect());
    let native_stats = stats(direct.iter().map(|b| b.took).collect());
    report.row(
        &format!("{CALLS} concurrent: native keep-alive (burst)"),
        &native_stats,
        None,
    );
    report.row(
        &format!("{CALLS} concurrent: ToolHost::call (burst)"),
        &host_stats,
        Some(&native_stats),
    );
    let peak = |b: &[Burst]| b.iter().map(|b| b.peak_kib).max().unwrap_or(0);
    let grew = |b: &[Burst]| {
        let mut g: Vec<u64> = b
            .iter()
            .map(|b| b.peak_kib.saturating_sub(b.before_kib))
            .collect();
        g.sort();
        g[g.len() / 2]
    };
    let per_call_kib = grew(&hosted) / CALLS as u64;
    println!(
        "peak RSS during a burst: host {} MiB (grew {} MiB, {} KiB per call in flight), native {} MiB (grew {} MiB); \
         calls in flight at most {}, linear memory charged at most {} MiB of the {} MiB budget",
        rss::mib(peak(&hosted)),
        rss::mib(grew(&hosted)),
        per_call_kib,
        rss::mib(peak(&direct)),
        rss::mib(grew(&direct)),
        occupancy.peak_calls_in_flight,
        occupancy.peak_memory_charged_bytes >> 20,
        occupancy.memory_budget_bytes >> 20,
    );
    let cpu_per_call = |b: &[Burst]| {
        let mut c: Vec<Duration> = b.iter().map(|b| b.cpu).collect();
        c.sort();
        crate::cpu::per_item_us(c[c.len() / 2], CALLS)
    };
    let (host_cpu, native_cpu) = (cpu_per_call(&hosted), cpu_per_call(&direct));
    println!(
        "CPU per call (this process, median burst): ToolHost::call {host_cpu} us, native {native_cpu} us"
    );
    report.figure(
        "concurrent_1000_tls_50ms",
        json!({
            "calls": CALLS,
            "toolhost_p50_us": host_stats.p50.as_secs_f64() * 1e6,
            "native_p50_us": native_stats.p50.as_secs_f64() * 1e6,
            "ratio_p50": host_stats.p50.as_secs_f64() / native_stats.p50.as_secs_f64(),
            "ratio_mean": host_stats.mean.as_secs_f64() / native_stats.mean.as_secs_f64(),
            "host_peak_rss_mib": rss::mib(peak(&hosted)),
            "host_rss_growth_mib": rss::mib(grew(&hosted)),
            "rss_per_call_in_flight_kib": per_call_kib,
            "native_peak_rss_mib": rss::mib(peak(&direct)),
            "toolhost_cpu_per_call_us": host_cpu,
            "native_cpu_per_call_us": native_cpu,
            "max_concurrent_calls": limits.max_concurrent_calls,
            "memory_budget_mib": limits.memory_budget_bytes >> 20,
            "peak_calls_in_flight": occupancy.peak_calls_in_flight,
            "peak_memory_charged_mib": occupancy.peak_memory_charged_bytes >> 20,
        }),
    );
    Ok(())
}

/// Starts `CALLS` tasks at once and waits for all of them.
async fn burst<F, Fut>(mut one: F) -> Burst
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (before_kib, _) = rss::now_and_peak_kib();
    rss::reset_peak();
    let cpu_before = crate::cpu::now();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..CALLS {
        tasks.spawn(one());
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a call task panicked");
    }
    let took = started.elapsed();
    let cpu = crate::cpu::now() - cpu_before;
    let (_, peak_kib) = rss::now_and_peak_kib();
    Burst {
        took,
        cpu,
        before_kib,
        peak_kib,
    }
}
