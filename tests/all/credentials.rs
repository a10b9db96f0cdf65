//! Credentials held by the host: one token reused, refreshed once on 401, bad secrets and a
//! locked key reported clearly.

use e2e::*;
use simulator::{MintLimit, Simulator, DEMO_CLIENT_ID};
use std::sync::Arc;
use std::time::Duration;
use toolhost_base::SecretString;
use toolhost_host::ConnectionSettings;
use toolhost_host::HostError;
use toolhost_sandbox::CredentialError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_serves_many_calls_including_concurrent_ones() {
    let env = Arc::new(TestEnv::start().await);
    // connect minted once (to prove the credentials and discover tools).
    assert_eq!(env.sim.token_mints(), 1);
    for _ in 0..5 {
        env.ok("cw-rmm-list-companies", json!({})).await;
    }
    let mut tasks = Vec::new();
    for i in 0..10 {
        let env = env.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                env.ok(
                    "cw-rmm-get-device-state",
                    json!({"endpointId": seed::DC01_ID}),
                )
                .await;
            } else {
                env.ok("cw-rmm-list-tickets", json!({"limit": 5})).await;
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("a concurrent call hung")
            .expect("a concurrent call panicked");
    }
    assert_eq!(env.sim.token_mints(), 1);
    assert_eq!(env.host.token_mints(), 1);
    let requests = env.sim.requests();
    assert_eq!(requests.iter().filter(|r| r.path == "/v1/token").count(), 1);
    // Every API request carried the bearer token; none was refused.
    let api: Vec<_> = requests.iter().filter(|r| r.path != "/v1/token").collect();
    assert!(api.len() >= 15, "only {} API requests", api.len());
    assert!(api.iter().all(|r| r.had_bearer_token && r.status < 400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refreshed_once_and_the_request_replayed() {
    let env = TestEnv::start().await;
    env.ok("cw-rmm-list-companies", json!({})).await;
    assert_eq!(env.sim.token_mints(), 1);

    env.sim.expire_all_tokens();
    let before = env.sim.requests().len();
    let report = env
        .report(
            "cw-rmm-get-company",
            json!({"companyId": seed::CONTOSO_ID}),
            false,
        )
        .await
        .expect("the call after expiry succeeds");
    assert_eq!(report.result["name"], seed::CONTOSO_NAME);

    let after: Vec<_> = env.sim.requests().into_iter().skip(before).collect();
    let path = format!("/api/platform/v1/company/companies/{}", seed::CONTOSO_ID);
    let statuses: Vec<(String, u16)> = after.iter().map(|r| (r.path.clone(), r.status)).collect();
    assert_eq!(
        statuses,
        [
            (path.clone(), 401),
            ("/v1/token".to_string(), 200),
            (path, 200)
        ],
        "expected a 401, one mint and a successful replay"
    );
    assert_eq!(env.sim.token_mints(), 2);
    assert_eq!(env.host.token_mints(), 2);
    // The host's own record of the call shows the replay.
    assert_eq!(report.upstream.len(), 2, "{:?}", report.upstream);
    assert_eq!(report.upstream[0].status, Some(401));
    assert_eq!(report.upstream[1].status, Some(200));
    assert!(report.upstream[1].replayed_after_401);

    // And the fresh token is reused afterwards.
    env.ok("cw-rmm-list-sites", json!({})).await;
    assert_eq!(env.sim.token_mints(), 2);
}

fn settings(
    host: &toolhost_host::ToolHost,
    sim: &Simulator,
    region: &str,
    secret: &str,
) -> ConnectionSettings {
    ConnectionSettings {
        region: region.into(),
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: SecretString::new(secret),
        scopes: None,
        routes: routes_to(host, "au", sim),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_reported_and_nothing_is_saved() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let home = TempDir::new("wrong-secret");
    let mut host = open_host(host_config(home.path(), &plugin_wasm())).await;
    let err = host
        .connect(settings(&host, &sim, "au", "not-the-secret"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            HostError::Credentials(CredentialError::InvalidClient { .. })
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("client id or secret"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");
    assert!(!host.is_connected());
    assert!(!home.path().join("connection.json").exists());
    assert_eq!(sim.token_mints(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_region_lists_the_known_ones() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let home = TempDir::new("region");
    let mut host = open_host(host_config(home.path(), &plugin_wasm())).await;
    let err = host
        .connect(settings(&host, &sim, "mars", simulator::DEMO_CLIENT_SECRET))
        .await
        .unwrap_err();
    match &err {
        HostError::UnknownRegion { region, known } => {
            assert_eq!(region, "mars");
            for id in ["au", "na", "eu"] {
                assert!(known.contains(id), "{known}");
            }
        }
        other => panic!("expected UnknownRegion, got {other:?}"),
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_key_says_to_wait() {
    let config = simulator::SimulatorConfig {
        mint_limit: MintLimit {
            max_mints: 1,
            window: Duration::from_secs(60),
        },
        ..sim_config()
    };
    let sim = Simulator::start(config).await.unwrap();
    let first_home = TempDir::new("lock-1");
    let mut first = open_host(host_config(first_home.path(), &plugin_wasm())).await;
    first
        .connect(settings(&first, &sim, "au", simulator::DEMO_CLIENT_SECRET))
        .await
        .expect("the first connection mints the one allowed token");

    let second_home = TempDir::new("lock-2");
    let mut second = open_host(host_config(second_home.path(), &plugin_wasm())).await;
    let err = second
        .connect(settings(&second, &sim, "au", simulator::DEMO_CLIENT_SECRET))
        .await
        .unwrap_err();
    assert!(
        matches!(err, HostError::Credentials(CredentialError::Locked { .. })),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("locked") && message.contains("wait"),
        "{message}"
    );
    assert_eq!(sim.token_mints(), 1);
    assert!(!second_home.path().join("connection.json").exists());
}
