//! Every tenant's admin UI acts in its own tenant only, over raw HTTP against the built
//! binary's `toolhost serve` (the two tenants of `ui_tenants`): a session of tenant A is
//! 401 under `/t/b/` for approvals (list, approve, deny), audit, tools and the connection;
//! an MCP client of A is sent to A's UI to approve; and the Host and Origin checks guard
//! every tenant's paths.

use crate::mcp::reply_to;
use crate::ui::http;
use crate::ui_tenants::{held_in, link_of, stop, TwoTenants, B_ONLY_TOOL};
use e2e::ui_session::{launch_token, sign_in, UiSession};
use e2e::*;
use serde_json::Value;
use simulator::DEMO_CLIENT_SECRET;

const RUN_TASK_TOOL: &str = "connectwise_rmm:cw-rmm-run-task";
const RUN_TASK_MCP: &str = "connectwise_rmm__cw-rmm-run-task";

/// `GET <base><prefix><path>` with `cookie`: status and body.
async fn get_with(base: &str, prefix: &str, path: &str, cookie: &str) -> (u16, String) {
    let response = http_client()
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
    let response = http_client()
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
    let response = http_client()
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
    let (status, _) = sign_in(&base, "/t/b/", launch_token(&link_a)).await;
    assert_eq!(status, 401);
    let (status, a) = sign_in(&base, "/t/a/", launch_token(&link_a)).await;
    assert_eq!(status, 200);
    let a = a.unwrap();
    let (_, b) = sign_in(&base, "/t/b/", launch_token(&link_b)).await;
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
        .timeout(HTTP_DEADLINE)
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
