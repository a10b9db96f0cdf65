//! Progress of long work: a call that pages through the API shows what it is doing on a
//! terminal, and writes nothing extra when piped or with --json.

use e2e::*;
use simulator::{Fault, FaultAction, PathMatch, Simulator, DEMO_CLIENT_SECRET};
use std::time::Duration;

const LISTING: &str = "/api/platform/v2/device/categories/all/endpoints";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_call_shows_progress_on_a_terminal_and_nothing_when_piped() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    // Slow pages, so the call lasts long enough to be drawn.
    sim.inject(Fault::on_path(
        PathMatch::Exact(LISTING.into()),
        FaultAction::Latency(Duration::from_millis(400)),
    ));
    let at_terminal = cli
        .run_at_terminal(&["call", "cw-rmm-list-devices", "--args", "{}"], "")
        .await;
    assert!(at_terminal.success(), "{}", at_terminal.stdout);
    assert!(
        at_terminal.stdout.contains("request") && at_terminal.stdout.contains("so far"),
        "no progress on the terminal:\n{}",
        at_terminal.stdout
    );
    assert!(
        at_terminal.stdout.contains(LISTING),
        "{}",
        at_terminal.stdout
    );

    let piped = cli
        .run(&["call", "cw-rmm-list-devices", "--args", "{}"], &[])
        .await;
    assert!(piped.success(), "{}", piped.all());
    assert!(!piped.stderr.contains("so far"), "{}", piped.stderr);
    let json = cli
        .run(
            &["call", "cw-rmm-list-devices", "--args", "{}", "--json"],
            &[],
        )
        .await;
    assert!(json.success(), "{}", json.all());
    assert!(!json.stderr.contains("so far"), "{}", json.stderr);
    json.json();
}

/// Enough devices for several 500-device pages of one listing.
const MANY_DEVICES: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_of_many_devices_shows_its_page_at_a_terminal_only() {
    let sim = Simulator::start(simulator::SimulatorConfig {
        endpoint_count: MANY_DEVICES,
        ..sim_config()
    })
    .await
    .unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    sim.inject(Fault::on_path(
        PathMatch::Exact(LISTING.into()),
        FaultAction::Latency(Duration::from_millis(400)),
    ));
    let args = r#"{"limit": 10000}"#;
    let at_terminal = cli
        .run_at_terminal(&["call", "cw-rmm-list-devices", "--args", args], "")
        .await;
    assert!(at_terminal.success(), "{}", at_terminal.stdout);
    let pages = sim.requests().iter().filter(|r| r.path == LISTING).count();
    assert!(pages >= 3, "only {pages} listing pages were read");
    // The device list pages by cursor and never says how many devices there are: the page
    // is counted, its total is not known.
    assert!(
        at_terminal.stdout.contains("page 2"),
        "no page count on the terminal:\n{}",
        at_terminal.stdout
    );
    assert!(
        !at_terminal.stdout.contains("page 2 of"),
        "{}",
        at_terminal.stdout
    );

    for extra in [&[][..], &["--json"][..]] {
        let mut argv = vec!["call", "cw-rmm-list-devices", "--args", args];
        argv.extend_from_slice(extra);
        let piped = cli.run(&argv, &[]).await;
        assert!(piped.success(), "{}", piped.all());
        assert!(
            !piped.stderr.contains("page") && !piped.stderr.contains("so far"),
            "{}",
            piped.stderr
        );
        let result = piped.json();
        let count = if extra.is_empty() {
            &result["count"]
        } else {
            &result["result"]["count"]
        };
        assert_eq!(count.as_u64(), Some(MANY_DEVICES as u64), "{result}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_task_shows_its_status_counts_at_a_terminal_only() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    // The task is scheduled through the library on the same home (a person approved it).
    let host = open_host(host_config(cli.home.path(), &plugin_wasm())).await;
    let report = call_on(
        &host,
        "cw-rmm-run-task",
        run_task_args("e2e progress task"),
        None,
        &approve_as("ops"),
    )
    .await
    .unwrap();
    let task_id = report.result["taskId"].as_str().unwrap().to_string();
    drop(host);
    // Slow results, so the counts read from the task's summary stay on screen a while.
    sim.inject(Fault::on_path(
        PathMatch::Contains("/results".into()),
        FaultAction::Latency(Duration::from_millis(600)),
    ));
    let args = serde_json::json!({ "taskId": task_id }).to_string();
    let at_terminal = cli
        .run_at_terminal(&["call", "cw-rmm-get-task-results", "--args", &args], "")
        .await;
    assert!(at_terminal.success(), "{}", at_terminal.stdout);
    let counts = at_terminal
        .stdout
        .split(['\r', '\n'])
        .find(|line| line.contains(" succeeded, ") && line.contains(" running, "))
        .unwrap_or_else(|| panic!("no status counts:\n{}", at_terminal.stdout));
    assert!(counts.contains(" failed"), "{counts}");

    let piped = cli
        .run(&["call", "cw-rmm-get-task-results", "--args", &args], &[])
        .await;
    assert!(piped.success(), "{}", piped.all());
    assert!(!piped.stderr.contains("succeeded"), "{}", piped.stderr);
    assert_eq!(piped.json()["taskId"], task_id.as_str());
    let json = cli
        .run(
            &["call", "cw-rmm-get-task-results", "--args", &args, "--json"],
            &[],
        )
        .await;
    assert!(json.success(), "{}", json.all());
    assert!(json.stderr.is_empty(), "{}", json.stderr);
    json.json();
}
