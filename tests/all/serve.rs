//! `toolhost serve`: the server deployment, as the built binary against a home and an
//! in-process simulator over loopback: probes, MCP with client tokens, metrics, the client
//! secret from a mounted file, and a graceful SIGTERM.

use crate::mcp::connected;
use e2e::*;
use serde_json::Value;
use simulator::{Fault, FaultAction, PathMatch, Simulator, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use toolhost_governance::{read_audit_file, AuditFilter};

const LIST_DEVICES_MCP: &str = "connectwise_rmm__cw-rmm-list-devices";
const LIST_DEVICES: &str = "connectwise_rmm:cw-rmm-list-devices";
const LISTING: &str = "/api/platform/v2/device/categories/all/endpoints";
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A running `toolhost serve`: its base URL and everything it wrote.
pub(crate) struct Served {
    pub(crate) child: tokio::process::Child,
    pub(crate) base: String,
    output: Arc<Mutex<String>>,
}

impl Served {
    pub(crate) fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub(crate) fn sigterm(&self) {
        let pid = self.child.id().expect("the server is running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("running kill");
        assert!(status.success());
    }
}

/// `toolhost serve --listen 127.0.0.1:0 <extra>` with `envs`, once it listens.
pub(crate) async fn serve(cli: &Cli, extra: &[&str], envs: &[(&str, &str)]) -> Served {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = cli
        .command(&args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning toolhost serve");
    let output = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    {
        let output = output.clone();
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text).await;
            output.lock().unwrap().push_str(&text);
        });
    }
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = tokio::sync::oneshot::channel();
    {
        let output = output.clone();
        tokio::spawn(async move {
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let base = rest.trim_end_matches(':').split([':', ' ']).take(3);
                    let base: Vec<&str> = base.collect();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(format!("{}:{}:{}", base[0], base[1], base[2]));
                    }
                }
                let mut all = output.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
    }
    let base = match tokio::time::timeout(START_DEADLINE, rx).await {
        Ok(Ok(base)) => base,
        _ => {
            // Still running when it timed out: stop it, or waiting for it never ends.
            let _ = child.start_kill();
            let status = child.wait().await;
            panic!(
                "toolhost serve did not start ({status:?}):\n{}",
                output.lock().unwrap()
            )
        }
    };
    Served {
        child,
        base,
        output,
    }
}

pub(crate) async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn add_client(cli: &Cli, name: &str) -> String {
    let out = cli
        .run(
            &["clients", "add", name, "--role", "Technician", "--json"],
            &[],
        )
        .await;
    assert!(out.success(), "{}", out.all());
    out.json()["token"].as_str().unwrap().to_string()
}

/// A minimal authenticated streamable HTTP MCP client.
pub(crate) struct Mcp {
    pub(crate) url: String,
    token: Option<String>,
    session: Option<String>,
}

impl Mcp {
    pub(crate) fn new(base: &str, token: Option<&str>) -> Mcp {
        Mcp {
            url: format!("{base}/mcp"),
            token: token.map(str::to_string),
            session: None,
        }
    }

    pub(crate) async fn post(&self, body: &Value) -> reqwest::Response {
        let mut request = http_client()
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = &self.session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        request.send().await.expect("POST /mcp")
    }

    pub(crate) async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self.post(&body).await;
        assert!(
            response.status().is_success(),
            "{method}: {}",
            response.status()
        );
        if let Some(session) = response.headers().get("mcp-session-id") {
            self.session = Some(session.to_str().unwrap().to_string());
        }
        let text = response.text().await.unwrap();
        let reply = if text.trim_start().starts_with('{') {
            serde_json::from_str(&text).unwrap()
        } else {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .find(|m| m["id"] == json!(id))
                .unwrap_or_else(|| panic!("no reply to {method} in {text}"))
        };
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    pub(crate) async fn initialize(&mut self) {
        self.request(
            1,
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "e2e-serve", "version": "1.0"}}),
        )
        .await;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert!(self.post(&note).await.status().is_success());
    }

    pub(crate) async fn list_devices(&mut self, id: u64) -> Value {
        self.request(
            id,
            "tools/call",
            json!({"name": LIST_DEVICES_MCP, "arguments": {}}),
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_tokens_metrics_and_a_secret_from_a_file() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;

    // Not connected: alive, not ready, and why.
    let mut unready = serve(&cli, &[], &[]).await;
    assert_eq!(get(&format!("{}/healthz", unready.base)).await.0, 200);
    let (status, body) = get(&format!("{}/readyz", unready.base)).await;
    assert_eq!(status, 503, "{body}");
    let reason: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reason["ready"], false);
    assert!(
        reason["reason"]
            .as_str()
            .unwrap()
            .contains("no tenant connection"),
        "{body}"
    );
    unready.child.kill().await.unwrap();

    // Configured as a container is: the secret in a mounted file, the rest in the environment.
    let secret_file = cli.home.path().join("mounted-secret");
    std::fs::write(&secret_file, format!("{DEMO_CLIENT_SECRET}\n")).unwrap();
    let token = add_client(&cli, "serve-bot").await;
    let upstream = sim.base_url();
    let secret_path = secret_file.display().to_string();
    let served = serve(
        &cli,
        &[],
        &[
            ("TOOLHOST_CLIENT_ID", DEMO_CLIENT_ID),
            ("TOOLHOST_CLIENT_SECRET_FILE", &secret_path),
            ("TOOLHOST_UPSTREAM", &upstream),
        ],
    )
    .await;
    let (status, body) = get(&format!("{}/readyz", served.base)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ready"], true);

    // No token: 401. A client's token: the call runs.
    let anonymous = Mcp::new(&served.base, None);
    let refused = anonymous
        .post(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}))
        .await;
    assert_eq!(refused.status(), 401);
    let mut client = Mcp::new(&served.base, Some(&token));
    client.initialize().await;
    let result = client.list_devices(2).await;
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains(seed::DC01_ID), "{result}");
    // A name a client made up is counted, but never becomes a label.
    let made_up = client
        .request(
            3,
            "tools/call",
            json!({"name": "connectwise_rmm__made-up\"} 99", "arguments": {}}),
        )
        .await;
    assert_eq!(made_up["isError"], true, "{made_up}");
    // A call that needs approval waits for a person.
    let held = client
        .request(
            4,
            "tools/call",
            json!({"name": "connectwise_rmm__cw-rmm-run-task", "arguments": {
                "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
                "targets": [seed::MARIA_LAPTOP_ID],
                "parameters": {"drive": "C:"}}}),
        )
        .await;
    assert_eq!(held["isError"], true, "{held}");

    // The calls, their upstream responses and the mint are counted; labels carry no arguments.
    let (status, metrics) = get(&format!("{}/metrics", served.base)).await;
    assert_eq!(status, 200);
    let call = format!(
        r#"toolhost_calls_total{{tenant="default",tool="{LIST_DEVICES}",decision="auto",outcome="ok"}} 1"#
    );
    assert!(metrics.contains(&call), "{metrics}");
    assert!(
        metrics.contains(&format!(
            r#"toolhost_call_duration_seconds_count{{tenant="default",tool="{LIST_DEVICES}"}} 1"#
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"toolhost_upstream_responses_total{tenant="default",status="200"}"#),
        "{metrics}"
    );
    let mints = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"toolhost_token_mints_total{tenant="default"} "#))
        .unwrap_or_else(|| panic!("no mint counter:\n{metrics}"));
    assert!(mints.trim().parse::<u64>().unwrap() >= 1, "{metrics}");
    assert!(
        metrics.contains(r#"toolhost_pending_approvals{tenant="default"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"toolhost_calls_total{tenant="default",tool="connectwise_rmm:cw-rmm-run-task",decision="approval",outcome="pending-approval"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"toolhost_calls_total{tenant="default",tool="other",decision="invalid",outcome="refused"} 1"#
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("made-up"), "{metrics}");

    let output = served.output();
    assert!(
        !output.contains(DEMO_CLIENT_SECRET),
        "the secret was printed:\n{output}"
    );
    assert!(!metrics.contains(DEMO_CLIENT_SECRET));
    assert!(output.contains("admin UI"), "{output}");

    // The admin UI is on the same listener: the printed one-time link opens a session, and
    // the session reads the connection.
    let token = output
        .split("?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no UI link printed:\n{output}"));
    let http = http_client();
    let session = http
        .post(format!("{}/api/session", served.base))
        .header("x-toolhost-csrf", "launch")
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
    let cookie = session.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let status = http
        .get(format!("{}/api/status", served.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    let status = status.text().await.unwrap();
    assert!(status.contains(DEMO_CLIENT_ID), "{status}");
    assert!(!status.contains(DEMO_CLIENT_SECRET), "{status}");
    // Without the session, the UI's API refuses.
    let anonymous = get(&format!("{}/api/status", served.base)).await;
    assert_eq!(anonymous.0, 401, "{}", anonymous.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_call_in_flight_finish_then_exits_0() {
    let (sim, cli) = connected().await;
    let token = add_client(&cli, "drain-bot").await;
    let mut served = serve(&cli, &["--shutdown-deadline", "20"], &[]).await;
    let mut client = Mcp::new(&served.base, Some(&token));
    client.initialize().await;
    // Slow pages: the call is still running when the signal arrives.
    sim.inject(Fault::on_path(
        PathMatch::Exact(LISTING.into()),
        FaultAction::Latency(Duration::from_secs(3)),
    ));
    let call = tokio::spawn(async move { client.list_devices(2).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    served.sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Stopped accepting: a new connection is refused while the call finishes.
    assert!(
        reqwest::get(format!("{}/healthz", served.base))
            .await
            .is_err(),
        "still accepting after SIGTERM"
    );
    let result = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the call in flight did not finish")
        .unwrap();
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains(seed::DC01_ID), "{result}");
    // It exits once the call is answered, well before the 20 s deadline.
    let status = tokio::time::timeout(Duration::from_secs(10), served.child.wait())
        .await
        .expect("the server did not exit soon after its last call finished")
        .unwrap();
    assert_eq!(status.code(), Some(0), "{}", served.output());

    // Its record is whole: every line of the log parses, and the call is there, ok.
    let records = read_audit_file(
        &cli.home.path().join("audit.jsonl"),
        &AuditFilter::default(),
    )
    .expect("the audit log parses");
    let last = records.last().expect("a record");
    assert_eq!(last.tool, LIST_DEVICES);
    assert_eq!(last.outcome.as_str(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_no_auth_and_a_public_listen_without_host_names() {
    let cli = Cli::new().await;
    let no_auth = cli.run(&["serve", "--no-auth"], &[]).await;
    assert!(!no_auth.success());
    assert!(
        no_auth.stderr.contains("always authenticates"),
        "{}",
        no_auth.all()
    );
    let public = cli.run(&["serve", "--listen", "0.0.0.0:0"], &[]).await;
    assert!(!public.success());
    assert!(public.stderr.contains("--public-host"), "{}", public.all());
}
