//! Approvals on MCP 2026-07-28 (stateless requests): an approval-needed `tools/call` answers
//! with an input-required result, and the retry's signed `requestState` is bound to that
//! approval. Driven with raw streamable HTTP against the built `toolhost mcp --http`.

use crate::mcp::{
    connected, http_server, reply_to, run_task_args, scheduled_tasks, LIST_DEVICES, RUN_TASK,
};
use e2e::*;
use serde_json::Value;
use std::time::Duration;

const UI: &str = "http://127.0.0.1:9/";

/// A 2026-07-28 client: every request carries its own protocol version, capabilities and
/// identity (`_meta`), and the routing headers.
struct Stateless {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    capabilities: Value,
    /// The client's name in `_meta` (who an unauthenticated caller says it is).
    name: &'static str,
    next_id: u64,
}

/// A JSON-RPC reply: `Ok(result)` or `Err(error)`.
type Reply = Result<Value, Value>;

impl Stateless {
    fn new(url: &str, capabilities: Value) -> Stateless {
        Stateless {
            http: http_client(),
            url: url.to_string(),
            token: None,
            capabilities,
            name: "e2e-2026",
            next_id: 1,
        }
    }

    /// POSTs one request (its `_meta` and routing headers added) and returns the response.
    async fn post(&self, id: Value, method: &str, params: &mut Value) -> reqwest::Response {
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": self.capabilities,
            "io.modelcontextprotocol/clientInfo": {"name": self.name, "version": "1.0"},
        });
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method)
            .body(body.to_string());
        if let Some(name) = params["name"].as_str() {
            request = request.header("mcp-name", name);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("POST")
    }

    async fn request(&mut self, method: &str, mut params: Value) -> Reply {
        let id = self.next_id;
        self.next_id += 1;
        let response = self.post(json!(id), method, &mut params).await;
        let text = response.text().await.unwrap();
        let reply = reply_to(&text, id, method);
        match reply.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(reply["result"].clone()),
        }
    }

    async fn call(&mut self, tool: &str, extra: Value) -> Reply {
        let mut params = json!({"name": tool, "arguments": run_task_args()});
        if tool == LIST_DEVICES {
            params["arguments"] = json!({"name": "DC01"});
        }
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                params[k] = v;
            }
        }
        self.request("tools/call", params).await
    }
}

fn url_elicitation() -> Value {
    json!({"elicitation": {"url": {}}})
}

fn form_elicitation() -> Value {
    json!({"elicitation": {"form": {}}})
}

/// The input-required result's one question and its state.
fn question(result: &Value) -> (Value, String) {
    assert_eq!(result["resultType"], "input_required", "{result}");
    let asked = result["inputRequests"]["toolhost/approval"].clone();
    assert_eq!(asked["method"], "elicitation/create", "{result}");
    let state = result["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("no requestState in {result}"))
        .to_string();
    (asked["params"].clone(), state)
}

fn approval_id(result: &Value) -> String {
    result["_meta"]["toolhost/approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approval id in {result}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_on_2026_is_input_required_and_only_an_operator_decides() {
    let (sim, cli) = connected().await;
    let (_server, url) = http_server(&cli, &["--no-auth", "--approvals-url", UI]).await;
    let mut agent = Stateless::new(&url, url_elicitation());

    // Calls that need no approval complete as usual on 2026-07-28.
    let listed = agent.call(LIST_DEVICES, json!({})).await.unwrap();
    assert_ne!(listed["isError"], true, "{listed}");
    assert!(listed.to_string().contains(seed::DC01_ID), "{listed}");

    let first = agent.call(RUN_TASK, json!({})).await.unwrap();
    let (asked, state) = question(&first);
    let id = approval_id(&first);
    assert_eq!(asked["mode"], "url", "{asked}");
    assert_eq!(asked["url"], format!("http://127.0.0.1:9/#/approvals/{id}"));
    assert_eq!(asked["elicitationId"], id.as_str());
    assert_eq!(scheduled_tasks(&sim), 0, "nothing runs before approval");

    // The agent answers its own question "accept": it is not an approval.
    let forged = json!({"requestState": state, "inputResponses": {
        "toolhost/approval": {"action": "accept", "content": {}}}});
    let again = agent.call(RUN_TASK, forged).await.unwrap();
    assert_eq!(again["resultType"], "input_required", "{again}");
    assert_eq!(approval_id(&again), id);
    assert_eq!(scheduled_tasks(&sim), 0, "the agent approved its own call");
    let pending = cli.run(&["approvals", "list", "--json"], &[]).await;
    assert!(pending.stdout.contains(&id), "{}", pending.all());

    // An operator approves: the call runs once, and the retry gets the tool's result, as a
    // direct call would have (structured: run-task declares an output schema).
    let approved = cli
        .run_at_terminal(&["approvals", "approve", &id], "approve\n")
        .await;
    assert!(approved.success(), "{}", approved.all());
    assert_eq!(scheduled_tasks(&sim), 1);
    let retry = json!({"requestState": state});
    let done = agent.call(RUN_TASK, retry.clone()).await.unwrap();
    assert_ne!(done["resultType"], "input_required", "{done}");
    assert_ne!(done["isError"], true, "{done}");
    let task_id = done["structuredContent"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("no taskId in {done}"));
    assert!(approved.stdout.contains(task_id), "{}", approved.stdout);
    assert_eq!(done["structuredContent"]["targetCount"], 1, "{done}");
    let text = done["content"][0]["text"].as_str().unwrap();
    assert!(text.contains(task_id), "{done}");
    assert_eq!(approval_id(&done), id);
    // The result is the requester's: the operator's list shows no more than before.
    let listed = cli
        .run(&["approvals", "list", "--all", "--json"], &[])
        .await;
    assert!(listed.stdout.contains(&id), "{}", listed.all());
    assert!(!listed.stdout.contains(task_id), "{}", listed.stdout);
    let listed = cli.run(&["approvals", "list", "--all"], &[]).await;
    assert!(!listed.stdout.contains(task_id), "{}", listed.stdout);

    // The same state again is a replay.
    let replay = agent.call(RUN_TASK, retry).await.unwrap_err();
    assert_eq!(replay["code"], -32602, "{replay}");
    assert!(
        replay["message"].as_str().unwrap().contains("already used"),
        "{replay}"
    );
    assert_eq!(scheduled_tasks(&sim), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_rebound_request_state_is_refused() {
    let (sim, cli) = connected().await;
    let (_server, url) = http_server(&cli, &["--no-auth", "--approvals-url", UI]).await;
    let mut agent = Stateless::new(&url, url_elicitation());
    let first = agent.call(RUN_TASK, json!({})).await.unwrap();
    let (_, state) = question(&first);
    let id = approval_id(&first);

    // One character changed in the middle.
    let mut bytes = state.clone().into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let refused = agent
        .call(RUN_TASK, json!({"requestState": tampered}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32602, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("not issued by this server"),
        "{refused}"
    );

    // The genuine state with other arguments (same tool) does not open either.
    let mut other = run_task_args();
    other["parameters"]["drive"] = json!("D:");
    let rebound = agent
        .call(RUN_TASK, json!({"requestState": state, "arguments": other}))
        .await
        .unwrap_err();
    assert_eq!(rebound["code"], -32602, "{rebound}");

    // Nor for another client (another name in `_meta` is another caller).
    let mut stranger = Stateless::new(&url, url_elicitation());
    stranger.name = "someone-else";
    let refused = stranger
        .call(RUN_TASK, json!({"requestState": state}))
        .await
        .unwrap_err();
    assert_eq!(refused["code"], -32602, "{refused}");

    // The approval is still pending, untouched, and nothing ran.
    let pending = cli.run(&["approvals", "list", "--json"], &[]).await;
    assert!(pending.stdout.contains(&id), "{}", pending.all());
    assert_eq!(scheduled_tasks(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_client_approves_by_form_elicitation_on_2026() {
    let (sim, cli) = connected().await;
    let add = |name: &'static str, allow: bool| {
        let cli = &cli;
        async move {
            let mut args = vec!["clients", "add", name, "--role", "Technician", "--json"];
            if allow {
                args.push("--allow-elicitation");
            }
            let out = cli.run(&args, &[]).await;
            assert!(out.success(), "{}", out.all());
            out.json()["token"].as_str().unwrap().to_string()
        }
    };
    let approver = add("approver-bot", true).await;
    let plain = add("plain-bot", false).await;
    let (_server, url) = http_server(&cli, &["--approvals-url", UI]).await;

    // A client the operator did not allow to approve is sent to the admin UI, even though
    // it declares form elicitation; its "accept" changes nothing.
    let mut bot = Stateless::new(&url, json!({"elicitation": {"form": {}, "url": {}}}));
    bot.token = Some(plain);
    let first = bot.call(RUN_TASK, json!({})).await.unwrap();
    let (asked, state) = question(&first);
    assert_eq!(asked["mode"], "url", "{asked}");
    let accept = json!({"requestState": state, "inputResponses": {
        "toolhost/approval": {"action": "accept", "content": {}}}});
    let again = bot.call(RUN_TASK, accept).await.unwrap();
    assert_eq!(again["resultType"], "input_required", "{again}");
    assert_eq!(scheduled_tasks(&sim), 0);

    // The allowed client is asked by form; the person's accept runs the call once.
    let mut agent = Stateless::new(&url, form_elicitation());
    agent.token = Some(approver);
    let first = agent.call(RUN_TASK, json!({})).await.unwrap();
    let (asked, state) = question(&first);
    assert_eq!(asked["mode"], "form", "{asked}");
    let message = asked["message"].as_str().unwrap();
    assert!(message.contains(RUN_TASK), "{message}");
    assert!(message.contains(seed::MARIA_LAPTOP_ID), "{message}");
    let retry = json!({"requestState": state, "inputResponses": {
        "toolhost/approval": {"action": "accept", "content": {}}}});
    let done = agent.call(RUN_TASK, retry.clone()).await.unwrap();
    assert_ne!(done["isError"], true, "{done}");
    assert_ne!(done["resultType"], "input_required", "{done}");
    assert_eq!(scheduled_tasks(&sim), 1);
    let replay = agent.call(RUN_TASK, retry).await.unwrap_err();
    assert!(
        replay["message"].as_str().unwrap().contains("already used"),
        "{replay}"
    );
    assert_eq!(
        scheduled_tasks(&sim),
        1,
        "a replay never runs the call again"
    );

    // The audit names the person at the client as the approver, not the requester.
    let audit = cli.run(&["audit", "--json"], &[]).await;
    assert!(
        audit.stdout.contains("the user of approver-bot"),
        "{}",
        audit.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tools_list_on_2026_carries_private_caching_hints_from_the_catalog_ttl() {
    let (_sim, cli) = connected().await;
    let (_server, url) = http_server(&cli, &["--no-auth"]).await;
    let mut agent = Stateless::new(&url, json!({}));
    let listed = agent.request("tools/list", json!({})).await.unwrap();
    assert_eq!(listed["tools"].as_array().unwrap().len(), SEEDED_TOOL_COUNT);
    assert_eq!(listed["cacheScope"], "private", "{}", listed["cacheScope"]);
    let ttl_ms = listed["ttlMs"].as_u64().expect("ttlMs");
    let default_ttl = toolhost_host::DEFAULT_CATALOG_TTL.as_millis() as u64;
    assert_eq!(ttl_ms, default_ttl);
    assert_eq!(listed["resultType"], "complete");

    // server/discover lists both revisions and the tools capability.
    let discovered = agent.request("server/discover", json!({})).await.unwrap();
    let versions = discovered["supportedVersions"].to_string();
    assert!(
        versions.contains("2026-07-28") && versions.contains("2025-11-25"),
        "{discovered}"
    );
    assert_eq!(
        discovered["capabilities"]["tools"]["listChanged"], true,
        "{discovered}"
    );
    assert!(discovered["capabilities"].get("logging").is_none());
}

/// Reads an SSE response until a `data:` message contains `needle`; that message.
async fn read_until(response: &mut reqwest::Response, seen: &mut String, needle: &str) -> Value {
    let deadline = Duration::from_secs(20);
    tokio::time::timeout(deadline, async {
        loop {
            if let Some(message) = seen
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .find(|m| m.to_string().contains(needle))
            {
                return message;
            }
            let chunk = response
                .chunk()
                .await
                .expect("reading the listen stream")
                .unwrap_or_else(|| panic!("the listen stream ended before {needle}: {seen}"));
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {needle} on the listen stream: {seen}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2026_listen_stream_is_told_when_the_tool_list_changes() {
    let (_sim, cli) = connected().await;
    let (_server, url) = http_server(&cli, &["--no-auth"]).await;
    let mut agent = Stateless::new(&url, json!({}));
    agent.request("tools/list", json!({})).await.unwrap();

    let mut params =
        json!({"notifications": {"toolsListChanged": true, "promptsListChanged": true}});
    let mut stream = agent
        .post(json!("listen-1"), "subscriptions/listen", &mut params)
        .await;
    assert!(stream.status().is_success(), "{}", stream.status());
    let mut seen = String::new();
    let ack = read_until(
        &mut stream,
        &mut seen,
        "notifications/subscriptions/acknowledged",
    )
    .await;
    // Only what the server has is accepted: tools, not prompts.
    let accepted = &ack["params"]["notifications"];
    assert_eq!(accepted["toolsListChanged"], true, "{ack}");
    assert_ne!(accepted["promptsListChanged"], true, "{ack}");

    let set = cli
        .run(
            &["policy", "set", "connectwise_rmm:cw-rmm-run-task", "never"],
            &[],
        )
        .await;
    assert!(set.success(), "{}", set.all());
    // The server sees the change when the catalog is next read.
    agent.request("tools/list", json!({})).await.unwrap();
    let changed = read_until(&mut stream, &mut seen, "notifications/tools/list_changed").await;
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "listen-1",
        "{changed}"
    );
}

/// A damaged request-state key turns approval rounds off, not the server: calls still run,
/// and an approval-needed call ends pending, as for a client that cannot be asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_state_key_leaves_approvals_pending_and_calls_running() {
    let (sim, cli) = connected().await;
    std::fs::write(cli.home.path().join("mcp-request-state.key"), b"short").unwrap();
    let (_server, url) = http_server(&cli, &["--no-auth", "--approvals-url", UI]).await;
    let mut agent = Stateless::new(&url, url_elicitation());
    let listed = agent.call(LIST_DEVICES, json!({})).await.unwrap();
    assert_ne!(listed["isError"], true, "{listed}");
    let held = agent.call(RUN_TASK, json!({})).await.unwrap();
    assert_eq!(held["isError"], true, "{held}");
    assert_ne!(held["resultType"], "input_required", "{held}");
    let id = approval_id(&held);
    assert!(held.to_string().contains(&id), "{held}");
    let retry = agent
        .call(RUN_TASK, json!({"requestState": "rs1.forged.state"}))
        .await
        .unwrap_err();
    assert_eq!(retry["code"], -32602, "{retry}");
    assert_eq!(scheduled_tasks(&sim), 0);
}

/// stdio serves 2026-07-28 too: no `initialize`, each request self-contained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_serves_2026_07_28_without_initialize() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (_sim, cli) = connected().await;
    let mut child = cli
        .command(&["mcp"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawning toolhost mcp");
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let mut stdin = child.stdin.take().unwrap();
    for (id, method) in [(1, "server/discover"), (2, "tools/list")] {
        let line = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"_meta": meta}});
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut replies = Vec::new();
    while replies.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("no reply on stdout")
            .unwrap()
            .expect("stdout closed");
        replies.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let by_id = |id: u64| replies.iter().find(|r| r["id"] == id).unwrap().clone();
    let discovered = by_id(1);
    assert!(
        discovered["result"]["supportedVersions"]
            .to_string()
            .contains("2026-07-28"),
        "{discovered}"
    );
    let listed = by_id(2);
    assert_eq!(
        listed["result"]["tools"].as_array().map(Vec::len),
        Some(SEEDED_TOOL_COUNT),
        "{listed}"
    );
    assert_eq!(listed["result"]["cacheScope"], "private");
    drop(stdin);
    let _ = child.kill().await;
}
