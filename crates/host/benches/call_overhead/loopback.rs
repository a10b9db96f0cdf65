//! The sandbox and front door against a loopback simulator (no delay, plain HTTP): where
//! the microseconds of one call go.

use crate::stats::{side_by_side_settled, stats, Report, Stats};
use std::path::Path;
use std::time::Instant;
use toolhost_host::{Caller, DeferApprovals, ToolHost};
use toolhost_sandbox::native as transport;
use toolhost_sandbox::{CompiledPlugin, Origin, RuntimeOptions, Timeouts};

const ITERATIONS: u32 = 300;
const WARMUP: u32 = 30;
pub(crate) const TOOL: &str = "cw-rmm-list-companies";
/// A call that writes megabytes of its instance's memory: every endpoint of the tenant.
const LARGE_CALL: (&str, &str) = ("cw-rmm-list-devices", r#"{"limit":1000}"#);
const COMPANIES: &str = "/api/platform/v1/company/companies";

pub async fn run(
    host: &ToolHost,
    sim: &simulator::Simulator,
    plugin: &Path,
    home: &Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let api = host.metadata().region("au").expect("au region").api.clone();
    let sim_origin = Origin::parse(&sim.base_url())?;
    let caller = Caller::new("bench", None);
    let token = crate::mint_token(&sim.base_url(), &reqwest::Client::new()).await?;
    let reqwest_client = reqwest::Client::new();
    let url = format!("{}{COMPANIES}", sim.base_url());

    let layout = host.runtime().linked().memory_layout();
    println!(
        "loopback simulator, plain HTTP ({ITERATIONS} iterations after {WARMUP} warm-up); \
         linear memory layout: {layout}"
    );
    report.figure("memory_layout", serde_json::json!(layout));
    after_a_large_call(host, &caller).await?;
    // The native keep-alive client and the full front door, alternately.
    let machine_before = crate::cpu::machine_ticks();
    let (native, front_door) = side_by_side_settled(
        WARMUP,
        ITERATIONS,
        || {
            let request = reqwest_client.get(&url).bearer_auth(&token);
            async move {
                let response = request.send().await.expect("native GET");
                assert!(response.status().is_success());
                response.bytes().await.expect("native body");
            }
        },
        || async {
            host.call(TOOL, "{}", &caller, &DeferApprovals)
                .await
                .expect("front door call");
        },
        || host_idle(host),
    )
    .await;
    let stolen = crate::cpu::stolen_percent(machine_before, crate::cpu::machine_ticks());

    // What each costs the machine in CPU (this process, simulator included on both sides).
    let (front_door_cpu, native_cpu) = crate::cpu_per_call(
        ITERATIONS,
        || async {
            host.call(TOOL, "{}", &caller, &DeferApprovals)
                .await
                .expect("front door call");
        },
        || {
            let request = reqwest_client.get(&url).bearer_auth(&token);
            async move {
                let response = request.send().await.expect("native GET");
                assert!(response.status().is_success());
                response.bytes().await.expect("native body");
            }
        },
    )
    .await;

    // The host's own transport (the pool the gate sends through), without the sandbox.
    let host_transport = crate::measure(WARMUP, ITERATIONS, || {
        let token = token.clone();
        let sim_origin = sim_origin.clone();
        let api = api.clone();
        async move {
            let mut request = http::Request::new(bytes::Bytes::new());
            *request.uri_mut() = format!("{}{COMPANIES}", api.url()).parse().unwrap();
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
            .expect("host transport GET");
            assert!(response.status.is_success());
        }
    })
    .await;

    let runtime = host.runtime();
    let context = tool_context(host);
    let component = crate::measure(WARMUP, ITERATIONS, || {
        let context = context.clone();
        async move {
            let outcome = runtime.call_tool(context, TOOL, "{}").await;
            outcome.result.expect("component call");
        }
    })
    .await;
    let mut instantiate_samples = Vec::new();
    let mut warm_calls = 0;
    for _ in 0..ITERATIONS {
        let outcome = runtime
            .call_tool(
                toolhost_sandbox::CallContext::offline(),
                "cw-rmm-no-such-tool",
                "{}",
            )
            .await;
        instantiate_samples.push(outcome.instantiate);
        warm_calls += usize::from(outcome.warm);
    }
    let instantiate = stats(instantiate_samples);

    report.row("native keep-alive GET (reqwest, baseline)", &native, None);
    report.row(
        "host transport GET (pooled)",
        &host_transport,
        Some(&native),
    );
    report.row("component call-tool (one GET)", &component, Some(&native));
    report.row("ToolHost::call (full path)", &front_door, Some(&native));
    report.row("instantiate (InstancePre, pooled slot)", &instantiate, None);
    // Back to back, a call finds the instance made ahead only when the task that makes it
    // ran in between; the row above is the instantiation either way.
    println!("  of which made ahead of their call (warm): {warm_calls} of {ITERATIONS}");
    report.figure("instantiate_warm_calls", serde_json::json!(warm_calls));
    front_door_overhead(report, &front_door, &native);
    if let Some(stolen) = stolen {
        // Both sides wait alike for a stolen CPU, but the longer call waits longer: a figure
        // measured while the host was busy is larger than the code makes it.
        println!("CPU time stolen by the hypervisor while they ran: {stolen}%");
        report.figure("loopback_stolen_percent", serde_json::json!(stolen));
    }
    println!(
        "CPU per call (process, simulator included): ToolHost::call {front_door_cpu} us, \
         native keep-alive GET {native_cpu} us"
    );
    report.figure(
        "loopback_cpu_per_call_us",
        serde_json::json!({"toolhost": front_door_cpu, "native": native_cpu}),
    );

    // Compile once versus the cached artifact.
    let wasm = std::fs::read(plugin)?;
    let options = RuntimeOptions {
        cache_dir: Some(home.join("bench-cache")),
        ..RuntimeOptions::default()
    };
    let cold = Instant::now();
    let miss = CompiledPlugin::compile(&wasm, plugin, &options)?;
    let cold = cold.elapsed();
    let warm = Instant::now();
    let hit = CompiledPlugin::compile(&wasm, plugin, &options)?;
    let warm = warm.elapsed();
    println!(
        "compile {:.1} ms (cache {}) vs cached load {:.2} ms (cache {}): {:.0}x",
        cold.as_secs_f64() * 1e3,
        miss.compile_report().cache,
        warm.as_secs_f64() * 1e3,
        hit.compile_report().cache,
        cold.as_secs_f64() / warm.as_secs_f64()
    );
    report.figure(
        "compile_ms",
        serde_json::json!({"cold": cold.as_secs_f64() * 1e3, "cached": warm.as_secs_f64() * 1e3}),
    );
    Ok(())
}

/// Waits (untimed) for the work a call leaves behind, tearing its instance down and making
/// the next one, as an agent's think time between calls would; bounded, in case no instance
/// is made ahead.
async fn host_idle(host: &ToolHost) {
    for _ in 0..10_000 {
        if host.runtime().linked().occupancy().warm_instances == 1 {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// The call context `ToolHost::call` gives [`TOOL`] (its declared routes), for calling the
/// sandbox directly as the front door would.
pub(crate) fn tool_context(host: &ToolHost) -> toolhost_sandbox::CallContext {
    let routes = host
        .runtime()
        .static_tools()
        .iter()
        .find(|t| t.name == TOOL)
        .expect("the benchmarked tool is static")
        .routes_for(TOOL);
    host.call_context().expect("connected").scoped(routes)
}

/// Makes [`LARGE_CALL`], so that the calls measured next follow a large one: a server's pool
/// slots have run large calls too, and what a slot keeps of one is what its reset clears
/// after every later call.
pub(crate) async fn after_a_large_call(host: &ToolHost, caller: &Caller) -> anyhow::Result<()> {
    let (tool, arguments) = LARGE_CALL;
    host.call(tool, arguments, caller, &DeferApprovals)
        .await
        .map(drop)
        .map_err(|e| anyhow::anyhow!("the large call the measurements follow: {e}"))
}

/// What the front door and sandbox add to one request: the full call minus the native
/// keep-alive request, percentiles taken from the two runs measured side by side.
fn front_door_overhead(report: &mut Report, front_door: &Stats, native: &Stats) {
    let minus = |a: std::time::Duration, b: std::time::Duration| {
        ((a.as_secs_f64() - b.as_secs_f64()) * 1e7).round() / 10.0
    };
    let p50 = minus(front_door.p50, native.p50);
    let p99 = minus(front_door.p99, native.p99);
    println!(
        "front door overhead (ToolHost::call minus native keep-alive): p50 {p50} us, p99 {p99} us"
    );
    report.figure("front_door_overhead_p50_us", serde_json::json!(p50));
    report.figure("front_door_overhead_p99_us", serde_json::json!(p99));
}
