//! Every tool of docs/tools.md through the real host, the real component and the simulator:
//! one success case with meaningful content and at least one error path each.

use e2e::*;
use serde_json::Value;
use std::time::Duration;

const UNKNOWN_ID: &str = "00000000-0000-4000-8000-000000000000";

fn strings<'a>(items: &'a Value, key: &str) -> Vec<&'a str> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .filter_map(|item| item[key].as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn companies_list_get_and_errors() {
    let env = TestEnv::start().await;
    let all = env.ok("cw-rmm-list-companies", json!({})).await;
    let names = strings(&all["companies"], "name");
    for name in [
        seed::CONTOSO_NAME,
        seed::FABRIKAM_NAME,
        seed::NORTHWIND_NAME,
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert_eq!(all["count"], names.len());

    let fab = env
        .ok("cw-rmm-list-companies", json!({"nameContains": "fabri"}))
        .await;
    assert_eq!(strings(&fab["companies"], "companyId"), [seed::FABRIKAM_ID]);

    let contoso = env
        .ok("cw-rmm-get-company", json!({"companyId": seed::CONTOSO_ID}))
        .await;
    assert_eq!(contoso["name"], seed::CONTOSO_NAME);
    assert_eq!(
        contoso["primarySite"]["siteId"],
        seed::CONTOSO_SYDNEY_SITE_ID
    );

    let message = expect_not_found(
        env.call("cw-rmm-get-company", json!({"companyId": UNKNOWN_ID}))
            .await,
    );
    assert!(message.contains(UNKNOWN_ID), "{message}");
    expect_invalid(
        env.call("cw-rmm-get-company", json!({"companyId": "nope"}))
            .await,
        "companyId",
    );
    expect_invalid(
        env.call("cw-rmm-list-companies", json!({"limit": 0})).await,
        "limit",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_of_a_company_and_of_an_unknown_one() {
    let env = TestEnv::start().await;
    let sites = env
        .ok("cw-rmm-list-sites", json!({"companyId": seed::CONTOSO_ID}))
        .await;
    let mut ids = strings(&sites["sites"], "siteId");
    ids.sort_unstable();
    let mut expected = [
        seed::CONTOSO_SYDNEY_SITE_ID,
        seed::CONTOSO_MELBOURNE_SITE_ID,
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(strings(&sites["sites"], "companyId")
        .iter()
        .all(|c| *c == seed::CONTOSO_ID));

    let all = env.ok("cw-rmm-list-sites", json!({})).await;
    assert!(strings(&all["sites"], "name").contains(&seed::NORTHWIND_AUCKLAND_SITE_NAME));

    expect_not_found(
        env.call("cw-rmm-list-sites", json!({"companyId": UNKNOWN_ID}))
            .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_resolve_names_and_filter() {
    let env = TestEnv::start().await;
    let dc01 = env.ok("cw-rmm-list-devices", json!({"name": "DC01"})).await;
    let found = dc01["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["endpointId"] == seed::DC01_ID)
        .unwrap_or_else(|| panic!("DC01 not found in {dc01}"));
    assert_eq!(found["name"], seed::DC01_NAME);
    assert_eq!(found["companyId"], seed::CONTOSO_ID);
    assert_eq!(found["siteId"], seed::CONTOSO_SYDNEY_SITE_ID);
    assert_eq!(found["endpointType"], "Server");
    assert_eq!(dc01["truncated"], false);

    let maria = env
        .ok("cw-rmm-list-devices", json!({"name": "maria's laptop"}))
        .await;
    assert_eq!(
        strings(&maria["devices"], "endpointId"),
        [seed::MARIA_LAPTOP_ID]
    );
    assert_eq!(
        maria["devices"][0]["deviceName"],
        seed::MARIA_LAPTOP_DEVICE_NAME
    );

    let servers = env
        .ok(
            "cw-rmm-list-devices",
            json!({"companyId": seed::CONTOSO_ID, "endpointType": ["Server"]}),
        )
        .await;
    assert!(servers["count"].as_u64().unwrap() >= 1);
    assert!(strings(&servers["devices"], "endpointType")
        .iter()
        .all(|t| *t == "Server"));
    assert!(strings(&servers["devices"], "companyId")
        .iter()
        .all(|c| *c == seed::CONTOSO_ID));

    let limited = env.ok("cw-rmm-list-devices", json!({"limit": 2})).await;
    assert_eq!(limited["count"], 2);
    assert_eq!(limited["truncated"], true);

    expect_invalid(
        env.call("cw-rmm-list-devices", json!({"limit": 10_001}))
            .await,
        "limit",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_details_and_unknown_device() {
    let env = TestEnv::start().await;
    let device = env
        .ok("cw-rmm-get-device", json!({"endpointId": seed::DC01_ID}))
        .await;
    assert_eq!(device["endpointId"], seed::DC01_ID);
    assert_eq!(device["deviceName"], seed::DC01_NAME);
    assert_eq!(device["companyId"], seed::CONTOSO_ID);
    let volumes = strings(&device["logicalVolumes"], "name");
    assert!(volumes.contains(&"C:"), "{volumes:?}");

    let message = expect_not_found(
        env.call("cw-rmm-get-device", json!({"endpointId": UNKNOWN_ID}))
            .await,
    );
    assert!(message.contains("cw-rmm-list-devices"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_state_names_the_full_disk_and_offline_devices() {
    let env = TestEnv::start().await;
    let state = env
        .ok(
            "cw-rmm-get-device-state",
            json!({"endpointId": seed::DC01_ID}),
        )
        .await;
    assert_eq!(state["online"], true);
    assert_ne!(state["health"], "healthy", "{state}");
    assert!(
        ["warning", "critical"].contains(&state["health"].as_str().unwrap()),
        "{state}"
    );
    let issues = state["issues"].as_array().unwrap();
    assert!(
        issues.iter().any(|i| i.as_str().unwrap().contains("C:")),
        "the issues do not name the C: disk: {issues:?}"
    );
    assert!(state["cpu"]["percentUtil"].is_number());
    assert!(state["memory"]["totalBytes"].is_number());

    let offline = env
        .ok(
            "cw-rmm-get-device-state",
            json!({"endpointId": seed::OFFLINE_DESKTOP_ID}),
        )
        .await;
    assert_eq!(offline["online"], false);
    assert_eq!(offline["health"], "offline");

    expect_invalid(
        env.call("cw-rmm-get-device-state", json!({})).await,
        "endpointId",
    );
    // An unknown endpoint is not-found, like every other tool answers for an unknown id.
    let message = expect_not_found(
        env.call("cw-rmm-get-device-state", json!({"endpointId": UNKNOWN_ID}))
            .await,
    );
    assert!(message.contains(UNKNOWN_ID), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_summary_counts() {
    let env = TestEnv::start().await;
    let patches = env
        .ok(
            "cw-rmm-get-device-patches",
            json!({"endpointId": seed::DC01_ID}),
        )
        .await;
    let summary = &patches["summary"];
    // The seed: DC01 has two installed patches waiting for a reboot.
    assert_eq!(summary["pendingReboot"], 2, "{summary}");
    assert!(summary["missing"].as_u64().unwrap() > 0, "{summary}");
    assert!(summary["installed"].as_u64().unwrap() > 0, "{summary}");
    let compliance = summary["compliance"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&compliance), "{summary}");
    let list = patches["patches"].as_array().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|p| p["statusCode"].is_number()));
    assert!(list
        .iter()
        .all(|p| p["kbArticleId"].as_str().unwrap().starts_with("KB")));

    expect_not_found(
        env.call(
            "cw-rmm-get-device-patches",
            json!({"endpointId": UNKNOWN_ID}),
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_groups_and_library_scripts() {
    let env = TestEnv::start().await;
    let groups = env.ok("cw-rmm-list-device-groups", json!({})).await;
    assert!(strings(&groups["groups"], "name").contains(&"Domain Controllers"));
    let servers = env
        .ok(
            "cw-rmm-list-device-groups",
            json!({"nameContains": "servers"}),
        )
        .await;
    assert_eq!(strings(&servers["groups"], "name"), ["All Windows Servers"]);
    expect_invalid(
        env.call("cw-rmm-list-device-groups", json!({"color": "red"}))
            .await,
        "color",
    );

    let scripts = env.ok("cw-rmm-list-scripts", json!({})).await;
    assert!(scripts["count"].as_u64().unwrap() > 0);
    assert!(strings(&scripts["scripts"], "templateId")
        .iter()
        .all(|id| id.len() == 36));
    expect_invalid(
        env.call("cw-rmm-list-scripts", json!({"nameContains": ""}))
            .await,
        "nameContains",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_scripts_exclude_inactive_by_default() {
    let env = TestEnv::start().await;
    let active = env.ok("cw-rmm-list-shell-scripts", json!({})).await;
    let scripts = active["scripts"].as_array().unwrap();
    assert!(scripts.iter().all(|s| s["active"] == true), "{active}");
    let names = strings(&active["scripts"], "name");
    assert!(names.contains(&seed::DISK_CLEANUP_SCRIPT_NAME));
    assert!(!names.contains(&"Clear Browser Cache"), "{names:?}");

    let all = env
        .ok(
            "cw-rmm-list-shell-scripts",
            json!({"includeInactive": true}),
        )
        .await;
    let all_names = strings(&all["scripts"], "name");
    assert!(all_names.contains(&"Clear Browser Cache"));
    assert!(all_names.len() > names.len());
    assert!(all["scripts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["state"] == seed::SCRIPT_STATE_INACTIVE));

    expect_invalid(
        env.call(
            "cw-rmm-list-shell-scripts",
            json!({"includeInactive": "yes"}),
        )
        .await,
        "includeInactive",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_list_and_summary() {
    let env = TestEnv::start().await;
    let tasks = env.ok("cw-rmm-list-tasks", json!({})).await;
    assert!(strings(&tasks["tasks"], "name").contains(&seed::DISK_CLEANUP_SCRIPT_NAME));
    expect_invalid(
        env.call("cw-rmm-list-tasks", json!({"nameContains": 3}))
            .await,
        "nameContains",
    );

    let summary = env.ok("cw-rmm-get-tasks-summary", json!({})).await;
    let runs = summary["tasks"].as_array().unwrap();
    assert!(!runs.is_empty(), "{summary}");
    assert!(runs.iter().all(|t| t["taskId"].is_string()));
    assert!(summary["from"].is_string() && summary["to"].is_string());

    // Plugin-side semantic check: a malformed timestamp.
    let message = expect_invalid(
        env.call("cw-rmm-get-tasks-summary", json!({"from": "yesterday"}))
            .await,
        "from",
    );
    assert!(message.contains("RFC 3339"), "{message}");
    expect_not_found(
        env.call(
            "cw-rmm-get-tasks-summary",
            json!({"endpointId": UNKNOWN_ID}),
        )
        .await,
    );
}

/// Polls `cw-rmm-get-task-results` until the run is done.
async fn wait_for_results(env: &TestEnv, task_id: &str) -> Value {
    poll_until(
        Duration::from_secs(15),
        Duration::from_millis(50),
        || async {
            let results = env
                .ok("cw-rmm-get-task-results", json!({"taskId": task_id}))
                .await;
            (results["done"] == true).then_some(results)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_task_then_results_until_done() {
    let env = TestEnv::start().await;
    let task = env
        .ok_approved(
            "cw-rmm-run-task",
            json!({
                "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
                "targets": [seed::MARIA_LAPTOP_ID],
                "parameters": {"drive": "C:", "minFileAgeDays": 7},
                "name": "e2e disk cleanup"
            }),
        )
        .await;
    let task_id = task["taskId"].as_str().expect("taskId").to_string();
    assert_eq!(task["targetCount"], 1);
    assert_eq!(task["schedule"]["type"], "now");

    // Exactly one schedule request went out, with the parameters as a JSON-encoded string.
    let posts = env.requests_to("POST", "/schedule-tasks");
    assert_eq!(posts.len(), 1);
    let body: Value = serde_json::from_str(posts[0].body.as_deref().unwrap()).unwrap();
    let params: Value =
        serde_json::from_str(body["parameters"].as_str().expect("parameters as a string")).unwrap();
    assert_eq!(params["drive"], "C:");

    let results = wait_for_results(&env, &task_id).await;
    assert_eq!(results["taskId"], task_id.as_str());
    assert_eq!(results["status"], "Success", "{results}");
    assert_eq!(results["counts"]["success"], 1);
    let result = &results["results"][0];
    assert_eq!(result["endpointId"], seed::MARIA_LAPTOP_ID);
    assert_eq!(result["status"], "Success");
    let output = result["output"].as_str().unwrap();
    assert!(output.contains("Disk Cleanup completed on C:"), "{output}");

    expect_not_found(
        env.call("cw-rmm-get-task-results", json!({"taskId": UNKNOWN_ID}))
            .await,
    );
    // run-task error paths: no targets (plugin), unknown template (upstream 400).
    expect_invalid(
        env.call_approved(
            "cw-rmm-run-task",
            json!({"templateId": seed::DISK_CLEANUP_SCRIPT_ID}),
        )
        .await,
        "targets",
    );
    let err = env
        .call_approved(
            "cw-rmm-run-task",
            json!({"templateId": UNKNOWN_ID, "targets": [seed::MARIA_LAPTOP_ID]}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            tool_error(&err),
            Some(toolhost_sandbox::ToolError::Upstream { status: 400, .. })
                | Some(toolhost_sandbox::ToolError::NotFound { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(UNKNOWN_ID), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_list_page_and_get() {
    let env = TestEnv::start().await;
    let page = env.ok("cw-rmm-list-tickets", json!({"limit": 3})).await;
    assert_eq!(page["count"], 3);
    assert_eq!(page["totalCount"], seed::SEEDED_TICKET_COUNT);
    let ids = strings(&page["tickets"], "ticketId");
    assert_eq!(ids.len(), 3);

    let all = env.ok("cw-rmm-list-tickets", json!({})).await;
    assert_eq!(all["count"], seed::SEEDED_TICKET_COUNT);
    let summaries = strings(&all["tickets"], "summary");
    assert!(
        summaries.iter().any(|s| s.contains("DC01")),
        "{summaries:?}"
    );

    let contoso = env
        .ok(
            "cw-rmm-list-tickets",
            json!({"companyId": seed::CONTOSO_ID}),
        )
        .await;
    assert!(contoso["count"].as_u64().unwrap() > 0);
    assert!(strings(&contoso["tickets"], "companyId")
        .iter()
        .all(|c| *c == seed::CONTOSO_ID));

    let ticket = env
        .ok("cw-rmm-get-ticket", json!({"ticketId": ids[0]}))
        .await;
    assert_eq!(ticket["ticketId"], ids[0]);
    assert_eq!(ticket["summary"], page["tickets"][0]["summary"]);

    expect_not_found(
        env.call("cw-rmm-get-ticket", json!({"ticketId": UNKNOWN_ID}))
            .await,
    );
    expect_invalid(
        env.call("cw-rmm-list-tickets", json!({"sortBy": "color"}))
            .await,
        "sortBy",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_ticket_then_get_it() {
    let env = TestEnv::start().await;
    let created = env
        .ok_approved(
            "cw-rmm-create-ticket",
            json!({
                "summary": "DC01 C: nearly full",
                "description": "Created by the e2e suite.",
                "board": "Service Desk",
                "source": "API",
                "priority": "High",
                "companyId": seed::CONTOSO_ID,
                "endpointIds": [seed::DC01_ID]
            }),
        )
        .await;
    let id = created["ticketId"].as_str().expect("ticketId").to_string();
    assert!(created["number"].is_string() || created["number"].is_number());
    assert_eq!(created["summary"], "DC01 C: nearly full");

    let fetched = env.ok("cw-rmm-get-ticket", json!({"ticketId": id})).await;
    assert_eq!(fetched["ticketId"], id.as_str());
    assert_eq!(fetched["summary"], "DC01 C: nearly full");
    assert_eq!(fetched["number"], created["number"]);

    let listed = env.ok("cw-rmm-list-tickets", json!({"limit": 100})).await;
    assert_eq!(listed["totalCount"], seed::SEEDED_TICKET_COUNT + 1);

    let message = expect_invalid(
        env.call_approved(
            "cw-rmm-create-ticket",
            json!({"summary": "s", "description": "d", "board": "nope", "source": "API"}),
        )
        .await,
        "board",
    );
    assert!(message.contains("Service Desk"), "{message}");
    expect_invalid(
        env.call_approved(
            "cw-rmm-create-ticket",
            json!({"summary": "s", "description": "d", "board": "Service Desk"}),
        )
        .await,
        "source",
    );
    // Neither failed attempt created anything.
    assert_eq!(env.requests_to("POST", "/ticketing/tickets").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_tools_are_discovered_and_schedule_tasks() {
    let env = TestEnv::start().await;
    let tools = env.host.tools().await.unwrap();
    assert_eq!(tools.len(), SEEDED_TOOL_COUNT);
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"connectwise_rmm:cw-rmm-script-disk-cleanup"));
    // Inactive scripts are listed by the API but are not tools.
    assert!(
        !names.iter().any(|n| n.contains("clear-browser-cache")),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("legacy-defrag")),
        "{names:?}"
    );
    let script = tools
        .iter()
        .find(|t| t.name.ends_with("cw-rmm-script-disk-cleanup"))
        .unwrap();
    assert_eq!(script.policy.as_str(), "approval");
    assert_eq!(
        script.descriptor.input_schema["properties"]["parameters"]["required"],
        json!(["drive"])
    );

    let task = env
        .ok_approved(
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "D:"}, "targets": [seed::DC01_ID], "schedule": {"type": "now"}}),
        )
        .await;
    assert_eq!(task["templateId"], seed::DISK_CLEANUP_SCRIPT_ID);
    assert_eq!(task["targetCount"], 1);
    let task_id = task["taskId"].as_str().unwrap().to_string();
    let results = wait_for_results(&env, &task_id).await;
    assert_eq!(results["status"], "Success", "{results}");
    assert!(results["results"][0]["output"]
        .as_str()
        .unwrap()
        .contains("D:"));

    // The same script on a laptop without a D: drive fails, and the results say why.
    let task = env
        .ok_approved(
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "D:"}, "targets": [seed::MARIA_LAPTOP_ID], "schedule": {"type": "now"}}),
        )
        .await;
    let failed = wait_for_results(&env, task["taskId"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "Failed", "{failed}");
    assert!(failed["results"][0]["errors"]
        .as_str()
        .unwrap()
        .contains("D:"));

    // Default schedule of a script tool: the next agent check-in.
    let later = env
        .ok_approved(
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "C:"}, "targets": [seed::OFFLINE_DESKTOP_ID]}),
        )
        .await;
    assert_eq!(later["schedule"]["type"], "next-check-in");

    expect_invalid(
        env.call_approved(
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "nope"}, "targets": [seed::MARIA_LAPTOP_ID]}),
        )
        .await,
        "parameters.drive",
    );
    expect_invalid(
        env.call_approved(
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "C:"}}),
        )
        .await,
        "targets",
    );
}
