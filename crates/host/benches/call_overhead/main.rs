//! What the sandbox and the front door cost per call, against a native keep-alive client
//! measured in the same run.
//!
//! `cargo bench -p toolhost-host --bench call_overhead` (after `./dev.sh test` or a plugin
//! build). Prints a table and writes `target/bench/call_overhead.json` (name -> mean, p50,
//! p99 in microseconds and the ratio to its baseline; `front_door_overhead_p50_us` and
//! `front_door_overhead_p99_us` at the top).
//! - loopback ([`loopback`]): plain HTTP, no delay. The native baseline is reqwest with
//!   keep-alive; beside it the host's pooled transport, `call-tool` in a fresh instance, the
//!   full `ToolHost::call`, instantiation alone, compile versus the cached artifact.
//! - far away ([`wan`]): TLS (a root generated for the run and trusted through the
//!   `test-trust` feature) with 50 ms of round-trip delay; a 20-page device listing and the
//!   demo's story through `ToolHost::call` versus reqwest sending the same requests.
//!
//! - many at once ([`concurrent`]): 1,000 calls at once against a simulator answering after
//!   50 ms, versus 1,000 native requests at once; times and the process's peak memory.
//! - scale ([`scale`]): the host's memory listing 2,000 versus 10,000 endpoints.
//!
//! `cargo bench -p toolhost-host --bench call_overhead -- loopback` runs only the loopback
//! part; `-- concurrent`, `-- scale` and `-- wan` likewise (several may be named).
//! `-- profile [front-door|call-tool|instantiate|native] [calls]` loops one kind of call for a
//! profiler ([`profile`]). The argument `current-thread` runs the named parts on tokio's
//! current-thread runtime instead of the multi-thread one.
//!
//! Two environment variables, for comparing builds and for valgrind:
//! - `BENCH_PLUGIN`: the component to measure instead of the plugin build's (two plugin builds
//!   side by side on one bench binary);
//! - `BENCH_SLOTS`: the calls a host lets in flight, which sizes its instance pool. Valgrind
//!   cannot reserve the default pool's address space; with `BENCH_SLOTS=2`, `valgrind
//!   --tool=callgrind <bench binary> profile call-tool N current-thread` counts the
//!   instructions of N calls (less a run of 0 calls for the set-up), a figure this machine's
//!   noise does not move.
//!
//! The process runs on the toolhost binary's allocator (mimalloc), host and baseline alike;
//! the JSON records its type as `allocator` (`mimalloc::MiMalloc`).

/// The toolhost binary's allocator (`crates/toolhost/src/main.rs`): the bench measures what
/// ships, and the native client and simulator in this process run on it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod child_simulator;
mod concurrent;
mod cpu;
mod loopback;
mod profile;
mod rss;
mod scale;
mod stats;
mod wan;

use std::path::PathBuf;
use std::time::{Duration, Instant};
use toolhost_base::SecretString;
use toolhost_host::{ConnectionSettings, HostConfig, ToolHost};
use toolhost_sandbox::{Origin, UpstreamRoutes};

fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("BENCH_PLUGIN") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugin/target/wasm32-wasip2/release/cw_rmm_plugin.wasm")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The embedder picks the runtime: tokio's multi-thread runtime by default (as the CLI),
/// or, with the argument `current-thread`, one thread for the host, the simulator and the
/// native client alike (no hand-offs between threads).
fn main() -> anyhow::Result<()> {
    let runtime = if std::env::args().any(|a| a == "current-thread") {
        println!("runtime: tokio current-thread");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    runtime.block_on(run_parts())
}

async fn run_parts() -> anyhow::Result<()> {
    if child_simulator::serve_if_child().await? {
        return Ok(());
    }
    let plugin = plugin_path();
    anyhow::ensure!(plugin.exists(), "build the plugin first: ./dev.sh test, or cargo build --release --target wasm32-wasip2 --manifest-path plugin/Cargo.toml");
    let home = std::env::temp_dir().join(format!("toolhost-bench-{}", std::process::id()));
    let mut report = stats::Report::default();
    // What every figure below ran on (see `ALLOCATOR`).
    report.figure(
        "allocator",
        serde_json::json!(std::any::type_name_of_val(&ALLOCATOR)),
    );
    if std::env::args().any(|a| a == "profile") {
        return profile_part(&plugin, &home).await;
    }

    if selected("concurrent") {
        // First, while the process holds nothing else: its memory is the burst's.
        concurrent::run(&plugin, &home, &mut report).await?;
        println!();
    }
    if selected("scale") {
        scale::run(&plugin, &home, &mut report).await?;
        println!();
    }
    if selected("loopback") {
        loopback_part(&plugin, &home, &mut report).await?;
        println!();
    }
    if selected("wan") {
        wan::run(&plugin, &home, &mut report).await?;
    }
    report.write(&target_dir(), "call_overhead")?;
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}

/// Whether the part `name` runs: every part when none is named on the command line.
fn selected(name: &str) -> bool {
    const PARTS: [&str; 4] = ["loopback", "concurrent", "scale", "wan"];
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| PARTS.contains(&a.as_str()))
        .collect();
    named.is_empty() || named.iter().any(|a| a == name)
}

/// A host with its own home, connected to the simulator at `base_url`.
pub async fn connected_host(
    home: &std::path::Path,
    plugin: &std::path::Path,
    base_url: &str,
) -> anyhow::Result<ToolHost> {
    let mut config = HostConfig::new(home, plugin);
    if let Ok(slots) = std::env::var("BENCH_SLOTS") {
        config.limits.max_concurrent_calls = slots.parse().map_err(|_| {
            anyhow::anyhow!("BENCH_SLOTS must be a whole number of calls, not {slots:?}")
        })?;
    }
    let mut host = ToolHost::open(config).await?;
    let api = host.metadata().region("au").expect("au region").api.clone();
    let mut routes = UpstreamRoutes::new();
    routes.insert(api, Origin::parse(base_url)?);
    host.connect(ConnectionSettings {
        region: "au".into(),
        client_id: simulator::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::new(simulator::DEMO_CLIENT_SECRET),
        scopes: None,
        routes,
    })
    .await?;
    Ok(host)
}

/// The loopback part's simulator and host (its home as an operator leaves it). The tenant has
/// 1,000 endpoints, so that a device listing is a large call ([`loopback::after_a_large_call`]).
async fn loopback_host(
    plugin: &std::path::Path,
    home: &std::path::Path,
) -> anyhow::Result<(simulator::Simulator, ToolHost)> {
    let sim = simulator::Simulator::start(simulator::SimulatorConfig {
        endpoint_count: 1_000,
        ..simulator::SimulatorConfig::default()
    })
    .await?;
    let host = connected_host(home, plugin, &sim.base_url()).await?;
    operator_files(&host)?;
    Ok((sim, host))
}

async fn loopback_part(
    plugin: &std::path::Path,
    home: &std::path::Path,
    report: &mut stats::Report,
) -> anyhow::Result<()> {
    let (sim, host) = loopback_host(plugin, home).await?;
    loopback::run(&host, &sim, plugin, home, report).await?;
    sim.shutdown().await;
    Ok(())
}

/// `-- profile ...`: one kind of call in a loop on the loopback part's host ([`profile`]).
async fn profile_part(plugin: &std::path::Path, home: &std::path::Path) -> anyhow::Result<()> {
    let (sim, host) = loopback_host(plugin, home).await?;
    profile::run(&host, &sim).await?;
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(home);
    Ok(())
}

/// A home as an operator leaves it: a few policy overrides and a scoped role, written an
/// hour ago (every call consults both files).
fn operator_files(host: &ToolHost) -> anyhow::Result<()> {
    let config = host.config();
    std::fs::write(
        &config.policy_file,
        "[settings]\ndefault_role = \"Technician\"\n\n[tools]\n\"connectwise_rmm:cw-rmm-script-*\" = \"approval\"\n\"connectwise_rmm:cw-rmm-script-flush-dns\" = \"auto\"\n\"connectwise_rmm:cw-rmm-create-ticket\" = \"approval\"\n",
    )?;
    std::fs::write(
        &config.roles_file,
        format!(
            "[roles.\"Client Site Manager\"]\ncompanies = [\"{}\"]\n\n[roles.Sales]\nai_assist = true\npermissions = [\"companies:view\"]\n",
            simulator::seed::CONTOSO_ID
        ),
    )?;
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for path in [&config.policy_file, &config.roles_file] {
        std::fs::File::options()
            .write(true)
            .open(path)?
            .set_modified(an_hour_ago)?;
    }
    Ok(())
}

/// Times `f` `iterations` times after `warmup` unmeasured runs.
pub async fn measure<F, Fut>(warmup: u32, iterations: u32, mut f: F) -> stats::Stats
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..warmup {
        f().await;
    }
    let mut samples: Vec<Duration> = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    stats::stats(samples)
}

/// The process CPU time per call of `f`, over `iterations` calls in alternating blocks of
/// ten with `g` (so both see the same machine): (`f`'s, `g`'s), in microseconds.
pub async fn cpu_per_call<F, Fut, G, Gut>(iterations: u32, mut f: F, mut g: G) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
    G: FnMut() -> Gut,
    Gut: std::future::Future<Output = ()>,
{
    let (mut spent_f, mut spent_g) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..iterations / 10 {
        let started = cpu::now();
        for _ in 0..10 {
            f().await;
        }
        spent_f += cpu::now() - started;
        let started = cpu::now();
        for _ in 0..10 {
            g().await;
        }
        spent_g += cpu::now() - started;
    }
    let n = (iterations / 10 * 10) as usize;
    (cpu::per_item_us(spent_f, n), cpu::per_item_us(spent_g, n))
}

/// A bearer token from the simulator, for the native clients.
pub async fn mint_token(base_url: &str, client: &reqwest::Client) -> anyhow::Result<String> {
    let body = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": simulator::DEMO_CLIENT_ID,
        "client_secret": simulator::DEMO_CLIENT_SECRET,
        "scope": "",
    });
    let response = client
        .post(format!("{base_url}/v1/token"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let value: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
    Ok(value["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}
