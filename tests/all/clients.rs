//! `toolhost clients` and the identities they give `toolhost mcp`: the built binary against a
//! home connected to an in-process simulator, over real loopback HTTP and stdio.

use crate::mcp::{connected, http_server};
use e2e::*;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::Value;
use std::time::Duration;
use toolhost_governance::{read_audit_file, AuditDecision, AuditFilter};

const LIST_DEVICES: &str = "connectwise_rmm__cw-rmm-list-devices";

/// `toolhost clients add NAME --role ROLE --json`: the token it printed.
async fn add_client(cli: &Cli, name: &str, role: &str) -> String {
    let out = cli
        .run(&["clients", "add", name, "--role", role, "--json"], &[])
        .await;
    assert!(out.success(), "{}", out.all());
    let token = out.json()["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("thc_"), "{token}");
    token
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "e2e-http", "version": "1.0"}}})
}

async fn post(
    url: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = http_client()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", session)
            .header("mcp-protocol-version", "2025-11-25");
    }
    request.send().await.expect("POST")
}

/// The refusal: 401, a Bearer challenge, and a body that says what to send, the same for
/// every way of getting it wrong.
async fn assert_unauthorized(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 401);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    response.text().await.unwrap()
}

/// Initializes a session with `token` and calls list-devices: the JSON-RPC result.
async fn call_over_http(url: &str, token: &str) -> Value {
    let response = post(url, Some(token), None, &initialize()).await;
    assert!(response.status().is_success(), "{}", response.status());
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_string();
    drop(response.text().await);
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let status = post(url, Some(token), Some(&session), &note).await.status();
    assert!(status.is_success(), "{status}");
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": LIST_DEVICES, "arguments": {"name": "DC01"}}});
    let response = post(url, Some(token), Some(&session), &call).await;
    assert!(response.status().is_success(), "{}", response.status());
    let text = response.text().await.unwrap();
    let reply: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(&text).unwrap()
    } else {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|m| m["id"] == json!(2))
            .unwrap_or_else(|| panic!("no reply in {text}"))
    };
    reply["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_without_a_valid_token_is_401_with_a_bearer_challenge() {
    let (_sim, cli) = connected().await;
    let token = add_client(&cli, "revoked-bot", "Technician").await;
    let (_server, url) = http_server(&cli, &[]).await;

    let missing = assert_unauthorized(post(&url, None, None, &initialize()).await).await;
    let wrong = assert_unauthorized(
        post(
            &url,
            Some(&format!("thc_{}", "0".repeat(64))),
            None,
            &initialize(),
        )
        .await,
    )
    .await;
    // A valid token opens the door; once revoked, the same token is refused like any other.
    let ok = post(&url, Some(&token), None, &initialize()).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    let revoked = cli.run(&["clients", "revoke", "revoked-bot"], &[]).await;
    assert!(revoked.success(), "{}", revoked.all());
    let after = assert_unauthorized(post(&url, Some(&token), None, &initialize()).await).await;
    assert_eq!(missing, wrong, "the refusal must not say what was wrong");
    assert_eq!(missing, after, "the refusal must not say what was wrong");
    assert!(!after.contains(&token));
    assert!(missing.contains("toolhost clients add"), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_calls_in_its_own_role_and_the_audit_names_it() {
    let (_sim, cli) = connected().await;
    let tech = add_client(&cli, "tech-bot", "technician").await;
    // Sales has AI Assist off: every call of this client is refused, though the server's
    // own default role (Technician) could make it.
    let sales = add_client(&cli, "sales-bot", "Sales").await;
    let (_server, url) = http_server(&cli, &[]).await;

    let result = call_over_http(&url, &tech).await;
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains(seed::DC01_ID), "{result}");
    let refused = call_over_http(&url, &sales).await;
    assert_eq!(refused["isError"], true, "{refused}");

    // stdio runs as the client named on its command line, in that client's role.
    let transport = TokioChildProcess::new(cli.command(&["mcp", "--client", "sales-bot"])).unwrap();
    let client = tokio::time::timeout(Duration::from_secs(60), ().serve(transport))
        .await
        .unwrap()
        .unwrap();
    let result = client
        .call_tool(CallToolRequestParams::new(LIST_DEVICES))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true), "{result:?}");
    client.cancel().await.unwrap();

    let audit = read_audit_file(
        &cli.home.path().join("audit.jsonl"),
        &AuditFilter::default(),
    )
    .unwrap();
    let by = |caller: &str| {
        audit
            .iter()
            .filter(|r| r.caller == caller)
            .collect::<Vec<_>>()
    };
    let tech_calls = by("tech-bot");
    assert_eq!(tech_calls.len(), 1, "{audit:?}");
    assert_eq!(
        tech_calls[0].role, "Technician",
        "the role table's spelling"
    );
    let sales_calls = by("sales-bot");
    assert_eq!(sales_calls.len(), 2, "{audit:?}");
    for r in sales_calls {
        assert_eq!(r.role, "Sales");
        assert_eq!(r.decision, AuditDecision::RoleDenied);
    }

    // A named client's role cannot be raised from the command line, and --as means nothing
    // where each request carries its client.
    let raised = cli
        .run(&["mcp", "--client", "sales-bot", "--as", "Admin"], &[])
        .await;
    assert!(!raised.success(), "{}", raised.all());
    let raised = cli
        .run(&["mcp", "--http", "127.0.0.1:0", "--as", "Admin"], &[])
        .await;
    assert!(!raised.success(), "{}", raised.all());
    assert!(raised.stderr.contains("clients add"), "{}", raised.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_add_prints_the_token_once_and_keeps_only_its_hash() {
    let cli = Cli::new().await;
    let out = cli
        .run(&["clients", "add", "hash-bot", "--role", "Technician"], &[])
        .await;
    assert!(out.success(), "{}", out.all());
    let token = out
        .stdout
        .split_whitespace()
        .find(|w| w.starts_with("thc_"))
        .unwrap_or_else(|| panic!("no token in {}", out.stdout))
        .to_string();
    assert_eq!(token.len(), 4 + 64, "{token}");

    for args in [&["clients", "list"][..], &["clients", "list", "--json"][..]] {
        let listed = cli.run(args, &[]).await;
        assert!(listed.success(), "{}", listed.all());
        assert!(listed.stdout.contains("hash-bot"), "{}", listed.stdout);
        assert!(!listed.all().contains(&token), "{args:?} printed the token");
    }
    let json = cli.run(&["clients", "list", "--json"], &[]).await.json();
    assert_eq!(json[0]["role"], "Technician");
    assert_eq!(json[0]["revoked"], Value::Null);

    let stored = cli.home.path().join("clients.json");
    let text = std::fs::read_to_string(&stored).unwrap();
    let record: Value = serde_json::from_str(&text).unwrap();
    let hash = record["clients"][0]["token_sha256"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    assert_eq!(
        files_containing(cli.home.path(), std::slice::from_ref(&token), &[]),
        Vec::<String>::new(),
        "the token is stored somewhere in the home"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stored).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Unique names, known roles (named in the refusal), no token printed twice.
    let again = cli
        .run(&["clients", "add", "hash-bot", "--role", "Technician"], &[])
        .await;
    assert!(!again.success(), "{}", again.all());
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let unknown = cli
        .run(&["clients", "add", "other-bot", "--role", "Janitor"], &[])
        .await;
    assert!(!unknown.success(), "{}", unknown.all());
    assert!(unknown.stderr.contains("Technician"), "{}", unknown.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_is_refused_on_a_non_loopback_bind() {
    let cli = Cli::new().await;
    let out = cli
        .run(
            &["mcp", "--http", "0.0.0.0:0", "--allow-remote", "--no-auth"],
            &[],
        )
        .await;
    assert!(!out.success(), "{}", out.all());
    assert!(out.stderr.contains("--no-auth"), "{}", out.stderr);
    assert!(out.stderr.contains("loopback"), "{}", out.stderr);
}
