//! What a successful call returns: the result and what it cost.

use serde_json::Value;
use toolhost_sandbox::UpstreamExchange;

/// A successful call and what it cost.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallReport {
    /// The namespaced tool.
    pub tool: String,
    /// What the tool returned (filtered to the caller's scope).
    pub result: Value,
    /// Time to instantiate the component.
    pub instantiate_us: u64,
    /// Time the guest ran, upstream requests included.
    pub execute_us: u64,
    /// Every upstream request the call made.
    pub upstream: Vec<UpstreamExchange>,
    /// The approval it ran under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}
