//! `toolhost conformance` as a marketplace reviewer runs it: the real binary on real
//! components. Our plugin conforms (exit 0, `passed: true`, well-formed JUnit XML); the
//! probe fixture and the deliberately broken fixtures fail with the right finding ids.

use e2e::*;
use serde_json::Value;
use std::path::Path;

/// Every check a full run with a backend reports, in order (host/src/conformance).
const ALL_CHECKS: &[&str] = &[
    "component.valid",
    "world.imports",
    "world.exports",
    "metadata.well-formed",
    "metadata.offline",
    "tools.names",
    "tools.schemas",
    "tools.descriptions",
    "tools.annotations",
    "tools.routes",
    "tools.deterministic",
    "behaviour.unknown-tool",
    "behaviour.discover-tools",
    "behaviour.invalid-arguments",
    "behaviour.preview-reads-only",
    "behaviour.declared-origins",
    "behaviour.limits",
];

/// A conformance run's three outputs: exit code, the JSON report file, the JUnit file.
struct Run {
    out: CliOutput,
    report: Value,
    junit: String,
}

impl Run {
    fn status(&self, id: &str) -> &str {
        self.check(id)["status"].as_str().unwrap_or("?")
    }

    fn check(&self, id: &str) -> &Value {
        self.report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check `{id}` in {:#}", self.report))
    }

    fn findings(&self, id: &str) -> String {
        self.check(id)["findings"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }

    fn ids_with(&self, status: &str) -> Vec<String> {
        self.report["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .filter(|c| c["status"] == status)
            .map(|c| c["id"].as_str().unwrap_or("?").to_string())
            .collect()
    }
}

async fn conformance(cli: &Cli, component: &Path, extra: &[&str]) -> Run {
    let junit = cli.home.path().join("conformance-junit.xml");
    let report = cli.home.path().join("conformance-report.json");
    let mut args = vec![
        "conformance",
        component.to_str().expect("utf-8 path"),
        "--junit",
        junit.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = cli.run(&args, &[]).await;
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", out.all()));
    let report: Value = serde_json::from_str(&text).expect("the report file is JSON");
    let junit = std::fs::read_to_string(&junit)
        .unwrap_or_else(|e| panic!("no JUnit report ({e}):\n{}", out.all()));
    Run { out, report, junit }
}

/// The JUnit document is well-formed XML and says what the JSON report says.
#[track_caller]
fn assert_junit_matches(run: &Run) {
    let doc = roxmltree::Document::parse(&run.junit).unwrap_or_else(|e| {
        panic!(
            "the JUnit report is not well-formed XML ({e}):\n{}",
            run.junit
        )
    });
    let suite = doc.root_element();
    assert_eq!(suite.tag_name().name(), "testsuite");
    let checks = run.report["checks"].as_array().unwrap();
    let failed = run.ids_with("fail");
    let skipped = run.ids_with("skip");
    assert_eq!(
        suite.attribute("tests"),
        Some(checks.len().to_string().as_str())
    );
    assert_eq!(
        suite.attribute("failures"),
        Some(failed.len().to_string().as_str())
    );
    assert_eq!(
        suite.attribute("skipped"),
        Some(skipped.len().to_string().as_str())
    );
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(names, ids);
    for case in cases {
        let id = case.attribute("name").unwrap();
        let failure = case.children().find(|n| n.has_tag_name("failure"));
        assert_eq!(
            failure.is_some(),
            failed.iter().any(|f| f == id),
            "JUnit and JSON disagree on `{id}`"
        );
        if let Some(failure) = failure {
            // The failure text carries the findings, unescaped back to the original.
            assert_eq!(failure.text().unwrap_or(""), run.findings(id), "{id}");
        }
        assert_eq!(
            case.children().any(|n| n.has_tag_name("skipped")),
            skipped.iter().any(|s| s == id),
            "JUnit and JSON disagree on `{id}`"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_plugin_conforms_against_the_simulator() {
    let cli = Cli::new().await;
    let run = conformance(&cli, &plugin_wasm(), &["--json"]).await;
    assert!(
        run.out.success(),
        "exit {:?}:\n{}",
        run.out.code,
        run.out.all()
    );
    // --json prints the same report on stdout.
    assert_eq!(run.out.json(), run.report);
    assert_eq!(run.report["passed"], true, "{:#}", run.report);
    assert_eq!(run.report["plugin"]["id"], "connectwise_rmm");
    assert_eq!(run.report["plugin"]["tools"], STATIC_TOOL_COUNT);
    assert_eq!(run.report["backend"], "built-in Asio simulator");
    assert!(run.report["sha256"].as_str().is_some_and(|s| s.len() == 64));
    let ids: Vec<&str> = run.report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ALL_CHECKS);
    assert_eq!(
        run.ids_with("pass").len(),
        ALL_CHECKS.len(),
        "every check passes: {:#}",
        run.report
    );
    // The device listing reads with a POST: allowed, and shown to the reviewer.
    let warnings = run.check("tools.routes")["warnings"].to_string();
    assert!(
        warnings.contains("cw-rmm-list-devices")
            && warnings.contains("POST /api/platform/v2/device/categories/all/endpoints"),
        "{warnings}"
    );
    assert_junit_matches(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_plugin_conforms_offline_with_discovery_skipped() {
    let cli = Cli::new().await;
    let run = conformance(&cli, &plugin_wasm(), &["--backend", "none"]).await;
    assert!(
        run.out.success(),
        "exit {:?}:\n{}",
        run.out.code,
        run.out.all()
    );
    assert_eq!(run.report["passed"], true, "{:#}", run.report);
    assert_eq!(
        run.ids_with("skip"),
        ["behaviour.discover-tools", "behaviour.preview-reads-only"]
    );
    assert!(
        run.out
            .stdout
            .contains("CONFORMS: 15 passed, 0 failed, 2 skipped"),
        "{}",
        run.out.stdout
    );
    assert_junit_matches(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_fixture_report() {
    let cli = Cli::new().await;
    let run = conformance(&cli, &probe_wasm(), &[]).await;
    assert_eq!(run.report["plugin"]["id"], "probe", "{:#}", run.report);
    // The probe does whatever it is told: its `echo-config` ignores its arguments, so it
    // accepts a JSON array where an object is required. That is the one finding.
    assert_eq!(
        run.ids_with("fail"),
        ["behaviour.invalid-arguments"],
        "{:#}",
        run.report
    );
    assert_eq!(
        run.findings("behaviour.invalid-arguments"),
        "`echo-config` accepted `[1, 2]` as arguments"
    );
    assert_eq!(run.out.code, Some(1), "{}", run.out.all());
    assert_eq!(run.report["passed"], false);
    assert_junit_matches(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_declarations_fail_with_their_findings() {
    let cli = Cli::new().await;
    let run = conformance(
        &cli,
        &hostile_bad_declarations_wasm(),
        &["--backend", "none"],
    )
    .await;
    assert_eq!(run.out.code, Some(1), "{}", run.out.all());
    assert!(
        run.out.all().contains("does not conform"),
        "{}",
        run.out.all()
    );
    assert_eq!(run.report["passed"], false);
    // The four declarations the `bad-declarations` feature breaks on purpose each fail.
    let failed = run.ids_with("fail");
    for id in [
        "tools.names",
        "tools.schemas",
        "tools.annotations",
        "behaviour.invalid-arguments",
    ] {
        assert!(
            failed.iter().any(|f| f == id),
            "{id} did not fail: {:#}",
            run.report
        );
    }
    // Beyond those, only `tools.descriptions` (the fixture's `trap` tool is described as
    // just "Panics.", under the 10 characters the check asks for).
    assert!(
        failed.len() == 4
            || (failed.len() == 5 && failed.iter().any(|f| f == "tools.descriptions")),
        "{failed:?}"
    );
    assert!(run
        .findings("tools.names")
        .contains("`ok` is listed more than once"));
    assert!(run.findings("tools.schemas").contains("bad-schema"));
    assert!(run
        .findings("tools.annotations")
        .contains("destructive but hints auto"));
    assert!(run
        .findings("behaviour.invalid-arguments")
        .contains("accepted"));
    assert!(
        run.out.stdout.contains("DOES NOT CONFORM"),
        "{}",
        run.out.stdout
    );
    assert_junit_matches(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filesystem_importer_fails_world_imports() {
    let cli = Cli::new().await;
    let run = conformance(&cli, &fs_importer_wasm(), &["--backend", "none"]).await;
    assert_eq!(run.out.code, Some(1), "{}", run.out.all());
    assert_eq!(run.report["passed"], false);
    assert_eq!(run.status("component.valid"), "pass");
    assert_eq!(run.status("world.imports"), "fail");
    assert!(
        run.findings("world.imports").contains("wasi:filesystem"),
        "{:#}",
        run.report
    );
    assert_junit_matches(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_is_not_a_component_fails_component_valid() {
    let cli = Cli::new().await;
    let bogus = cli.home.path().join("not-a-component.wasm");
    std::fs::write(&bogus, b"\0asm but not really").unwrap();
    let run = conformance(&cli, &bogus, &["--backend", "none"]).await;
    assert_eq!(run.out.code, Some(1), "{}", run.out.all());
    assert_eq!(run.ids_with("fail"), ["component.valid"]);
    assert_eq!(run.report["checks"].as_array().unwrap().len(), 1);
    assert_junit_matches(&run);
}
