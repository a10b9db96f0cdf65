//! The call path, the same for the CLI, the MCP server and the web UI:
//! resolve the tool -> the caller's role -> policy -> arguments -> approval -> run -> audit.
//!
//! Every attempt, refused or not, leaves one audit record. A call whose mode is approval
//! does nothing upstream until a person approves it: either right away (an `Approver` that
//! can ask, such as a terminal prompt or MCP elicitation) or later, through a pending
//! approval that runs exactly once with exactly the arguments that were approved.

use crate::approvals::{Approval, ApprovalFilter};
use crate::audit::{
    arguments_sha256, redact, AuditDecision, AuditFilter, AuditOutcome, AuditRecord,
};
use crate::error::HostError;
use crate::host::{CallReport, ToolEntry, ToolHost};
use crate::policy::{Decision, Mode, PolicyEngine};
use crate::roles::RoleTable;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// Who is calling: an agent session, an operator. The role decides what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    /// `None` uses the configured default role.
    pub role: Option<String>,
}

impl Caller {
    pub fn new(name: impl Into<String>, role: Option<String>) -> Caller {
        Caller {
            name: name.into(),
            role,
        }
    }
}

/// A person's answer to "may this call run?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalAnswer {
    Approve {
        by: String,
    },
    Deny {
        by: String,
    },
    /// Nobody can answer now: record a pending approval.
    Defer,
}

/// What an approver is shown.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalQuestion<'a> {
    pub tool: &'a str,
    pub arguments: &'a Value,
    pub caller: &'a str,
    pub role: &'a str,
    pub reason: &'a str,
}

/// Asks a person, when one is there to ask.
pub trait Approver: Send + Sync {
    fn ask<'a>(
        &'a self,
        question: ApprovalQuestion<'a>,
    ) -> Pin<Box<dyn Future<Output = ApprovalAnswer> + Send + 'a>>;
}

/// No one to ask: approval-needed calls become pending approvals.
pub struct DeferApprovals;

impl Approver for DeferApprovals {
    fn ask<'a>(
        &'a self,
        _: ApprovalQuestion<'a>,
    ) -> Pin<Box<dyn Future<Output = ApprovalAnswer> + Send + 'a>> {
        Box::pin(async { ApprovalAnswer::Defer })
    }
}

/// Always gives the same answer: for embedders that approved through their own UI before
/// calling, and for tests.
pub struct StaticApprover(pub ApprovalAnswer);

impl Approver for StaticApprover {
    fn ask<'a>(
        &'a self,
        _: ApprovalQuestion<'a>,
    ) -> Pin<Box<dyn Future<Output = ApprovalAnswer> + Send + 'a>> {
        let answer = self.0.clone();
        Box::pin(async move { answer })
    }
}

/// One attempt, for its audit record.
struct Attempt<'a> {
    tool: &'a str,
    caller: &'a str,
    role: &'a str,
    arguments: &'a Value,
}

impl ToolHost {
    /// Runs a tool for `caller`, asking `approver` when the policy needs approval.
    pub async fn call(
        &self,
        tool: &str,
        arguments: &str,
        caller: &Caller,
        approver: &dyn Approver,
    ) -> Result<CallReport, HostError> {
        let parsed: Value =
            serde_json::from_str(arguments).unwrap_or_else(|_| Value::String(arguments.into()));
        let roles = self.role_table();
        // Read once per call: the default role and the decision come from the same file.
        let engine = self.policy_engine();
        let role = self.resolve_role(caller, roles.as_ref().ok(), engine.as_ref().ok());
        let attempt = Attempt {
            tool,
            caller: &caller.name,
            role: &role,
            arguments: &parsed,
        };
        let refuse = |decision, err| self.refuse(&attempt, decision, None, err);
        let roles = match roles {
            Ok(roles) => roles,
            Err(err) => return refuse(AuditDecision::Invalid, err),
        };
        // A role that may not use the agent learns nothing, not even which tools exist.
        if let Err(denied) = roles.agent_role(&role) {
            let qualified = self.qualified_name(tool);
            let err = HostError::RoleDenied {
                tool: qualified.clone(),
                denied,
            };
            let attempt = Attempt {
                tool: &qualified,
                ..attempt
            };
            return self.refuse(&attempt, AuditDecision::RoleDenied, None, err);
        }
        let entry = match self.find_tool(tool).await {
            Ok(entry) => entry,
            Err(err) => return refuse(AuditDecision::Invalid, err),
        };
        let attempt = Attempt {
            tool: &entry.name,
            ..attempt
        };
        let refuse = |decision, err| self.refuse(&attempt, decision, None, err);
        // The role is checked before policy is consulted.
        if let Err(denied) = roles.check(&role, &entry, &parsed) {
            return refuse(
                AuditDecision::RoleDenied,
                HostError::RoleDenied {
                    tool: entry.name.clone(),
                    denied,
                },
            );
        }
        let decision = match engine {
            Ok(engine) => engine.decide(&entry),
            Err(err) => return refuse(AuditDecision::Invalid, err),
        };
        if let Err(err) = self.check_arguments(&entry, arguments) {
            return refuse(AuditDecision::Invalid, err);
        }
        match decision.mode {
            Mode::Never => refuse(
                AuditDecision::Never,
                HostError::Refused {
                    tool: entry.name.clone(),
                    reason: decision.explanation.clone(),
                },
            ),
            Mode::Auto => {
                self.run_and_record(
                    &attempt,
                    &entry,
                    arguments,
                    &roles,
                    AuditDecision::Auto,
                    decision.explanation,
                    None,
                )
                .await
            }
            Mode::Approval => {
                let question = ApprovalQuestion {
                    tool: &entry.name,
                    arguments: &parsed,
                    caller: &caller.name,
                    role: &role,
                    reason: &decision.explanation,
                };
                match approver.ask(question).await {
                    ApprovalAnswer::Approve { by } => {
                        let rule =
                            format!("approved by {by} when asked ({})", decision.explanation);
                        self.run_and_record(
                            &attempt,
                            &entry,
                            arguments,
                            &roles,
                            AuditDecision::Approved,
                            rule,
                            None,
                        )
                        .await
                    }
                    ApprovalAnswer::Deny { by } => {
                        let err = HostError::ApprovalDenied {
                            tool: entry.name.clone(),
                            by,
                        };
                        self.record(
                            &attempt,
                            AuditDecision::Approval,
                            decision.explanation,
                            None,
                            AuditOutcome::Denied,
                            Some(&err),
                            None,
                        );
                        Err(err)
                    }
                    ApprovalAnswer::Defer => self.defer(&attempt, &entry, &parsed, &decision),
                }
            }
        }
    }

    fn defer(
        &self,
        attempt: &Attempt<'_>,
        entry: &ToolEntry,
        arguments: &Value,
        decision: &Decision,
    ) -> Result<CallReport, HostError> {
        let approval =
            self.approvals()
                .create(&entry.name, arguments, attempt.caller, attempt.role)?;
        let err = HostError::ApprovalRequired {
            tool: entry.name.clone(),
            id: approval.id.clone(),
            command: approval.approve_command(),
        };
        self.record(
            attempt,
            AuditDecision::Approval,
            decision.explanation.clone(),
            Some(approval.id),
            AuditOutcome::PendingApproval,
            None,
            None,
        );
        Err(err)
    }

    /// Runs a pending approval: exactly once, with exactly the approved arguments, under the
    /// requester's role (checked again, as is the policy: an approval cannot outlive a
    /// tool that has since been set to never).
    pub async fn approve(&self, id: &str, by: &str) -> Result<CallReport, HostError> {
        let store = self.approvals();
        let id = store.resolve(id)?;
        let approval = store.claim(&id, by)?;
        let result = self.run_approved(&approval, by).await;
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(err) => format!("error: {err}"),
        };
        store.complete(&id, &outcome)?;
        result
    }

    async fn run_approved(&self, approval: &Approval, by: &str) -> Result<CallReport, HostError> {
        let parsed = approval.arguments_value().unwrap_or(Value::Null);
        let attempt = Attempt {
            tool: &approval.tool,
            caller: &approval.requester,
            role: &approval.role,
            arguments: &parsed,
        };
        let refuse =
            |decision, err| self.refuse(&attempt, decision, Some(approval.id.clone()), err);
        let roles = match self.role_table() {
            Ok(roles) => roles,
            Err(err) => return refuse(AuditDecision::Invalid, err),
        };
        let entry = match self.find_tool(&approval.tool).await {
            Ok(entry) => entry,
            Err(err) => return refuse(AuditDecision::Invalid, err),
        };
        if let Err(denied) = roles.check(&approval.role, &entry, &parsed) {
            return refuse(
                AuditDecision::RoleDenied,
                HostError::RoleDenied {
                    tool: entry.name.clone(),
                    denied,
                },
            );
        }
        let decision = match self.policy_engine() {
            Ok(engine) => engine.decide(&entry),
            Err(err) => return refuse(AuditDecision::Invalid, err),
        };
        if decision.mode == Mode::Never {
            let err = HostError::Refused {
                tool: entry.name.clone(),
                reason: decision.explanation,
            };
            return refuse(AuditDecision::Never, err);
        }
        if let Err(err) = self.check_arguments(&entry, &approval.arguments) {
            return refuse(AuditDecision::Invalid, err);
        }
        let rule = format!("approval {} approved by {by}", approval.id);
        self.run_and_record(
            &attempt,
            &entry,
            &approval.arguments,
            &roles,
            AuditDecision::Approved,
            rule,
            Some(approval.id.clone()),
        )
        .await
        .map(|mut report| {
            report.approval_id = Some(approval.id.clone());
            report
        })
    }

    /// Denies a pending approval; it can never run afterwards.
    pub fn deny(&self, id: &str, by: &str) -> Result<Approval, HostError> {
        let store = self.approvals();
        let id = store.resolve(id)?;
        let approval = store.deny(&id, by)?;
        let parsed = approval.arguments_value().unwrap_or(Value::Null);
        let attempt = Attempt {
            tool: &approval.tool,
            caller: &approval.requester,
            role: &approval.role,
            arguments: &parsed,
        };
        self.record(
            &attempt,
            AuditDecision::Approval,
            format!("denied by {by}"),
            Some(approval.id.clone()),
            AuditOutcome::Denied,
            None,
            None,
        );
        Ok(approval)
    }

    pub fn list_approvals(&self, filter: &ApprovalFilter) -> Result<Vec<Approval>, HostError> {
        Ok(self.approvals().list(filter)?)
    }

    pub fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, HostError> {
        Ok(self.audit_log().read(filter)?)
    }

    /// Every tool with its effective mode and why.
    pub async fn policy_list(&self) -> Result<Vec<(ToolEntry, Decision)>, HostError> {
        let engine = self.policy_engine()?;
        Ok(self
            .tools()
            .await?
            .into_iter()
            .map(|t| {
                let decision = engine.decide(&t);
                (t, decision)
            })
            .collect())
    }

    /// `toolhost policy set`: writes the override (atomically) and returns the mode it replaced.
    pub fn set_policy(&self, pattern: &str, mode: Mode) -> Result<Option<Mode>, HostError> {
        Ok(crate::policy::set_rule(
            &self.config().policy_file,
            pattern,
            mode,
        )?)
    }

    fn policy_engine(&self) -> Result<PolicyEngine, HostError> {
        // Read on every call: an operator's `policy set` in another process takes effect at
        // once, and a file broken meanwhile refuses calls instead of allowing them.
        Ok(PolicyEngine::load(&self.config().policy_file)?)
    }

    fn role_table(&self) -> Result<RoleTable, HostError> {
        Ok(RoleTable::load(&self.config().roles_file)?)
    }

    fn resolve_role(
        &self,
        caller: &Caller,
        roles: Option<&RoleTable>,
        engine: Option<&PolicyEngine>,
    ) -> String {
        let configured = engine.and_then(|p| p.default_role().map(str::to_string));
        let role = caller
            .role
            .clone()
            .or(configured)
            .unwrap_or_else(|| self.config().default_role.clone());
        // Canonical spelling when the table knows the role; as given otherwise (refused later).
        roles
            .and_then(|t| t.get(&role))
            .map_or(role, |r| r.name.clone())
    }

    /// Records a refused attempt and returns its error.
    fn refuse(
        &self,
        attempt: &Attempt<'_>,
        decision: AuditDecision,
        approval_id: Option<String>,
        err: HostError,
    ) -> Result<CallReport, HostError> {
        self.record(
            attempt,
            decision,
            err.to_string(),
            approval_id,
            AuditOutcome::Refused,
            Some(&err),
            None,
        );
        Err(err)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_and_record(
        &self,
        attempt: &Attempt<'_>,
        entry: &ToolEntry,
        arguments: &str,
        roles: &RoleTable,
        decision: AuditDecision,
        rule: String,
        approval_id: Option<String>,
    ) -> Result<CallReport, HostError> {
        let result = self.execute(entry, arguments).await.and_then(|mut report| {
            roles
                .check_result(attempt.role, &entry.name, &report.result)
                .map_err(|denied| HostError::RoleDenied {
                    tool: entry.name.clone(),
                    denied,
                })?;
            report.result = roles.filter_result(attempt.role, &entry.name, report.result);
            Ok(report)
        });
        let (outcome, error, report) = match &result {
            Ok(report) => (AuditOutcome::Ok, None, Some(report)),
            Err(err) => (AuditOutcome::Error, Some(err), None),
        };
        self.record(attempt, decision, rule, approval_id, outcome, error, report);
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        attempt: &Attempt<'_>,
        decision: AuditDecision,
        rule: String,
        approval_id: Option<String>,
        outcome: AuditOutcome,
        error: Option<&HostError>,
        report: Option<&CallReport>,
    ) {
        let secrets = self.secrets();
        let secret_refs: Vec<_> = secrets.iter().collect();
        let record = AuditRecord {
            time: chrono::Utc::now(),
            caller: attempt.caller.to_string(),
            role: attempt.role.to_string(),
            tool: attempt.tool.to_string(),
            arguments_sha256: arguments_sha256(attempt.arguments),
            arguments_redacted: redact(attempt.arguments, &secret_refs),
            decision,
            rule: crate::credentials::secret::scrub(&rule, &secret_refs),
            approval_id,
            outcome,
            error: error.map(|e| crate::credentials::secret::scrub(&e.to_string(), &secret_refs)),
            upstream_status: report
                .map(|r| r.upstream.iter().filter_map(|e| e.status).collect())
                .or_else(|| error.and_then(HostError::upstream_statuses))
                .unwrap_or_default(),
            instantiate_us: report.map_or(0, |r| r.instantiate_us),
            execute_us: report.map_or(0, |r| r.execute_us),
        };
        if let Err(err) = self.audit_log().append(&record) {
            // The call's outcome stands; losing its record is reported loudly.
            tracing::error!(
                "could not write the audit record for {}: {err}",
                record.tool
            );
        }
    }
}

/// `toolhost approvals list` filter for pending approvals.
pub fn pending() -> ApprovalFilter {
    ApprovalFilter::pending()
}
