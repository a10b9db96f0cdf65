//! The instance made ahead of the next call (`toolhost_sandbox`'s `runtime::instances`): the
//! call it serves runs with its own gate and configuration, not the offline ones it was made
//! with; it is kept only while no call runs or waits; and the memory it holds is accounted.

use e2e::*;
use std::sync::Arc;
use std::time::Duration;
use toolhost_sandbox::{CallContext, Occupancy};

const COMPANIES: &str = "/api/platform/v1/company/companies";
const TOOL: &str = "cw-rmm-list-companies";

fn occupancy(env: &TestEnv) -> Occupancy {
    env.host.runtime().linked().occupancy()
}

/// The context `ToolHost::call` gives `TOOL`: its declared routes, the connection's config.
fn tool_context(env: &TestEnv) -> CallContext {
    let routes = env
        .host
        .runtime()
        .static_tools()
        .iter()
        .find(|t| t.name == TOOL)
        .expect("a static tool")
        .routes_for(TOOL);
    env.host.call_context().expect("connected").scoped(routes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_an_instance_made_ahead_runs_with_its_own_gate_and_configuration() {
    let env = TestEnv::start().await;
    let first = env.ok(TOOL, json!({})).await;

    let before = env.idle_occupancy().await;
    assert!(before.warm_memory_bytes > 0, "{before:?}");
    assert_eq!(
        before.memory_charged_bytes, before.warm_memory_bytes,
        "only the warm instance holds memory between calls: {before:?}"
    );
    // The instance was made offline (no network, no configuration). Had the call not been
    // given its own, the plugin would have no API address and the gate would refuse.
    let outcome = env
        .host
        .runtime()
        .call_tool(tool_context(&env), TOOL, "{}")
        .await;
    assert!(outcome.warm, "the call took the instance made ahead");
    assert!(outcome.instantiate > Duration::ZERO);
    let second = outcome.result.expect("the call works");
    assert_eq!(second, first);
    assert_eq!(outcome.exchanges.len(), 1, "{:?}", outcome.exchanges);
    assert!(
        outcome.gate_failures.is_empty(),
        "{:?}",
        outcome.gate_failures
    );
    assert_eq!(env.requests_to("GET", COMPANIES).len(), 2);

    // And the front door's calls keep finding one.
    env.idle_occupancy().await;
    assert_eq!(env.ok(TOOL, json!({})).await, first);
    env.idle_occupancy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_instance_is_kept_ahead_beside_a_running_call() {
    let env = Arc::new(
        TestEnv::configured(&hostile_wasm(), sim_config(), |config| {
            // Long enough for the calls beside it on a loaded machine.
            config.limits.deadline = Duration::from_secs(3);
        })
        .await,
    );
    env.call("hostile:ok", json!({})).await.expect("ok");
    env.idle_occupancy().await;
    // A spinning call takes the warm instance; while it runs nothing is made ahead, however
    // many calls finish beside it.
    let spinner = {
        let env = env.clone();
        tokio::spawn(async move { env.call("hostile:spin", json!({})).await })
    };
    env.until_in_flight(&spinner).await;
    for _ in 0..5 {
        env.call("hostile:ok", json!({}))
            .await
            .expect("ok beside the spinner");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = occupancy(&env);
        assert_eq!(now.calls_in_flight, 1, "the spinner runs: {now:?}");
        assert_eq!(now.warm_instances, 0, "{now:?}");
    }
    spinner
        .await
        .expect("task")
        .expect_err("the spinner hits its deadline");
    env.idle_occupancy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_one_slot_the_instance_made_ahead_never_keeps_a_call_waiting() {
    let env = Arc::new(
        TestEnv::configured(&hostile_wasm(), sim_config(), |config| {
            config.limits.max_concurrent_calls = 1;
        })
        .await,
    );
    for _ in 0..3 {
        env.call("hostile:ok", json!({"fetch": true}))
            .await
            .expect("ok");
        // The one slot is the warm instance's until the next call takes it over.
        env.idle_occupancy().await;
    }
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let env = env.clone();
            tokio::spawn(async move { env.call("hostile:ok", json!({"fetch": true})).await })
        })
        .collect();
    for call in calls {
        let result = tokio::time::timeout(Duration::from_secs(10), call)
            .await
            .expect("no call waits for a slot held ahead")
            .expect("task");
        assert_eq!(result.expect("ok")["status"], 200);
    }
    let after = env.idle_occupancy().await;
    assert_eq!(after.peak_calls_in_flight, 1, "{after:?}");
}

/// A call that arrives back to back with the last one, while its store is still being torn
/// down, waits for that work and takes the instance made for it rather than making its own
/// beside it. On a current-thread runtime the work after the first call cannot run before the
/// second call starts, so the second call always arrives while it is pending.
#[tokio::test]
async fn a_call_arriving_back_to_back_takes_the_instance_made_for_it() {
    let env = TestEnv::start().await;
    let runtime = env.host.runtime();
    let mut warm = 0;
    for _ in 0..5 {
        let outcome = runtime.call_tool(tool_context(&env), TOOL, "{}").await;
        outcome.result.expect("the call works");
        warm += usize::from(outcome.warm);
    }
    // The first call may find none; every later one arrives during the work after its
    // predecessor and must find the instance that work made.
    assert!(warm >= 4, "{warm} of 5 calls took an instance made ahead");
    let idle = env.idle_occupancy().await;
    assert_eq!(idle.warm_instances, 1, "{idle:?}");
}
