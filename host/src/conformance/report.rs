//! The conformance report: a readable summary, JSON, and JUnit XML for CI systems.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    /// Stable id, e.g. `world.imports`.
    pub id: &'static str,
    pub title: &'static str,
    pub status: Status,
    /// What was wrong (for a failure) or why it was skipped.
    pub findings: Vec<String>,
}

impl Check {
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
        }
    }

    pub fn skip(id: &'static str, title: &'static str, reason: impl Into<String>) -> Check {
        Check {
            id,
            title,
            status: Status::Skip,
            findings: vec![reason.into()],
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginSummary {
    pub id: String,
    pub name: String,
    pub version: String,
    pub tools: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub component: String,
    pub sha256: Option<String>,
    pub plugin: Option<PluginSummary>,
    pub backend: String,
    pub checks: Vec<Check>,
    pub passed: bool,
}

impl Report {
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

    pub fn push(&mut self, check: Check) {
        if check.status == Status::Fail {
            self.passed = false;
        }
        self.checks.push(check);
    }

    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

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
