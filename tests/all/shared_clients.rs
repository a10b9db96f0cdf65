//! Replicas on one PostgreSQL share what an MCP client needs: its registration (a client
//! added through one host authenticates on another, a revocation through either refuses it on
//! both at once, a tenant's client is unknown to another tenant), and the state of its
//! 2026-07-28 approval rounds (a `requestState` sealed by one replica opens on another, and
//! the outcome is delivered once across both).

use e2e::postgres::fresh_database;
use e2e::*;
use serde_json::json;
use toolhost_host::{StateBackend, ToolHost};
use toolhost_state::Database;

/// A host of `tenant` on `db`, in its own home (replicas share no directory).
async fn replica(db: &Database, tenant: &str, home: &TempDir) -> ToolHost {
    let mut config = host_config(home.path(), &plugin_wasm());
    config.state = StateBackend::Postgres {
        db: db.clone(),
        tenant: tenant.to_string(),
        key: e2e::postgres::test_state_key(),
    };
    open_host(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_added_on_one_replica_authenticates_on_the_other_until_revoked_through_either() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let db = Database::connect(&url).await.unwrap();
    let homes = [
        TempDir::new("replica-a"),
        TempDir::new("replica-b"),
        TempDir::new("other-tenant"),
    ];
    let a = replica(&db, "acme", &homes[0]).await;
    let b = replica(&db, "acme", &homes[1]).await;
    let globex = replica(&db, "globex", &homes[2]).await;
    let role = a.roles().unwrap().names()[0].to_string();

    let (first, first_token) = a
        .clients()
        .add("agent-1", &role, &a.roles().unwrap(), false)
        .await
        .unwrap();
    let (_, second_token) = b
        .clients()
        .add("agent-2", &role, &b.roles().unwrap(), false)
        .await
        .unwrap();
    for host in [&a, &b] {
        let found = host.clients().authenticate(first_token.expose()).await;
        assert_eq!(found.unwrap().unwrap().name, first.name);
        let found = host.clients().authenticate(second_token.expose()).await;
        assert_eq!(found.unwrap().unwrap().name, "agent-2");
    }
    // Another tenant on the same database knows neither the tokens nor the names.
    for token in [&first_token, &second_token] {
        let found = globex.clients().authenticate(token.expose()).await.unwrap();
        assert!(found.is_none(), "a client of acme authenticated as globex");
    }
    assert!(globex.clients().list().await.unwrap().is_empty());
    assert!(globex.clients().revoke("agent-1").await.is_err());

    // Revoked through B: refused on A at the next request, and the other way round.
    b.clients().revoke("agent-1").await.unwrap();
    a.clients().revoke("agent-2").await.unwrap();
    for host in [&a, &b] {
        for token in [&first_token, &second_token] {
            let found = host.clients().authenticate(token.expose()).await.unwrap();
            assert!(found.is_none(), "a revoked token still authenticates");
        }
    }
    // Nothing of it was written to a home: the replicas keep no local client state.
    for home in &homes {
        assert!(!home.path().join("clients.json").exists());
    }
}

/// The operator's sealing key of the test (base64 of the bytes 0..32).
const STATE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// What every command of a replica runs with: the shared database and the sealing key.
fn shared_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TOOLHOST_DATABASE_URL", url.to_string()),
        ("TOOLHOST_STATE_KEY", STATE_KEY.to_string()),
    ]
}

/// `toolhost <args>` in `cli`'s home on the shared database; asserts success.
async fn run_ok(cli: &Cli, url: &str, args: &[&str], extra: &[(&str, &str)]) -> CliOutput {
    let env = shared_env(url);
    let mut envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    envs.extend_from_slice(extra);
    let out = cli.run(args, &envs).await;
    assert!(out.success(), "toolhost {args:?}:\n{}", out.all());
    out
}

/// `toolhost mcp --http` of `cli`'s home on the shared database: the child and its URL.
async fn replica_server(cli: &Cli, url: &str) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = cli
        .command(&[
            "mcp",
            "--http",
            "127.0.0.1:0",
            "--approvals-url",
            "http://127.0.0.1:9/",
        ])
        .envs(shared_env(url))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawning toolhost mcp --http");
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let address = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("toolhost mcp --http exited before listening");
    })
    .await
    .expect("the HTTP server did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address)
}

/// One stateless (2026-07-28) `tools/call` of `tool` with `extra` params, as `token`: the HTTP
/// status and the JSON-RPC result (`Ok`) or error (`Err`).
async fn call(
    server: &str,
    token: &str,
    tool: &str,
    extra: serde_json::Value,
) -> (u16, Result<serde_json::Value, serde_json::Value>) {
    let mut params = serde_json::json!({
        "name": tool,
        "arguments": crate::mcp::run_task_args(),
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"url": {}}},
            "io.modelcontextprotocol/clientInfo": {"name": "e2e-replicas", "version": "1.0"},
        },
    });
    if tool == crate::mcp::LIST_DEVICES {
        params["arguments"] = serde_json::json!({"name": "DC01"});
    }
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            params[k] = v;
        }
    }
    let body =
        serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let response = http_client()
        .post(server)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    if status != 200 {
        return (status, Err(serde_json::json!(text)));
    }
    let reply = crate::mcp::reply_to(&text, 1, "tools/call");
    match reply.get("error") {
        Some(error) => (status, Err(error.clone())),
        None => (status, Ok(reply["result"].clone())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_clients_and_approval_rounds_and_deliver_an_outcome_once() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let sim = simulator::Simulator::start(sim_config()).await.unwrap();
    let (one, two) = (Cli::new().await, Cli::new().await);
    for cli in [&one, &two] {
        run_ok(
            cli,
            &url,
            &[
                "connect",
                "--region",
                "au",
                "--client-id",
                simulator::DEMO_CLIENT_ID,
                "--upstream",
                &sim.base_url(),
            ],
            &[("TOOLHOST_CLIENT_SECRET", simulator::DEMO_CLIENT_SECRET)],
        )
        .await;
    }
    // Added through the first replica's home, known to both servers.
    let added = run_ok(
        &one,
        &url,
        &["clients", "add", "agent", "--role", "Technician", "--json"],
        &[],
    )
    .await;
    let token = added.json()["token"].as_str().unwrap().to_string();
    let (_first, first) = replica_server(&one, &url).await;
    let (_second, second) = replica_server(&two, &url).await;
    for server in [&first, &second] {
        let (status, listed) = call(server, &token, crate::mcp::LIST_DEVICES, json!({})).await;
        assert_eq!(status, 200, "{listed:?}");
        assert_ne!(listed.unwrap()["isError"], true);
    }

    // Asked on the first replica, approved by an operator of the second, delivered by the
    // second; the first then refuses the same state as used.
    let (_, asked) = call(&first, &token, crate::mcp::RUN_TASK, json!({})).await;
    let asked = asked.unwrap();
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let state = asked["requestState"].as_str().unwrap().to_string();
    let id = asked["_meta"]["toolhost/approvalId"]
        .as_str()
        .unwrap()
        .to_string();
    let env = shared_env(&url);
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let approved = two
        .run_at_terminal_with(&["approvals", "approve", &id], "approve\n", &envs)
        .await;
    assert!(approved.success(), "{}", approved.all());
    assert_eq!(crate::mcp::scheduled_tasks(&sim), 1);
    let retry = json!({"requestState": state});
    let (_, done) = call(&second, &token, crate::mcp::RUN_TASK, retry.clone()).await;
    let done = done.unwrap();
    assert_ne!(done["resultType"], "input_required", "{done}");
    assert_ne!(done["isError"], true, "{done}");
    for server in [&first, &second] {
        let (_, replay) = call(server, &token, crate::mcp::RUN_TASK, retry.clone()).await;
        let replay = replay.unwrap_err();
        assert!(replay.to_string().contains("already used"), "{replay}");
    }
    assert_eq!(crate::mcp::scheduled_tasks(&sim), 1, "ran once");

    // Revoked through the second replica's home: refused by both servers at once.
    run_ok(&two, &url, &["clients", "revoke", "agent"], &[]).await;
    for server in [&first, &second] {
        let (status, _) = call(server, &token, crate::mcp::LIST_DEVICES, json!({})).await;
        assert_eq!(status, 401);
    }
    // None of it lives in a replica's home.
    for cli in [&one, &two] {
        for local in ["clients.json", "mcp-request-state.key", "mcp-redeemed"] {
            assert!(!cli.home.path().join(local).exists(), "{local} in a home");
        }
    }
}
