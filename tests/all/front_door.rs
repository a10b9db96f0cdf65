//! The host's front door: approval, argument validation, unknown tools, no connection.

use e2e::*;
use toolhost_host::{Caller, DeferApprovals, HostError};
use toolhost_sandbox::{CallContext, CallFailure, ToolError};

fn writes(env: &TestEnv) -> usize {
    env.requests_to("POST", "/schedule-tasks").len() + env.requests_to("POST", "/tickets").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_tools_refuse_to_run_unapproved_and_send_nothing() {
    let env = TestEnv::start().await;
    let before = env.sim.requests().len();
    let cases = [
        (
            "cw-rmm-run-task",
            json!({"templateId": seed::DISK_CLEANUP_SCRIPT_ID, "targets": [seed::MARIA_LAPTOP_ID], "parameters": {"drive": "C:"}}),
        ),
        (
            "cw-rmm-create-ticket",
            json!({"summary": "s", "description": "d", "board": "Service Desk", "source": "API"}),
        ),
        (
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "C:"}, "targets": [seed::MARIA_LAPTOP_ID]}),
        ),
        (
            "connectwise_rmm:cw-rmm-run-task",
            json!({"templateId": seed::DISK_CLEANUP_SCRIPT_ID, "targets": [seed::DC01_ID], "parameters": {"drive": "C:"}}),
        ),
    ];
    for (tool, args) in cases {
        match env.call(tool, args).await {
            Err(HostError::ApprovalRequired { tool: named, .. }) => {
                assert!(named.ends_with(tool.trim_start_matches("connectwise_rmm:")));
                assert!(named.starts_with("connectwise_rmm:"), "{named}");
            }
            other => panic!("{tool} without approval: expected ApprovalRequired, got {other:?}"),
        }
    }
    // Arguments are validated before an approval is recorded: nobody is asked to approve
    // a call that could not run.
    let invalid = env
        .call("cw-rmm-create-ticket", json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(invalid, HostError::InvalidArguments { .. }),
        "{invalid:?}"
    );
    let err = env
        .call(
            "cw-rmm-create-ticket",
            json!({"summary": "s", "description": "d", "board": "Service Desk", "source": "API"}),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("a person other than the requester must approve it"),
        "{err}"
    );
    // Only the previews' reads reached the API, and certainly no write.
    assert!(
        non_reads_since(&env.sim, before).is_empty(),
        "{:?}",
        env.sim.requests()
    );
    assert_eq!(writes(&env), 0);

    // The same call, approved, does go out.
    env.ok_approved(
        "cw-rmm-run-task",
        json!({"templateId": seed::DISK_CLEANUP_SCRIPT_ID, "targets": [seed::MARIA_LAPTOP_ID], "parameters": {"drive": "C:"}}),
    )
    .await;
    assert_eq!(env.requests_to("POST", "/schedule-tasks").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_checks_arguments_against_the_schema_before_the_plugin_runs() {
    let env = TestEnv::start().await;
    let before = env.sim.requests().len();
    // Missing required field.
    let message = expect_invalid(env.call("cw-rmm-get-device", json!({})).await, "endpointId");
    assert!(message.contains("endpointId"), "{message}");
    // Wrong type.
    expect_invalid(
        env.call("cw-rmm-list-devices", json!({"limit": "ten"}))
            .await,
        "limit",
    );
    // Unknown field.
    expect_invalid(
        env.call("cw-rmm-list-companies", json!({"bogus": 1})).await,
        "bogus",
    );
    // Nested field of a script's parameters.
    expect_invalid(
        env.call_approved(
            "cw-rmm-script-disk-cleanup",
            json!({"parameters": {"drive": "C:", "minFileAgeDays": 99999}, "targets": [seed::MARIA_LAPTOP_ID]}),
        )
        .await,
        "parameters.minFileAgeDays",
    );
    // Not an object at all, and not JSON at all.
    for raw in ["[1, 2]", "{oops"] {
        match env
            .host
            .call(
                "cw-rmm-list-companies",
                raw,
                &Caller::new("e2e", None),
                &DeferApprovals,
            )
            .await
        {
            Err(HostError::InvalidArguments { error, .. }) => {
                assert_eq!(error.field, "(arguments)")
            }
            other => panic!("{raw}: expected InvalidArguments, got {other:?}"),
        }
    }
    // Every one of these was refused by the host: the plugin made no request.
    assert_eq!(env.sim.requests().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_checks_what_a_schema_cannot_say() {
    let env = TestEnv::start().await;
    let message = expect_invalid(
        env.call_approved(
            "cw-rmm-run-task",
            json!({
                "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
                "targets": [seed::MARIA_LAPTOP_ID],
                "parameters": {"drive": "C:"},
                "schedule": {"type": "once"}
            }),
        )
        .await,
        "schedule.at",
    );
    assert!(message.contains("at"), "{message}");
    assert_eq!(env.requests_to("POST", "/schedule-tasks").len(), 0);
    // The error is the plugin's, typed as invalid input (not a trap, not a host refusal).
    let err = env
        .call("cw-rmm-get-tasks-summary", json!({"to": "tomorrow"}))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            HostError::Call {
                failure: CallFailure::Tool(ToolError::InvalidInput { field, .. }),
                ..
            } if field == "to"
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tools_are_refused_by_the_host_and_by_the_plugin() {
    let env = TestEnv::start().await;
    match env.call("cw-rmm-list-device", json!({})).await {
        Err(HostError::UnknownTool { name, suggestion }) => {
            assert_eq!(name, "cw-rmm-list-device");
            assert_eq!(
                suggestion.as_deref(),
                Some("connectwise_rmm:cw-rmm-list-devices")
            );
        }
        other => panic!("expected UnknownTool, got {other:?}"),
    }
    assert!(matches!(
        env.call("other_plugin:cw-rmm-list-devices", json!({}))
            .await,
        Err(HostError::UnknownTool { .. })
    ));
    // An inactive script is not a tool.
    assert!(matches!(
        env.call_approved(
            "cw-rmm-script-clear-browser-cache",
            json!({"parameters": {}, "targets": [seed::MARIA_LAPTOP_ID]})
        )
        .await,
        Err(HostError::UnknownTool { .. })
    ));

    // Past the host, straight into the component: the plugin itself says not-found.
    let outcome = env
        .host
        .runtime()
        .call_tool(CallContext::offline(), "no-such-tool", "{}")
        .await;
    match outcome.result {
        Err(CallFailure::Tool(ToolError::NotFound { message })) => {
            assert!(message.contains("no-such-tool"), "{message}")
        }
        other => panic!("expected the plugin's not-found, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_a_connection_says_how_to_connect() {
    let home = TempDir::new("unconnected");
    let host = open_host(host_config(home.path(), &plugin_wasm())).await;
    assert!(!host.is_connected());
    assert_eq!(host.token_mints(), 0);
    // Static tools are listed without a connection; tenant script tools are not.
    let tools = host.tools().await.unwrap();
    assert_eq!(tools.len(), STATIC_TOOL_COUNT);

    let err = host
        .call(
            "cw-rmm-list-companies",
            "{}",
            &Caller::new("e2e", None),
            &DeferApprovals,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::NotConnected), "{err:?}");
    assert!(err.to_string().contains("toolhost connect"), "{err}");
    assert_eq!(err.kind(), "not-connected");
    // Nothing was written to the home directory.
    assert!(!home.path().join("connection.json").exists());
}
