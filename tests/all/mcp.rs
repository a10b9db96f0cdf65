//! `toolhost mcp` end to end: the built binary against a private home connected to an
//! in-process simulator, driven by rmcp's client over stdio, by raw streamable HTTP, and by
//! the official MCP Inspector CLI (when installed: `.ci/run` installs it; CI must have it).

use e2e::*;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, ElicitationCapability, FormElicitationCapability,
    Implementation, ProtocolVersion, Tool,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, ErrorData as McpError, RoleClient, ServiceExt};
use serde_json::Value;
use simulator::{Simulator, DEMO_CLIENT_SECRET};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Notify;

const PREFIX: &str = "connectwise_rmm__cw-rmm-";
pub(crate) const LIST_DEVICES: &str = "connectwise_rmm__cw-rmm-list-devices";
pub(crate) const RUN_TASK: &str = "connectwise_rmm__cw-rmm-run-task";
const MCP_DEADLINE: Duration = Duration::from_secs(60);

/// A simulator and a CLI home connected to it.
pub(crate) async fn connected() -> (Simulator, Cli) {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "connect failed:\n{}", out.all());
    (sim, cli)
}

/// The test's MCP client: answers elicitation with `elicit` (and declares the capability)
/// when set; counts what the server sent.
#[derive(Clone, Default)]
struct TestClient {
    elicit: Option<ElicitationAction>,
    asked: Arc<AtomicUsize>,
    last_question: Arc<std::sync::Mutex<String>>,
    list_changed: Arc<Notify>,
}

impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        if self.elicit.is_some() {
            capabilities.elicitation =
                Some(ElicitationCapability::new().with_form(FormElicitationCapability::default()));
        }
        ClientConfig::new(capabilities, Implementation::new("e2e-client", "1.0"))
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            *self.last_question.lock().unwrap() = message.clone();
        }
        Ok(ElicitResult::new(
            self.elicit.clone().unwrap_or(ElicitationAction::Decline),
        ))
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.list_changed.notify_one();
    }
}

type Client = RunningService<RoleClient, TestClient>;

/// `toolhost mcp` (stdio) for `cli`'s home, with `client` on the other end.
async fn stdio_client(cli: &Cli, client: TestClient, extra: &[&str]) -> Client {
    let mut args = vec!["mcp"];
    args.extend_from_slice(extra);
    let transport = TokioChildProcess::new(cli.command(&args)).expect("spawning toolhost mcp");
    tokio::time::timeout(MCP_DEADLINE, client.serve(transport))
        .await
        .expect("the MCP handshake timed out")
        .expect("the MCP handshake failed")
}

async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let mut params = CallToolRequestParams::new(tool.to_string());
    if let Value::Object(map) = args {
        params = params.with_arguments(map);
    }
    tokio::time::timeout(MCP_DEADLINE, client.call_tool(params))
        .await
        .unwrap_or_else(|_| panic!("{tool} timed out"))
        .unwrap_or_else(|e| panic!("{tool}: a protocol error instead of a tool result: {e}"))
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}

pub(crate) fn run_task_args() -> Value {
    json!({
        "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
        "targets": [seed::MARIA_LAPTOP_ID],
        "parameters": {"drive": "C:"},
    })
}

pub(crate) fn scheduled_tasks(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case("POST") && r.path.ends_with("/schedule-tasks"))
        .count()
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} is not listed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_namespaced_tools_with_annotations_and_calls_one() {
    let (_sim, cli) = connected().await;
    let client = stdio_client(&cli, TestClient::default(), &[]).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(info.server_info.as_ref().unwrap().name, "toolhost");
    assert_eq!(
        info.capabilities.tools.as_ref().unwrap().list_changed,
        Some(true)
    );

    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), SEEDED_TOOL_COUNT, "{tools:#?}");
    for t in &tools {
        assert!(t.name.starts_with(PREFIX), "{}", t.name);
        assert!(
            t.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "{}",
            t.name
        );
        assert_eq!(
            t.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            t.name
        );
        assert!(t.description.as_deref().is_some_and(|d| !d.is_empty()));
        let a = t.annotations.as_ref().expect("annotations");
        for hint in [
            a.read_only_hint,
            a.destructive_hint,
            a.idempotent_hint,
            a.open_world_hint,
        ] {
            assert!(hint.is_some(), "{}: {a:?}", t.name);
        }
    }
    let list = tool(&tools, LIST_DEVICES);
    let a = list.annotations.as_ref().unwrap();
    assert_eq!(
        (a.read_only_hint, a.destructive_hint),
        (Some(true), Some(false))
    );
    let run = tool(&tools, RUN_TASK);
    assert_eq!(
        run.annotations.as_ref().unwrap().read_only_hint,
        Some(false)
    );
    // Script tools are listed like the static ones.
    tool(&tools, "connectwise_rmm__cw-rmm-script-disk-cleanup");

    let result = call(&client, LIST_DEVICES, json!({"name": "DC01"})).await;
    assert!(!is_error(&result), "{}", text(&result));
    let body: Value = serde_json::from_str(&text(&result)).expect("the result is JSON text");
    assert!(
        body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["endpointId"] == seed::DC01_ID),
        "{body}"
    );
    if let Some(structured) = &result.structured_content {
        assert_eq!(structured, &body);
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_without_elicitation_is_a_tool_error_with_the_id() {
    let (sim, cli) = connected().await;
    let client = stdio_client(&cli, TestClient::default(), &[]).await;
    let result = call(&client, RUN_TASK, run_task_args()).await;
    assert!(is_error(&result), "{result:?}");
    let message = text(&result);
    assert!(message.contains("approval"), "{message}");
    assert!(
        message.contains(RUN_TASK),
        "names the tool as MCP knows it: {message}"
    );
    let id = result.meta.as_ref().unwrap().0["toolhost/approvalId"]
        .as_str()
        .expect("approval id in _meta")
        .to_string();
    assert!(message.contains(&id), "{message}");
    // A person must approve it, and the message says where; it hands the agent no command.
    assert!(
        message.contains("a person other than the requester must approve it")
            && !message.contains("approvals approve"),
        "{message}"
    );
    assert_eq!(scheduled_tasks(&sim), 0, "nothing may run before approval");

    // The server keeps serving, and the pending approval is the CLI's to approve.
    let listed = call(&client, LIST_DEVICES, json!({})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    let pending = cli.run(&["approvals", "list", "--json"], &[]).await;
    assert!(pending.success(), "{}", pending.all());
    assert!(pending.stdout.contains(&id), "{}", pending.stdout);
    assert!(
        pending.stdout.contains("mcp:e2e-client"),
        "{}",
        pending.stdout
    );
    let approved = cli
        .run_at_terminal(&["approvals", "approve", &id], "approve\n")
        .await;
    assert!(approved.success(), "{}", approved.all());
    assert_eq!(scheduled_tasks(&sim), 1);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elicitation_accept_runs_the_call_and_decline_does_not() {
    let (sim, cli) = connected().await;
    let added = cli
        .run(
            &[
                "clients",
                "add",
                "approver-bot",
                "--role",
                "Technician",
                "--allow-elicitation",
            ],
            &[],
        )
        .await;
    assert!(added.success(), "{}", added.all());
    let as_client = ["--client", "approver-bot"];
    let accepting = TestClient {
        elicit: Some(ElicitationAction::Accept),
        ..TestClient::default()
    };
    let asked = accepting.asked.clone();
    let question = accepting.last_question.clone();
    let client = stdio_client(&cli, accepting, &as_client).await;
    let result = call(&client, RUN_TASK, run_task_args()).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let question = question.lock().unwrap().clone();
    assert!(question.contains(RUN_TASK), "{question}");
    assert!(question.contains(seed::MARIA_LAPTOP_ID), "{question}");
    // The person sees what it would do, found by the plugin's reads: the laptop by its device
    // name, with its company and site.
    assert!(
        question.contains(
            "What it would do: Run \"Disk Cleanup\" on CONTOSO-LT-MARIA (Contoso Ltd) now"
        ),
        "{question}"
    );
    assert!(
        question.contains(&format!(
            "- target: {} ({}), company {}, site {}",
            seed::MARIA_LAPTOP_DEVICE_NAME,
            seed::MARIA_LAPTOP_FRIENDLY_NAME,
            seed::CONTOSO_NAME,
            seed::CONTOSO_SYDNEY_SITE_NAME
        )),
        "{question}"
    );
    assert_eq!(scheduled_tasks(&sim), 1);
    client.cancel().await.unwrap();

    let declining = TestClient {
        elicit: Some(ElicitationAction::Decline),
        ..TestClient::default()
    };
    let asked = declining.asked.clone();
    let client = stdio_client(&cli, declining, &as_client).await;
    let result = call(&client, RUN_TASK, run_task_args()).await;
    assert!(is_error(&result), "{result:?}");
    assert!(text(&result).contains("denied"), "{}", text(&result));
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(scheduled_tasks(&sim), 1, "a declined call never runs");
    let audit = cli.run(&["audit", "--json"], &[]).await;
    assert!(audit.success(), "{}", audit.all());
    assert!(audit.stdout.contains("approver-bot"), "{}", audit.stdout);
    client.cancel().await.unwrap();
}

/// Declaring the elicitation capability is not a permission to approve: only a client whose
/// record allows it is asked; anyone else gets a pending approval for an operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elicitation_is_offered_only_to_clients_allowed_to_approve() {
    let (sim, cli) = connected().await;
    let added = cli
        .run(
            &["clients", "add", "plain-bot", "--role", "Technician"],
            &[],
        )
        .await;
    assert!(added.success(), "{}", added.all());
    for extra in [&[][..], &["--client", "plain-bot"][..]] {
        let accepting = TestClient {
            elicit: Some(ElicitationAction::Accept),
            ..TestClient::default()
        };
        let asked = accepting.asked.clone();
        let client = stdio_client(&cli, accepting, extra).await;
        let result = call(&client, RUN_TASK, run_task_args()).await;
        assert!(is_error(&result), "{extra:?}: {}", text(&result));
        let meta = &result.meta.as_ref().expect("_meta").0;
        assert_eq!(
            meta["toolhost/error"],
            "approval-required",
            "{}",
            text(&result)
        );
        assert_eq!(
            asked.load(Ordering::SeqCst),
            0,
            "{extra:?} was asked to approve"
        );
        assert_eq!(scheduled_tasks(&sim), 0);
        client.cancel().await.unwrap();
    }

    // The operator allows it: the same client is now asked, and its yes runs the call.
    let set = cli
        .run(
            &["clients", "set", "plain-bot", "--allow-elicitation", "true"],
            &[],
        )
        .await;
    assert!(set.success(), "{}", set.all());
    let accepting = TestClient {
        elicit: Some(ElicitationAction::Accept),
        ..TestClient::default()
    };
    let asked = accepting.asked.clone();
    let client = stdio_client(&cli, accepting, &["--client", "plain-bot"]).await;
    let result = call(&client, RUN_TASK, run_task_args()).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(scheduled_tasks(&sim), 1);
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_unknown_and_invalid_calls_are_tool_errors() {
    let (sim, cli) = connected().await;
    let client = TestClient::default();
    let changed = client.list_changed.clone();
    let client = stdio_client(&cli, client, &[]).await;
    assert_eq!(
        client.list_all_tools().await.unwrap().len(),
        SEEDED_TOOL_COUNT
    );

    let set = cli
        .run(
            &["policy", "set", "connectwise_rmm:cw-rmm-run-task", "never"],
            &[],
        )
        .await;
    assert!(set.success(), "{}", set.all());
    let refused = call(&client, RUN_TASK, run_task_args()).await;
    assert!(is_error(&refused), "{refused:?}");
    assert!(text(&refused).contains("never"), "{}", text(&refused));
    assert_eq!(scheduled_tasks(&sim), 0);
    // The mode change changed the catalog the client saw: it is told to list again.
    tokio::time::timeout(Duration::from_secs(10), changed.notified())
        .await
        .expect("notifications/tools/list_changed after the policy change");
    let tools = client.list_all_tools().await.unwrap();
    let run = tool(&tools, RUN_TASK);
    assert!(run.description.as_deref().unwrap().contains("never"));

    let invalid = call(&client, "connectwise_rmm__cw-rmm-get-device", json!({})).await;
    assert!(is_error(&invalid), "{invalid:?}");
    assert!(text(&invalid).contains("endpointId"), "{}", text(&invalid));

    let unknown = call(&client, "connectwise_rmm__cw-rmm-list-devicez", json!({})).await;
    assert!(is_error(&unknown), "{unknown:?}");
    assert!(
        text(&unknown).contains("unknown tool"),
        "{}",
        text(&unknown)
    );
    let message = text(&unknown);
    assert!(
        message.contains("`connectwise_rmm__cw-rmm-list-devicez`"),
        "names the tool as sent: {message}"
    );
    assert!(
        message.contains("did you mean `connectwise_rmm__cw-rmm-"),
        "suggests an MCP name: {message}"
    );

    // A plugin error (not found upstream) is a tool error too, and the server keeps serving.
    let missing = call(
        &client,
        "connectwise_rmm__cw-rmm-get-device",
        json!({"endpointId": "00000000-0000-0000-0000-000000000000"}),
    )
    .await;
    assert!(is_error(&missing), "{missing:?}");
    assert!(!text(&missing).is_empty());
    let ok = call(&client, LIST_DEVICES, json!({"name": "DC01"})).await;
    assert!(!is_error(&ok), "{}", text(&ok));
    client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------
// Streamable HTTP
// ---------------------------------------------------------------------------------------

/// `toolhost mcp --http 127.0.0.1:0`, and the URL it printed. Without `--no-auth` in
/// `extra`, every request needs a client's token.
/// The JSON-RPC reply to request `id` in a streamable HTTP answer: one JSON body, or the
/// `data:` lines of an event stream.
pub(crate) fn reply_to(text: &str, id: u64, method: &str) -> Value {
    let messages: Vec<Value> = if text.trim_start().starts_with('{') {
        vec![serde_json::from_str(text).unwrap()]
    } else {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    };
    messages
        .into_iter()
        .find(|m| m["id"] == json!(id))
        .unwrap_or_else(|| panic!("no reply to {method} in {text}"))
}

pub(crate) async fn http_server(cli: &Cli, extra: &[&str]) -> (tokio::process::Child, String) {
    let mut args = vec!["mcp", "--http", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = cli
        .command(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning toolhost mcp --http");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(MCP_DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("toolhost mcp --http exited before listening");
    })
    .await
    .expect("the HTTP server did not start");
    // Keep draining stderr so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

/// A minimal streamable HTTP MCP client (JSON-RPC over POST, answers as JSON or SSE).
struct HttpClient {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    next_id: u64,
}

impl HttpClient {
    fn new(url: &str) -> HttpClient {
        HttpClient {
            http: http_client(),
            url: url.to_string(),
            session: None,
            next_id: 1,
        }
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(session) = &self.session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-11-25");
        }
        request
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self.post(&body).send().await.expect("POST");
        assert!(
            response.status().is_success(),
            "{method}: {}",
            response.status()
        );
        if let Some(session) = response.headers().get("mcp-session-id") {
            self.session = Some(session.to_str().unwrap().to_string());
        }
        let text = response.text().await.unwrap();
        let reply = reply_to(&text, id, method);
        assert!(reply.get("error").is_none(), "{method}: {reply}");
        reply["result"].clone()
    }

    async fn initialize(&mut self) -> Value {
        let result = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "e2e-http", "version": "1.0"},
                }),
            )
            .await;
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let status = self.post(&note).send().await.unwrap().status();
        assert!(status.is_success(), "initialized: {status}");
        result
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_lists_and_calls() {
    let (sim, cli) = connected().await;
    let (_server, url) = http_server(&cli, &["--no-auth"]).await;
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/mcp"),
        "{url}"
    );
    let mut client = HttpClient::new(&url);
    let info = client.initialize().await;
    assert_eq!(info["capabilities"]["tools"]["listChanged"], true, "{info}");
    assert!(client.session.is_some(), "a session id is issued");

    let listed = client.request("tools/list", json!({})).await;
    let tools = listed["tools"].as_array().unwrap();
    assert_eq!(tools.len(), SEEDED_TOOL_COUNT);
    assert!(tools
        .iter()
        .all(|t| t["name"].as_str().unwrap().starts_with(PREFIX)));
    assert!(tools
        .iter()
        .all(|t| t["annotations"]["readOnlyHint"].is_boolean()));

    let result = client
        .request(
            "tools/call",
            json!({"name": LIST_DEVICES, "arguments": {"name": "DC01"}}),
        )
        .await;
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains(seed::DC01_ID), "{result}");

    let approval = client
        .request(
            "tools/call",
            json!({"name": RUN_TASK, "arguments": run_task_args()}),
        )
        .await;
    assert_eq!(approval["isError"], true, "{approval}");
    assert!(
        approval.to_string().contains("must approve it"),
        "{approval}"
    );
    assert_eq!(scheduled_tasks(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamable_http_refuses_foreign_host_and_origin() {
    let (_sim, cli) = connected().await;
    let (_server, url) = http_server(
        &cli,
        &["--no-auth", "--allow-origin", "https://agent.example.com"],
    )
    .await;
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/mcp")
        .to_string();
    let http = http_client();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "rebinder", "version": "1"}}});
    let post = |headers: Vec<(&'static str, String)>| {
        let mut request = http
            .post(&url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(init.to_string());
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };

    let rebound = post(vec![("host", format!("attacker.example.com:{port}"))])
        .await
        .unwrap();
    assert_eq!(rebound.status(), 403);
    let body: Value = rebound.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("Host"),
        "{body}"
    );

    let foreign = post(vec![("origin", "http://attacker.example.com".into())])
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let body: Value = foreign.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Origin"),
        "{body}"
    );

    for ok in [
        vec![],
        vec![("host", format!("localhost:{port}"))],
        vec![("origin", format!("http://localhost:{port}"))],
        vec![("origin", "https://agent.example.com".into())],
    ] {
        let response = post(ok.clone()).await.unwrap();
        assert!(
            response.status().is_success(),
            "{ok:?}: {}",
            response.status()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_bind_needs_allow_remote() {
    let cli = Cli::new().await;
    let out = cli.run(&["mcp", "--http", "0.0.0.0:0"], &[]).await;
    assert!(!out.success(), "{}", out.all());
    assert!(out.stderr.contains("--allow-remote"), "{}", out.stderr);
}

// ---------------------------------------------------------------------------------------
// The official MCP Inspector CLI
// ---------------------------------------------------------------------------------------

/// The Inspector's launcher: `$MCP_INSPECTOR`, or the install `./dev.sh test` makes under `.ci/inspector`.
fn inspector() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MCP_INSPECTOR") {
        return Some(PathBuf::from(path));
    }
    let local = workspace_root()
        .join(".ci")
        .join("inspector")
        .join("node_modules")
        .join(".bin")
        .join("mcp-inspector");
    local.exists().then_some(local)
}

async fn run_inspector(bin: &PathBuf, args: &[String]) -> Value {
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(bin)
            .arg("--cli")
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the inspector timed out")
    .expect("running the inspector");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "inspector {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The JSON document is what follows any banner lines.
    let start = stdout
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {stdout}"));
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_inspector_lists_and_calls_over_both_transports() {
    let Some(bin) = inspector() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the MCP Inspector is not installed: .ci/run installs it under .ci/inspector"
        );
        eprintln!(
            "note: skipping the MCP Inspector test (install it: npm install --prefix .ci/inspector @modelcontextprotocol/inspector@1.0.3)"
        );
        return;
    };
    let (_sim, cli) = connected().await;
    let home = cli.home.path().display().to_string();
    let plugin = plugin_wasm().display().to_string();
    let stdio: Vec<String> = vec![
        toolhost_bin().display().to_string(),
        "--home".into(),
        home,
        "--plugin".into(),
        plugin,
        "mcp".into(),
    ];
    let (_server, url) = http_server(&cli, &["--no-auth"]).await;
    let http: Vec<String> = vec![url, "--transport".into(), "http".into()];

    for target in [stdio, http] {
        let mut list = target.clone();
        list.extend(["--method".into(), "tools/list".into()]);
        let listed = run_inspector(&bin, &list).await;
        let tools = listed["tools"].as_array().expect("tools");
        assert_eq!(tools.len(), SEEDED_TOOL_COUNT, "{target:?}");
        assert!(tools.iter().any(|t| t["name"] == LIST_DEVICES));

        let mut call = target.clone();
        call.extend([
            "--method".into(),
            "tools/call".into(),
            "--tool-name".into(),
            LIST_DEVICES.into(),
            "--tool-arg".into(),
            "name=DC01".into(),
        ]);
        let result = run_inspector(&bin, &call).await;
        assert_ne!(result["isError"], true, "{target:?}: {result}");
        assert!(result.to_string().contains(seed::DC01_ID), "{result}");
    }
}
