//! Approval through MCP elicitation: the person at the MCP client answers, when the client
//! declared that it can ask and the operator allowed that client to approve
//! (`toolhost clients add --allow-elicitation`).

use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::service::ElicitationMode;
use rmcp::service::Peer;
use rmcp::RoleServer;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use toolhost_host::{ApprovalAnswer, ApprovalQuestion, Approver};

/// How long a person has to answer before the call becomes a pending approval.
pub const ELICITATION_TIMEOUT: Duration = Duration::from_secs(300);

/// Asks through `elicitation/create` when the client supports form elicitation; otherwise
/// (or when the request itself fails or times out) defers, which records a pending approval
/// that an operator can approve with `toolhost approvals approve <id>`.
pub struct ElicitationApprover {
    peer: Peer<RoleServer>,
    client: String,
    /// The client's record allows it; a capability the client declares is not a permission.
    allowed: bool,
    timeout: Duration,
}

impl ElicitationApprover {
    pub fn new(
        peer: Peer<RoleServer>,
        client: impl Into<String>,
        allowed: bool,
    ) -> ElicitationApprover {
        ElicitationApprover {
            peer,
            client: client.into(),
            allowed,
            timeout: ELICITATION_TIMEOUT,
        }
    }

    /// Whether the client declared (form) elicitation when it initialized.
    pub fn client_can_ask(peer: &Peer<RoleServer>) -> bool {
        peer.supported_elicitation_modes()
            .contains(&ElicitationMode::Form)
    }
}

/// The message shown to the person; the MCP name of the tool, its arguments and why.
pub fn approval_message(q: &ApprovalQuestion<'_>) -> String {
    let arguments = serde_json::to_string_pretty(q.arguments).unwrap_or_default();
    // The plugin's preview, one line per fact; the host already made each a single line
    // without control characters, and `escape_default` keeps a stored one honest too.
    let preview = q
        .preview
        .map(|p| {
            let lines: Vec<String> = p
                .lines()
                .iter()
                .map(|l| {
                    l.chars()
                        .flat_map(|c| match c.is_control() {
                            true => c.escape_default().collect::<Vec<_>>(),
                            false => vec![c],
                        })
                        .collect()
                })
                .collect();
            format!("What it would do: {}\n\n", lines.join("\n- "))
        })
        .unwrap_or_default();
    format!(
        "{} asks to run {} as {}.\n\n{preview}Arguments:\n{arguments}\n\nWhy approval is needed: {}\n\nAccept to run this call once; decline to refuse it.",
        q.caller,
        super::names::to_mcp(q.tool),
        q.role,
        q.reason
    )
}

impl Approver for ElicitationApprover {
    fn ask<'a>(
        &'a self,
        q: ApprovalQuestion<'a>,
    ) -> Pin<Box<dyn Future<Output = ApprovalAnswer> + Send + 'a>> {
        if !self.allowed || !Self::client_can_ask(&self.peer) {
            return Box::pin(async { ApprovalAnswer::Defer });
        }
        let message = approval_message(&q);
        Box::pin(async move {
            let schema = match ElicitationSchema::builder().build() {
                Ok(schema) => schema,
                Err(err) => {
                    tracing::warn!("cannot build the approval form ({err}); deferring");
                    return ApprovalAnswer::Defer;
                }
            };
            let params = ElicitRequestParams::FormElicitationParams {
                meta: None,
                message,
                requested_schema: schema,
            };
            let by = format!("the user of {} (MCP elicitation)", self.client);
            match self
                .peer
                .create_elicitation_with_timeout(params, Some(self.timeout))
                .await
            {
                Ok(result) => match result.action {
                    ElicitationAction::Accept => ApprovalAnswer::Approve { by },
                    // Declined or dismissed: not approved, and nothing is left pending.
                    _ => ApprovalAnswer::Deny { by },
                },
                Err(err) => {
                    tracing::warn!(
                        "elicitation failed ({err}); recording a pending approval instead"
                    );
                    ApprovalAnswer::Defer
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolhost_governance::{Preview, PreviewFact};

    #[test]
    fn the_message_shows_the_preview_with_control_characters_escaped() {
        let arguments = serde_json::json!({"targets": ["e1"]});
        let preview = Preview {
            summary: "Run \"Disk Cleanup\" on PC\u{1b}[2J".into(),
            facts: vec![PreviewFact {
                label: "target".into(),
                value: "PC, company Contoso\nAccept".into(),
            }],
        };
        let message = approval_message(&ApprovalQuestion {
            tool: "connectwise_rmm:cw-rmm-run-task",
            arguments: &arguments,
            caller: "agent",
            role: "Technician",
            reason: "policy",
            preview: Some(&preview),
        });
        assert!(
            message.contains("What it would do: Run \"Disk Cleanup\" on PC\\u{1b}[2J\n- target: PC, company Contoso\\nAccept\n\nArguments:"),
            "{message}"
        );
        assert!(!message.contains('\u{1b}'), "{message}");
    }
}
