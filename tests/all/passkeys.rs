//! Passkeys for approvals (`[approvals] require_passkey = true`): the approver named by the
//! one-time link enrols a passkey in the UI and signs each approval's challenge; nothing
//! else approves. The browser test drives headless Chromium with a CDP virtual
//! authenticator (tests/ui/passkeys_e2e.mjs), and skips like the other browser tests.

use crate::ui::{browser_kit_or_skip, http, raw_session, run_script, start_ui_with};
use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_SECRET};
use std::time::Duration;

const TOOL: &str = "connectwise_rmm:cw-rmm-script-disk-cleanup";
const APPROVER: &str = "maria";

/// A connected home whose operator requires passkeys for approvals.
async fn passkey_home(sim: &Simulator) -> Cli {
    let cli = Cli::new().await;
    std::fs::write(
        cli.home.path().join("toolhost.toml"),
        "[approvals]\nrequire_passkey = true\n",
    )
    .unwrap();
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    cli
}

/// An agent-like (non-terminal) call that is held: its approval id.
async fn held_call(cli: &Cli) -> String {
    let args = json!({
        "targets": [seed::MARIA_LAPTOP_ID],
        "parameters": {"drive": "C:", "minFileAgeDays": 7}
    })
    .to_string();
    let out = cli
        .run(&["call", TOOL, "--args", &args, "--json"], &[])
        .await;
    assert_eq!(out.code, Some(2), "{}", out.all());
    out.json()["error"]["approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approval id in {}", out.stdout))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_with_a_passkey_runs_once_and_replays_are_refused_in_a_browser() {
    let Some(kit) = browser_kit_or_skip("passkeys browser test") else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = passkey_home(&sim).await;
    let (a, b) = (held_call(&cli).await, held_call(&cli).await);
    let (mut ui, url) = start_ui_with(&cli, &sim, &["--approver", APPROVER]).await;

    let mut script = kit.script("passkeys_e2e.mjs", &url);
    script
        .env("APPROVER", APPROVER)
        .env("APPROVAL_A", &a)
        .env("APPROVAL_B", &b);
    run_script(script, Duration::from_secs(270)).await;
    ui.kill().await.ok();

    // Each approval ran exactly once, for all the refused attempts in between.
    assert_eq!(write_requests(&sim).len(), 2, "{:?}", write_requests(&sim));
    let list = cli
        .run(&["approvals", "list", "--all", "--json"], &[])
        .await
        .json();
    for id in [&a, &b] {
        let record = list
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap();
        let approval: toolhost_governance::Approval =
            serde_json::from_value(record.clone()).unwrap();
        let evidence = approval.passkey.as_ref().expect("passkey evidence kept");
        assert_eq!(evidence.approval_digest, approval.digest(), "{record}");
        assert_eq!(evidence.approver, APPROVER);
        assert!(evidence.user_verified && !evidence.signature.is_empty());
        assert_eq!(record["state"], "executed", "{record}");
        assert_eq!(record["by"], format!("ui:{APPROVER}"), "{record}");
    }
    let audit = cli
        .run(&["audit", "--json", "--tool", "disk-cleanup"], &[])
        .await
        .json();
    let runs: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["decision"] == "approved")
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r["outcome"] == "ok"
        && r["rule"]
            .as_str()
            .unwrap()
            .contains(&format!("by ui:{APPROVER}"))));
    // The enrolled credential is public key material, kept owner-only.
    let passkeys = cli.home.path().join("passkeys.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&passkeys).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(passkeys).unwrap();
    assert!(text.contains(APPROVER), "{text}");
}

/// With passkeys required, no terminal approves: neither the prompt at call time nor
/// `toolhost approvals approve`; and the UI refuses an approve without an assertion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_passkeys_required_only_a_signed_ui_approval_runs() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = passkey_home(&sim).await;
    let args = json!({
        "targets": [seed::MARIA_LAPTOP_ID],
        "parameters": {"drive": "C:", "minFileAgeDays": 7}
    })
    .to_string();
    // A person at a terminal is not asked: the call is held for the UI.
    let out = cli
        .run_at_terminal(&["call", TOOL, "--args", &args], "approve\n")
        .await;
    assert_eq!(out.code, Some(2), "{}", out.stdout);
    assert!(out.stdout.contains("needs approval"), "{}", out.stdout);
    let id = held_call(&cli).await;
    let out = cli
        .run_at_terminal(&["approvals", "approve", &id], "approve\n")
        .await;
    assert!(!out.success(), "{}", out.stdout);
    assert!(
        out.stdout.contains("requires the approver's passkey")
            && out.stdout.contains("toolhost ui"),
        "{}",
        out.stdout
    );
    // Refused before the prompt: the person is not shown a call to type `approve` for.
    assert!(
        !out.stdout.contains("asks to run") && !out.stdout.contains("Type `approve`"),
        "{}",
        out.stdout
    );
    assert!(write_requests(&sim).is_empty());

    // The UI, with no passkey assertion: refused, with what to do.
    let (_ui, url) = start_ui_with(&cli, &sim, &["--approver", APPROVER]).await;
    let (authority, cookie, csrf) = raw_session(&url).await;
    let approve = format!(
        "POST /api/approvals/{id}/approve HTTP/1.1\r\nHost: {authority}\r\nCookie: {cookie}\r\nX-Toolhost-CSRF: {csrf}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (status, response) = http(&url, &approve).await;
    assert_eq!(status, 403, "{response}");
    assert!(response.contains("passkey-required"), "{response}");
    // A challenge needs an enrolled passkey first.
    let challenge = approve.replace("/approve ", "/passkey-challenge ");
    let (status, response) = http(&url, &challenge).await;
    assert_eq!(status, 409, "{response}");
    assert!(response.contains("enrol one"), "{response}");
    assert!(write_requests(&sim).is_empty());
    let list = cli.run(&["approvals", "list", "--json"], &[]).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_names_the_approver_and_bad_names_are_refused() {
    let cli = Cli::new().await;
    let out = cli
        .run(&["ui", "--approver", "<b>x", "--port", "0"], &[])
        .await;
    assert!(!out.success(), "{}", out.all());
    assert!(
        out.stderr.contains("approver name") && out.stderr.contains("--approver"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("<b>x</b>"));
    let sim = Simulator::start(sim_config()).await.unwrap();
    let (_ui, url) = start_ui_with(&cli, &sim, &["--approver", APPROVER]).await;
    let (authority, cookie, _) = raw_session(&url).await;
    let get = format!(
        "GET /api/session HTTP/1.1\r\nHost: {authority}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    let (status, response) = http(&url, &get).await;
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains(&format!("\"operator\":\"{APPROVER}\"")),
        "{response}"
    );
}
