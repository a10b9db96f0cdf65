//! The approval property: across generated sequences of calls and approval decisions, no
//! upstream write ever happens without an approval by a person other than the requester.
//! Writes (`POST` of a task or a ticket, in the simulator's request log) equal, in number
//! and in content, the calls approved when asked plus the pending approvals `approve()` ran;
//! each matches exactly one approved run in the audit log whose approver is not the
//! requester. Everything else (deferred, denied, double, late, bogus, racing and
//! self-approvals, in-line or of a pending call) writes nothing.
//!
//! Each case runs against its own simulator and home; cases and steps are bounded.

use e2e::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use toolhost_governance::ApprovalError;
use toolhost_governance::{AuditDecision, AuditOutcome};
use toolhost_host::{DeferApprovals, HostError};

/// Who makes every call (the test support's caller).
const REQUESTER: &str = "e2e";

/// Over all cases: writes seen, and approvals refused (double, late, racing, denied).
static WRITES: AtomicUsize = AtomicUsize::new(0);
static REFUSED_APPROVALS: AtomicUsize = AtomicUsize::new(0);
/// Over all cases: times the requester tried to approve its own call.
static SELF_APPROVALS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, Copy)]
enum Tool {
    RunTask,
    CreateTicket,
    /// Script tools: classified approval (destructive verbs), hinted approval.
    Reboot,
    Uninstall,
    /// Auto: runs, writes nothing.
    ListCompanies,
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    Defer,
    Deny,
    Approve,
    /// The one asked in-line answers "approve" as the requester itself.
    ApproveAsRequester,
}

#[derive(Debug, Clone)]
enum Step {
    Call(Tool, Answer),
    /// Approve the n-th approval ever created (mod their number): pending, executed or denied.
    Approve(usize),
    Deny(usize),
    /// Two approvals of the same id at the same time.
    RaceApprove(usize),
    /// Approve an id that names no approval.
    ApproveBogus,
    /// The requester approves the n-th approval ever created, its own.
    SelfApprove(usize),
}

fn step() -> impl Strategy<Value = Step> {
    let tool = prop_oneof![
        Just(Tool::RunTask),
        Just(Tool::CreateTicket),
        Just(Tool::Reboot),
        Just(Tool::Uninstall),
        Just(Tool::ListCompanies),
    ];
    let answer = prop_oneof![
        3 => Just(Answer::Defer),
        1 => Just(Answer::Deny),
        1 => Just(Answer::Approve),
        1 => Just(Answer::ApproveAsRequester),
    ];
    prop_oneof![
        5 => (tool, answer).prop_map(|(t, a)| Step::Call(t, a)),
        3 => (0..64usize).prop_map(Step::Approve),
        1 => (0..64usize).prop_map(Step::Deny),
        2 => (0..64usize).prop_map(Step::RaceApprove),
        1 => Just(Step::ApproveBogus),
        2 => (0..64usize).prop_map(Step::SelfApprove),
    ]
}

/// The tool and arguments of a call carrying `marker` where the upstream body shows it.
fn call_of(tool: Tool, marker: &str) -> (&'static str, Value, bool) {
    match tool {
        Tool::RunTask => ("cw-rmm-run-task", run_task_args(marker), true),
        Tool::CreateTicket => ("cw-rmm-create-ticket", ticket_args(marker), true),
        Tool::Reboot => (
            "cw-rmm-script-reboot-endpoint",
            json!({"parameters": {"message": marker, "delaySeconds": 0}, "targets": [seed::MARIA_LAPTOP_ID]}),
            true,
        ),
        Tool::Uninstall => (
            "cw-rmm-script-uninstall-software",
            json!({"parameters": {"applicationName": marker}, "targets": [seed::MARIA_LAPTOP_ID]}),
            true,
        ),
        Tool::ListCompanies => ("cw-rmm-list-companies", json!({}), false),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    Denied,
    Executed,
}

struct Known {
    id: String,
    marker: String,
    state: State,
}

/// The marker a write carries, checked against the body's shape for its kind.
fn marker_of(write: &simulator::RecordedRequest) -> Result<String, TestCaseError> {
    let body: Value = serde_json::from_str(write.body.as_deref().unwrap_or(""))
        .map_err(|e| TestCaseError::fail(format!("write body is not JSON: {e}")))?;
    if write.path.ends_with("/tickets") {
        return Ok(body["summary"].as_str().unwrap_or_default().to_string());
    }
    let name = body["name"].as_str().unwrap_or_default();
    if name.starts_with("pm") {
        prop_assert_eq!(&body["templateID"], seed::DISK_CLEANUP_SCRIPT_ID);
        prop_assert_eq!(&body["targets"], &json!([seed::MARIA_LAPTOP_ID]));
        return Ok(name.to_string());
    }
    let params: Value = serde_json::from_str(body["parameters"].as_str().unwrap_or(""))
        .map_err(|e| TestCaseError::fail(format!("parameters are not JSON: {e}")))?;
    let marker = params["message"]
        .as_str()
        .or(params["applicationName"].as_str())
        .unwrap_or_default();
    prop_assert_eq!(&body["targets"], &json!([seed::MARIA_LAPTOP_ID]));
    Ok(marker.to_string())
}

fn is_refused_approval(result: &Result<toolhost_host::CallReport, HostError>) -> bool {
    REFUSED_APPROVALS.fetch_add(1, Ordering::Relaxed);
    matches!(
        result,
        Err(HostError::Approval(
            ApprovalError::AlreadyExecuted { .. }
                | ApprovalError::AlreadyExecuting { .. }
                | ApprovalError::Denied { .. }
        ))
    )
}

async fn run_case(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let env = TestEnv::start().await;
    let mut known: Vec<Known> = Vec::new();
    let mut expected: Vec<String> = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let marker = format!("pm{n}x");
        match *step {
            Step::Call(tool, answer) => {
                let (name, args, writes) = call_of(tool, &marker);
                let approve = approve_as("prop");
                let deny = deny_as("prop");
                let own = approve_as(REQUESTER);
                let approver: &dyn toolhost_host::Approver = match answer {
                    Answer::Defer => &DeferApprovals,
                    Answer::Deny => &deny,
                    Answer::Approve => &approve,
                    Answer::ApproveAsRequester => {
                        SELF_APPROVALS.fetch_add(usize::from(writes), Ordering::Relaxed);
                        &own
                    }
                };
                let result = env.call_as(name, args, None, approver).await;
                match (writes, answer, result) {
                    (false, _, Ok(_)) => {}
                    // The requester's own "approve" is no approval: the call is held instead.
                    (
                        true,
                        Answer::Defer | Answer::ApproveAsRequester,
                        Err(HostError::ApprovalRequired { id, .. }),
                    ) => known.push(Known {
                        id,
                        marker,
                        state: State::Pending,
                    }),
                    (true, Answer::Deny, Err(HostError::ApprovalDenied { .. })) => {}
                    (true, Answer::Approve, Ok(_)) => expected.push(marker),
                    (_, _, other) => {
                        return Err(TestCaseError::fail(format!(
                            "step {n} {step:?}: unexpected {other:?}"
                        )))
                    }
                }
            }
            Step::Approve(i) | Step::Deny(i) | Step::RaceApprove(i) | Step::SelfApprove(i)
                if known.is_empty() =>
            {
                let _ = i;
                let result = env
                    .host
                    .approve("00000000-0000-4000-8000-000000000000", "prop")
                    .await;
                prop_assert!(result.is_err(), "step {n}: approved nothing: {result:?}");
            }
            Step::Approve(i) => {
                let at = i % known.len();
                let k = &mut known[at];
                let result = env.host.approve(&k.id, "prop").await;
                if k.state == State::Pending {
                    prop_assert!(result.is_ok(), "step {n} {step:?}: {result:?}");
                    k.state = State::Executed;
                    expected.push(k.marker.clone());
                } else {
                    prop_assert!(
                        is_refused_approval(&result),
                        "step {n} {step:?} of a {:?} approval: {result:?}",
                        k.state
                    );
                }
            }
            Step::Deny(i) => {
                let at = i % known.len();
                let k = &mut known[at];
                let result = env.host.deny(&k.id, "prop").await;
                if k.state == State::Pending {
                    prop_assert!(result.is_ok(), "step {n} {step:?}: {result:?}");
                    k.state = State::Denied;
                } else {
                    prop_assert!(result.is_err(), "step {n}: denied a {:?} approval", k.state);
                }
            }
            Step::RaceApprove(i) => {
                let at = i % known.len();
                let k = &mut known[at];
                let (a, b) = tokio::join!(
                    env.host.approve(&k.id, "prop-a"),
                    env.host.approve(&k.id, "prop-b")
                );
                let wins = usize::from(a.is_ok()) + usize::from(b.is_ok());
                if k.state == State::Pending {
                    prop_assert_eq!(wins, 1, "step {}: {:?} / {:?}", n, a, b);
                    k.state = State::Executed;
                    expected.push(k.marker.clone());
                } else {
                    prop_assert_eq!(wins, 0, "step {}: {:?} / {:?}", n, a, b);
                }
                for r in [&a, &b].into_iter().filter(|r| r.is_err()) {
                    prop_assert!(is_refused_approval(r), "step {}: {:?}", n, r);
                }
            }
            Step::SelfApprove(i) => {
                SELF_APPROVALS.fetch_add(1, Ordering::Relaxed);
                let k = &known[i % known.len()];
                let result = env.host.approve(&k.id, REQUESTER).await;
                prop_assert!(
                    matches!(&result, Err(HostError::SelfApproval { id, requester }) if *id == k.id && requester == REQUESTER),
                    "step {n} {step:?} of a {:?} approval: {result:?}",
                    k.state
                );
            }
            Step::ApproveBogus => {
                let bogus = format!("{n:08x}-dead-4000-8000-000000000000");
                let result = env.host.approve(&bogus, "prop").await;
                prop_assert!(
                    matches!(result, Err(HostError::Approval(ApprovalError::NotFound(_)))),
                    "step {n}: {result:?}"
                );
            }
        }
        // After every step: the writes are exactly the approved calls, with their arguments.
        let mut written = env
            .writes()
            .iter()
            .map(marker_of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut wanted = expected.clone();
        written.sort();
        wanted.sort();
        prop_assert_eq!(&written, &wanted, "after step {} {:?}", n, step);
    }
    WRITES.fetch_add(expected.len(), Ordering::Relaxed);
    // Every approval's recorded state agrees with the model, and none that ran was
    // approved by its requester.
    let listed = env.host.list_approvals(&Default::default()).await.unwrap();
    prop_assert_eq!(listed.len(), known.len());
    for k in &known {
        let a = listed.iter().find(|a| a.id == k.id).unwrap();
        let state = match &a.state {
            toolhost_governance::ApprovalState::Pending => State::Pending,
            toolhost_governance::ApprovalState::Denied { .. } => State::Denied,
            toolhost_governance::ApprovalState::Executing { by, .. }
            | toolhost_governance::ApprovalState::Executed { by, .. } => {
                prop_assert_ne!(by, &a.requester, "{} ran on its requester's approval", k.id);
                State::Executed
            }
        };
        prop_assert_eq!(state, k.state, "{}", k.id);
    }
    approved_runs_match_writes(&env, &listed).await
}

/// Every write matches exactly one approved run in the audit log, by an approver who is
/// not the requester (and, for a held call, the approval's recorded approver).
async fn approved_runs_match_writes(
    env: &TestEnv,
    listed: &[toolhost_governance::Approval],
) -> Result<(), TestCaseError> {
    let mut runs = Vec::new();
    let mut ran_approvals = Vec::new();
    for record in env.audit().await {
        if record.decision != AuditDecision::Approved || record.outcome != AuditOutcome::Ok {
            continue;
        }
        let approver = approver_in(&record.rule)
            .ok_or_else(|| TestCaseError::fail(format!("no approver in {:?}", record.rule)))?;
        prop_assert_eq!(&record.caller, REQUESTER);
        prop_assert_ne!(
            approver,
            record.caller.as_str(),
            "self-approved: {:?}",
            record.rule
        );
        if let Some(id) = &record.approval_id {
            let approval = listed.iter().find(|a| &a.id == id);
            let by = match approval.map(|a| &a.state) {
                Some(toolhost_governance::ApprovalState::Executed { by, .. }) => by.as_str(),
                other => return Err(TestCaseError::fail(format!("{id} ran as {other:?}"))),
            };
            prop_assert_eq!(by, approver, "{}", id);
            ran_approvals.push(id.clone());
        }
        runs.push(marker_in(&record.arguments_redacted).unwrap_or_default());
    }
    let ran = ran_approvals.len();
    ran_approvals.sort();
    ran_approvals.dedup();
    prop_assert_eq!(ran_approvals.len(), ran, "an approval ran twice");
    let mut written = env
        .writes()
        .iter()
        .map(marker_of)
        .collect::<Result<Vec<_>, _>>()?;
    written.sort();
    runs.sort();
    prop_assert_eq!(written, runs);
    Ok(())
}

/// The approver an approved run's audit rule names: `approved by <by> when asked (...)` or
/// `approval <id> approved by <by>`.
fn approver_in(rule: &str) -> Option<&str> {
    let by = rule.split_once("approved by ")?.1;
    Some(by.split_once(" when asked (").map_or(by, |(by, _)| by))
}

/// The case's marker (`pm<n>x`) among a call's arguments.
fn marker_in(arguments: &Value) -> Option<String> {
    match arguments {
        Value::String(s)
            if s.starts_with("pm")
                && s.ends_with('x')
                && s[2..s.len() - 1].chars().all(|c| c.is_ascii_digit()) =>
        {
            Some(s.clone())
        }
        Value::Array(items) => items.iter().find_map(marker_in),
        Value::Object(map) => map.values().find_map(marker_in),
        _ => None,
    }
}

#[test]
fn no_upstream_write_without_a_matching_approval() {
    let mut runner = TestRunner::new(Config {
        cases: 16,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    runner
        .run(&prop::collection::vec(step(), 1..=12), |steps| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(run_case(steps))
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let (writes, refused, own) = (
        WRITES.load(Ordering::Relaxed),
        REFUSED_APPROVALS.load(Ordering::Relaxed),
        SELF_APPROVALS.load(Ordering::Relaxed),
    );
    eprintln!(
        "16 cases in {:?}: {writes} approved writes, {refused} refused approvals, {own} self-approvals",
        started.elapsed()
    );
    // The generator must reach every side of the property.
    assert!(
        writes > 0 && refused > 0 && own > 0,
        "{writes} writes, {refused} refusals, {own} self-approvals"
    );
}
