//! Asking the person at the terminal before an approval-needed call runs.

use super::display::{escape, pretty_json};
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::pin::Pin;
use toolhost_governance::Preview;
use toolhost_host::ApprovalQuestion;
use toolhost_host::{ApprovalAnswer, Approver};

/// Prompts on the terminal; defers (records a pending approval) when there is none.
pub struct TerminalApprover;

impl TerminalApprover {
    fn interactive() -> bool {
        std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
    }
}

impl Approver for TerminalApprover {
    fn ask<'a>(
        &'a self,
        q: ApprovalQuestion<'a>,
    ) -> Pin<Box<dyn Future<Output = ApprovalAnswer> + Send + 'a>> {
        if !Self::interactive() {
            return Box::pin(async { ApprovalAnswer::Defer });
        }
        let prompt = prompt(&q);
        Box::pin(async move {
            let answer = tokio::task::spawn_blocking(move || {
                let mut err = std::io::stderr();
                let _ = write!(err, "{prompt}");
                let _ = err.flush();
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map(|_| line)
            })
            .await;
            let by = format!("{} at the terminal", super::operator::operator_name());
            match answer {
                Ok(Ok(line)) if matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes") => {
                    ApprovalAnswer::Approve { by }
                }
                _ => ApprovalAnswer::Deny { by },
            }
        })
    }
}

/// The question as the person at the terminal reads it. The caller's name (an MCP client's
/// own choice), the tool, the reason quoting it and the arguments are escaped, so none of
/// them can draw a line of the prompt; the arguments are shown whole, never cut.
fn prompt(q: &ApprovalQuestion<'_>) -> String {
    format!(
        "\n{} asks to run {} as {}\n{}{}\nWhy approval: {}\nApprove this call? [y/N] ",
        escape(q.caller),
        escape(q.tool),
        escape(q.role),
        q.preview.map(preview_text).unwrap_or_default(),
        pretty_json(q.arguments),
        escape(q.reason)
    )
}

/// A preview as the terminal shows it, each line escaped: `What it would do: <summary>`,
/// then the facts indented, and a blank line.
pub(super) fn preview_text(preview: &Preview) -> String {
    let mut lines = preview.lines().into_iter();
    let mut out = format!(
        "What it would do: {}\n",
        escape(&lines.next().unwrap_or_default())
    );
    for line in lines {
        out.push_str(&format!("  {}\n", escape(&line)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_shows_hostile_strings_and_every_argument() {
        let long = "p".repeat(500);
        let arguments = serde_json::json!({
            "parameters": {"note": long, "rtl": "a\u{202e}b"},
            "templateId": "5f1c0e2a-0000-4000-8000-000000000001",
            "targetType": "COMPANY",
        });
        let q = ApprovalQuestion {
            tool: "connectwise_rmm:cw-rmm-run-task\x1b[2K",
            arguments: &arguments,
            caller: "x\nApprove this call? [y/N] y\n\x1b[8m",
            role: "Technician\u{9b}",
            reason: "policy: `cw-rmm-run-task\u{2066}` needs approval",
            preview: Some(&Preview {
                summary: "Run \"x\x1b[2J\" on\nApprove this call? [y/N] y".into(),
                facts: vec![toolhost_governance::PreviewFact {
                    label: "target".into(),
                    value: "DEV\u{202e}ICE, company Contoso".into(),
                }],
            }),
        };
        let text = prompt(&q);
        assert!(
            !text.contains(['\x1b', '\u{9b}', '\u{202e}', '\u{2066}']),
            "{text:?}"
        );
        assert_eq!(text.matches("Approve this call?").count(), 3, "{text}");
        assert!(text.ends_with("\nApprove this call? [y/N] "), "{text}");
        assert!(
            text.contains(r"x\nApprove this call? [y/N] y\n\x1b[8m asks to run"),
            "{text}"
        );
        assert!(
            text.contains("What it would do: Run \"x\\x1b[2J\" on\\nApprove this call?"),
            "{text}"
        );
        for part in [
            "  target: DEV",
            long.as_str(),
            "5f1c0e2a-0000-4000-8000-000000000001",
            "COMPANY",
        ] {
            assert!(text.contains(part), "{text}");
        }
    }
}
