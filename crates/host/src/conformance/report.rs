//! The conformance report: a readable summary, JSON, and JUnit XML for CI systems.

use std::fmt::Write as _;

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing was wrong.
    Pass,
    /// Something was wrong: see the findings.
    Fail,
    /// Not run (no backend, or an earlier failure made it meaningless): see the findings.
    Skip,
}

/// One check of the suite.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// Stable id, e.g. `world.imports`.
    pub id: &'static str,
    /// What it checks, in words.
    pub title: &'static str,
    /// The verdict.
    pub status: Status,
    /// What was wrong (for a failure) or why it was skipped.
    pub findings: Vec<String>,
    /// What passed but an operator should know (for example a read sent as a POST).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Check {
    /// A check that passed when `findings` is empty and failed otherwise.
    pub fn new(id: &'static str, title: &'static str, findings: Vec<String>) -> Check {
        let status = if findings.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        Check {
            id,
            title,
            status,
            findings,
            warnings: Vec::new(),
        }
    }

    /// The same check, carrying `warnings`.
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Check {
        self.warnings = warnings;
        self
    }

    /// A check not run, and why.
    pub fn skip(id: &'static str, title: &'static str, reason: impl Into<String>) -> Check {
        Check {
            id,
            title,
            status: Status::Skip,
            findings: vec![reason.into()],
            warnings: Vec::new(),
        }
    }
}

/// Who the component says it is.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginSummary {
    /// The plugin's id (its tools' namespace).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// How many static tools it lists.
    pub tools: usize,
}

/// The whole run: what was checked against what, and every check's verdict.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The component's path.
    pub component: String,
    /// Its SHA-256, once it could be read.
    pub sha256: Option<String>,
    /// Its own description, once it gave one.
    pub plugin: Option<PluginSummary>,
    /// What behavioural checks talked to.
    pub backend: String,
    /// In the order they ran.
    pub checks: Vec<Check>,
    /// No check failed.
    pub passed: bool,
}

impl Report {
    /// An empty report for `component`, checked against `backend`.
    pub fn new(component: String, backend: String) -> Report {
        Report {
            component,
            sha256: None,
            plugin: None,
            backend,
            checks: Vec::new(),
            passed: true,
        }
    }

    /// Adds a check's verdict.
    pub fn push(&mut self, check: Check) {
        if check.status == Status::Fail {
            self.passed = false;
        }
        self.checks.push(check);
    }

    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The check with this id, if it ran.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The summary a reviewer reads.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Conformance of {}", self.component);
        if let Some(p) = &self.plugin {
            let _ = writeln!(
                out,
                "plugin {} ({}) {}, {} static tools; backend: {}",
                p.id, p.name, p.version, p.tools, self.backend
            );
        }
        for check in &self.checks {
            let mark = match check.status {
                Status::Pass => "PASS",
                Status::Fail => "FAIL",
                Status::Skip => "SKIP",
            };
            let _ = writeln!(out, "  {mark}  {:28} {}", check.id, check.title);
            for finding in &check.findings {
                let _ = writeln!(out, "          - {finding}");
            }
            for warning in &check.warnings {
                let _ = writeln!(out, "          ! warning: {warning}");
            }
        }
        let _ = writeln!(
            out,
            "{}: {} passed, {} failed, {} skipped",
            if self.passed {
                "CONFORMS"
            } else {
                "DOES NOT CONFORM"
            },
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip)
        );
        out
    }

    /// JUnit XML: one test case per check, for CI systems that show test reports.
    pub fn to_junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuite name=\"toolhost-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            self.checks.len(),
            self.count(Status::Fail),
            self.count(Status::Skip)
        );
        for check in &self.checks {
            let _ = write!(
                out,
                "  <testcase classname=\"conformance\" name=\"{}\">",
                xml(check.id)
            );
            let text = xml(&check.findings.join("\n"));
            match check.status {
                Status::Pass => {}
                Status::Fail => {
                    let _ = write!(
                        out,
                        "<failure message=\"{}\">{text}</failure>",
                        xml(check.title)
                    );
                }
                Status::Skip => {
                    let _ = write!(out, "<skipped message=\"{text}\"/>");
                }
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("</testsuite>\n");
        out
    }
}

fn xml(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_and_counts() {
        let mut report = Report::new("x.wasm".into(), "none".into());
        report.push(Check::new("a.ok", "fine", vec![]));
        report.push(Check::new(
            "b.bad",
            "broken <thing>",
            vec!["imports \"wasi:filesystem\" & more".into()],
        ));
        report.push(Check::skip("c.skip", "later", "needs b"));
        assert!(!report.passed);
        let xml = report.to_junit();
        assert!(xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""));
        assert!(xml.contains("&quot;wasi:filesystem&quot; &amp; more"));
        assert!(xml.contains("broken &lt;thing&gt;"));
        assert!(report
            .to_text()
            .contains("DOES NOT CONFORM: 1 passed, 1 failed, 1 skipped"));
    }
}
