//! Approvals end to end: an approval-needed call does nothing upstream and leaves a pending
//! approval; approving runs it exactly once with exactly the stored arguments; denied and
//! expired approvals never run; approvals survive a restart; the CLI's side of all of it.

use e2e::*;
use simulator::{Simulator, DEMO_CLIENT_SECRET};
use std::time::Duration;
use toolhost_governance::{ApprovalError, ApprovalFilter, ApprovalState, ApprovalStatus};
use toolhost_governance::{AuditDecision, AuditOutcome};
use toolhost_host::{DeferApprovals, HostError};

const RUN_TASK: &str = "connectwise_rmm:cw-rmm-run-task";
const CREATE_TICKET: &str = "connectwise_rmm:cw-rmm-create-ticket";

fn all() -> ApprovalFilter {
    ApprovalFilter::default()
}

#[track_caller]
fn approval_error<T: std::fmt::Debug>(result: Result<T, HostError>) -> ApprovalError {
    match result {
        Err(HostError::Approval(e)) => e,
        other => panic!("expected an approval error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_needed_call_does_nothing_upstream_and_records_the_request() {
    let env = TestEnv::start().await;
    let before = env.sim.requests().len();
    let args = run_task_args("e2e pending");
    let started = chrono::Utc::now();
    let err = env
        .call_as("cw-rmm-run-task", args.clone(), None, &DeferApprovals)
        .await
        .unwrap_err();
    let message = err.to_string();
    let id = pending_id::<()>(Err(err));
    assert!(message.contains(&id), "{message}");
    // It says a person must approve and where; it never hands the agent a command to run.
    assert!(
        message.contains("a person other than the requester must approve it")
            && message.contains("admin UI")
            && !message.contains("toolhost approvals approve"),
        "{message}"
    );
    // Only the preview's reads went upstream (what the person is shown): no write.
    assert!(env.sim.requests().len() > before);
    assert!(
        non_reads_since(&env.sim, before).is_empty(),
        "{:?}",
        env.sim.requests()
    );

    let pending = env
        .host
        .list_approvals(&ApprovalFilter::pending())
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let a = &pending[0];
    assert_eq!(a.id, id);
    assert_eq!(a.tool, RUN_TASK);
    assert_eq!(a.arguments, serde_json::to_string(&args).unwrap());
    assert_eq!(a.arguments_value().unwrap(), args);
    assert_eq!(a.requester, "e2e");
    assert_eq!(a.role, "Technician");
    assert_eq!(a.state, ApprovalState::Pending);
    assert!(a.preview.is_some(), "{a:?}");
    assert!(a.created_at >= started - chrono::Duration::seconds(1));
    assert!(a.created_at <= chrono::Utc::now());
    assert_eq!(a.expires_at - a.created_at, chrono::Duration::hours(24));
    assert_eq!(a.status(chrono::Utc::now()), ApprovalStatus::Pending);

    let audit = env.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].decision, AuditDecision::Approval);
    assert_eq!(audit[0].outcome, AuditOutcome::PendingApproval);
    assert_eq!(audit[0].approval_id.as_deref(), Some(id.as_str()));
    assert_eq!(audit[0].arguments_sha256, a.arguments_sha256);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_runs_exactly_once_with_the_exact_arguments_and_only_that_call() {
    let env = TestEnv::start().await;
    let task_args = run_task_args("e2e approved alpha");
    let ticket = ticket_args("e2e approved beta");
    let a = pending_id(
        env.call_as("cw-rmm-run-task", task_args.clone(), None, &DeferApprovals)
            .await,
    );
    let b = pending_id(
        env.call_as(
            "cw-rmm-create-ticket",
            ticket.clone(),
            None,
            &DeferApprovals,
        )
        .await,
    );
    assert_ne!(a, b);
    assert!(env.writes().is_empty());

    let report = env.host.approve(&a, "ops").await.expect("approving a");
    assert_eq!(report.tool, RUN_TASK);
    assert_eq!(report.approval_id.as_deref(), Some(a.as_str()));
    assert!(report.result["taskId"].is_string(), "{}", report.result);
    let writes = env.writes();
    assert_eq!(writes.len(), 1, "approving one call ran another");
    assert!(writes[0].path.ends_with("/schedule-tasks"));
    let body: serde_json::Value = serde_json::from_str(writes[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["templateID"], seed::DISK_CLEANUP_SCRIPT_ID);
    assert_eq!(body["name"], "e2e approved alpha");
    assert_eq!(body["targets"], json!([seed::MARIA_LAPTOP_ID]));
    let params: serde_json::Value =
        serde_json::from_str(body["parameters"].as_str().unwrap()).unwrap();
    assert_eq!(params, json!({"drive": "C:"}));
    // b is untouched by approving a.
    let b_now = env
        .host
        .list_approvals(&all())
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.id == b)
        .unwrap();
    assert_eq!(b_now.state, ApprovalState::Pending);

    // A second approval of a runs nothing.
    let again = approval_error(env.host.approve(&a, "ops").await);
    assert!(
        matches!(again, ApprovalError::AlreadyExecuted { .. }),
        "{again:?}"
    );
    assert!(again.to_string().contains("runs once"), "{again}");
    assert_eq!(env.writes().len(), 1);

    // A prefix of the id is enough, when it is unambiguous.
    let report = env.host.approve(&b[..8], "ops").await.expect("approving b");
    assert_eq!(report.tool, CREATE_TICKET);
    assert_eq!(report.result["summary"], "e2e approved beta");
    let writes = env.writes();
    assert_eq!(writes.len(), 2);
    assert!(writes[1].path.ends_with("/ticketing/tickets"));
    let body: serde_json::Value = serde_json::from_str(writes[1].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["summary"], "e2e approved beta");

    // Both are executed, by whom and with what outcome.
    for approval in env.host.list_approvals(&all()).await.unwrap() {
        match approval.state {
            ApprovalState::Executed { by, outcome, .. } => {
                assert_eq!(by, "ops");
                assert_eq!(outcome, "ok");
            }
            other => panic!("{} is {other:?}", approval.id),
        }
    }
    assert!(env
        .host
        .list_approvals(&ApprovalFilter::pending())
        .await
        .unwrap()
        .is_empty());
    let approved: Vec<_> = env
        .audit()
        .await
        .into_iter()
        .filter(|r| r.decision == AuditDecision::Approved)
        .collect();
    assert_eq!(approved.len(), 2);
    assert_eq!(approved[0].approval_id.as_deref(), Some(a.as_str()));
    assert_eq!(
        approved[0].caller, "e2e",
        "the run is recorded for the requester"
    );
    assert_eq!(approved[0].outcome, AuditOutcome::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_of_one_id_run_it_once() {
    let env = TestEnv::start().await;
    for round in 0..3 {
        let id = pending_id(
            env.call_as(
                "cw-rmm-create-ticket",
                ticket_args(&format!("e2e race {round}")),
                None,
                &DeferApprovals,
            )
            .await,
        );
        let (x, y, z) = tokio::join!(
            env.host.approve(&id, "ops-1"),
            env.host.approve(&id, "ops-2"),
            env.host.approve(&id, "ops-3")
        );
        let wins = [x.is_ok(), y.is_ok(), z.is_ok()]
            .iter()
            .filter(|ok| **ok)
            .count();
        assert_eq!(wins, 1, "{x:?} {y:?} {z:?}");
        for loser in [x, y, z].into_iter().filter(Result::is_err) {
            assert!(matches!(
                approval_error(loser),
                ApprovalError::AlreadyExecuting { .. } | ApprovalError::AlreadyExecuted { .. }
            ));
        }
        assert_eq!(env.writes().len(), round + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactive_answers_run_or_refuse_without_a_pending_approval() {
    let env = TestEnv::start().await;
    let err = env
        .call_as(
            "cw-rmm-create-ticket",
            ticket_args("e2e denied"),
            None,
            &deny_as("boss"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, HostError::ApprovalDenied { by, .. } if by == "boss"),
        "{err:?}"
    );
    assert!(env.writes().is_empty());
    let report = env
        .call_as(
            "cw-rmm-create-ticket",
            ticket_args("e2e asked and approved"),
            None,
            &approve_as("boss"),
        )
        .await
        .unwrap();
    assert_eq!(report.result["summary"], "e2e asked and approved");
    assert_eq!(env.writes().len(), 1);
    assert!(env.host.list_approvals(&all()).await.unwrap().is_empty());
    let audit = env.audit().await;
    assert_eq!(
        audit
            .iter()
            .map(|r| (r.decision, r.outcome))
            .collect::<Vec<_>>(),
        [
            (AuditDecision::Approval, AuditOutcome::Denied),
            (AuditDecision::Approved, AuditOutcome::Ok)
        ]
    );
    assert!(
        audit[1].rule.contains("approved by boss"),
        "{}",
        audit[1].rule
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_bogus_and_expired_approvals_never_run() {
    let env = TestEnv::configured(&plugin_wasm(), sim_config(), |c| {
        c.approval_ttl = Duration::from_secs(1);
    })
    .await;
    let denied = pending_id(
        env.call_as(
            "cw-rmm-run-task",
            run_task_args("e2e deny"),
            None,
            &DeferApprovals,
        )
        .await,
    );
    let approval = env.host.deny(&denied, "ops").await.expect("denying");
    assert!(matches!(approval.state, ApprovalState::Denied { ref by, .. } if by == "ops"));
    let err = approval_error(env.host.approve(&denied, "ops").await);
    assert!(matches!(err, ApprovalError::Denied { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot run"), "{err}");
    // Denying twice is refused too, and changes nothing.
    assert!(env.host.deny(&denied, "ops").await.is_err());

    // Ids that name no approval.
    let unknown = approval_error(
        env.host
            .approve("00000000-0000-4000-8000-000000000000", "ops")
            .await,
    );
    assert!(matches!(unknown, ApprovalError::NotFound(_)), "{unknown:?}");
    let garbage = approval_error(env.host.approve("not-an-id", "ops").await);
    assert!(
        matches!(garbage, ApprovalError::InvalidId(_)),
        "{garbage:?}"
    );

    let expired = pending_id(
        env.call_as(
            "cw-rmm-run-task",
            run_task_args("e2e expire"),
            None,
            &DeferApprovals,
        )
        .await,
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let listed = env.host.list_approvals(&all()).await.unwrap();
    let status = |id: &str| {
        listed
            .iter()
            .find(|a| a.id == id)
            .unwrap()
            .status(chrono::Utc::now())
    };
    assert_eq!(status(&expired), ApprovalStatus::Expired);
    assert_eq!(status(&denied), ApprovalStatus::Denied);
    assert!(env
        .host
        .list_approvals(&ApprovalFilter::pending())
        .await
        .unwrap()
        .is_empty());
    let err = approval_error(env.host.approve(&expired, "ops").await);
    assert!(matches!(err, ApprovalError::Expired { .. }), "{err:?}");
    assert!(env.writes().is_empty(), "{:?}", env.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_survive_a_restart_and_still_run_once() {
    let env = TestEnv::start().await;
    let args = ticket_args("e2e after restart");
    let id = pending_id(
        env.call_as("cw-rmm-create-ticket", args.clone(), None, &DeferApprovals)
            .await,
    );
    let restarted = env.reopen().await;
    let pending = restarted
        .list_approvals(&ApprovalFilter::pending())
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    assert_eq!(pending[0].arguments_value().unwrap(), args);
    let report = restarted.approve(&id, "ops").await.expect("approving");
    assert_eq!(report.result["summary"], "e2e after restart");
    assert_eq!(env.writes().len(), 1);
    // The first host sees it ran: it cannot run it again.
    let err = approval_error(env.host.approve(&id, "ops").await);
    assert!(
        matches!(err, ApprovalError::AlreadyExecuted { .. }),
        "{err:?}"
    );
    assert_eq!(env.writes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_cannot_outlive_a_tool_set_to_never() {
    let env = TestEnv::start().await;
    let id = pending_id(
        env.call_as(
            "cw-rmm-run-task",
            run_task_args("e2e now never"),
            None,
            &DeferApprovals,
        )
        .await,
    );
    env.host
        .set_policy(RUN_TASK, toolhost_governance::Mode::Never)
        .await
        .unwrap();
    let err = env.host.approve(&id, "ops").await.unwrap_err();
    assert!(matches!(err, HostError::Refused { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("policy.toml line 2"), "{text}");
    assert!(env.writes().is_empty());
    let last = env.audit().await.pop().unwrap();
    assert_eq!(last.decision, AuditDecision::Never);
    assert_eq!(last.approval_id.as_deref(), Some(id.as_str()));
}

// ---------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_defers_lists_approves_and_denies() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());

    let task = run_task_args("e2e cli task").to_string();
    let out = cli
        .run(&["call", "cw-rmm-run-task", "--args", &task], &[])
        .await;
    assert_eq!(out.code, Some(2), "{}", out.all());
    let first = out
        .stderr
        .split_whitespace()
        .find_map(|w| {
            let w = w.trim_matches(|c: char| !c.is_ascii_hexdigit() && c != '-');
            (w.len() == 36 && w.matches('-').count() == 4).then(|| w.to_string())
        })
        .unwrap_or_else(|| panic!("no approval id in: {}", out.stderr));
    assert!(
        out.stderr
            .contains("a person other than the requester must approve it")
            && !out.stderr.contains("approvals approve"),
        "{}",
        out.stderr
    );

    let ticket = ticket_args("e2e cli ticket").to_string();
    let out = cli
        .run(
            &["call", "cw-rmm-create-ticket", "--args", &ticket, "--json"],
            &[],
        )
        .await;
    assert_eq!(out.code, Some(2), "{}", out.all());
    let second = out.json()["error"]["approvalId"]
        .as_str()
        .unwrap_or_else(|| panic!("no approvalId in {}", out.stdout))
        .to_string();
    assert_eq!(out.json()["error"]["kind"], "approval-required");
    assert!(write_requests(&sim).is_empty());

    let list = cli.run(&["approvals", "list"], &[]).await;
    assert!(list.success(), "{}", list.all());
    for id in [&first, &second] {
        assert!(list.stdout.contains(id.as_str()), "{}", list.stdout);
    }
    assert!(list.stdout.contains("e2e cli task"), "{}", list.stdout);
    assert!(list.stdout.contains("as Technician"), "{}", list.stdout);

    // Approving is a person's act: a script (or an agent with a shell) is refused...
    let out = cli.run(&["approvals", "approve", &first], &[]).await;
    assert!(!out.success(), "{}", out.all());
    assert!(
        out.stderr.contains("interactive terminal") && out.stderr.contains("admin UI"),
        "{}",
        out.stderr
    );
    assert!(write_requests(&sim).is_empty());
    // ...a person at a terminal who does not type `approve` leaves it pending...
    let out = cli
        .run_at_terminal(&["approvals", "approve", &first], "yes\n")
        .await;
    assert!(out.success(), "{}", out.stdout);
    assert!(out.stdout.contains("stays pending"), "{}", out.stdout);
    // The person is shown what the call would do, as previewed when it was held.
    assert!(
        out.stdout.contains(&format!(
            "What it would do: Run \"{}\" on {} ({}) now",
            seed::DISK_CLEANUP_SCRIPT_NAME,
            seed::MARIA_LAPTOP_DEVICE_NAME,
            seed::CONTOSO_NAME
        )),
        "{}",
        out.stdout
    );
    assert!(write_requests(&sim).is_empty());
    // ...and one who sees the whole call and types `approve` runs it, once.
    let out = cli
        .run_at_terminal(&["approvals", "approve", &first], "approve\n")
        .await;
    assert!(out.success(), "{}", out.stdout);
    assert!(out.stdout.contains("e2e cli task"), "{}", out.stdout);
    assert!(out.stdout.contains(&first), "{}", out.stdout);
    assert_eq!(write_requests(&sim).len(), 1);
    let out = cli
        .run_at_terminal(&["approvals", "approve", &first], "approve\n")
        .await;
    assert!(!out.success(), "{}", out.stdout);
    assert!(out.stdout.contains("runs once"), "{}", out.stdout);

    let out = cli.run(&["approvals", "deny", &second], &[]).await;
    assert!(out.success(), "{}", out.all());
    assert!(out.stdout.contains("will not run"), "{}", out.stdout);
    let out = cli
        .run_at_terminal(&["approvals", "approve", &second], "approve\n")
        .await;
    assert!(!out.success(), "{}", out.stdout);
    assert!(out.stdout.contains("denied"), "{}", out.stdout);
    assert_eq!(write_requests(&sim).len(), 1);

    let list = cli.run(&["approvals", "list"], &[]).await;
    assert!(
        list.stdout.contains("No pending approvals."),
        "{}",
        list.stdout
    );
    let list = cli
        .run(&["approvals", "list", "--all", "--json"], &[])
        .await;
    let states: Vec<(String, String)> = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        states.contains(&(first.clone(), "executed".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&(second.clone(), "denied".into())),
        "{states:?}"
    );
}

/// A script tool's approval is bound to the script behind it: when the tenant renames its
/// scripts so that the tool's name now points at another template, approving runs nothing
/// and says the approval is void, instead of running the other script.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_script_voids_its_pending_approval_instead_of_redirecting_it() {
    let env = TestEnv::start().await;
    let args = json!({"parameters": {"drive": "C:"}, "targets": [seed::MARIA_LAPTOP_ID]});
    let id = pending_id(
        env.call_as("cw-rmm-script-disk-cleanup", args, None, &DeferApprovals)
            .await,
    );
    env.give_the_disk_cleanup_name_to_another_script().await;

    let err = env.host.approve(&id, "ops").await.unwrap_err();
    assert!(matches!(err, HostError::ToolChanged { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&id) && message.contains("void") && message.contains("renamed"),
        "{message}"
    );
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // Void for good: it cannot be approved again.
    assert!(env.host.approve(&id, "ops").await.is_err());
    assert!(env.writes().is_empty());
    let audit = env.audit().await;
    let last = audit.last().unwrap();
    assert_eq!(last.outcome, AuditOutcome::Refused);
    assert_eq!(last.approval_id.as_deref(), Some(id.as_str()));
}

/// The requester can never approve its own request: not through the library, and not by
/// answering its own question (an agent that declares it can answer approval questions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_cannot_approve_its_own_request() {
    let env = TestEnv::start().await;
    let args = run_task_args("e2e self approval");
    let agent = toolhost_host::Caller::new("mcp:eager-agent", None);
    // The agent answers "yes" to its own approval question: the call is kept for a person.
    let itself = toolhost_host::StaticApprover(toolhost_host::ApprovalAnswer::Approve {
        by: "mcp:eager-agent".into(),
    });
    let result = env
        .host
        .call("cw-rmm-run-task", &args.to_string(), &agent, &itself)
        .await;
    let id = pending_id(result);
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // Nor can it approve the pending request itself.
    let err = env.host.approve(&id, "mcp:eager-agent").await.unwrap_err();
    assert!(matches!(err, HostError::SelfApproval { .. }), "{err:?}");
    assert!(
        err.to_string().contains("never approve its own request"),
        "{err}"
    );
    assert!(env.writes().is_empty());
    // A person approves it.
    env.host
        .approve(&id, "ui:ops")
        .await
        .expect("a person approves");
    assert_eq!(env.writes().len(), 1);
}
