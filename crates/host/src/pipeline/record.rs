//! The audit record of one attempt: every attempt, refused or not, leaves exactly one.

use super::report::CallReport;
use crate::error::HostError;
use crate::host::ToolHost;
use serde_json::Value;
use toolhost_base::scrub;
use toolhost_governance::{arguments_sha256, redact, AuditDecision, AuditOutcome, AuditRecord};

/// Who tried what, as far as it is known when the attempt ends.
pub(crate) struct Attempt<'a> {
    pub tool: &'a str,
    pub caller: &'a str,
    pub role: &'a str,
    pub arguments: &'a Value,
    pub approval_id: Option<&'a str>,
}

/// How an attempt ended, for its record.
pub(crate) struct Ending<'a> {
    pub decision: AuditDecision,
    pub rule: String,
    pub outcome: AuditOutcome,
    pub error: Option<&'a HostError>,
    pub report: Option<&'a CallReport>,
}

impl ToolHost {
    /// Records a refused attempt and returns its error.
    pub(crate) async fn refuse<T>(
        &self,
        attempt: &Attempt<'_>,
        decision: AuditDecision,
        err: HostError,
    ) -> Result<T, HostError> {
        self.record(
            attempt,
            Ending {
                decision,
                rule: err.to_string(),
                outcome: AuditOutcome::Refused,
                error: Some(&err),
                report: None,
            },
        )
        .await;
        Err(err)
    }

    pub(crate) async fn record(&self, attempt: &Attempt<'_>, ending: Ending<'_>) {
        let secrets = self.secrets();
        let secret_refs: Vec<_> = secrets.iter().collect();
        let Ending {
            decision,
            rule,
            outcome,
            error,
            report,
        } = ending;
        let record = AuditRecord {
            time: chrono::Utc::now(),
            tenant: self.tenant().to_string(),
            caller: attempt.caller.to_string(),
            role: attempt.role.to_string(),
            tool: attempt.tool.to_string(),
            arguments_sha256: arguments_sha256(attempt.arguments),
            arguments_redacted: redact(attempt.arguments, &secret_refs),
            decision,
            rule: scrub(&rule, &secret_refs),
            approval_id: attempt.approval_id.map(str::to_string),
            outcome,
            error: error.map(|e| scrub(&e.to_string(), &secret_refs)),
            upstream_status: report
                .map(|r| r.upstream.iter().filter_map(|e| e.status).collect())
                .or_else(|| error.and_then(HostError::upstream_statuses))
                .unwrap_or_default(),
            instantiate_us: report.map_or(0, |r| r.instantiate_us),
            execute_us: report.map_or(0, |r| r.execute_us),
        };
        if let Err(err) = self.audit.append(&record).await {
            // The call's outcome stands; losing its record is reported loudly.
            tracing::error!(
                "could not write the audit record for {}: {err}",
                record.tool
            );
        }
        self.observers.tell(&record);
    }
}
