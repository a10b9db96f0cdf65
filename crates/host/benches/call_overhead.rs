//! What the sandbox costs per call, as ratios against a native baseline.
//!
//! `cargo bench -p toolhost --bench call_overhead` (after `./dev.sh test` or a plugin build).
//! Everything runs on loopback against the in-process simulator:
//! - native: the host itself sends the GET the tool makes (same transport, same token),
//! - component: `call-tool` in a fresh instance from the pooled InstancePre (one GET),
//! - front door: `ToolHost::call` (role, policy, schema check, audit record on disk, then
//!   the same component call),
//! - instantiate: a fresh Store + instance alone,
//! - compile: `Component::new` versus loading the cached artifact.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use toolhost_base::SecretString;
use toolhost_host::ConnectionSettings;
use toolhost_host::{Caller, DeferApprovals, HostConfig, ToolHost};
use toolhost_sandbox::native as transport;
use toolhost_sandbox::{CompiledPlugin, RuntimeOptions};
use toolhost_sandbox::{Origin, Timeouts, UpstreamRoutes};

const ITERATIONS: u32 = 300;
const WARMUP: u32 = 30;

fn plugin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugin/target/wasm32-wasip2/release/cw_rmm_plugin.wasm")
}

struct Stats {
    mean: Duration,
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let total: Duration = samples.iter().sum();
    Stats {
        mean: total / samples.len() as u32,
        p50: samples[samples.len() / 2],
        p99: samples[samples.len() * 99 / 100],
    }
}

async fn measure<F, Fut>(mut f: F) -> Stats
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        f().await;
    }
    let mut samples = Vec::with_capacity(ITERATIONS as usize);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    stats(samples)
}

fn row(name: &str, s: &Stats, baseline: Option<&Stats>) {
    let ratio = baseline.map_or(String::new(), |b| {
        format!("{:>7.2}x", s.mean.as_secs_f64() / b.mean.as_secs_f64())
    });
    println!(
        "{name:<28} mean {:>9.1} us   p50 {:>9.1} us   p99 {:>9.1} us  {ratio}",
        s.mean.as_secs_f64() * 1e6,
        s.p50.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let plugin = plugin_path();
    anyhow::ensure!(plugin.exists(), "build the plugin first: ./dev.sh test, or cargo build --release --target wasm32-wasip2 --manifest-path plugin/Cargo.toml");
    let sim = simulator::Simulator::start(simulator::SimulatorConfig::default()).await?;
    let home = std::env::temp_dir().join(format!("toolhost-bench-{}", std::process::id()));
    let mut host = ToolHost::open(HostConfig::new(&home, &plugin)).await?;
    let api = host.metadata().region("au").expect("au region").api.clone();
    let sim_origin = Origin::parse(&sim.base_url())?;
    let mut routes = UpstreamRoutes::new();
    routes.insert(api.clone(), sim_origin.clone());
    host.connect(ConnectionSettings {
        region: "au".into(),
        client_id: simulator::DEMO_CLIENT_ID.into(),
        client_secret: SecretString::new(simulator::DEMO_CLIENT_SECRET),
        scopes: None,
        routes,
    })
    .await?;
    let caller = Caller::new("bench", None);
    let tool = "cw-rmm-list-companies";

    // The native baseline: the same GET, with a token, through the host's own transport.
    let token = mint_token(&sim).await?;
    let native = measure(|| {
        let token = token.clone();
        let sim_origin = sim_origin.clone();
        let api = api.clone();
        async move {
            let mut request = http::Request::new(bytes::Bytes::new());
            *request.uri_mut() = format!("{}/api/platform/v1/company/companies", api.url())
                .parse()
                .unwrap();
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
            request
                .headers_mut()
                .insert("host", api.host().parse().unwrap());
            let response = transport::fetch(
                request,
                &sim_origin,
                Timeouts::default().tightened_by(None),
                1 << 24,
            )
            .await
            .expect("native GET");
            assert!(response.status.is_success());
        }
    })
    .await;

    let runtime = host.runtime();
    let routes = runtime
        .static_tools()
        .iter()
        .find(|t| t.name == tool)
        .expect("the benchmarked tool is static")
        .routes_for(tool);
    let context = host_context(&host).scoped(routes);
    let component = measure(|| {
        let context = context.clone();
        async move {
            let outcome = runtime.call_tool(context, tool, "{}").await;
            outcome.result.expect("component call");
        }
    })
    .await;
    let front_door = measure(|| async {
        host.call(tool, "{}", &caller, &DeferApprovals)
            .await
            .expect("front door call");
    })
    .await;
    let mut instantiate_samples = Vec::new();
    for _ in 0..ITERATIONS {
        let outcome = runtime
            .call_tool(
                toolhost_sandbox::CallContext::offline(),
                "cw-rmm-no-such-tool",
                "{}",
            )
            .await;
        instantiate_samples.push(outcome.instantiate);
    }
    let instantiate = stats(instantiate_samples);

    println!("toolhost call overhead ({ITERATIONS} iterations after {WARMUP} warm-up, loopback simulator)");
    row("native GET (baseline)", &native, None);
    row("component call-tool", &component, Some(&native));
    row("ToolHost::call (full path)", &front_door, Some(&native));
    row("instantiate (pooled pre)", &instantiate, None);

    // Compile once versus the cached artifact.
    let wasm = std::fs::read(&plugin)?;
    let cache = home.join("bench-cache");
    let options = RuntimeOptions {
        cache_dir: Some(cache.clone()),
        ..RuntimeOptions::default()
    };
    let cold = Instant::now();
    let miss = CompiledPlugin::compile(&wasm, &plugin, &options)?;
    let cold = cold.elapsed();
    let warm = Instant::now();
    let hit = CompiledPlugin::compile(&wasm, &plugin, &options)?;
    let warm = warm.elapsed();
    println!(
        "compile {:.1} ms (cache {}) vs cached load {:.2} ms (cache {}): {:.0}x",
        cold.as_secs_f64() * 1e3,
        miss.compile_report().cache,
        warm.as_secs_f64() * 1e3,
        hit.compile_report().cache,
        cold.as_secs_f64() / warm.as_secs_f64()
    );
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}

fn host_context(host: &ToolHost) -> toolhost_sandbox::CallContext {
    host.call_context().expect("connected")
}

async fn mint_token(sim: &simulator::Simulator) -> anyhow::Result<String> {
    let body = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": simulator::DEMO_CLIENT_ID,
        "client_secret": simulator::DEMO_CLIENT_SECRET,
        "scope": "",
    });
    let mut request = http::Request::new(bytes::Bytes::from(body.to_string()));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = format!("{}/v1/token", sim.base_url()).parse()?;
    request
        .headers_mut()
        .insert("content-type", "application/json".parse()?);
    let origin = Origin::parse(&sim.base_url())?;
    let response = transport::fetch(
        request,
        &origin,
        Timeouts::default().tightened_by(None),
        1 << 20,
    )
    .await?;
    let value: serde_json::Value = serde_json::from_slice(&response.body)?;
    Ok(value["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}
