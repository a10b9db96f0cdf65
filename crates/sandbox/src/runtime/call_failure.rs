//! Why a call produced no result: each reason says what happened and what to change.

use super::descriptors::ToolError;
use crate::outbound::GateFailure;

/// Why a call produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CallFailure {
    /// The plugin returned a `tool-error` and the gate saw nothing wrong.
    #[error("{0}")]
    Tool(ToolError),
    /// The gate stopped a request; preferred over the plugin's error, which only saw a WASI code.
    #[error("{0}")]
    Gate(#[serde(serialize_with = "as_display")] GateFailure),
    /// The plugin trapped.
    #[error("the plugin crashed (trap): {detail}")]
    Trap {
        /// The first lines of wasmtime's trap report.
        detail: String,
    },
    /// The plugin tried to grow its memory past the cap.
    #[error("the plugin exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// The cap.
        limit_bytes: usize,
    },
    /// The call's memory would have taken all calls in flight past the host's memory budget.
    /// The call itself may be ordinary: other calls held the rest, so it can be retried.
    #[error(
        "the calls in flight already hold the host's memory budget of {budget_bytes} bytes, so \
         this call could not have the memory it asked for; retry it when fewer calls run, or \
         the operator can raise limits.memory_budget_mib in toolhost.toml"
    )]
    MemoryBudget {
        /// The budget all calls share.
        budget_bytes: usize,
    },
    /// The plugin tried to hold more host resources at once than the call allows.
    #[error(
        "the plugin tried to hold more than {limit} host resources at once (header maps, \
         requests, bodies, streams); a plugin must drop handles it no longer needs, or the \
         operator can raise limits.max_host_resources in toolhost.toml"
    )]
    HostResourceLimit {
        /// The cap.
        limit: usize,
    },
    /// The plugin tried to grow one header map past the cap.
    #[error(
        "the plugin built a header map over the cap of {limit_bytes} bytes (each field's name \
         and value plus about 72 bytes); the operator can raise limits.max_header_kb in toolhost.toml"
    )]
    HeaderLimit {
        /// The cap.
        limit_bytes: usize,
    },
    /// The call ran past its deadline and was stopped.
    #[error("the call exceeded its deadline of {} ms", deadline_ms)]
    Deadline {
        /// The deadline.
        deadline_ms: u64,
    },
    /// The plugin's result is larger than the host accepts.
    #[error("the plugin's output ({size} bytes) exceeds the limit of {limit} bytes")]
    OutputTooLarge {
        /// The result's size.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// The plugin's result (or a tool it discovered) is not valid.
    #[error("the plugin returned output that is not JSON: {detail}")]
    InvalidOutput {
        /// What is wrong with it.
        detail: String,
    },
}

fn as_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
