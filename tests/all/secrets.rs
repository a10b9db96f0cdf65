//! Secret hygiene: run the scenarios (connect, calls, errors, approvals, audit, token
//! refresh, lock-out, outcome unknown, debug logs) through the library and the CLI, then
//! search everything they produced for the client secret and every access token the
//! simulator minted: stdout, stderr (with `TOOLHOST_LOG=debug`), the audit log, the
//! approvals directory, the catalog and every other file of the home directory, results,
//! and the `Display` and `Debug` text of every error. Zero hits.
//!
//! The one file that legitimately holds the secret is the connection file
//! (`connection.json`, mode 0600); it is excluded explicitly, and only it.

use e2e::*;
use simulator::{Fault, FaultAction, PathMatch, DEMO_CLIENT_SECRET};
use std::time::Duration;
use toolhost_host::HostError;

/// The only file allowed to hold the secret.
const CONNECTION_FILE: &str = "connection.json";
use toolhost_sandbox::TOKEN_FILE;

/// A file only its owner may read (when it exists: a lock-out may have emptied the store).
fn assert_owner_only(path: &std::path::Path) {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", path.display());
    }
}

fn needles(sim: &simulator::Simulator) -> Vec<String> {
    let mut needles = vec![DEMO_CLIENT_SECRET.to_string()];
    needles.extend(sim.issued_tokens());
    needles
}

/// Asserts `text` (labelled `what`) contains none of `needles`.
#[track_caller]
fn clean(what: &str, text: &str, needles: &[String]) {
    for (i, needle) in needles.iter().enumerate() {
        let kind = if i == 0 {
            "the client secret"
        } else {
            "an access token"
        };
        assert!(
            !text.contains(needle.as_str()),
            "{what} contains {kind}:\n{text}"
        );
    }
}

fn ticket_args() -> serde_json::Value {
    json!({"summary": "secrets", "description": "hygiene", "board": "Service Desk", "source": "API"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn library_scenarios_leak_no_secret_or_token() {
    let env = TestEnv::configured(&plugin_wasm(), sim_config(), |c| {
        c.outbound.timeouts.first_byte = Duration::from_millis(300);
    })
    .await;
    let mut texts: Vec<(String, String)> = Vec::new();
    fn keep(texts: &mut Vec<(String, String)>, what: &str, err: HostError) {
        texts.push((format!("{what} (Display)"), err.to_string()));
        texts.push((format!("{what} (Debug)"), format!("{err:?}")));
        texts.push((format!("{what} (Debug, pretty)"), format!("{err:#?}")));
    }

    // Successful calls, with their reports.
    let report = env
        .report("cw-rmm-list-companies", json!({}), false)
        .await
        .unwrap();
    texts.push(("report".into(), format!("{report:?}")));
    // Errors of every kind.
    keep(
        &mut texts,
        "invalid arguments",
        env.call("cw-rmm-get-device", json!({})).await.unwrap_err(),
    );
    keep(
        &mut texts,
        "unknown tool",
        env.call("cw-rmm-no-such-tool", json!({}))
            .await
            .unwrap_err(),
    );
    keep(
        &mut texts,
        "approval required",
        env.call("cw-rmm-create-ticket", ticket_args())
            .await
            .unwrap_err(),
    );
    // A token refresh mid-run (a second token is minted and used).
    env.sim.expire_all_tokens();
    let refreshed = env
        .report("cw-rmm-list-companies", json!({}), false)
        .await
        .unwrap();
    texts.push(("refreshed report".into(), format!("{refreshed:?}")));
    // A write with no answer: outcome unknown.
    env.sim.inject(
        Fault::on_path(
            PathMatch::Contains("/tickets".into()),
            FaultAction::ResetAfterHandling,
        )
        .method("POST")
        .once(),
    );
    keep(
        &mut texts,
        "outcome unknown",
        env.call_approved("cw-rmm-create-ticket", ticket_args())
            .await
            .unwrap_err(),
    );
    // A first-byte timeout.
    env.sim.inject(
        Fault::on_path(
            PathMatch::Exact("/api/platform/v1/company/companies".into()),
            FaultAction::Latency(Duration::from_secs(2)),
        )
        .once(),
    );
    keep(
        &mut texts,
        "timeout",
        env.call("cw-rmm-list-companies", json!({}))
            .await
            .unwrap_err(),
    );
    // The token endpoint locks the key; its error body even echoes the secret back.
    env.sim.inject(Fault::on_path(
        PathMatch::Exact("/v1/token".into()),
        FaultAction::Status {
            status: 423,
            body: Some(format!(
                r#"{{"error":"locked","client_secret":"{DEMO_CLIENT_SECRET}"}}"#
            )),
            retry_after: Some("60".into()),
        },
    ));
    env.sim.expire_all_tokens();
    keep(
        &mut texts,
        "locked",
        env.call("cw-rmm-list-companies", json!({}))
            .await
            .unwrap_err(),
    );
    env.sim.clear_faults();

    // Debug output of the configuration and the connection settings.
    texts.push((
        "connection settings (Debug)".into(),
        format!("{:?}", demo_settings(&env.host, &env.sim)),
    ));
    texts.push((
        "host config (Debug)".into(),
        format!("{:?}", env.host.config()),
    ));

    let needles = needles(&env.sim);
    assert!(
        needles.len() >= 3,
        "expected at least two minted tokens: {}",
        needles.len()
    );
    for (what, text) in &texts {
        clean(what, text, &needles);
    }
    // Every file the host wrote, except the connection file and the shared token store
    // (which holds the live token by design, owner-only).
    let hits = files_containing(env.home.path(), &needles, &[CONNECTION_FILE, TOKEN_FILE]);
    assert!(hits.is_empty(), "{hits:?}");
    assert_owner_only(&env.home.path().join(TOKEN_FILE));
    // The audit log exists and recorded the scenarios (so the scan above was not vacuous).
    let audit = std::fs::read_to_string(env.home.path().join("audit.jsonl")).unwrap();
    assert!(audit.lines().count() >= 5, "{audit}");
    eprintln!(
        "FIGURE secrets (library): {} texts and {} audit records scanned for {} needles: 0 hits",
        texts.len(),
        audit.lines().count(),
        needles.len()
    );
    // The connection file does hold the secret, and only its owner can read it.
    let connection = env.home.path().join(CONNECTION_FILE);
    assert!(std::fs::read_to_string(&connection)
        .unwrap()
        .contains(DEMO_CLIENT_SECRET));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&connection).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_scenarios_with_debug_logs_leak_no_secret_or_token() {
    let sim = simulator::Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let debug = [("TOOLHOST_LOG", "debug")];
    let mut outputs: Vec<(String, CliOutput)> = Vec::new();

    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    outputs.push(("connect".into(), out));
    // Connect again with debug logs (mints a token, logs every exchange).
    let mut args = vec![
        "-vv",
        "connect",
        "--region",
        "au",
        "--client-id",
        simulator::DEMO_CLIENT_ID,
        "--upstream",
    ];
    let base = sim.base_url();
    args.push(&base);
    let out = cli
        .run(
            &args,
            &[
                ("TOOLHOST_CLIENT_SECRET", DEMO_CLIENT_SECRET),
                ("TOOLHOST_LOG", "debug"),
            ],
        )
        .await;
    outputs.push(("connect -vv".into(), out));

    let ticket = ticket_args().to_string();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("tools", vec!["tools", "--json"]),
        ("call", vec!["call", "cw-rmm-list-companies", "--json"]),
        (
            "call bad args",
            vec!["call", "cw-rmm-get-device", "--args", "{}"],
        ),
        ("call unknown", vec!["call", "cw-rmm-nope"]),
        (
            "call needs approval",
            vec!["call", "cw-rmm-create-ticket", "--args", &ticket],
        ),
        ("approvals", vec!["approvals", "list"]),
        ("audit", vec!["audit"]),
        ("audit json", vec!["--json", "audit"]),
    ];
    for (what, args) in &runs {
        let out = cli.run(args, &debug).await;
        outputs.push((what.to_string(), out));
    }
    // Approve the pending call: it runs once, through the approvals store and the audit.
    let pending = outputs
        .iter()
        .find(|(w, _)| w == "call needs approval")
        .map(|(_, o)| o.all())
        .unwrap();
    let id = pending
        .split("Approval required: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no approval id in:\n{pending}"))
        .trim()
        .to_string();
    let out = cli
        .run_at_terminal(&["approvals", "approve", &id], "approve\n")
        .await;
    assert!(out.success(), "{}", out.all());
    outputs.push(("approvals approve".into(), out));
    let out = cli.run(&["approvals", "list", "--all"], &debug).await;
    outputs.push(("approvals list --all".into(), out));

    // A token refresh mid-run, then a locked token endpoint, with debug logs.
    sim.expire_all_tokens();
    let out = cli.run(&["call", "cw-rmm-list-companies"], &debug).await;
    assert!(out.success(), "{}", out.all());
    outputs.push(("call after expiry".into(), out));
    sim.inject(Fault::on_path(
        PathMatch::Exact("/v1/token".into()),
        FaultAction::status_retry_after(423, "60"),
    ));
    sim.expire_all_tokens();
    let out = cli.run(&["call", "cw-rmm-list-companies"], &debug).await;
    assert!(!out.success(), "{}", out.all());
    outputs.push(("call while locked".into(), out));

    let needles = needles(&sim);
    assert!(needles.len() >= 4, "{}", needles.len());
    let mut lines = 0;
    for (what, out) in &outputs {
        lines += out.stdout.lines().count() + out.stderr.lines().count();
        clean(&format!("`toolhost {what}` stdout"), &out.stdout, &needles);
        clean(&format!("`toolhost {what}` stderr"), &out.stderr, &needles);
    }
    // The debug runs did log (so the scan was not vacuous).
    assert!(
        outputs.iter().any(|(_, o)| o.stderr.contains("DEBUG")),
        "no debug log lines were produced"
    );
    let hits = files_containing(cli.home.path(), &needles, &[CONNECTION_FILE, TOKEN_FILE]);
    assert!(hits.is_empty(), "{hits:?}");
    assert_owner_only(&cli.home.path().join(TOKEN_FILE));
    eprintln!(
        "FIGURE secrets (CLI): {} runs, {lines} output lines scanned for {} needles: 0 hits",
        outputs.len(),
        needles.len()
    );
}
