//! An observer of finished call attempts, for front ends that count them (the Prometheus
//! `/metrics` of `toolhost serve`). It is told at the one place every attempt ends, right
//! after its audit record is written ([`crate::pipeline`]'s `record`), so what is counted
//! and what is audited are the same attempts.

use std::sync::Arc;
use std::time::Duration;
use toolhost_governance::{AuditDecision, AuditOutcome, AuditRecord};

/// One finished attempt, as an observer sees it: no arguments, no caller, no error text.
#[derive(Debug, Clone, Copy)]
pub struct CallEnded<'a> {
    /// The tenant the attempt was made in (the host's own, a checked tenant name).
    pub tenant: &'a str,
    /// The tool name as the attempt named it. Not yet checked against the catalog when the
    /// attempt was refused early: an observer that labels by it must bound it itself.
    pub tool: &'a str,
    /// What the policy decided.
    pub decision: AuditDecision,
    /// How the attempt ended.
    pub outcome: AuditOutcome,
    /// Time in the sandbox (instantiation and execution); `None` when the plugin never ran.
    pub duration: Option<Duration>,
    /// The HTTP status of every upstream exchange the attempt made, in order.
    pub upstream_statuses: &'a [u16],
}

impl<'a> CallEnded<'a> {
    pub(crate) fn of(record: &'a AuditRecord) -> CallEnded<'a> {
        let micros = record.instantiate_us + record.execute_us;
        CallEnded {
            tenant: &record.tenant,
            tool: &record.tool,
            decision: record.decision,
            outcome: record.outcome,
            duration: (micros > 0).then(|| Duration::from_micros(micros)),
            upstream_statuses: &record.upstream_status,
        }
    }
}

/// Told about every finished attempt. Called on the caller's task: keep it quick and
/// never block.
pub trait CallObserver: Send + Sync {
    /// One attempt ended (its audit record is already written).
    fn call_ended(&self, call: &CallEnded<'_>);
}

/// The observers a host tells (none unless a front end adds one).
#[derive(Default, Clone)]
pub(crate) struct Observers(Vec<Arc<dyn CallObserver>>);

impl Observers {
    pub(crate) fn add(&mut self, observer: Arc<dyn CallObserver>) {
        self.0.push(observer);
    }

    pub(crate) fn tell(&self, record: &AuditRecord) {
        if self.0.is_empty() {
            return;
        }
        let call = CallEnded::of(record);
        for observer in &self.0 {
            observer.call_ended(&call);
        }
    }
}
