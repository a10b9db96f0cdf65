//! Concurrency by memory: the number of calls in flight follows `limits.memory_budget_mib`,
//! calls waiting for a slot hold no instance and no memory, and the linear memory of all
//! calls in flight together never passes the budget (the call that would is refused, typed,
//! and its memory comes back).

use e2e::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use toolhost_host::ToolHost;
use toolhost_sandbox::{CallFailure, CallLimits, Occupancy};

const SPIN: Duration = Duration::from_millis(300);

/// The hostile fixture on a host opened from `toolhost.toml` as every front end opens it.
async fn hostile_with_settings(toml: &str, deadline: Duration) -> Arc<TestEnv> {
    let sim = simulator::Simulator::start(sim_config())
        .await
        .expect("starting the simulator");
    let home = TempDir::new("concurrency");
    std::fs::write(home.path().join("toolhost.toml"), toml).expect("writing toolhost.toml");
    let mut config = host_config(home.path(), &hostile_wasm());
    config.limits.deadline = deadline;
    let mut host = ToolHost::open_with_settings(config)
        .await
        .expect("opening the host");
    let settings = demo_settings(&host, &sim);
    host.connect(settings).await.expect("connecting");
    Arc::new(TestEnv { sim, host, home })
}

/// A memory bomb called alone: it fails at its own memory cap, holding all of it.
async fn bomb_stops_at_its_cap(env: &TestEnv) {
    let bomb = env.call("hostile:memory-bomb", json!({})).await;
    assert!(
        matches!(
            call_failure(bomb.as_ref().unwrap_err()),
            Some(CallFailure::MemoryLimit { .. })
        ),
        "{bomb:?}"
    );
}

fn occupancy(env: &TestEnv) -> Occupancy {
    env.host.runtime().linked().occupancy()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_calls_hold_no_instance_and_the_count_follows_the_budget() {
    // 16 MiB of budget and no count: 16 MiB / 2 MiB = 8 calls in flight.
    let env =
        hostile_with_settings("[limits]\nmemory_budget_mib = 16\nmemory_mb = 16\n", SPIN).await;
    let slots = env.host.config().limits.max_concurrent_calls;
    assert_eq!(slots, CallLimits::concurrency_for_budget(16 << 20));
    assert_eq!(slots, 8);

    // What one spinning call is charged, alone.
    let alone = env.call("hostile:spin", json!({})).await;
    assert!(matches!(
        call_failure(&alone.unwrap_err()),
        Some(CallFailure::Deadline { .. })
    ));
    let one = occupancy(&env).peak_memory_charged_bytes;
    assert!(one > 0, "a call's linear memory is charged");

    const CALLS: usize = 40;
    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let env = env.clone();
            tokio::spawn(async move { env.call("hostile:spin", json!({})).await })
        })
        .collect();
    let mut seen = (0, 0);
    while !calls.iter().all(|c| c.is_finished()) {
        let now = occupancy(&env);
        seen = (
            seen.0.max(now.calls_in_flight),
            seen.1.max(now.memory_charged_bytes),
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    for call in calls {
        let result = call.await.expect("call task");
        assert!(
            matches!(
                call_failure(result.as_ref().unwrap_err()),
                Some(CallFailure::Deadline { .. })
            ),
            "{result:?}"
        );
    }
    let after = occupancy(&env);
    eprintln!(
        "FIGURE concurrency: {CALLS} spins, {slots} slots from a 16 MiB budget: {} ms; at most {} in flight, \
         {} KiB charged at most ({} KiB per call)",
        took.as_millis(),
        after.peak_calls_in_flight,
        after.peak_memory_charged_bytes >> 10,
        one >> 10
    );
    assert_eq!(
        after.peak_calls_in_flight, slots,
        "every slot used, never more"
    );
    assert!(seen.0 <= slots, "{seen:?}");
    // Had the 32 waiting calls instantiated, 40 calls' memory would have been charged.
    assert!(after.peak_memory_charged_bytes <= slots * one, "{after:?}");
    assert!(seen.1 <= slots * one, "{seen:?}");
    assert!(
        took >= SPIN * (CALLS / slots) as u32,
        "waves of {slots}: {took:?}"
    );
    let settled = env.idle_occupancy().await;
    assert!(settled.warm_memory_bytes <= one, "{settled:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_the_shared_budget_is_refused_and_its_memory_comes_back() {
    let env = hostile_with_settings(
        "[limits]\nmemory_budget_mib = 16\nmemory_mb = 16\nmax_concurrent_calls = 2\n",
        Duration::from_secs(3),
    )
    .await;
    // Alone, a bomb stops at its own cap.
    bomb_stops_at_its_cap(&env).await;
    // Beside a call holding its instance, the same bomb reaches the shared budget first.
    let spinner = {
        let env = env.clone();
        tokio::spawn(async move { env.call("hostile:spin", json!({})).await })
    };
    env.until_in_flight(&spinner).await;
    let err = env
        .call("hostile:memory-bomb", json!({}))
        .await
        .expect_err("past the budget");
    assert_eq!(
        call_failure(&err),
        Some(&CallFailure::MemoryBudget {
            budget_bytes: 16 << 20
        }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("limits.memory_budget_mib"),
        "{err}"
    );
    let during = occupancy(&env);
    assert!(during.peak_memory_charged_bytes <= 16 << 20, "{during:?}");
    spinner
        .await
        .expect("spinner")
        .expect_err("spins to its deadline");
    let after = env.idle_occupancy().await;
    assert!(after.warm_memory_bytes < 16 << 20, "{after:?}");
}

/// A call's memory comes back when it returns: the next call, made at once, is never refused
/// by the shared budget for what the returned call held. The returned call's store is torn
/// down off the caller's path, and the next call waits for that teardown, not for nothing.
/// On a current-thread runtime the teardown cannot run before the next call starts unless
/// the next call waits for it.
#[tokio::test]
async fn the_next_call_is_not_refused_for_the_memory_of_a_call_that_returned() {
    let env = hostile_with_settings(
        "[limits]\nmemory_budget_mib = 16\nmemory_mb = 16\nmax_concurrent_calls = 2\n",
        Duration::from_secs(3),
    )
    .await;
    for round in 0..3 {
        bomb_stops_at_its_cap(&env).await;
        let next = env.call("hostile:ok", json!({})).await;
        assert!(
            next.is_ok(),
            "round {round}: refused for the memory of a call that had returned: {next:?}"
        );
    }
}

/// A process whose address space is capped (`ulimit -v` 16 GiB) cannot reserve the 4 GiB per
/// linear memory of the unchecked layout (a one-shot command's pool of 4 calls asks for about
/// 32 GiB): its engine falls back to the checked layout, which reserves only the memory cap,
/// and the command works as before.
#[tokio::test]
async fn a_capped_address_space_loads_the_plugin_with_bounds_checks() {
    let cli = Cli::new().await;
    let toolhost = cli.command(&["-vv", "tools"]);
    let toolhost = toolhost.as_std();
    let mut capped = tokio::process::Command::new("bash");
    capped
        .arg("-c")
        .arg(r#"ulimit -v 16777216 && exec "$0" "$@""#)
        .arg(toolhost.get_program())
        .args(toolhost.get_args());
    for (name, value) in toolhost.get_envs() {
        match value {
            Some(value) => capped.env(name, value),
            None => capped.env_remove(name),
        };
    }
    let output = capped
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("running toolhost under ulimit -v");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "toolhost tools under a 16 GiB address space:\n{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("cw-rmm-list-companies"),
        "the tools are listed"
    );
    assert!(
        stderr.contains("unchecked memory layout refused, checking bounds"),
        "the engine fell back to the checked layout:\n{stderr}"
    );
}
