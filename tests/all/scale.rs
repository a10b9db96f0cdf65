//! Paging at scale: the plugin follows `Link` cursors across company chunks for 10,000
//! devices, and pageNum pages for tickets.

use e2e::*;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_devices_in_one_call() {
    let env = TestEnv::with(simulator::SimulatorConfig {
        endpoint_count: 10_000,
        ..sim_config()
    })
    .await;
    let all = env
        .ok("cw-rmm-list-devices", json!({"limit": 10_000}))
        .await;
    assert_eq!(all["count"], 10_000);
    let devices = all["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 10_000);
    let ids: HashSet<&str> = devices
        .iter()
        .map(|d| d["endpointId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 10_000, "endpointIds are not unique");
    assert!(ids.contains(seed::DC01_ID));
    // The plugin writes each page's rows into the answer's text as it reads them: its memory
    // is the 3.1 MB answer and one page, not a tree of values for all 10,000 rows (that was
    // 25.8 MiB of linear memory, then 9.7 with dlmalloc; the component's own allocator grows
    // the answer in place and splits freed blocks: about 8.5).
    let linear = env
        .host
        .runtime()
        .linked()
        .occupancy()
        .peak_memory_charged_bytes;
    assert!(
        linear < 9 << 20,
        "listing 10,000 devices took {:.1} MiB of plugin linear memory",
        linear as f64 / (1 << 20) as f64
    );
    // It took many pages, all through one token.
    let pages = env
        .requests_to("POST", "/device/categories/all/endpoints")
        .len();
    assert!(pages > 3, "only {pages} page requests");
    assert_eq!(env.sim.token_mints(), 1);

    let some = env.ok("cw-rmm-list-devices", json!({"limit": 1234})).await;
    assert_eq!(some["count"], 1234);
    assert_eq!(some["truncated"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_beyond_one_page() {
    let env = Arc::new(TestEnv::start().await);
    // 100 tickets per API page: create enough to need a second one.
    let to_create = 100 - seed::SEEDED_TICKET_COUNT + 10;
    let mut workers = Vec::new();
    for worker in 0..4 {
        let env = env.clone();
        workers.push(tokio::spawn(async move {
            for i in (worker..to_create).step_by(4) {
                env.ok_approved(
                    "cw-rmm-create-ticket",
                    json!({"summary": format!("e2e paging ticket {i}"), "description": "paging", "board": "Service Desk", "source": "API"}),
                )
                .await;
            }
        }));
    }
    for worker in workers {
        tokio::time::timeout(Duration::from_secs(60), worker)
            .await
            .expect("creating tickets hung")
            .expect("creating tickets failed");
    }
    let total = seed::SEEDED_TICKET_COUNT + to_create;

    let before = env.requests_to("GET", "/ticketing/tickets").len();
    let all = env.ok("cw-rmm-list-tickets", json!({"limit": 500})).await;
    assert_eq!(all["count"], total);
    assert_eq!(all["totalCount"], total);
    let ids: HashSet<&str> = all["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["ticketId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), total, "ticket ids repeat across pages");
    let pages: Vec<_> = env
        .requests_to("GET", "/ticketing/tickets")
        .into_iter()
        .skip(before)
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[1].query.as_deref().unwrap().contains("pageNum=2"));

    let some = env.ok("cw-rmm-list-tickets", json!({"limit": 101})).await;
    assert_eq!(some["count"], 101);
    assert_eq!(some["totalCount"], total);
}

/// The component starts with heap room for an ordinary one-request call (`--initial-heap`
/// in plugin/build.rs), so such a call never grows its memory: a growth is an `mprotect`
/// during the call and another when its pool slot is next used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_request_tool_runs_in_the_initial_memory() {
    let env = TestEnv::start().await;
    let runtime = env.host.runtime();
    for (tool, arguments) in [
        ("cw-rmm-list-companies", json!({})),
        ("cw-rmm-get-company", json!({"companyId": seed::CONTOSO_ID})),
        ("cw-rmm-list-sites", json!({})),
    ] {
        let routes = runtime
            .static_tools()
            .iter()
            .find(|t| t.name == tool)
            .expect("a static tool")
            .routes_for(tool);
        let context = env.host.call_context().expect("connected").scoped(routes);
        let outcome = runtime
            .call_tool(context, tool, &arguments.to_string())
            .await;
        assert!(outcome.result.is_ok(), "{tool}: {:?}", outcome.result);
        assert_eq!(outcome.exchanges.len(), 1, "{tool}: one request");
        assert_eq!(outcome.memory_grows, 0, "{tool} grew its memory");
    }
}
