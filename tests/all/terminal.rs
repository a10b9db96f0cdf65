//! The terminal shows plugin and client strings, never obeys them: an MCP client's name, a
//! tenant's ticket text or an operator name cannot add a line to `toolhost approvals list` or
//! the approval prompt, nor send a control sequence; what an approver decides on is shown
//! whole. The real binary, the real host and plugin, the real simulator; the prompt on a real
//! pseudo-terminal.

use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_SECRET};
use toolhost_host::{Caller, DeferApprovals, HostError, ToolHost};

/// A client name that, printed raw, draws its own `arguments:` line and hides what follows.
const FORGED: &str = "x\n    arguments: {\"summary\":\"benign\"}\n\x1b[8m";
/// How the terminal must show it: on one line, every control character visible.
const FORGED_SHOWN: &str = r#"x\n    arguments: {"summary":"benign"}\n\x1b[8m"#;
/// Right-to-left override, CSI in its one-character C1 form, a bidi isolate.
const BIDI_AND_C1: &str = "evil\u{202e}txt.exe \u{9b}2J \u{2066}";
const RAW_CONTROLS: [char; 4] = ['\x1b', '\u{9b}', '\u{202e}', '\u{2066}'];

/// A connected CLI home, and a library host on the same home (as an MCP server would be).
async fn cli_and_host(sim: &Simulator) -> (Cli, ToolHost) {
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());
    let host = open_host(host_config(cli.home.path(), &plugin_wasm())).await;
    (cli, host)
}

/// Holds `args` for approval, requested by a caller named `requester`.
async fn hold(host: &ToolHost, tool: &str, args: serde_json::Value, requester: &str) -> String {
    let caller = Caller::new(requester, None);
    let result = host
        .call(tool, &args.to_string(), &caller, &DeferApprovals)
        .await;
    pending_id::<_>(result.map(|r| r.result))
}

fn lines_starting(text: &str, prefix: &str) -> usize {
    text.lines()
        .filter(|l| l.trim_start().starts_with(prefix))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_name_cannot_forge_a_line_of_approvals_list() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let (cli, host) = cli_and_host(&sim).await;
    let ticket = ticket_args("e2e forged requester");
    let forged = hold(&host, "cw-rmm-create-ticket", ticket.clone(), FORGED).await;
    let bidi = hold(&host, "cw-rmm-create-ticket", ticket, BIDI_AND_C1).await;

    let list = cli.run(&["approvals", "list"], &[]).await;
    assert!(list.success(), "{}", list.all());
    let out = &list.stdout;
    assert!(
        !out.contains(RAW_CONTROLS),
        "raw control characters in:\n{out:?}"
    );
    assert_eq!(lines_starting(out, "arguments:"), 2, "{out}");
    assert_eq!(lines_starting(out, "requested by"), 2, "{out}");
    assert!(
        out.contains(&format!("requested by {FORGED_SHOWN} as Technician")),
        "{out}"
    );
    assert!(
        out.contains(r"requested by evil\u{202e}txt.exe \u{9b}2J \u{2066} as Technician"),
        "{out}"
    );
    for id in [&forged, &bidi] {
        assert!(out.contains(id.as_str()), "{out}");
    }

    // --json keeps the names exactly, as valid JSON.
    let listed = cli.run(&["approvals", "list", "--json"], &[]).await;
    let mut requesters: Vec<String> = listed
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["requester"].as_str().unwrap().to_string())
        .collect();
    requesters.sort();
    assert_eq!(requesters, [BIDI_AND_C1, FORGED]);
    assert!(!listed.stdout.contains(RAW_CONTROLS), "{:?}", listed.stdout);
    assert!(write_requests(&sim).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_list_shows_long_arguments_whole() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let (cli, host) = cli_and_host(&sim).await;
    // A long name and a long parameter come first, whatever the key order, and push the
    // template and the company-wide target far past any clipping width.
    let name = "n".repeat(200);
    let note = "p".repeat(500);
    let args = json!({
        "name": name,
        "parameters": {"note": note},
        "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
        "companyId": seed::CONTOSO_ID,
        "targetType": "COMPANY"
    });
    let id = hold(&host, "cw-rmm-run-task", args, "e2e").await;

    let list = cli.run(&["approvals", "list"], &[]).await;
    assert!(list.success(), "{}", list.all());
    let out = &list.stdout;
    assert!(out.contains(&id), "{out}");
    assert_eq!(lines_starting(out, "arguments:"), 1, "{out}");
    for part in [
        name.as_str(),
        note.as_str(),
        seed::DISK_CLEANUP_SCRIPT_ID,
        seed::CONTOSO_ID,
        "\"COMPANY\"",
    ] {
        assert!(out.contains(part), "`{part}` missing from:\n{out}");
    }
    assert!(!out.contains('…'), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_text_in_a_result_reaches_the_terminal_escaped() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let (cli, host) = cli_and_host(&sim).await;
    let summary = format!("disk {BIDI_AND_C1} \x1b[8m hidden");
    let args = json!({
        "summary": summary,
        "description": "Created by the e2e suite.",
        "board": "Service Desk",
        "source": "API",
        "companyId": seed::CONTOSO_ID
    });
    let caller = Caller::new("e2e", None);
    let created = host
        .call(
            "cw-rmm-create-ticket",
            &args.to_string(),
            &caller,
            &approve_as("e2e approver"),
        )
        .await
        .unwrap_or_else(|e: HostError| panic!("creating the ticket: {e}"));
    let ticket = created.result["ticketId"].as_str().unwrap().to_string();
    let get = json!({"ticketId": ticket}).to_string();

    let out = cli
        .run(&["call", "cw-rmm-get-ticket", "--args", &get], &[])
        .await;
    assert!(out.success(), "{}", out.all());
    assert!(!out.stdout.contains(RAW_CONTROLS), "{:?}", out.stdout);
    assert!(
        out.stdout
            .contains(r"disk evil\u202etxt.exe \u009b2J \u2066 \u001b[8m hidden"),
        "{}",
        out.stdout
    );
    // Still the same JSON: the escapes decode to the tenant's exact text.
    let shown: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(shown["summary"], summary.as_str());

    let out = cli
        .run(
            &["call", "cw-rmm-get-ticket", "--args", &get, "--json"],
            &[],
        )
        .await;
    assert!(!out.stdout.contains(RAW_CONTROLS), "{:?}", out.stdout);
    assert_eq!(out.json()["result"]["summary"], summary.as_str());
}

/// `toolhost call` on a pseudo-terminal, as an operator named `operator` whose answer is
/// `answer`: what the terminal showed, and the exit status.
async fn call_at_a_terminal(
    cli: &Cli,
    operator: &str,
    tool: &str,
    args: &str,
    answer: &str,
) -> (String, Option<i32>) {
    let out = cli
        .run_at_terminal_with(
            &["call", tool, "--args", args],
            answer,
            &[("USER", operator)],
        )
        .await;
    (out.stdout, out.code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_prompt_shows_a_forged_name_and_hostile_arguments_escaped() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let (cli, _host) = cli_and_host(&sim).await;
    let args = ticket_args(&format!("e2e prompt {BIDI_AND_C1}")).to_string();
    let (shown, code) =
        call_at_a_terminal(&cli, FORGED, "cw-rmm-create-ticket", &args, "n\n").await;
    assert!(!shown.contains(RAW_CONTROLS), "{shown:?}");
    assert!(
        shown.contains(&format!("cli:{FORGED_SHOWN} asks to run")),
        "{shown}"
    );
    assert_eq!(shown.matches("Approve this call?").count(), 1, "{shown}");
    assert!(shown.contains(r"e2e prompt evil\u202etxt.exe"), "{shown}");
    // Denied at the terminal: the refusal quotes the operator's name, escaped too.
    assert_eq!(code, Some(2), "{shown}");
    assert!(shown.contains("denied the approval"), "{shown}");
    assert!(write_requests(&sim).is_empty());
}
