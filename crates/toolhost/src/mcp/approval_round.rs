//! Approvals on 2026-07-28, where the server may no longer send a request of its own in the
//! middle of a call: an approval-needed `tools/call` answers with an input-required result
//! (multi round-trip requests, SEP-2322) and the client retries with the signed
//! `requestState` ([`super::request_state`]).
//!
//! - A client the operator allowed to approve (`--allow-elicitation`) that declares form
//!   elicitation is asked, as on 2025-11-25: the person's accept, sent back with the retry,
//!   approves (never as the requester: the pipeline refuses self-approval).
//! - Any other client gets a URL-mode elicitation that opens the admin UI's page of the
//!   pending approval (`toolhost mcp --approvals-url`): an operator decides there, and what
//!   the client sends back changes nothing. Retries see the approval's state: still pending
//!   asks again; executed or denied ends the call, once (executed: with the tool's result,
//!   which the approved run kept).

use super::approver::approval_message;
use super::call_result;
use super::names;
use super::request_state::{ApprovalStates, Binding, StateError};
use rmcp::model::{
    CallToolResult, ClientCapabilities, ContentBlock, ElicitRequest, ElicitRequestParams,
    ElicitResult, ElicitationAction, ElicitationSchema, InputRequest, InputRequests,
    InputRequiredResult, InputResponses, JsonObject, MetaObject,
};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use toolhost_governance::{
    Approval, ApprovalState, ApprovalStatus, MAX_KEPT_APPROVAL_RESULT as MAX_KEPT_RESULT,
};
use toolhost_host::{
    ApprovalAnswer, ApprovalQuestion, Approver, CallReport, HostError, ToolEntry, ToolHost,
};

/// The key of the approval question in `inputRequests` / `inputResponses`.
pub const INPUT_KEY: &str = "toolhost/approval";

impl AskMode {
    /// How this client is asked: form when the operator allowed it and it declared form
    /// elicitation, else the admin UI's page when the server knows its address and the
    /// client declared URL elicitation; `None` leaves the approval pending for an operator
    /// (the call ends with today's tool error naming it).
    pub fn choose(
        allowed: bool,
        capabilities: Option<&ClientCapabilities>,
        approvals_url: Option<&str>,
    ) -> Option<AskMode> {
        let elicitation = capabilities.and_then(|c| c.elicitation.as_ref())?;
        // `"elicitation": {}` (no mode named) means form, as before URL mode existed.
        let form = elicitation.form.is_some() || elicitation.url.is_none();
        if allowed && form {
            return Some(AskMode::Form);
        }
        match (elicitation.url.is_some(), approvals_url) {
            (true, Some(base)) => Some(AskMode::Url(base.to_string())),
            _ => None,
        }
    }
}

/// How a client can be asked for an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskMode {
    /// Form elicitation: the person at the client approves (an allowed client only).
    Form,
    /// URL elicitation of the admin UI's page of the approval; this is the UI's address.
    Url(String),
}

/// The admin UI's page of one approval.
pub fn approval_page(base: &str, id: &str) -> String {
    format!("{}/#/approvals/{id}", base.trim_end_matches('/'))
}

/// The approver of a 2026-07-28 call: never asks in the middle of the call (that would be
/// a server-to-client request), records the question for the input-required result, defers.
#[derive(Default)]
pub struct RoundApprover {
    message: Mutex<Option<String>>,
}

impl RoundApprover {
    /// The question the pipeline would have asked, if it wanted approval.
    pub fn message(&self) -> Option<String> {
        self.message
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Approver for RoundApprover {
    fn ask<'a>(
        &'a self,
        q: ApprovalQuestion<'a>,
    ) -> Pin<Box<dyn Future<Output = ApprovalAnswer> + Send + 'a>> {
        *self.message.lock().unwrap_or_else(|p| p.into_inner()) = Some(approval_message(&q));
        Box::pin(async { ApprovalAnswer::Defer })
    }
}

/// One approval round of one call.
pub struct Round<'a> {
    pub host: &'a ToolHost,
    pub states: &'a ApprovalStates,
    pub binding: Binding<'a>,
    /// How this client can be asked now (its record and declared capabilities).
    pub mode: Option<AskMode>,
    /// The client's name, for "the user of <client>".
    pub client: &'a str,
}

/// What a retry comes to.
pub enum Resumed {
    /// The person at the client approved: the pipeline ran it (or refused it).
    Ran(Result<CallReport, HostError>),
    /// The call is over: its outcome (denied, expired, or run after an operator approved).
    Over(CallToolResult),
    /// Still waiting: ask again.
    Waiting(InputRequiredResult),
}

impl Round<'_> {
    /// The input-required result for a new pending approval `id`; `None` when this client
    /// cannot be asked at all.
    pub fn ask(&self, id: &str, message: &str) -> Option<InputRequiredResult> {
        let mode = self.mode.clone()?;
        self.input_required(id, message, &mode)
    }

    fn input_required(
        &self,
        id: &str,
        message: &str,
        mode: &AskMode,
    ) -> Option<InputRequiredResult> {
        let (elicit, params) = match mode {
            AskMode::Form => (
                true,
                ElicitRequestParams::FormElicitationParams {
                    meta: None,
                    message: message.to_string(),
                    requested_schema: empty_schema()?,
                },
            ),
            AskMode::Url(base) => (
                false,
                ElicitRequestParams::UrlElicitationParams {
                    meta: None,
                    message: format!(
                        "{message}\n\nAn operator approves or denies this call in the toolhost admin UI (approval {id}). Retry the call after the decision."
                    ),
                    url: approval_page(base, id),
                    elicitation_id: id.to_string(),
                },
            ),
        };
        let mut requests = InputRequests::new();
        requests.insert(
            INPUT_KEY.to_string(),
            InputRequest::Elicitation(ElicitRequest::new(params)),
        );
        let state = self.states.seal(id, elicit, self.binding);
        Some(InputRequiredResult::new(Some(requests), Some(state)).with_meta(approval_meta(id)))
    }

    /// A retried call with `state`: verified, then judged by the approval as it stands.
    pub async fn resume(
        &self,
        state: &str,
        responses: Option<&InputResponses>,
    ) -> Result<Resumed, StateError> {
        let opened = self.states.open_state(state, self.binding)?;
        let id = opened.approval;
        let approval = match self.host.approval(&id).await {
            Ok(approval) => approval,
            Err(err) => {
                tracing::warn!("a requestState names approval {id}, which cannot be read: {err}");
                return Err(StateError::Invalid);
            }
        };
        match approval.status(chrono::Utc::now()) {
            ApprovalStatus::Pending => {
                Ok(self.pending(&approval, opened.elicit, responses).await?)
            }
            ApprovalStatus::Executing => {
                // Approved and running: come back for its outcome.
                let state = self.states.seal(&id, false, self.binding);
                Ok(Resumed::Waiting(
                    InputRequiredResult::from_request_state(state).with_meta(approval_meta(&id)),
                ))
            }
            _ => {
                self.states.redeem(&id).await?;
                let tools = self.host.tools().await.unwrap_or_default();
                Ok(Resumed::Over(outcome_result(
                    &approval,
                    self.binding.tool,
                    &tools,
                )))
            }
        }
    }

    async fn pending(
        &self,
        approval: &Approval,
        elicit: bool,
        responses: Option<&InputResponses>,
    ) -> Result<Resumed, StateError> {
        let id = &approval.id;
        // Only a round that asked by form, for a client still allowed to approve, may be
        // answered by the client; a URL round is an operator's alone, whatever comes back.
        let answer = match (elicit, &self.mode) {
            (true, Some(AskMode::Form)) => responses
                .and_then(|r| r.get(INPUT_KEY))
                .and_then(|v| serde_json::from_value::<ElicitResult>(v.clone()).ok())
                .map(|r| r.action),
            _ => None,
        };
        let by = format!("the user of {} (MCP elicitation)", self.client);
        match answer {
            Some(ElicitationAction::Accept) => {
                self.states.redeem(id).await?;
                Ok(Resumed::Ran(self.host.approve(id, &by).await))
            }
            Some(_) => {
                self.states.redeem(id).await?;
                let text = match self.host.deny(id, &by).await {
                    Ok(_) => format!(
                        "{} was denied by {by} (approval {id}); it did not run.",
                        names::to_mcp(&approval.tool)
                    ),
                    Err(err) => err.to_string(),
                };
                Ok(Resumed::Over(error_with_id(text, id)))
            }
            None => {
                // Asked before and cannot be asked now (the operator withdrew the permission,
                // or the client stopped declaring elicitation): the call ends pending.
                let asked = self
                    .mode
                    .as_ref()
                    .and_then(|mode| self.input_required(id, &repeat_message(approval), mode));
                Ok(match asked {
                    Some(again) => Resumed::Waiting(again),
                    None => Resumed::Over(pending_result(approval)),
                })
            }
        }
    }
}

/// The question again, rebuilt from the record (which keeps what runs, not the policy's
/// wording of why).
fn repeat_message(approval: &Approval) -> String {
    let arguments = approval.arguments_value().unwrap_or(Value::Null);
    approval_message(&ApprovalQuestion {
        tool: &approval.tool,
        arguments: &arguments,
        caller: &approval.requester,
        role: &approval.role,
        reason: "the policy needs a person's approval for this tool (pending approval)",
        preview: approval.preview.as_ref(),
    })
}

/// The approval form has no fields: accept or decline is the answer.
fn empty_schema() -> Option<ElicitationSchema> {
    ElicitationSchema::builder()
        .build()
        .inspect_err(|err| tracing::warn!("cannot build the approval form ({err})"))
        .ok()
}

fn approval_meta(id: &str) -> MetaObject {
    let mut meta = JsonObject::new();
    meta.insert("toolhost/approvalId".into(), json!(id));
    MetaObject(meta)
}

fn error_with_id(text: String, id: &str) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
    result.meta = Some(approval_meta(id));
    result
}

fn pending_result(approval: &Approval) -> CallToolResult {
    error_with_id(
        format!(
            "{} is waiting for approval {}: a person other than the requester must approve it.",
            names::to_mcp(&approval.tool),
            approval.id
        ),
        &approval.id,
    )
}

/// The end of a call whose approval was decided elsewhere. An operator's approval ran the
/// call in the operator's process, which kept what it returned: the requester gets that
/// result, as a direct call would have (once: the round's state is redeemed first).
fn outcome_result(approval: &Approval, tool: &str, tools: &[ToolEntry]) -> CallToolResult {
    let name = names::to_mcp(tool);
    let id = &approval.id;
    match &approval.state {
        ApprovalState::Executed {
            outcome,
            result: Some(result),
            ..
        } if outcome == "ok" => {
            let mut out = call_result::tool_result(tools, tool, result.clone());
            out.meta = Some(approval_meta(id));
            out
        }
        ApprovalState::Executed { by, outcome, .. } => {
            let text = if outcome == "ok" {
                format!(
                    "{name} was approved by {by} (approval {id}) and ran: ok. Its result is not available here (a result over {} MiB is not kept); it was shown to the approver and the run is in the audit log.",
                    MAX_KEPT_RESULT >> 20
                )
            } else {
                format!(
                    "{name} was approved by {by} (approval {id}) and ran: {outcome}. The run is in the audit log."
                )
            };
            let mut result = if outcome == "ok" {
                CallToolResult::success(vec![ContentBlock::text(text)])
            } else {
                CallToolResult::error(vec![ContentBlock::text(text)])
            };
            result.meta = Some(approval_meta(id));
            result
        }
        ApprovalState::Denied { by, .. } => error_with_id(
            format!("{name} was denied by {by} (approval {id}); it did not run."),
            id,
        ),
        _ => error_with_id(
            format!("approval {id} for {name} expired before anyone approved it; it did not run."),
            id,
        ),
    }
}
