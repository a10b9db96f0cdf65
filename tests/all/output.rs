//! What the CLI prints on stderr is read by people and by machines: colour only on a
//! terminal and never with `NO_COLOR` (<https://no-color.org>), and each failure said once.
//! The real binary against the real simulator, which is stopped so the call's upstream
//! request fails at the outbound gate (a failure the gate both logs and returns).

use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_SECRET};

const ESC: char = '\x1b';
const TOOL: &str = "cw-rmm-list-devices";
/// The gate's account of the failure: in the error, and (before the fix) in a WARN line too.
const FAILURE: &str = "could not reach";

/// A CLI home connected to a simulator that has since stopped: every call now fails. The
/// stopped simulator's port stays dead (`DeadPort`) while the home is used, so no other
/// test's server answers there instead.
async fn connected_to_a_stopped_upstream() -> (Cli, DeadPort) {
    for _ in 0..5 {
        let sim = Simulator::start(sim_config()).await.unwrap();
        let addr = sim.addr();
        let cli = Cli::new().await;
        let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
        assert!(out.success(), "{}", out.all());
        sim.shutdown().await;
        if let Some(dead) = DeadPort::take(addr).await {
            return (cli, dead);
        }
    }
    panic!("another server took the stopped simulator's port five times in a row");
}

/// `toolhost <args>` on a pseudo-terminal with `envs` set; the terminal's one screen (stdout
/// and stderr together) comes back.
async fn at_terminal(cli: &Cli, args: &[&str], envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = cli.run_at_terminal_with(args, "", envs).await;
    (out.code, out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_call_piped_is_said_once_without_colour() {
    let (cli, _held) = connected_to_a_stopped_upstream().await;
    // NO_COLOR is unset: piped output must be plain because it is piped.
    let out = cli.run(&["call", TOOL], &[]).await;
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        !out.stderr.contains(ESC),
        "colour on a pipe:\n{:?}",
        out.stderr
    );
    assert_eq!(out.stderr.matches(FAILURE).count(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    // The gate's own line is still there for whoever asks for more.
    let verbose = cli.run(&["call", TOOL, "-v"], &[]).await;
    assert!(!verbose.stderr.contains(ESC), "{:?}", verbose.stderr);
    assert!(
        verbose.stderr.contains("outbound gate"),
        "{}",
        verbose.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_color_at_a_terminal_is_plain_and_says_a_failure_once() {
    let (cli, _held) = connected_to_a_stopped_upstream().await;
    let (code, screen) = at_terminal(&cli, &["call", TOOL], &[("NO_COLOR", "1")]).await;
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        !screen.contains(ESC),
        "colour despite NO_COLOR:\n{screen:?}"
    );
    assert_eq!(screen.matches(FAILURE).count(), 1, "{screen}");

    // With -v the warning is shown, still without colour.
    let (_, verbose) = at_terminal(&cli, &["call", TOOL, "-v"], &[("NO_COLOR", "1")]).await;
    assert!(verbose.contains("outbound gate"), "{verbose}");
    assert!(!verbose.contains(ESC), "{verbose:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_may_colour_warnings_unless_no_color_is_empty() {
    let (cli, _held) = connected_to_a_stopped_upstream().await;
    // An empty NO_COLOR does not disable colour (no-color.org: present and non-empty).
    for envs in [&[][..], &[("NO_COLOR", "")][..]] {
        let (_, screen) = at_terminal(&cli, &["call", TOOL, "-v"], envs).await;
        assert!(screen.contains("outbound gate"), "{screen}");
        assert!(
            screen.contains("\x1b["),
            "no colour at a terminal ({envs:?}):\n{screen:?}"
        );
    }
}
