//! `toolhost ui` in a real browser: headless Chromium from the system, driven by
//! playwright-core (tests/ui/ui_e2e.mjs), against the simulator. The page connects,
//! changes a script tool's policy, approves a call the CLI left pending, and finds the run
//! in the audit log; screenshots land in `target/ui-screenshots/`.
//!
//! Needs `chromium` and `playwright-core` (`.ci/run` installs both). Without them the test
//! fails when `CI` is set and is skipped, with a note, otherwise.

use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const POLICY_TOOL: &str = "connectwise_rmm:cw-rmm-script-restart-print-spooler";
const APPROVAL_TOOL: &str = "connectwise_rmm:cw-rmm-script-disk-cleanup";
/// The browser script's own bound, under the test's.
const BROWSER_DEADLINE: Duration = Duration::from_secs(240);

/// Chromium, playwright-core and node, or why the test cannot run.
pub(crate) struct BrowserKit {
    pub(crate) chromium: PathBuf,
    pub(crate) playwright_core: PathBuf,
}

fn first_existing(candidates: Vec<PathBuf>) -> Option<PathBuf> {
    candidates.into_iter().find(|p| p.exists())
}

impl BrowserKit {
    /// `node tests/ui/<script>` with the browser, the UI's address and the screenshot folder
    /// in its environment.
    pub(crate) fn script(&self, script: &str, ui_url: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("node");
        command
            .arg(workspace_root().join("tests/ui").join(script))
            .env("UI_URL", ui_url)
            .env("CHROMIUM", &self.chromium)
            .env("PLAYWRIGHT_CORE", &self.playwright_core)
            .env("SCREENSHOT_DIR", screenshots_dir())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }
}

pub(crate) fn screenshots_dir() -> PathBuf {
    target_dir().join("ui-screenshots")
}

/// Runs a browser script to its end within `deadline` and fails the test with its output
/// (and where its screenshots are) when it does not succeed.
pub(crate) async fn run_script(mut command: tokio::process::Command, deadline: Duration) {
    let output = tokio::time::timeout(deadline, command.output())
        .await
        .expect("the browser script did not finish in time")
        .expect("running node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "the browser script failed (screenshots in {}):\n{stdout}\n{stderr}",
        screenshots_dir().display()
    );
}

pub(crate) fn browser_kit() -> Result<BrowserKit, String> {
    let env_path = |name| std::env::var_os(name).map(PathBuf::from);
    let chromium = first_existing(
        env_path("CHROMIUM")
            .into_iter()
            .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
            .collect(),
    )
    .ok_or("no chromium (apt-get install chromium, or set CHROMIUM)")?;
    let root = workspace_root();
    let playwright_core = first_existing(
        env_path("PLAYWRIGHT_CORE")
            .into_iter()
            .chain([
                root.join("target/ci-node/node_modules/playwright-core"),
                root.join(".ci/node_modules/playwright-core"),
            ])
            .collect(),
    )
    .ok_or("no playwright-core (run ./dev.sh test, or npm install --prefix target/ci-node playwright-core, or set PLAYWRIGHT_CORE)")?;
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("no node on PATH".into());
    }
    Ok(BrowserKit {
        chromium,
        playwright_core,
    })
}

/// The browser kit, or `None` (with a note) where the browser tests are skipped: never
/// under CI.
pub(crate) fn browser_kit_or_skip(test: &str) -> Option<BrowserKit> {
    match browser_kit() {
        Ok(kit) => Some(kit),
        Err(missing) if std::env::var_os("CI").is_some() => {
            panic!("the browser test cannot run in CI: {missing}")
        }
        Err(missing) => {
            eprintln!("SKIPPED {test}: {missing}");
            None
        }
    }
}

/// Starts `toolhost ui` on a free loopback port; returns the process and its printed URL.
async fn start_ui(cli: &Cli, sim: &Simulator) -> (tokio::process::Child, String) {
    start_ui_with(cli, sim, &[]).await
}

/// [`start_ui`] with more `toolhost ui` flags (`--approver NAME`).
pub(crate) async fn start_ui_with(
    cli: &Cli,
    sim: &Simulator,
    flags: &[&str],
) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(toolhost_bin())
        .arg("--home")
        .arg(cli.home.path())
        .arg("--plugin")
        .arg(plugin_wasm())
        .args(["ui", "--port", "0", "--upstream", &sim.base_url()])
        .args(flags)
        .env("XDG_CACHE_HOME", target_dir().join("e2e-xdg-cache"))
        .env_remove("TOOLHOST_HOME")
        .env_remove("TOOLHOST_PLUGIN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawning toolhost ui");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = tokio::time::timeout(CLI_DEADLINE, async {
        while let Some(line) = lines.next_line().await.expect("reading toolhost ui") {
            if let Some(at) = line.find("http://") {
                return line[at..].trim().to_string();
            }
        }
        panic!("toolhost ui exited without printing its URL");
    })
    .await
    .expect("toolhost ui printed no URL in time");
    // Keep reading, so the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    assert!(
        url.starts_with("http://localhost:") && url.contains("/?token="),
        "{url}"
    );
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_set_policy_approve_and_audit_in_a_browser() {
    let Some(kit) = browser_kit_or_skip("ui browser test") else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let (mut ui, url) = start_ui(&cli, &sim).await;

    let toolhost_cmd = json!([
        toolhost_bin(),
        "--home",
        cli.home.path(),
        "--plugin",
        plugin_wasm()
    ]);
    let approval_args = json!({
        "targets": [seed::MARIA_LAPTOP_ID],
        "parameters": {"drive": "C:", "minFileAgeDays": 7}
    });
    let mut script = kit.script("ui_e2e.mjs", &url);
    script
        .env("SIM_URL", sim.base_url())
        .env("CLIENT_ID", DEMO_CLIENT_ID)
        .env("CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .env("EXPECTED_TOOL_COUNT", SEEDED_TOOL_COUNT.to_string())
        .env("POLICY_TOOL", POLICY_TOOL)
        .env("APPROVAL_TOOL", APPROVAL_TOOL)
        .env("APPROVAL_ARGS", approval_args.to_string())
        .env("TOOLHOST_CMD", toolhost_cmd.to_string())
        .env("XDG_CACHE_HOME", target_dir().join("e2e-xdg-cache"))
        .env_remove("TOOLHOST_CLIENT_SECRET");
    run_script(script, BROWSER_DEADLINE + Duration::from_secs(30)).await;
    ui.kill().await.ok();

    // The page wrote the same policy file as `toolhost policy set`.
    let policy = std::fs::read_to_string(cli.home.path().join("policy.toml")).unwrap();
    assert!(
        policy.contains(POLICY_TOOL) && policy.contains("never"),
        "{policy}"
    );
    // The approval ran once, through the CLI's path, and the audit says who approved it.
    let approvals = cli
        .run(&["approvals", "list", "--all", "--json"], &[])
        .await;
    let approvals = approvals.json();
    let approval = &approvals.as_array().unwrap()[0];
    assert_eq!(approval["tool"], APPROVAL_TOOL);
    assert_eq!(approval["state"], "executed", "{approval}");
    let audit = cli
        .run(&["audit", "--json", "--tool", "disk-cleanup"], &[])
        .await;
    let records = audit.json();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(records
        .iter()
        .any(|r| r["decision"] == "approval" && r["outcome"] == "pending-approval"));
    let approved = records
        .iter()
        .find(|r| r["decision"] == "approved")
        .expect("an audit record of the approved run");
    assert_eq!(approved["outcome"], "ok", "{approved}");
    assert!(
        approved["rule"].as_str().unwrap().contains("by ui:"),
        "{approved}"
    );
    // The secret reached the connection file only.
    for file in ["policy.toml", "audit.jsonl"] {
        let text = std::fs::read_to_string(cli.home.path().join(file)).unwrap_or_default();
        assert!(
            !text.contains(DEMO_CLIENT_SECRET),
            "{file} holds the secret"
        );
    }
    for shot in ["02-connected", "05-approved-result", "06-activity"] {
        assert!(
            screenshots_dir().join(format!("{shot}.png")).exists(),
            "{shot}"
        );
    }
}

/// One raw HTTP/1.1 request to the UI server; returns the status and the whole response.
pub(crate) async fn http(base: &str, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap();
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    };
    let response = tokio::time::timeout(HTTP_DEADLINE, exchange)
        .await
        .unwrap_or_else(|_| panic!("no whole answer within {HTTP_DEADLINE:?} to:\n{request}"));
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// The server's checks, as a hostile page or a second user would meet them (no browser).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_origin_session_and_csrf_checks_over_http() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let (_ui, url) = start_ui(&cli, &sim).await;
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let token = url.split("token=").nth(1).unwrap().to_string();
    let get = |path: &str, extra: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n{extra}Connection: close\r\n\r\n")
    };
    let post = |path: &str, extra: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };

    let (status, page) = http(&url, &get("/", "")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("content-security-policy: default-src 'self'"),
        "{page}"
    );
    // DNS rebinding: a foreign Host; a foreign Origin; no session.
    let rebinding = get("/", "").replace(&authority, "evil.example");
    assert_eq!(http(&url, &rebinding).await.0, 403);
    let foreign = get("/api/status", "Origin: http://evil.example\r\n");
    assert_eq!(http(&url, &foreign).await.0, 403);
    assert_eq!(http(&url, &get("/api/status", "")).await.0, 401);

    // The token exchange needs the custom header; then works once.
    let body = json!({"token": token}).to_string();
    assert_eq!(http(&url, &post("/api/session", "", &body)).await.0, 403);
    let marked = "X-Toolhost-CSRF: launch\r\n";
    let (status, response) = http(&url, &post("/api/session", marked, &body)).await;
    assert_eq!(status, 200, "{response}");
    assert!(response.contains("HttpOnly; SameSite=Strict"), "{response}");
    let cookie = response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let csrf = response.split("\"csrf\":\"").nth(1).unwrap();
    let csrf = &csrf[..csrf.find('"').unwrap()];
    assert_eq!(
        http(&url, &post("/api/session", marked, &body)).await.0,
        401
    );

    let session = format!("Cookie: {cookie}\r\n");
    let (status, card) = http(&url, &get("/api/status", &session)).await;
    assert_eq!(status, 200, "{card}");
    // A state change without the CSRF token, or with a wrong one, is refused.
    let change = json!({"pattern": "*", "mode": "never"}).to_string();
    assert_eq!(
        http(&url, &post("/api/policy", &session, &change)).await.0,
        403
    );
    let wrong = format!("{session}X-Toolhost-CSRF: guess\r\n");
    assert_eq!(
        http(&url, &post("/api/policy", &wrong, &change)).await.0,
        403
    );
    assert!(!cli.home.path().join("policy.toml").exists());

    // The connect form's errors are the host's, and never carry the secret.
    let with_csrf = format!("{session}X-Toolhost-CSRF: {csrf}\r\n");
    let form = json!({"region": "au", "clientId": DEMO_CLIENT_ID,
        "clientSecret": "a-wrong-secret-value", "upstream": sim.base_url()})
    .to_string();
    let (status, response) = http(&url, &post("/api/connect", &with_csrf, &form)).await;
    assert_eq!(status, 400, "{response}");
    assert!(response.contains("client id or secret") && !response.contains("a-wrong-secret-value"));
    let form = json!({"region": "au", "clientId": DEMO_CLIENT_ID,
        "clientSecret": DEMO_CLIENT_SECRET, "upstream": sim.base_url()})
    .to_string();
    let (status, response) = http(&url, &post("/api/connect", &with_csrf, &form)).await;
    assert_eq!(status, 200, "{response}");
    let (_, card) = http(&url, &get("/api/status", &session)).await;
    assert!(
        card.contains("\"connected\":true") && !card.contains(DEMO_CLIENT_SECRET),
        "{card}"
    );
}

/// A session for raw HTTP requests: the launch token exchanged for a cookie and a CSRF token.
pub(crate) async fn raw_session(url: &str) -> (String, String, String) {
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let token = url.split("token=").nth(1).unwrap().to_string();
    let body = json!({"token": token}).to_string();
    let request = format!(
        "POST /api/session HTTP/1.1\r\nHost: {authority}\r\nX-Toolhost-CSRF: launch\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, response) = http(url, &request).await;
    assert_eq!(status, 200, "{response}");
    let cookie = response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string();
    let csrf = response.split("\"csrf\":\"").nth(1).unwrap();
    let csrf = csrf[..csrf.find('"').unwrap()].to_string();
    (authority, cookie, csrf)
}

/// Connecting waits on the network (a token, a discovery); meanwhile every other page keeps
/// answering: the connect does not hold the host exclusively while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_keeps_answering_while_a_connect_waits_on_the_network() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let (_ui, url) = start_ui(&cli, &sim).await;
    let (authority, cookie, csrf) = raw_session(&url).await;
    let slow = sim.inject(simulator::Fault::on_path(
        simulator::PathMatch::Exact("/v1/token".into()),
        simulator::FaultAction::Latency(Duration::from_secs(4)),
    ));
    let form = json!({"region": "au", "clientId": DEMO_CLIENT_ID,
        "clientSecret": DEMO_CLIENT_SECRET, "upstream": sim.base_url()})
    .to_string();
    let connect = format!(
        "POST /api/connect HTTP/1.1\r\nHost: {authority}\r\nCookie: {cookie}\r\nX-Toolhost-CSRF: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let url_for_connect = url.clone();
    let connecting = tokio::spawn(async move { http(&url_for_connect, &connect).await });
    // The connect is inside its token request once the simulator has seen it.
    for _ in 0..200 {
        if sim.fault_hits(slow) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        sim.fault_hits(slow),
        1,
        "the connect never asked for a token"
    );
    let status = format!(
        "GET /api/status HTTP/1.1\r\nHost: {authority}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    let (code, card) = http(&url, &status).await;
    assert_eq!(code, 200, "{card}");
    assert!(
        !connecting.is_finished(),
        "the status page waited for the connect to finish"
    );
    assert!(card.contains("\"connected\":false"), "{card}");
    let (code, response) = connecting.await.unwrap();
    assert_eq!(code, 200, "{response}");
    let (_, card) = http(&url, &status).await;
    assert!(card.contains("\"connected\":true"), "{card}");
}
