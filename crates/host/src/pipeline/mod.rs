//! The call pipeline, one for every front end and for fresh and approved calls alike:
//!
//! admit (role, tool, policy, arguments) -> approval -> execute -> audit.
//!
//! Every attempt, refused or not, leaves one audit record. A call whose mode is approval does
//! nothing upstream until a person approves it: either right away (an [`Approver`] that can
//! ask, such as a terminal prompt or MCP elicitation) or later, through a pending approval
//! that runs exactly once with exactly the arguments that were approved.

mod admission;
mod approver;
mod preview;
mod record;
mod report;

use crate::error::HostError;
use crate::host::ToolHost;
use admission::{Admitted, CallRequest};
pub use approver::{
    ApprovalAnswer, ApprovalQuestion, Approver, Caller, DeferApprovals, StaticApprover,
};
use record::Ending;
pub use report::CallReport;
use serde_json::Value;
use std::time::Duration;
use toolhost_governance::{Approval, AuditDecision, AuditOutcome, Mode, PasskeyEvidence, Preview};

impl ToolHost {
    /// Runs a tool for `caller`, asking `approver` when the policy needs approval.
    pub async fn call(
        &self,
        tool: &str,
        arguments: &str,
        caller: &Caller,
        approver: &dyn Approver,
    ) -> Result<CallReport, HostError> {
        let request = CallRequest {
            tool,
            arguments,
            caller: &caller.name,
            role: caller.role.as_deref(),
            approval_id: None,
            tool_digest: None,
            progress: caller.progress.clone(),
        };
        let admitted = self.admit(&request).await?;
        let explanation = admitted.decision.explanation.clone();
        match admitted.decision.mode {
            Mode::Auto => {
                self.execute(&request, &admitted, AuditDecision::Auto, explanation)
                    .await
            }
            // Admission refuses `never`; this arm only keeps the match exhaustive.
            Mode::Never => Err(HostError::Refused {
                tool: admitted.entry.name.clone(),
                reason: explanation,
            }),
            Mode::Approval => {
                // What the person decides on. A preview fails as the call would (bad
                // arguments, a script that is gone): that is the answer, and nothing is held.
                let preview = match self.preview(&request, &admitted).await {
                    Ok(preview) => preview,
                    Err(err) => {
                        self.record(
                            &admitted.attempt(&request),
                            Ending {
                                decision: AuditDecision::Approval,
                                rule: explanation,
                                outcome: AuditOutcome::Error,
                                error: Some(&err),
                                report: None,
                            },
                        )
                        .await;
                        return Err(err);
                    }
                };
                let question = approver::ApprovalQuestion {
                    tool: &admitted.entry.name,
                    arguments: &admitted.arguments,
                    caller: &caller.name,
                    role: &admitted.role,
                    reason: &explanation,
                    preview: preview.as_ref(),
                };
                // A passkey can only be verified by the admin UI: nobody approves in-line.
                if self.config().require_passkey {
                    return self.defer(&request, &admitted, preview).await;
                }
                match approver.ask(question).await {
                    // Whoever asked cannot be the one who says yes: the call is kept for a
                    // person instead.
                    ApprovalAnswer::Approve { by } if by == caller.name => {
                        self.defer(&request, &admitted, preview).await
                    }
                    ApprovalAnswer::Approve { by } => {
                        let rule = format!("approved by {by} when asked ({explanation})");
                        self.execute(&request, &admitted, AuditDecision::Approved, rule)
                            .await
                    }
                    ApprovalAnswer::Deny { by } => {
                        let err = HostError::ApprovalDenied {
                            tool: admitted.entry.name.clone(),
                            by,
                        };
                        self.record(
                            &admitted.attempt(&request),
                            Ending {
                                decision: AuditDecision::Approval,
                                rule: explanation,
                                outcome: AuditOutcome::Denied,
                                error: Some(&err),
                                report: None,
                            },
                        )
                        .await;
                        Err(err)
                    }
                    ApprovalAnswer::Defer => self.defer(&request, &admitted, preview).await,
                }
            }
        }
    }

    /// Keeps the call as a pending approval, with the preview the person is shown; nothing
    /// is sent.
    async fn defer(
        &self,
        request: &CallRequest<'_>,
        admitted: &Admitted,
        preview: Option<Preview>,
    ) -> Result<CallReport, HostError> {
        let approval = self
            .approvals
            .create_previewed(
                &admitted.entry.name,
                Some(admitted.entry.digest()),
                preview,
                &admitted.arguments,
                request.caller,
                &admitted.role,
            )
            .await?;
        let attempt = record::Attempt {
            approval_id: Some(&approval.id),
            ..admitted.attempt(request)
        };
        self.record(
            &attempt,
            Ending {
                decision: AuditDecision::Approval,
                rule: admitted.decision.explanation.clone(),
                outcome: AuditOutcome::PendingApproval,
                error: None,
                report: None,
            },
        )
        .await;
        Err(HostError::ApprovalRequired {
            tool: admitted.entry.name.clone(),
            id: approval.id.clone(),
        })
    }

    /// Runs a pending approval: exactly once, with exactly the approved arguments, under the
    /// requester's role, admitted again (an approval cannot outlive a role that lost the
    /// permission or a tool that has since been set to never).
    ///
    /// Refused when the operator requires passkeys (see [`ToolHost::approve_with_passkey`]).
    pub async fn approve(&self, id: &str, by: &str) -> Result<CallReport, HostError> {
        self.approve_with(id, by, None).await
    }

    /// Like [`ToolHost::approve`], with the approver's passkey assertion, which the caller
    /// (the admin UI) has verified against a challenge bound to this approval's digest; it
    /// is kept in the record as evidence.
    pub async fn approve_with_passkey(
        &self,
        id: &str,
        by: &str,
        passkey: PasskeyEvidence,
    ) -> Result<CallReport, HostError> {
        self.approve_with(id, by, Some(passkey)).await
    }

    async fn approve_with(
        &self,
        id: &str,
        by: &str,
        passkey: Option<PasskeyEvidence>,
    ) -> Result<CallReport, HostError> {
        let id = self.approvals.resolve(id).await?;
        let pending = self.approvals.get(&id).await?;
        if pending.requester == by {
            return Err(HostError::SelfApproval {
                id,
                requester: pending.requester,
            });
        }
        if self.config().require_passkey && passkey.is_none() {
            return Err(HostError::PasskeyRequired { id });
        }
        let approval = self.approvals.claim_with_passkey(&id, by, passkey).await?;
        let result = self.run_approved(&approval, by).await;
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(err) => format!("error: {err}"),
        };
        // The result is kept for the requester, which may come back for it (an MCP
        // 2026-07-28 client retrying its call after an operator approved it).
        let kept = result.as_ref().ok().map(|report| &report.result);
        self.approvals
            .complete_with_result(&id, &outcome, kept)
            .await?;
        result
    }

    async fn run_approved(&self, approval: &Approval, by: &str) -> Result<CallReport, HostError> {
        let request = CallRequest {
            tool: &approval.tool,
            arguments: &approval.arguments,
            caller: &approval.requester,
            role: Some(&approval.role),
            approval_id: Some(&approval.id),
            tool_digest: approval.tool_digest.as_deref(),
            progress: None,
        };
        let admitted = self.admit(&request).await?;
        self.confirm_preview(&request, &admitted, approval).await?;
        let rule = format!("approval {} approved by {by}", approval.id);
        let mut report = self
            .execute(&request, &admitted, AuditDecision::Approved, rule)
            .await?;
        report.approval_id = Some(approval.id.clone());
        Ok(report)
    }

    /// Denies a pending approval; it can never run afterwards.
    pub async fn deny(&self, id: &str, by: &str) -> Result<Approval, HostError> {
        let id = self.approvals.resolve(id).await?;
        let approval = self.approvals.deny(&id, by).await?;
        let arguments = approval.arguments_value().unwrap_or(Value::Null);
        let attempt = record::Attempt {
            tool: &approval.tool,
            caller: &approval.requester,
            role: &approval.role,
            arguments: &arguments,
            approval_id: Some(&approval.id),
        };
        self.record(
            &attempt,
            Ending {
                decision: AuditDecision::Approval,
                rule: format!("denied by {by}"),
                outcome: AuditOutcome::Denied,
                error: None,
                report: None,
            },
        )
        .await;
        Ok(approval)
    }

    /// Runs the plugin for an admitted call, keeps the result to the role's scope, audits.
    async fn execute(
        &self,
        request: &CallRequest<'_>,
        admitted: &Admitted,
        decision: AuditDecision,
        rule: String,
    ) -> Result<CallReport, HostError> {
        let result = self.run_guest(request, admitted).await;
        let (outcome, error, report) = match &result {
            Ok(report) => (AuditOutcome::Ok, None, Some(report)),
            Err(err) => (AuditOutcome::Error, Some(err), None),
        };
        self.record(
            &admitted.attempt(request),
            Ending {
                decision,
                rule,
                outcome,
                error,
                report,
            },
        )
        .await;
        result
    }

    async fn run_guest(
        &self,
        request: &CallRequest<'_>,
        admitted: &Admitted,
    ) -> Result<CallReport, HostError> {
        let connection = self.connection.as_ref().ok_or(HostError::NotConnected)?;
        let entry = &admitted.entry;
        // The guest gets the text that was admitted: it parses its own copy.
        let outcome = self
            .runtime
            .call_tool(
                toolhost_sandbox::CallContext {
                    observer: request.progress.clone(),
                    ..connection.context.clone()
                }
                .scoped(entry.descriptor.routes_for(&entry.name)),
                &entry.descriptor.name,
                request.arguments,
            )
            .await;
        let upstream = outcome.exchanges;
        let result = outcome.result.map_err(|failure| HostError::Call {
            tool: entry.name.clone(),
            failure,
            upstream_statuses: upstream.iter().filter_map(|e| e.status).collect(),
        })?;
        let role = &admitted.role;
        admitted
            .roles
            .check_result(role, &entry.name, &result)
            .map_err(|denied| HostError::RoleDenied {
                tool: entry.name.clone(),
                denied,
            })?;
        Ok(CallReport {
            tool: entry.name.clone(),
            result: admitted.roles.filter_result(role, &entry.name, result),
            instantiate_us: micros(outcome.instantiate),
            execute_us: micros(outcome.execute),
            upstream,
            approval_id: None,
        })
    }
}

fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}
