//! Asking the person at the terminal before an approval-needed call runs.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::pin::Pin;
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
        let arguments = serde_json::to_string_pretty(q.arguments).unwrap_or_default();
        let prompt = format!(
            "\n{} asks to run {} as {}\n{arguments}\nWhy approval: {}\nApprove this call? [y/N] ",
            q.caller, q.tool, q.role, q.reason
        );
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
