//! Calls as a tenant far away sees them: the simulator over TLS with 50 ms of round-trip
//! delay. Each scenario's tool calls run through `ToolHost::call`; a native keep-alive
//! client (reqwest, rustls, HTTP/2 by ALPN) then sends exactly the requests the calls made,
//! recorded by the simulator, alternately with them.

use crate::stats::{side_by_side, Report};
use serde_json::{json, Value};
use simulator::{Network, RecordedRequest, Simulator, SimulatorConfig, TestCertificates};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use toolhost_base::SecretString;
use toolhost_host::{
    ApprovalAnswer, Caller, ConnectionSettings, HostConfig, StaticApprover, ToolHost,
};
use toolhost_sandbox::{Origin, UpstreamRoutes};

pub const ROUND_TRIP: Duration = Duration::from_millis(50);
const ITERATIONS: u32 = 8;
const WARMUP: u32 = 1;
/// The slow, unpooled shape needs few samples to make its point.
const PER_REQUEST_ITERATIONS: u32 = 3;
/// Listing 10,000 endpoints takes 20 pages of 500.
const ENDPOINTS_FOR_20_PAGES: usize = 10_000;

type Calls = Vec<(&'static str, Value)>;

/// The native clients the calls are compared with.
struct Clients {
    /// Keep-alive, HTTP/2 by ALPN: the baseline.
    native: reqwest::Client,
    /// No connection reuse: what every request cost before the pool.
    per_request: reqwest::Client,
}

pub async fn run(plugin: &Path, home: &Path, report: &mut Report) -> anyhow::Result<()> {
    let certs = TestCertificates::generate()?;
    toolhost_sandbox::tls::trust_root_for_tests(&certs.root)?;
    let native = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(&certs.root)?)
        .build()?;
    // Today's transport without the pool: HTTP/1.1, a new TCP and TLS connection per request.
    let per_request = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(&certs.root)?)
        .http1_only()
        .pool_max_idle_per_host(0)
        .build()?;
    let clients = Clients {
        native,
        per_request,
    };
    println!(
        "simulator over TLS with {} ms round trip ({ITERATIONS} iterations after {WARMUP} warm-up)",
        ROUND_TRIP.as_millis()
    );

    let big = Env::start(
        plugin,
        &home.join("wan-listing"),
        &certs,
        ENDPOINTS_FOR_20_PAGES,
    )
    .await?;
    let listing: Calls = vec![(
        "cw-rmm-list-devices",
        json!({"limit": ENDPOINTS_FOR_20_PAGES}),
    )];
    scenario(
        &big,
        &clients,
        "device listing, 20 pages",
        "listing_20_pages",
        &listing,
        report,
    )
    .await?;

    let seeded = Env::start(plugin, &home.join("wan-story"), &certs, 0).await?;
    let story = demo_story(&seeded).await?;
    scenario(
        &seeded,
        &clients,
        "demo story (DC01 health, disk cleanup)",
        "demo_story",
        &story,
        report,
    )
    .await?;
    Ok(())
}

/// The demo's two stories as tool calls, minus waiting for the agent to check in: resolve
/// DC01 and read its state and patches; resolve Maria's laptop, run the disk cleanup
/// script (approved), read the task's results, open the ticket.
async fn demo_story(env: &Env) -> anyhow::Result<Calls> {
    let dc01 = simulator::seed::DC01_ID;
    let found = env
        .call("cw-rmm-list-devices", &json!({"name": "Maria"}))
        .await?;
    let maria = found["devices"][0]["endpointId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let company = found["devices"][0]["companyId"].clone();
    let scheduled = env
        .call(
            "cw-rmm-script-disk-cleanup",
            &json!({"targets": [maria], "parameters": {"drive": "C:", "minFileAgeDays": 7}}),
        )
        .await?;
    let task = scheduled["taskId"].as_str().unwrap_or_default().to_string();
    Ok(vec![
        ("cw-rmm-list-devices", json!({"name": "DC01"})),
        ("cw-rmm-get-device-state", json!({"endpointId": dc01})),
        ("cw-rmm-get-device-patches", json!({"endpointId": dc01})),
        ("cw-rmm-list-devices", json!({"name": "Maria"})),
        (
            "cw-rmm-script-disk-cleanup",
            json!({"targets": [maria], "parameters": {"drive": "C:", "minFileAgeDays": 7}}),
        ),
        ("cw-rmm-get-task-results", json!({"taskId": task})),
        (
            "cw-rmm-create-ticket",
            json!({"summary": "Disk cleanup run on Maria's Laptop", "description": "benchmark", "board": "Service Desk", "source": "API", "companyId": company, "endpointIds": [maria]}),
        ),
    ])
}

async fn scenario(
    env: &Env,
    clients: &Clients,
    name: &str,
    key: &str,
    calls: &Calls,
    report: &mut Report,
) -> anyhow::Result<()> {
    // One run to learn the requests the calls make; the native client replays them.
    let before = env.sim.requests().len();
    env.run(calls).await;
    let replay: Vec<RecordedRequest> = env.sim.requests()[before..]
        .iter()
        .filter(|r| r.path != "/v1/token")
        .cloned()
        .collect();
    let token = crate::mint_token(&env.sim.base_url(), &clients.native).await?;
    let base = env.sim.base_url();
    let (host, direct) = side_by_side(
        WARMUP,
        ITERATIONS,
        || env.run(calls),
        || replay_all(&clients.native, &base, &token, &replay),
    )
    .await;
    let per_request = crate::measure(0, PER_REQUEST_ITERATIONS, || {
        replay_all(&clients.per_request, &base, &token, &replay)
    })
    .await;
    report.row(
        &format!("{name}: native keep-alive ({} requests)", replay.len()),
        &direct,
        None,
    );
    report.row(&format!("{name}: ToolHost::call"), &host, Some(&direct));
    report.row(
        &format!("{name}: a connection per request"),
        &per_request,
        Some(&direct),
    );
    report.figure(
        &format!("{key}_tls_50ms"),
        json!({
            "requests": replay.len(),
            "toolhost_p50_us": host.p50.as_secs_f64() * 1e6,
            "native_p50_us": direct.p50.as_secs_f64() * 1e6,
            "ratio_p50": host.p50.as_secs_f64() / direct.p50.as_secs_f64(),
            "ratio_mean": host.mean.as_secs_f64() / direct.mean.as_secs_f64(),
            "connection_per_request_p50_us": per_request.p50.as_secs_f64() * 1e6,
        }),
    );
    Ok(())
}

async fn replay_all(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    requests: &[RecordedRequest],
) {
    for r in requests {
        let url = match &r.query {
            Some(q) => format!("{base}{}?{q}", r.path),
            None => format!("{base}{}", r.path),
        };
        let method = reqwest::Method::from_bytes(r.method.as_bytes()).expect("method");
        let mut request = client.request(method, url).bearer_auth(token);
        // The same headers the host sent (Origin, User-Agent, X-Request-ID, Content-Type),
        // except those the client sets for its own connection.
        for (name, value) in &r.headers {
            if !matches!(
                name.as_str(),
                "host" | "authorization" | "content-length" | "connection" | "transfer-encoding"
            ) {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        if let Some(body) = &r.body {
            request = request.body(body.clone());
        }
        let response = request.send().await.expect("native request");
        let status = response.status();
        let body = response.bytes().await.expect("native body");
        assert!(
            status.is_success(),
            "native {} {}: {status} {}",
            r.method,
            r.path,
            String::from_utf8_lossy(&body)
        );
    }
}

/// A TLS simulator with delay and a host connected to it.
struct Env {
    sim: Simulator,
    host: ToolHost,
}

impl Env {
    async fn start(
        plugin: &Path,
        home: &Path,
        certs: &TestCertificates,
        endpoints: usize,
    ) -> anyhow::Result<Env> {
        let mut config = SimulatorConfig::default();
        config.endpoint_count = endpoints.max(config.endpoint_count);
        let sim = Simulator::start_with_network(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            config,
            Network {
                tls: Some(certs.identity.clone()),
                round_trip_delay: ROUND_TRIP,
            },
        )
        .await?;
        let mut host = ToolHost::open(HostConfig::new(home, plugin)).await?;
        let api = host.metadata().region("au").expect("au region").api.clone();
        let mut routes = UpstreamRoutes::new();
        routes.insert(api, Origin::parse(&sim.base_url())?);
        host.connect(ConnectionSettings {
            region: "au".into(),
            client_id: simulator::DEMO_CLIENT_ID.into(),
            client_secret: SecretString::new(simulator::DEMO_CLIENT_SECRET),
            scopes: None,
            routes,
        })
        .await?;
        Ok(Env { sim, host })
    }

    async fn call(&self, tool: &str, args: &Value) -> anyhow::Result<Value> {
        let approver = StaticApprover(ApprovalAnswer::Approve {
            by: "bench approver".into(),
        });
        let report = self
            .host
            .call(
                tool,
                &args.to_string(),
                &Caller::new("bench", None),
                &approver,
            )
            .await?;
        Ok(report.result)
    }

    async fn run(&self, calls: &Calls) {
        for (tool, args) in calls {
            if let Err(err) = self.call(tool, args).await {
                panic!("{tool} failed: {err}");
            }
        }
    }
}
