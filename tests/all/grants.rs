//! Grants: connecting records what the plugin was allowed (the component, where its traffic
//! and the client secret go, every tool's declaration); the host runs only that. A swapped
//! component is refused before it can send anything, a tool whose declaration changed is not
//! served until an operator accepts the change.

use e2e::*;
use toolhost_host::HostError;

#[track_caller]
fn not_granted<T: std::fmt::Debug>(result: Result<T, HostError>) -> String {
    match result {
        Err(err @ HostError::NotGranted { .. }) => err.to_string(),
        other => panic!("expected not-granted, got {other:?}"),
    }
}

/// Connected with the ConnectWise plugin, the same home opened with another component (a
/// `--plugin` swap, a marketplace update) lists nothing, calls nothing and never sends the
/// client secret anywhere; `grant show` names the difference and `grant accept` takes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_component_is_refused_before_it_sends_anything() {
    let env = TestEnv::start().await;
    let granted = env.host.grant_review().await.unwrap();
    assert!(granted.changes.is_empty(), "{:?}", granted.changes);
    let before = env.sim.requests().len();
    let mints = env.sim.token_mints();

    let mut swapped = open_host(host_config(env.home.path(), &probe_wasm())).await;
    let message = not_granted(swapped.tools().await);
    assert!(message.contains("toolhost grant show"), "{message}");
    let message = not_granted(
        swapped
            .call(
                "probe:fetch",
                r#"{"url":"https://openapi.service.auplatform.connectwise.com/v1/token"}"#,
                &toolhost_host::Caller::new("agent", None),
                &toolhost_host::DeferApprovals,
            )
            .await,
    );
    assert!(message.contains("component sha256"), "{message}");
    assert!(
        message.contains("plugin: connectwise_rmm -> probe"),
        "{message}"
    );
    assert_eq!(
        env.sim.requests().len(),
        before,
        "the swapped component reached the API"
    );
    assert_eq!(env.sim.token_mints(), mints, "a token was minted for it");
    let audit = env.audit().await;
    let last = audit.last().unwrap();
    assert_eq!(last.outcome, toolhost_governance::AuditOutcome::Refused);

    let review = swapped.grant_review().await.unwrap();
    assert!(
        review
            .changes
            .0
            .iter()
            .any(|l| l.starts_with("component sha256")),
        "{:?}",
        review.changes
    );
    swapped.accept_grant("ops").await.unwrap();
    assert!(swapped.tools().await.is_ok());
    // The original component is now the one that differs.
    let again = open_host(host_config(env.home.path(), &plugin_wasm())).await;
    not_granted(again.tools().await);
}

/// A rug pull: after connecting, the tenant points a granted tool's name at another script.
/// The changed tool is no longer listed, calling it is refused with what to do, nothing is
/// scheduled; once an operator accepts, it is served again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_tool_is_not_served_until_accepted() {
    let mut env = TestEnv::start().await;
    env.give_the_disk_cleanup_name_to_another_script().await;
    let tools = env.host.refresh_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert!(
        !names.contains(&"connectwise_rmm:cw-rmm-script-disk-cleanup"),
        "{names:?}"
    );
    let args = json!({"targets": [seed::MARIA_LAPTOP_ID]});
    let message = not_granted(
        env.call_approved("cw-rmm-script-disk-cleanup", args.clone())
            .await,
    );
    assert!(message.contains("cw-rmm-script-disk-cleanup"), "{message}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());

    let review = env.host.grant_review().await.unwrap();
    assert!(
        review
            .changes
            .0
            .iter()
            .any(|l| l.contains("tool changed: connectwise_rmm:cw-rmm-script-disk-cleanup")),
        "{:?}",
        review.changes
    );
    env.host.accept_grant("ops").await.unwrap();
    env.call_approved("cw-rmm-script-disk-cleanup", args)
        .await
        .expect("served again once accepted");
    assert_eq!(env.writes().len(), 1);
}

/// The CLI shows the grant at connect and reviews it later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_shows_the_grant_and_grant_show_reviews_it() {
    let sim = simulator::Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli
        .connect(simulator::DEMO_CLIENT_SECRET, &sim.base_url(), &[])
        .await;
    assert!(out.success(), "{}", out.all());
    assert!(
        out.stdout.contains(
            "client secret goes only to: https://openapi.service.auplatform.connectwise.com/v1/token"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("warning: `connectwise_rmm:cw-rmm-list-devices` reads with `POST"),
        "{}",
        out.stdout
    );
    let show = cli.run(&["grant", "show"], &[]).await;
    assert!(show.success(), "{}", show.all());
    assert!(show.stdout.contains("No changes"), "{}", show.stdout);
    let json = cli.run(&["grant", "show", "--json"], &[]).await;
    assert!(json.success(), "{}", json.all());
    assert_eq!(json.json()["changes"], json!([]));
}

/// A component that declares another API origin (the shape of a hostile update) never gets
/// the client secret: even with that origin routed to a capture server on loopback (a
/// hijacked DNS entry or proxy), the server sees no connection, and the call is refused
/// naming the grant and the difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_declaring_another_origin_never_receives_the_secret() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let env = TestEnv::start().await;
    let capture = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = capture.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = capture.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let path = env.home.path().join("connection.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    saved["routes"]
        .as_array_mut()
        .unwrap()
        .push(json!(["https://capture.example", format!("http://{addr}")]));
    std::fs::write(&path, saved.to_string()).unwrap();

    let swapped = open_host(host_config(env.home.path(), &probe_other_origin_wasm())).await;
    let message = not_granted(
        swapped
            .call(
                "probe:fetch",
                r#"{"url":"https://capture.example/api/platform/v1/company/companies"}"#,
                &toolhost_host::Caller::new("agent", None),
                &toolhost_host::DeferApprovals,
            )
            .await,
    );
    assert!(
        message.contains("API origin: https://openapi.service.auplatform.connectwise.com")
            && message.contains("capture.example"),
        "{message}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the capture server was contacted"
    );
}

/// An extra origin that is plain http, link-local, private, loopback or an IP literal (here
/// the cloud metadata service) is not granted unless the operator names it: connecting is
/// refused with the origin, the reason and the flag; named, it is granted and recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_origin_needs_the_operator_to_name_it() {
    let sim = simulator::Simulator::start(sim_config()).await.unwrap();
    let home = TempDir::new("grant-origin");
    let mut host = open_host(host_config(home.path(), &probe_metadata_origin_wasm())).await;
    let settings = demo_settings(&host, &sim);
    let err = host.connect(settings.clone()).await.unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, HostError::OriginNotAllowed { .. })
            && message.contains("http://169.254.169.254")
            && message.contains("link-local")
            && message.contains("--allow-origin"),
        "{message}"
    );
    assert!(!home.path().join("connection.json").exists());
    let named = toolhost_sandbox::Origin::parse("http://169.254.169.254").unwrap();
    let verified = host
        .verify_connection_allowing(settings, std::slice::from_ref(&named))
        .await
        .unwrap();
    let report = host.commit_connection(verified).await.unwrap();
    assert_eq!(report.grant.allowed_origins, vec![named]);
}
