//! Upstream connections: one pool per process, keyed by the target the gate decided.
//! Sequential calls reuse one connection (plain HTTP and TLS), TLS is checked against the
//! roots the process trusts (a simulator's run-time root only because the test says so),
//! and a request never travels over a connection to another target.

use e2e::*;
use simulator::{Network, Simulator, SimulatorConfig, TestCertificates};
use std::net::SocketAddr;
use std::sync::OnceLock;

/// Enough endpoints that listing them all takes 20 page requests of 500.
const ENDPOINTS_FOR_20_PAGES: usize = 10_000;

/// One certificate authority per test process, trusted by this process's TLS
/// configuration through the `test-trust` feature (never available to a release config).
fn trusted_certificates() -> &'static TestCertificates {
    static CERTS: OnceLock<TestCertificates> = OnceLock::new();
    CERTS.get_or_init(|| {
        let certs = TestCertificates::generate().expect("generating the test certificates");
        toolhost_sandbox::tls::trust_root_for_tests(&certs.root).expect("trusting the test root");
        certs
    })
}

async fn start_sim(config: SimulatorConfig, network: Network) -> Simulator {
    Simulator::start_with_network(SocketAddr::from(([127, 0, 0, 1], 0)), config, network)
        .await
        .expect("starting the simulator")
}

/// A host connected to `sim` (the region's API routed to it, whatever its scheme).
async fn env_on(sim: Simulator) -> TestEnv {
    let home = TempDir::new("pool");
    let mut host = open_host(host_config(home.path(), &plugin_wasm())).await;
    let settings = demo_settings(&host, &sim);
    host.connect(settings)
        .await
        .expect("connecting to the simulator");
    TestEnv { sim, host, home }
}

fn device_pages(env: &TestEnv) -> usize {
    env.requests_to("POST", "/device/categories/all/endpoints")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_listing_reuses_one_connection() {
    let env = TestEnv::with(SimulatorConfig {
        endpoint_count: ENDPOINTS_FOR_20_PAGES,
        ..sim_config()
    })
    .await;
    let listing = env
        .ok(
            "cw-rmm-list-devices",
            json!({"limit": ENDPOINTS_FOR_20_PAGES}),
        )
        .await;
    assert_eq!(listing["count"], ENDPOINTS_FOR_20_PAGES);
    assert_eq!(device_pages(&env), 20);
    let requests = env.sim.requests().len();
    assert!(
        requests > 20,
        "token, discovery, companies and pages: {requests}"
    );
    // Before the pool every request opened its own connection.
    assert_eq!(
        env.sim.connections_accepted(),
        1,
        "{requests} requests should share one keep-alive connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_test_root_works_and_keeps_its_connection() {
    let certs = trusted_certificates();
    let sim = start_sim(
        SimulatorConfig {
            endpoint_count: ENDPOINTS_FOR_20_PAGES,
            ..sim_config()
        },
        Network {
            tls: Some(certs.identity.clone()),
            ..Network::default()
        },
    )
    .await;
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let env = env_on(sim).await;
    let listing = env
        .ok(
            "cw-rmm-list-devices",
            json!({"limit": ENDPOINTS_FOR_20_PAGES}),
        )
        .await;
    assert_eq!(listing["count"], ENDPOINTS_FOR_20_PAGES);
    assert_eq!(device_pages(&env), 20);
    let health = env
        .ok("cw-rmm-get-device", json!({"endpointId": seed::DC01_ID}))
        .await;
    assert!(health.is_object());
    assert_eq!(env.sim.connections_accepted(), 1);
    // The simulator offers h2 by ALPN, so every request went over HTTP/2.
    assert_eq!(env.sim.http2_requests(), env.sim.requests().len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused() {
    // Trusting the process's test root must not make any other certificate acceptable.
    trusted_certificates();
    let stranger = TestCertificates::generate().expect("generating a certificate");
    let sim = start_sim(
        sim_config(),
        Network {
            tls: Some(stranger.identity),
            ..Network::default()
        },
    )
    .await;
    let home = TempDir::new("pool-untrusted");
    let mut host = open_host(host_config(home.path(), &plugin_wasm())).await;
    let settings = demo_settings(&host, &sim);
    let err = host
        .connect(settings)
        .await
        .expect_err("a certificate from an unknown authority must be refused");
    let message = format!("{err:#}");
    assert!(
        message.to_lowercase().contains("certificate") || message.contains("TLS"),
        "the error should say the certificate was refused: {message}"
    );
    assert!(
        sim.connections_accepted() >= 1,
        "the host did try to connect"
    );
    assert!(
        sim.requests().is_empty(),
        "nothing reached the simulator over the refused connection"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_never_travels_on_another_targets_connection() {
    // Two hosts in one process address the same real API origin (same Host header), routed
    // by their gates to two different simulators on the same IP.
    let a = env_on(start_sim(sim_config(), Network::default()).await).await;
    let b = env_on(start_sim(sim_config(), Network::default()).await).await;
    let (a_before, b_before) = (a.sim.requests().len(), b.sim.requests().len());
    for _ in 0..3 {
        a.ok("cw-rmm-list-companies", json!({})).await;
        b.ok("cw-rmm-list-companies", json!({})).await;
        b.ok("cw-rmm-list-companies", json!({})).await;
    }
    let companies = |env: &TestEnv| env.requests_to("GET", "/company/companies").len();
    assert_eq!(companies(&a), 3, "A saw exactly its own host's calls");
    assert_eq!(companies(&b), 6, "B saw exactly its own host's calls");
    assert_eq!(a.sim.requests().len() - a_before, 3);
    assert_eq!(b.sim.requests().len() - b_before, 6);
    assert_eq!(a.sim.connections_accepted(), 1);
    assert_eq!(b.sim.connections_accepted(), 1);
}
