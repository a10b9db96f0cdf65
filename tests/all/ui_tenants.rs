//! Every tenant's admin UI under `toolhost serve`, as the built binary serves it: the
//! default tenant's at `/`, each other tenant's at `/t/<tenant>/`, each behind its own
//! one-time link and its own session cookie, and each acting in its own tenant only. A
//! session of tenant A is 401 under `/t/b/` for approvals (list, approve, deny), audit,
//! tools and the connection; an MCP client of A is sent to A's UI to approve; the Host and
//! Origin checks guard every tenant's paths; and a real browser signs in to two tenants'
//! UIs at once and approves in one without touching the other.

use crate::mcp::reply_to;
use crate::serve::{serve, Served};
use crate::ui::{browser_kit_or_skip, http, run_script};
use e2e::postgres::fresh_database;
use e2e::*;
use serde_json::Value;
use simulator::{Simulator, DEMO_CLIENT_SECRET};
use std::time::Duration;

const RUN_TASK: &str = "cw-rmm-run-task";
const RUN_TASK_TOOL: &str = "connectwise_rmm:cw-rmm-run-task";
const RUN_TASK_MCP: &str = "connectwise_rmm__cw-rmm-run-task";
/// The name tenant B's simulator gives the disk cleanup script, so B's catalog differs.
const B_ONLY_SCRIPT: &str = "Tenant B Only";
const B_ONLY_TOOL: &str = "cw-rmm-script-tenant-b-only";

/// `toolhost --tenant <tenant> connect` to `sim` with the demo credentials, in the state
/// `envs` names (the home, or a database).
async fn connect(cli: &Cli, envs: &[(&str, &str)], tenant: &str, sim: &Simulator) {
    let out = cli.connect_tenant(tenant, sim, envs).await;
    assert!(out.success(), "{tenant}: {}", out.all());
}

/// A run-task call in `tenant` from the CLI, held for approval: its approval id.
async fn held_in(tenants: &TwoTenants, tenant: &str, name: &str) -> String {
    let args = run_task_args(name).to_string();
    let held = tenants
        .run(&[
            "--tenant", tenant, "call", RUN_TASK, "--args", &args, "--json",
        ])
        .await;
    assert_eq!(held.code, Some(2), "{}", held.all());
    held.json()["error"]["approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approvalId in {}", held.stdout))
        .to_string()
}

/// The one-time link `serve` printed for `tenant`'s admin UI (printed just after it
/// listens, so it may take a moment to be read).
async fn link_of(served: &Served, tenant: &str) -> String {
    let label = if tenant == "default" {
        "admin UI (".to_string()
    } else {
        format!("admin UI of tenant {tenant} (")
    };
    for _ in 0..100 {
        let output = served.output();
        let link = output
            .lines()
            .find(|line| line.contains(&label))
            .and_then(|line| line.split("): ").nth(1))
            .map(|link| link.trim().to_string());
        if let Some(link) = link {
            return link;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no admin UI link for {tenant}:\n{}", served.output())
}

/// A signed-in browser of one tenant's UI, for raw requests.
struct UiSession {
    /// `/` or `/t/<tenant>/`.
    prefix: String,
    /// `name=value`, as the browser sends it back.
    cookie: String,
    /// The whole `Set-Cookie` value.
    set_cookie: String,
    csrf: String,
}

impl UiSession {
    /// The session id alone.
    fn id(&self) -> &str {
        self.cookie.split_once('=').unwrap().1
    }
}

/// Trades the launch token of `link` for a session at `prefix` of `base`: the response's
/// status, and the session when it is 200.
async fn sign_in(base: &str, prefix: &str, link: &str) -> (u16, Option<UiSession>) {
    let token = link.split("?token=").nth(1).expect("a launch token");
    let response = reqwest::Client::new()
        .post(format!("{base}{prefix}api/session"))
        .header("x-toolhost-csrf", "launch")
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    let session = UiSession {
        prefix: prefix.to_string(),
        cookie: set_cookie.split(';').next().unwrap().to_string(),
        set_cookie,
        csrf: body["csrf"].as_str().expect("a CSRF token").to_string(),
    };
    (status, Some(session))
}

/// `GET <base><prefix><path>` with `cookie`: status and body.
async fn get_with(base: &str, prefix: &str, path: &str, cookie: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}{prefix}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// `POST <base><prefix><path>` with `cookie` and `csrf`: status and body.
async fn post_with(
    base: &str,
    prefix: &str,
    path: &str,
    (cookie, csrf): (&str, &str),
    body: &Value,
) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}{prefix}{path}"))
        .header("cookie", cookie)
        .header("x-toolhost-csrf", csrf)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The ids of the approvals `GET api/approvals?all=true` lists, and their states.
async fn approvals(base: &str, session: &UiSession) -> Vec<(String, String)> {
    let (status, body) = get_with(
        base,
        &session.prefix,
        "api/approvals?all=true",
        &session.cookie,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["state"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// One stateless (2026-07-28) `tools/call` of run-task at `endpoint` as `token`, from a
/// client that can open a URL (URL elicitation): the JSON-RPC result.
async fn mcp_run_task(endpoint: &str, token: &str) -> Value {
    let params = json!({
        "name": RUN_TASK_MCP,
        "arguments": run_task_args("asked through MCP"),
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"url": {}}},
            "io.modelcontextprotocol/clientInfo": {"name": "e2e-ui-tenants", "version": "1.0"},
        },
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", RUN_TASK_MCP)
        .bearer_auth(token)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let reply = reply_to(&response.text().await.unwrap(), 1, "tools/call");
    reply["result"].clone()
}

/// A sealing key for the test database only (32 bytes, base64): never a real one.
const TEST_STATE_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Two connected tenants (`a`, `b`, each with its own simulator; B's catalog differs) of
/// one home, or of one database, served by `toolhost serve`.
struct TwoTenants {
    sim_a: Simulator,
    sim_b: Simulator,
    cli: Cli,
    /// Where the state is: nothing (the home) or the database's URL and sealing key.
    state: Vec<(&'static str, String)>,
}

impl TwoTenants {
    async fn start(state: Vec<(&'static str, String)>) -> TwoTenants {
        let (sim_a, sim_b) = (
            Simulator::start(sim_config()).await.unwrap(),
            Simulator::start(sim_config()).await.unwrap(),
        );
        assert!(sim_b.rename_script(seed::DISK_CLEANUP_SCRIPT_ID, B_ONLY_SCRIPT));
        let tenants = TwoTenants {
            sim_a,
            sim_b,
            cli: Cli::new().await,
            state,
        };
        connect(&tenants.cli, &tenants.envs(), "a", &tenants.sim_a).await;
        connect(&tenants.cli, &tenants.envs(), "b", &tenants.sim_b).await;
        tenants
    }

    /// On PostgreSQL (a fresh database), or `None` (with a note) without a test server.
    async fn on_postgres() -> Option<TwoTenants> {
        let url = fresh_database().await?;
        let state = vec![
            ("TOOLHOST_DATABASE_URL", url),
            ("TOOLHOST_STATE_KEY", TEST_STATE_KEY.to_string()),
        ];
        Some(TwoTenants::start(state).await)
    }

    fn envs(&self) -> Vec<(&str, &str)> {
        self.state.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// A CLI command on the same state.
    async fn run(&self, args: &[&str]) -> CliOutput {
        self.cli.run(args, &self.envs()).await
    }

    async fn serve(&self) -> Served {
        serve(&self.cli, &[], &self.envs()).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenants_ui_acts_in_its_own_tenant_only() {
    each_ui_in_its_own_tenant(TwoTenants::start(Vec::new()).await).await;
}

/// The same, with every tenant's state (sessions included) in one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tenants_ui_acts_in_its_own_tenant_only_on_postgresql() {
    let Some(tenants) = TwoTenants::on_postgres().await else {
        return;
    };
    each_ui_in_its_own_tenant(tenants).await;
}

async fn each_ui_in_its_own_tenant(tenants: TwoTenants) {
    let (sim_a, sim_b) = (&tenants.sim_a, &tenants.sim_b);
    let b_id = held_in(&tenants, "b", "held in b").await;
    let added = tenants
        .run(&[
            "--tenant",
            "a",
            "clients",
            "add",
            "bot-a",
            "--role",
            "Technician",
            "--json",
        ])
        .await;
    assert!(added.success(), "{}", added.all());
    let bot_a = added.json()["token"].as_str().unwrap().to_string();

    let served = tenants.serve().await;
    let base = served.base.clone();
    let port = base.rsplit(':').next().unwrap().to_string();
    let origin = format!("http://localhost:{port}");

    // One link per tenant, each opening that tenant's page; the default tenant's is first,
    // at the root, as before tenants.
    let (link_a, link_b) = (link_of(&served, "a").await, link_of(&served, "b").await);
    let link_default = link_of(&served, "default").await;
    let output = served.output();
    assert!(
        link_default.starts_with(&format!("{origin}/?token=")),
        "{output}"
    );
    let first = output.split("?token=").next().unwrap();
    assert!(first.ends_with(&format!("{origin}/")), "{output}");
    assert!(
        link_a.starts_with(&format!("{origin}/t/a/?token=")),
        "{output}"
    );
    assert!(
        link_b.starts_with(&format!("{origin}/t/b/?token=")),
        "{output}"
    );
    assert_ne!(
        link_a.split("?token=").nth(1),
        link_b.split("?token=").nth(1)
    );

    // An MCP client of A that can open a URL is sent to A's UI, where A's approvals are.
    let asked = mcp_run_task(&format!("{base}/t/a/mcp"), &bot_a).await;
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let a_id = asked["_meta"]["toolhost/approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approval id in {asked}"))
        .to_string();
    let question = &asked["inputRequests"]["toolhost/approval"]["params"];
    assert_eq!(question["mode"], "url", "{asked}");
    assert_eq!(
        question["url"],
        format!("{origin}/t/a/#/approvals/{a_id}"),
        "{asked}"
    );

    // A launch link is its own tenant's only: A's token at B's UI signs in nowhere (and stays
    // unspent for A).
    let (status, _) = sign_in(&base, "/t/b/", &link_a).await;
    assert_eq!(status, 401);
    let (status, a) = sign_in(&base, "/t/a/", &link_a).await;
    assert_eq!(status, 200);
    let a = a.unwrap();
    let (_, b) = sign_in(&base, "/t/b/", &link_b).await;
    let b = b.unwrap();
    // Each tenant's cookie has its own name and is sent back under its own path only.
    assert!(
        a.cookie.starts_with("toolhost_session_a="),
        "{}",
        a.set_cookie
    );
    assert!(
        a.set_cookie
            .ends_with("; HttpOnly; SameSite=Strict; Path=/t/a/"),
        "{}",
        a.set_cookie
    );
    assert!(
        b.cookie.starts_with("toolhost_session_b="),
        "{}",
        b.set_cookie
    );
    assert!(a.set_cookie.contains("Path=/t/a/") && b.set_cookie.contains("Path=/t/b/"));

    assert_eq!(
        approvals(&base, &a).await,
        [(a_id.clone(), "pending".into())]
    );
    assert_eq!(
        approvals(&base, &b).await,
        [(b_id.clone(), "pending".into())]
    );

    // A's session under B's prefix, under either cookie name, or at the root: 401 for every
    // page's reads (approvals, audit, tools, the connection)...
    let a_as = |name: &str| format!("{name}={}", a.id());
    let a_cookies = [
        a.cookie.clone(),
        a_as("toolhost_session_b"),
        a_as("toolhost_session"),
    ];
    for path in [
        "api/approvals",
        "api/approvals?all=true",
        "api/audit",
        "api/tools",
        "api/tools.csv",
        "api/status",
        "api/passkeys",
        "api/session",
    ] {
        for cookie in &a_cookies {
            for prefix in ["/t/b/", "/"] {
                let (status, body) = get_with(&base, prefix, path, cookie).await;
                assert_eq!(status, 401, "{prefix}{path} with {cookie}: {body}");
                assert!(!body.contains(&a_id) && !body.contains(&b_id), "{body}");
            }
        }
    }
    // ...and for every action: approve, deny, connect, policy, a passkey challenge.
    let b_actions = [
        format!("api/approvals/{b_id}/approve"),
        format!("api/approvals/{b_id}/deny"),
        format!("api/approvals/{b_id}/passkey-challenge"),
        "api/connect".to_string(),
        "api/policy".to_string(),
        "api/logout".to_string(),
    ];
    for path in &b_actions {
        for cookie in &a_cookies {
            let (status, body) =
                post_with(&base, "/t/b/", path, (cookie, &a.csrf), &json!({})).await;
            assert_eq!(status, 401, "/t/b/{path} with {cookie}: {body}");
        }
    }
    // At its own prefix, A's session cannot reach B's approval either.
    for action in ["approve", "deny"] {
        let path = format!("api/approvals/{b_id}/{action}");
        let (status, body) =
            post_with(&base, "/t/a/", &path, (&a.cookie, &a.csrf), &json!({})).await;
        assert_ne!(status, 200, "{action} of B's approval through A: {body}");
    }
    assert!(write_requests(sim_a).is_empty() && write_requests(sim_b).is_empty());
    assert_eq!(
        approvals(&base, &b).await,
        [(b_id.clone(), "pending".into())]
    );
    // B's session still works after all that, and says which tenant it acts in.
    let (status, _) = get_with(&base, "/t/b/", "api/status", &b.cookie).await;
    assert_eq!(status, 200);
    let (status, who) = get_with(&base, "/t/b/", "api/session", &b.cookie).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&who).unwrap()["tenant"],
        "b",
        "{who}"
    );

    // A approves A's call in A's UI: it runs against A's API only, and A's audit says so.
    let approve = format!("api/approvals/{a_id}/approve");
    let (status, body) =
        post_with(&base, "/t/a/", &approve, (&a.cookie, &a.csrf), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !write_requests(sim_a).is_empty(),
        "the approved call did not run"
    );
    assert!(write_requests(sim_b).is_empty());
    let (_, audit_a) = get_with(&base, "/t/a/", "api/audit", &a.cookie).await;
    assert!(
        audit_a.contains(&a_id) && audit_a.contains(RUN_TASK_TOOL),
        "{audit_a}"
    );
    let (_, audit_b) = get_with(&base, "/t/b/", "api/audit", &b.cookie).await;
    assert!(!audit_a.contains(&b_id), "{audit_a}");
    assert!(
        !audit_b.contains(&a_id) && audit_b.contains(&b_id),
        "{audit_b}"
    );
    // Each tool list is its own tenant's catalog.
    let (_, tools_a) = get_with(&base, "/t/a/", "api/tools", &a.cookie).await;
    let (_, tools_b) = get_with(&base, "/t/b/", "api/tools", &b.cookie).await;
    assert!(!tools_a.contains(B_ONLY_TOOL), "A lists B's tool");
    assert!(tools_b.contains(B_ONLY_TOOL), "B's own tool missing");
    // B denies its own in B's UI.
    let deny = format!("api/approvals/{b_id}/deny");
    let (status, body) = post_with(&base, "/t/b/", &deny, (&b.cookie, &b.csrf), &json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        approvals(&base, &b).await,
        [(b_id.clone(), "denied".into())]
    );
    assert_eq!(
        approvals(&base, &a).await,
        [(a_id.clone(), "executed".into())]
    );
    // Ending A's session ends A's only.
    let (status, _) = post_with(
        &base,
        "/t/a/",
        "api/logout",
        (&a.cookie, &a.csrf),
        &json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        get_with(&base, "/t/a/", "api/status", &a.cookie).await.0,
        401
    );
    assert_eq!(
        get_with(&base, "/t/b/", "api/status", &b.cookie).await.0,
        200
    );

    // The page and its files are served under each prefix, with URLs relative to the page;
    // `/t/a` (no slash) redirects to the page, keeping a launch token.
    let (status, page) = get_with(&base, "/t/a/", "", "").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("src=\"assets/app.js\"") && !page.contains("\"/assets/"),
        "{page}"
    );
    let (status, script) = get_with(&base, "/t/b/", "assets/api.js", "").await;
    assert_eq!(status, 200);
    assert!(script.contains("'api/session'"), "{script}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirected = no_redirects
        .get(format!("{base}/t/a?token=t0ken"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirected.status().as_u16(), 308);
    assert_eq!(redirected.headers()["location"], "/t/a/?token=t0ken");
    // An unknown tenant has no UI.
    assert_eq!(get_with(&base, "/t/nobody/", "api/status", "").await.0, 404);

    // The Host and Origin checks guard every tenant's paths, the redirect included.
    for path in ["/t/b/", "/t/b/api/approvals", "/t/b/assets/app.js", "/t/b"] {
        let rebinding = format!(
            "GET {path} HTTP/1.1\r\nHost: evil.example:{port}\r\nCookie: {}\r\nConnection: close\r\n\r\n",
            b.cookie
        );
        let (status, response) = http(&base, &rebinding).await;
        assert_eq!(status, 403, "{path}: {response}");
        let foreign = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://evil.example\r\nCookie: {}\r\nConnection: close\r\n\r\n",
            b.cookie
        );
        let (status, response) = http(&base, &foreign).await;
        assert_eq!(status, 403, "{path}: {response}");
    }
    let cross_site = format!(
        "POST /t/b/{deny} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Site: cross-site\r\nCookie: {}\r\nX-Toolhost-CSRF: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        b.cookie, b.csrf
    );
    assert_eq!(http(&base, &cross_site).await.0, 403);

    let output = served.output();
    assert!(!output.contains(DEMO_CLIENT_SECRET), "{output}");
    stop(served).await;
}

/// Stops a server that must still be running.
async fn stop(mut served: Served) {
    if let Ok(Some(status)) = served.child.try_wait() {
        panic!(
            "toolhost serve exited early ({status}):\n{}",
            served.output()
        );
    }
    served.child.kill().await.expect("stopping toolhost serve");
}

/// A real browser signs in to A's and B's UIs at once (two cookies, two paths), sees each
/// tenant's own approvals, and approves B's in B's page: it runs in B only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tenants_uis_in_one_browser() {
    let Some(kit) = browser_kit_or_skip("ui_tenants browser test") else {
        return;
    };
    let tenants = TwoTenants::start(Vec::new()).await;
    let (sim_a, sim_b) = (&tenants.sim_a, &tenants.sim_b);
    let a_id = held_in(&tenants, "a", "held in a").await;
    let b_id = held_in(&tenants, "b", "held in b").await;
    let served = tenants.serve().await;

    let mut script = kit.script("ui_tenants.mjs", &link_of(&served, "a").await);
    script
        .env("UI_URL_B", link_of(&served, "b").await)
        .env("A_ID", &a_id)
        .env("B_ID", &b_id);
    run_script(script, Duration::from_secs(180)).await;
    stop(served).await;

    // The approval ran in B, once, through B's page; A's is untouched.
    assert!(
        !write_requests(sim_b).is_empty(),
        "the approved call did not run"
    );
    assert!(write_requests(sim_a).is_empty());
    let state_of = |tenant: &'static str| {
        let tenants = &tenants;
        async move {
            let out = tenants
                .run(&["--tenant", tenant, "approvals", "list", "--all", "--json"])
                .await;
            out.json()[0]["state"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(state_of("b").await, "executed");
    assert_eq!(state_of("a").await, "pending");
    let audit = tenants.run(&["--tenant", "b", "audit", "--json"]).await;
    assert!(audit.stdout.contains("by ui:"), "{}", audit.stdout);
}
