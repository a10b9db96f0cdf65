//! Who calls, and who may say yes: the caller of a tool, and the approver the pipeline asks
//! when the policy wants a person to decide.

use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use toolhost_governance::Preview;
use toolhost_sandbox::ExchangeObserver;

/// Who is calling: an agent session, an operator. The role decides what it may do.
#[derive(Clone)]
pub struct Caller {
    /// How audit records and approvals name it.
    pub name: String,
    /// `None` uses the configured default role.
    pub role: Option<String>,
    /// Told of each upstream exchange of its calls as it completes (a terminal's progress).
    pub progress: Option<ExchangeObserver>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// A caller claiming `role` (`None`: the configured default).
    pub fn new(name: impl Into<String>, role: Option<String>) -> Caller {
        Caller {
            name: name.into(),
            role,
            progress: None,
        }
    }

    /// The same caller, told of each upstream exchange as it completes.
    pub fn with_progress(mut self, progress: ExchangeObserver) -> Caller {
        self.progress = Some(progress);
        self
    }
}

/// A person's answer to "may this call run?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalAnswer {
    /// Run it.
    Approve {
        /// Who said so.
        by: String,
    },
    /// Do not run it.
    Deny {
        /// Who said so.
        by: String,
    },
    /// Nobody can answer now: record a pending approval.
    Defer,
}

/// What an approver is shown.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalQuestion<'a> {
    /// The namespaced tool.
    pub tool: &'a str,
    /// Exactly the arguments that would run.
    pub arguments: &'a Value,
    /// Who asked for the call.
    pub caller: &'a str,
    /// The role it runs under.
    pub role: &'a str,
    /// Why the policy wants approval.
    pub reason: &'a str,
    /// What the call would do, as the plugin previewed it with reads only (untrusted text,
    /// already on one line and capped; escape it for the medium it is shown in). `None`: the
    /// tool has no preview.
    pub preview: Option<&'a Preview>,
}

/// Asks a person, when one is there to ask.
pub trait Approver: Send + Sync {
    /// The answer to `question`; [`ApprovalAnswer::Defer`] when nobody can answer now.
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
