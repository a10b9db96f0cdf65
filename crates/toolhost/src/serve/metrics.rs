//! `/metrics`: what `toolhost serve` counts, in the Prometheus text exposition format.
//!
//! Every label is bounded: tools are labelled only by names the catalog knows (anything
//! else a client sent is `other`), decisions and outcomes are the audit's fixed sets, and
//! upstream statuses are three-digit numbers. Nothing is labelled by arguments or callers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use toolhost_host::metrics::{CallEnded, CallObserver};

/// The label of a tool the catalog does not know (a client's typo, a removed tool).
pub const OTHER_TOOL: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tool: String,
    decision: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabel {
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

type HistogramFamily = Family<ToolLabel, Histogram, fn() -> Histogram>;

fn call_histogram() -> Histogram {
    // 5 ms .. ~41 s: a cached read to a slow task schedule.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// The server's metrics. One per process; shared by every host it opens.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    durations: HistogramFamily,
    upstream: Family<StatusLabel, Counter>,
    mints: Counter,
    pending: Gauge,
    /// Tool names the catalog listed (labels are limited to these).
    known_tools: RwLock<HashSet<String>>,
    /// Per source of mints (the MCP host, the UI host): the count last added.
    mints_seen: [AtomicU64; 2],
}

/// Which host a mint count comes from (each host has its own token provider).
#[derive(Debug, Clone, Copy)]
pub enum MintSource {
    Mcp = 0,
    Ui = 1,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let calls = Family::<CallLabels, Counter>::default();
        let durations = HistogramFamily::new_with_constructor(call_histogram);
        let upstream = Family::<StatusLabel, Counter>::default();
        let mints = Counter::default();
        let pending = Gauge::default();
        let mut registry = Registry::default();
        registry.register(
            "toolhost_calls",
            "Tool call attempts, by tool, policy decision and outcome",
            calls.clone(),
        );
        registry.register(
            "toolhost_call_duration_seconds",
            "Time a call spent in the sandbox (instantiation and execution), by tool",
            durations.clone(),
        );
        registry.register(
            "toolhost_upstream_responses",
            "Upstream HTTP responses the plugin's calls received, by status",
            upstream.clone(),
        );
        registry.register(
            "toolhost_token_mints",
            "OAuth access tokens minted at the tenant's token endpoint",
            mints.clone(),
        );
        registry.register(
            "toolhost_pending_approvals",
            "Calls waiting for a person's approval",
            pending.clone(),
        );
        Metrics {
            registry,
            calls,
            durations,
            upstream,
            mints,
            pending,
            known_tools: RwLock::new(HashSet::new()),
            mints_seen: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    /// The tool names labels may carry (the catalog's, as last listed).
    pub fn set_known_tools(&self, names: impl IntoIterator<Item = String>) {
        let mut known = self.known_tools.write().unwrap_or_else(|p| p.into_inner());
        known.extend(names);
    }

    fn tool_label(&self, tool: &str) -> String {
        let known = self.known_tools.read().unwrap_or_else(|p| p.into_inner());
        if known.contains(tool) {
            tool.to_string()
        } else {
            OTHER_TOOL.to_string()
        }
    }

    /// A host's own mint count (which restarts with a new connection): adds what is new.
    pub fn observe_mints(&self, source: MintSource, count: u64) {
        let previous = self.mints_seen[source as usize].swap(count, Ordering::Relaxed);
        let new = if count >= previous {
            count - previous
        } else {
            count
        };
        if new > 0 {
            self.mints.inc_by(new);
        }
    }

    pub fn set_pending_approvals(&self, pending: usize) {
        self.pending.set(i64::try_from(pending).unwrap_or(i64::MAX));
    }

    /// The text exposition (`text/plain; version=0.0.4` compatible OpenMetrics text).
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!("could not encode the metrics: {err}");
        }
        text
    }
}

impl CallObserver for Metrics {
    fn call_ended(&self, call: &CallEnded<'_>) {
        let tool = self.tool_label(call.tool);
        self.calls
            .get_or_create(&CallLabels {
                tool: tool.clone(),
                decision: call.decision.as_str().to_string(),
                outcome: call.outcome.as_str().to_string(),
            })
            .inc();
        if let Some(duration) = call.duration {
            self.durations
                .get_or_create(&ToolLabel { tool })
                .observe(duration.as_secs_f64());
        }
        for status in call.upstream_statuses {
            // A status outside 100..=999 is not HTTP; one label keeps it bounded.
            let status = if (100..=999).contains(status) {
                status.to_string()
            } else {
                "invalid".to_string()
            };
            self.upstream.get_or_create(&StatusLabel { status }).inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use toolhost_governance::{AuditDecision, AuditOutcome};

    fn ended<'a>(tool: &'a str, statuses: &'a [u16]) -> CallEnded<'a> {
        CallEnded {
            tool,
            decision: AuditDecision::Auto,
            outcome: AuditOutcome::Ok,
            duration: Some(Duration::from_millis(20)),
            upstream_statuses: statuses,
        }
    }

    #[test]
    fn counts_known_tools_and_bounds_unknown_names() {
        let metrics = Metrics::new();
        metrics.set_known_tools(["p:list".to_string()]);
        metrics.call_ended(&ended("p:list", &[200, 200]));
        metrics.call_ended(&ended("p:anything-a-client-typed\"}", &[503, 0]));
        let text = metrics.render();
        assert!(
            text.contains(r#"toolhost_calls_total{tool="p:list",decision="auto",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_calls_total{tool="other",decision="auto",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(!text.contains("anything-a-client-typed"), "{text}");
        assert!(
            text.contains(r#"toolhost_upstream_responses_total{status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_upstream_responses_total{status="invalid"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_call_duration_seconds_count{tool="p:list"} 1"#),
            "{text}"
        );
    }

    #[test]
    fn mints_add_what_is_new_per_source_and_survive_a_reset() {
        let metrics = Metrics::new();
        metrics.observe_mints(MintSource::Mcp, 2);
        metrics.observe_mints(MintSource::Mcp, 2);
        metrics.observe_mints(MintSource::Ui, 1);
        metrics.observe_mints(MintSource::Mcp, 1); // a new connection: its count restarts
        metrics.set_pending_approvals(3);
        let text = metrics.render();
        assert!(text.contains("toolhost_token_mints_total 4"), "{text}");
        assert!(text.contains("toolhost_pending_approvals 3"), "{text}");
    }
}
