//! Listing many endpoints: how the host's memory grows with the number of pages. One
//! `cw-rmm-list-devices` call for 2,000 (4 pages of 500) and for 10,000 endpoints (20 pages)
//! against a loopback simulator in a child process, each size on a fresh host; per call the
//! bench process's peak resident memory over what it held before (`VmHWM` after
//! `clear_refs`), the plugin's largest linear memory, and the result's size. (The time
//! against a native client is the far-away `device listing, 20 pages` row.)

use crate::child_simulator::{ChildOptions, ChildSimulator};
use crate::rss;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;
use toolhost_host::{Caller, DeferApprovals};

const SIZES: [usize; 2] = [2_000, 10_000];
const RUNS: usize = 5;

pub async fn run(
    plugin: &Path,
    home: &Path,
    report: &mut crate::stats::Report,
) -> anyhow::Result<()> {
    let sim = ChildSimulator::start(&ChildOptions {
        round_trip: Duration::ZERO,
        endpoints: SIZES[SIZES.len() - 1],
        tls: false,
    })?;
    println!("listing memory, loopback simulator in a child process ({RUNS} runs per size after 1 warm-up)");
    let mut figures = Map::new();
    for size in SIZES {
        let host =
            crate::connected_host(&home.join(format!("scale-{size}")), plugin, &sim.base_url)
                .await?;
        let args = json!({ "limit": size }).to_string();
        let caller = Caller::new("bench", None);
        let mut grew = Vec::new();
        let mut result_bytes = 0;
        let mut pages = 0;
        for run in 0..=RUNS {
            let (before, _) = rss::now_and_peak_kib();
            rss::reset_peak();
            let call = host
                .call("cw-rmm-list-devices", &args, &caller, &DeferApprovals)
                .await?;
            let (_, peak) = rss::now_and_peak_kib();
            if run > 0 {
                grew.push(peak.saturating_sub(before));
            }
            result_bytes = call.result.to_string().len();
            pages = call.upstream.len();
        }
        grew.sort();
        let median = grew[grew.len() / 2];
        let linear = host
            .runtime()
            .linked()
            .occupancy()
            .peak_memory_charged_bytes;
        println!(
            "{size:>6} endpoints ({pages} requests): peak RSS over before {} MiB (median; max {} MiB), \
             plugin linear memory at most {:.1} MiB, result {:.1} MB",
            rss::mib(median),
            rss::mib(*grew.last().unwrap_or(&0)),
            linear as f64 / (1 << 20) as f64,
            result_bytes as f64 / 1e6,
        );
        figures.insert(
            format!("endpoints_{size}"),
            json!({
                "requests": pages,
                "rss_growth_p50_mib": rss::mib(median),
                "rss_growth_max_mib": rss::mib(*grew.last().unwrap_or(&0)),
                "plugin_linear_memory_mib": linear as f64 / (1 << 20) as f64,
                "result_bytes": result_bytes,
            }),
        );
    }
    report.figure("listing_memory", Value::Object(figures));
    Ok(())
}
