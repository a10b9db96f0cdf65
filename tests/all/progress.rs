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
