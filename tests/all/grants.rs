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
    let audit = env.audit();
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
    let listing = env
        .call("cw-rmm-list-shell-scripts", json!({}))
        .await
        .unwrap();
    let flush_dns = listing["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Flush DNS Cache")
        .and_then(|s| s["templateId"].as_str())
        .unwrap()
        .to_string();
    assert!(env
        .sim
        .rename_script(seed::DISK_CLEANUP_SCRIPT_ID, "Disk Cleanup (retired)"));
    assert!(env
        .sim
        .rename_script(&flush_dns, seed::DISK_CLEANUP_SCRIPT_NAME));
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
