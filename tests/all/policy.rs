//! Policy end to end: default modes of static and script tools (never looser than the
//! plugin's hint), operator overrides by exact name and glob (most specific wins),
//! `policy set` taking effect at once, `never` refusals that name the policy line, a pattern
//! that cannot loosen a default of never (only the exact name can), and a malformed policy
//! file that refuses calls instead of allowing them.

use e2e::*;
use simulator::{Fault, FaultAction, PathMatch, Simulator, DEMO_CLIENT_SECRET};
use std::collections::BTreeMap;
use toolhost_governance::{AuditDecision, AuditOutcome};
use toolhost_governance::{DecisionSource, Mode};
use toolhost_host::{DeferApprovals, HostError};

const NS: &str = "connectwise_rmm:";

/// Every tool's (mode, explanation), by bare name.
async fn modes(env: &TestEnv) -> BTreeMap<String, (Mode, String, DecisionSource)> {
    env.host
        .policy_list()
        .await
        .expect("policy list")
        .into_iter()
        .map(|(t, d)| {
            (
                t.name.strip_prefix(NS).unwrap().to_string(),
                (d.mode, d.explanation, d.source),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_for_static_and_script_tools_with_the_reason() {
    let env = TestEnv::start().await;
    let modes = modes(&env).await;
    assert_eq!(modes.len(), SEEDED_TOOL_COUNT);
    for (tool, (mode, why, source)) in &modes {
        if tool.starts_with("cw-rmm-script-") {
            // The plugin has no opinion on a script (hint auto): the classifier alone decides,
            // so nothing is "raised by the plugin's hint".
            assert!(!why.contains("plugin's hint"), "{tool}: {why}");
            assert!(
                matches!(source, DecisionSource::Classifier { .. }),
                "{tool}: {source:?}"
            );
            assert!(why.contains("classifier: "), "{tool}: {why}");
        } else {
            let expected = if tool == "cw-rmm-run-task" || tool == "cw-rmm-create-ticket" {
                Mode::Approval
            } else {
                Mode::Auto
            };
            assert_eq!(*mode, expected, "{tool}: {why}");
            assert!(
                why.contains(&format!("plugin hint `{expected}`")),
                "{tool}: {why}"
            );
        }
        assert!(
            why.contains(&format!("toolhost policy set {NS}{tool} <mode>")),
            "{tool}: {why}"
        );
    }
    let why = |tool: &str| modes[tool].1.clone();
    assert!(why("cw-rmm-script-uninstall-software").contains("destructive verb `uninstall`"));
    assert!(why("cw-rmm-script-reboot-endpoint").contains("destructive verb `reboot`"));
    assert!(why("cw-rmm-script-restart-print-spooler").contains("destructive verb `restart`"));
    // Read-only by name: auto, and `policy list` says why.
    for (tool, verb) in [
        ("cw-rmm-script-check-disk-space", "check"),
        ("cw-rmm-script-collect-event-logs", "collect"),
        ("cw-rmm-script-linux-disk-usage-report", "report"),
    ] {
        assert_eq!(modes[tool].0, Mode::Auto, "{tool}: {}", why(tool));
        assert!(
            why(tool).contains(&format!("classifier: read-only verb `{verb}`")),
            "{tool}: {}",
            why(tool)
        );
    }
    // A French reset ("Réinitialiser ...") is a reset: approval, with the classifier's reason.
    let french = "cw-rmm-script-reinitialiser-le-spouleur-d-impression";
    assert_eq!(modes[french].0, Mode::Approval, "{}", why(french));
    assert!(
        why(french).contains("classifier: destructive verb `reinitialiser`"),
        "{}",
        why(french)
    );
    // Unknown or changing effects still need approval.
    assert_eq!(modes["cw-rmm-script-flush-dns-cache"].0, Mode::Approval);
    assert_eq!(modes["cw-rmm-script-disk-cleanup"].0, Mode::Approval);
    // The tool list shows the same modes.
    for tool in env.host.tools().await.unwrap() {
        let bare = tool.name.strip_prefix(NS).unwrap();
        assert_eq!(tool.policy, modes[bare].0, "{bare}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_by_name_and_glob_most_specific_wins() {
    let env = TestEnv::start().await;
    let file = env.host.config().policy_file.clone();
    std::fs::write(
        &file,
        format!(
            "[tools]\n\
             \"{NS}cw-rmm-script-*\" = \"never\"\n\
             \"{NS}cw-rmm-script-collect-*\" = \"approval\"\n\
             \"{NS}cw-rmm-script-collect-event-logs\" = \"auto\"\n\
             \"{NS}cw-rmm-list-*\" = \"approval\"\n\
             \"{NS}cw-rmm-list-companies\" = \"auto\"\n\
             \"{NS}cw-rmm-get-?ompany\" = \"never\"\n"
        ),
    )
    .unwrap();
    let modes = modes(&env).await;
    let line = |tool: &str| match &modes[tool].2 {
        DecisionSource::Override { line, .. } => *line,
        other => panic!("{tool}: {other:?}"),
    };
    assert_eq!(modes["cw-rmm-script-reboot-endpoint"].0, Mode::Never);
    assert_eq!(line("cw-rmm-script-reboot-endpoint"), 2);
    assert_eq!(modes["cw-rmm-script-collect-event-logs"].0, Mode::Auto);
    assert_eq!(line("cw-rmm-script-collect-event-logs"), 4);
    assert_eq!(modes["cw-rmm-list-devices"].0, Mode::Approval);
    assert_eq!(line("cw-rmm-list-devices"), 5);
    assert_eq!(modes["cw-rmm-list-companies"].0, Mode::Auto);
    assert_eq!(line("cw-rmm-list-companies"), 6);
    assert_eq!(modes["cw-rmm-get-company"].0, Mode::Never);
    // Untouched tools keep their defaults.
    assert_eq!(modes["cw-rmm-run-task"].0, Mode::Approval);
    assert_eq!(modes["cw-rmm-get-device"].0, Mode::Auto);
    let why = &modes["cw-rmm-script-reboot-endpoint"].1;
    assert!(why.contains(&format!("{} line 2", file.display())), "{why}");
    assert!(why.contains(&format!("'{NS}cw-rmm-script-*'")), "{why}");

    // The calls follow the modes.
    let err = env
        .call_as(
            "cw-rmm-script-reboot-endpoint",
            json!({"targets": [seed::MARIA_LAPTOP_ID]}),
            None,
            &approve_as("ops"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::Refused { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("never"), "{text}");
    assert!(
        text.contains(&format!("{} line 2", file.display())),
        "{text}"
    );
    assert!(env.writes().is_empty());
    env.ok("cw-rmm-list-companies", json!({})).await;
    pending_id(env.call("cw-rmm-list-devices", json!({})).await);
    assert!(matches!(
        env.call("cw-rmm-get-company", json!({"companyId": seed::CONTOSO_ID}))
            .await,
        Err(HostError::Refused { .. })
    ));
    // An operator may loosen a script tool: auto runs it without asking.
    let report = env
        .call_as(
            "cw-rmm-script-collect-event-logs",
            json!({"parameters": {"logName": "System"}, "targets": [seed::DC01_ID]}),
            None,
            &DeferApprovals,
        )
        .await
        .expect("auto by override");
    assert!(report.result["taskId"].is_string());
    assert_eq!(env.writes().len(), 1);
    let decisions: Vec<_> = env.audit().await.iter().map(|r| r.decision).collect();
    assert_eq!(
        decisions,
        [
            AuditDecision::Never,
            AuditDecision::Auto,
            AuditDecision::Approval,
            AuditDecision::Never,
            AuditDecision::Auto
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_set_takes_effect_at_once() {
    let env = TestEnv::start().await;
    let ticket = format!("{NS}cw-rmm-create-ticket");
    assert_eq!(
        env.host.set_policy(&ticket, Mode::Never).await.unwrap(),
        None
    );
    let err = env
        .call_as(
            "cw-rmm-create-ticket",
            ticket_args("e2e never"),
            None,
            &approve_as("ops"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::Refused { .. }), "{err:?}");
    assert!(env.writes().is_empty());
    assert_eq!(
        env.host.set_policy(&ticket, Mode::Auto).await.unwrap(),
        Some(Mode::Never)
    );
    let created = env
        .ok("cw-rmm-create-ticket", ticket_args("e2e auto"))
        .await;
    assert_eq!(created["summary"], "e2e auto");
    assert_eq!(env.writes().len(), 1);
    // A bad pattern is refused and changes nothing.
    assert!(env
        .host
        .set_policy("connectwise_rmm:[x]", Mode::Auto)
        .await
        .is_err());
    assert_eq!(
        env.host.set_policy(&ticket, Mode::Approval).await.unwrap(),
        Some(Mode::Auto)
    );
    pending_id(
        env.call("cw-rmm-create-ticket", ticket_args("e2e again"))
            .await,
    );
    assert_eq!(env.writes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_policy_file_refuses_calls_with_line_and_column() {
    let env = TestEnv::start().await;
    let file = env.host.config().policy_file.clone();
    for (text, line, column) in [
        (
            format!("[tools]\n\"{NS}cw-rmm-list-companies\" = \"allow\"\n"),
            2,
            43,
        ),
        (format!("[tools]\n\"{NS}cw-rmm-run-task\" = auto\n"), 2, 37),
        ("[tols]\n".to_string(), 1, 2),
    ] {
        std::fs::write(&file, &text).unwrap();
        let before = env.sim.requests().len();
        for (tool, args) in [
            ("cw-rmm-list-companies", json!({})),
            ("cw-rmm-run-task", run_task_args("e2e broken policy")),
        ] {
            let err = env
                .call_as(tool, args, None, &approve_as("ops"))
                .await
                .unwrap_err();
            assert!(matches!(err, HostError::PolicyFile(_)), "{err:?}");
            let message = err.to_string();
            assert!(
                message.contains(&format!("line {line}, column {column}")),
                "{text:?}: {message}"
            );
            assert!(message.contains(&file.display().to_string()), "{message}");
        }
        assert_eq!(env.sim.requests().len(), before, "a call went upstream");
        assert!(env.host.policy_list().await.is_err());
        assert!(env
            .host
            .list_approvals(&Default::default())
            .await
            .unwrap()
            .is_empty());
    }
    assert!(env.writes().is_empty());
    let audit = env.audit().await;
    assert_eq!(audit.len(), 6);
    assert!(audit
        .iter()
        .all(|r| r.outcome == AuditOutcome::Refused && r.decision == AuditDecision::Invalid));
    // Fixed, calls work again.
    std::fs::write(&file, "").unwrap();
    env.ok("cw-rmm-list-companies", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_policy_list_and_set() {
    let sim = Simulator::start(sim_config()).await.unwrap();
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "{}", out.all());

    let list = cli.run(&["policy", "list"], &[]).await;
    assert!(list.success(), "{}", list.all());
    let row = |text: &str, tool: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{NS}{tool} ")))
            .unwrap_or_else(|| panic!("no row for {tool}:\n{text}"))
            .to_string()
    };
    let run = row(&list.stdout, "cw-rmm-run-task");
    assert!(
        run.contains("approval") && run.contains("plugin hint"),
        "{run}"
    );
    let uninstall = row(&list.stdout, "cw-rmm-script-uninstall-software");
    assert!(
        uninstall.contains("approval") && uninstall.contains("uninstall"),
        "{uninstall}"
    );

    let set = cli
        .run(
            &["policy", "set", &format!("{NS}cw-rmm-script-*"), "never"],
            &[],
        )
        .await;
    assert!(set.success(), "{}", set.all());
    assert!(set.stdout.contains("never"), "{}", set.stdout);
    let set = cli
        .run(
            &["policy", "set", &format!("{NS}cw-rmm-script-*"), "approval"],
            &[],
        )
        .await;
    assert!(set.stdout.contains("never -> approval"), "{}", set.stdout);
    let bad = cli
        .run(&["policy", "set", "cw-rmm-run-task", "allow"], &[])
        .await;
    assert!(!bad.success(), "{}", bad.all());

    let list = cli.run(&["policy", "list", "--json"], &[]).await;
    let rows = list.json();
    let reboot = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tool"] == format!("{NS}cw-rmm-script-reboot-endpoint"))
        .unwrap()
        .clone();
    assert_eq!(reboot["mode"], "approval");
    assert_eq!(reboot["source"]["kind"], "override");
    assert_eq!(reboot["source"]["line"], 2);

    // A broken file: every command that needs the policy says where, and nothing runs.
    std::fs::write(
        cli.home.path().join("policy.toml"),
        "[tools]\n\"connectwise_rmm:x\" = \"yes\"\n",
    )
    .unwrap();
    let call = cli
        .run(&["call", "cw-rmm-list-companies", "--args", "{}"], &[])
        .await;
    assert!(!call.success(), "{}", call.all());
    assert!(call.stderr.contains("line 2, column 23"), "{}", call.stderr);
    let list = cli.run(&["policy", "list"], &[]).await;
    assert!(!list.success(), "{}", list.all());
    assert!(list.stderr.contains("line 2, column 23"), "{}", list.stderr);
    assert!(!sim.requests().iter().any(|r| r.path.contains("/companies")));
}

/// The seeded tenant has no data-destroying script, so discovery is served a listing with two
/// (a wipe and a disk format, both classified never) and one ordinary script, then the
/// simulator is restored: the catalog on disk keeps the tools.
async fn discover_destructive_scripts(env: &TestEnv) {
    let fault = serve_destructive_scripts(env);
    env.host.refresh_tools().await.expect("refresh");
    env.sim.remove_fault(fault);
}

/// The tenant lists three destructive shell scripts (until the fault is removed).
fn serve_destructive_scripts(env: &TestEnv) -> simulator::FaultId {
    let template = |id: &str, name: &str, description: &str| {
        json!({
            "templateId": id, "name": name, "description": description, "state": "active",
            "jsonSchema": json!({"type": "object", "properties": {}}).to_string(),
            "executorEngine": "powershell", "categories": []
        })
    };
    let templates = [
        template(
            "20000000-0000-4000-8000-000000000003",
            "Wipe Laptop",
            "Erases everything.",
        ),
        template(
            "30000000-0000-4000-8000-000000000004",
            "Format Data Disk",
            "Prepares a new data disk.",
        ),
        template(
            "40000000-0000-4000-8000-000000000005",
            "Uninstall Agent",
            "Removes the agent.",
        ),
    ];
    let body = json!({"Templates": templates, "count": templates.len()}).to_string();
    env.sim.inject(
        Fault::on_path(
            PathMatch::Exact("/api/platform/v1/automation/shellScripts".into()),
            FaultAction::Status {
                status: 200,
                body: Some(body),
                retry_after: None,
            },
        )
        .method("GET"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_cannot_loosen_a_default_of_never_only_the_exact_name_can() {
    let env = TestEnv::start().await;
    discover_destructive_scripts(&env).await;
    let file = env.host.config().policy_file.clone();
    let wipe = "cw-rmm-script-wipe-laptop";
    let format = "cw-rmm-script-format-data-disk";
    let before = modes(&env).await;
    assert_eq!(before[wipe].0, Mode::Never, "{}", before[wipe].1);
    assert_eq!(before[format].0, Mode::Never, "{}", before[format].1);

    // The README's broad pattern.
    let pattern = format!("{NS}cw-rmm-script-*");
    env.host.set_policy(&pattern, Mode::Approval).await.unwrap();
    let listed = modes(&env).await;
    for (tool, verb) in [(wipe, "`wipe`"), (format, "`format`")] {
        let (mode, why, source) = &listed[tool];
        assert_eq!(*mode, Mode::Never, "{tool}: {why}");
        assert!(
            matches!(source, DecisionSource::Classifier { rule } if rule.contains(verb)),
            "{tool}: {source:?}"
        );
        assert!(why.starts_with("default never (classifier: "), "{why}");
        assert!(
            why.contains(&format!(
                "the pattern `{pattern}` ({} line 2) cannot loosen a default of never: set the \
                 exact name with `toolhost policy set {NS}{tool} approval` to allow it",
                file.display()
            )),
            "{tool}: {why}"
        );
    }
    // The pattern still applies where the default is not never.
    let (mode, _, source) = &listed["cw-rmm-script-uninstall-agent"];
    assert_eq!(*mode, Mode::Approval);
    assert!(
        matches!(source, DecisionSource::Override { pattern: p, line: 2, .. } if *p == pattern),
        "{source:?}"
    );

    // A call is refused, with the reason, and nothing reaches the API.
    let requests = env.sim.requests().len();
    let err = env
        .call_as(
            wipe,
            json!({"targets": [seed::MARIA_LAPTOP_ID]}),
            None,
            &approve_as("ops"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::Refused { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("cannot loosen a default of never"), "{text}");
    assert_eq!(env.sim.requests().len(), requests, "a call went upstream");
    assert!(env.writes().is_empty());
    assert!(env
        .host
        .list_approvals(&Default::default())
        .await
        .unwrap()
        .is_empty());
    let last = env.audit().await.pop().unwrap();
    assert_eq!(
        (last.decision, last.outcome),
        (AuditDecision::Never, AuditOutcome::Refused)
    );

    // The exact name loosens it; the other never tool stays never.
    env.host
        .set_policy(&format!("{NS}{wipe}"), Mode::Approval)
        .await
        .unwrap();
    let listed = modes(&env).await;
    let (mode, why, source) = &listed[wipe];
    assert_eq!(*mode, Mode::Approval, "{why}");
    assert!(
        matches!(source, DecisionSource::Override { line: 3, .. }),
        "{source:?}"
    );
    assert_eq!(listed[format].0, Mode::Never);
    // Held, with the preview's reads of the scripts the tenant lists: no write.
    let requests = env.sim.requests().len();
    let listing = serve_destructive_scripts(&env);
    pending_id(
        env.call(wipe, json!({"targets": [seed::MARIA_LAPTOP_ID]}))
            .await,
    );
    env.sim.remove_fault(listing);
    assert!(
        non_reads_since(&env.sim, requests).is_empty(),
        "a write went upstream"
    );
    assert!(env.writes().is_empty());
}

/// An operator's override of one script tool is bound to the script behind its name: when
/// the tenant points the name at another script, the override does not carry over (the new
/// script needs approval again) until the operator confirms it with `policy set`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_of_a_script_tool_does_not_carry_over_to_another_script() {
    let mut env = TestEnv::start().await;
    let tool = format!("{NS}cw-rmm-script-disk-cleanup");
    env.host.set_policy(&tool, Mode::Auto).await.unwrap();
    let text = std::fs::read_to_string(&env.host.config().policy_file).unwrap();
    assert!(text.contains("digest = "), "{text}");
    env.give_the_disk_cleanup_name_to_another_script().await;
    env.host.refresh_tools().await.unwrap();
    // The operator accepts the tenant's changed tools; the override is another matter.
    env.host.accept_grant("ops").await.unwrap();
    let (entry, decision) = env
        .host
        .policy_list()
        .await
        .unwrap()
        .into_iter()
        .find(|(t, _)| t.name == tool)
        .unwrap();
    assert_eq!(entry.policy, Mode::Approval, "{}", decision.explanation);
    assert!(
        decision.explanation.contains("does not carry over"),
        "{}",
        decision.explanation
    );
    let args = json!({"targets": [seed::MARIA_LAPTOP_ID]});
    let pending = env
        .call_as(
            "cw-rmm-script-disk-cleanup",
            args.clone(),
            None,
            &DeferApprovals,
        )
        .await;
    assert!(
        matches!(pending, Err(HostError::ApprovalRequired { .. })),
        "{pending:?}"
    );
    assert!(env.writes().is_empty(), "{:?}", env.writes());
    // Confirmed again for the script now behind the name, it applies.
    env.host.set_policy(&tool, Mode::Auto).await.unwrap();
    env.call_as("cw-rmm-script-disk-cleanup", args, None, &DeferApprovals)
        .await
        .expect("runs under the confirmed override");
    assert_eq!(env.writes().len(), 1);
}
