//! `/metrics`: what `toolhost serve` counts, in the Prometheus text exposition format.
//!
//! Every series about a tenant carries a `tenant` label. Every label is bounded: tenants are
//! labelled only by the ones served (anything else is `other`), tools only by names that
//! tenant's catalog knows (anything else a client sent is `other`), decisions and outcomes
//! are the audit's fixed sets, and upstream statuses are three-digit numbers. Nothing is
//! labelled by arguments or callers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};
use toolhost_host::metrics::{CallEnded, CallObserver};

/// The label of a tool the catalog does not know (a client's typo, a removed tool).
pub const OTHER_TOOL: &str = "other";
/// The label of a tenant the server does not serve (never expected: a host only records its
/// own tenant; the label stays bounded regardless).
pub const OTHER_TENANT: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    tenant: String,
    tool: String,
    decision: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tenant: String,
    tool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    tenant: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabel {
    tenant: String,
}

type HistogramFamily = Family<ToolLabels, Histogram, fn() -> Histogram>;

fn call_histogram() -> Histogram {
    // 5 ms .. ~41 s: a cached read to a slow task schedule.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// The server's metrics. One per process; shared by every host it opens.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    durations: HistogramFamily,
    upstream: Family<StatusLabels, Counter>,
    mints: Family<TenantLabel, Counter>,
    pending: Family<TenantLabel, Gauge>,
    /// The tenants served, each with the tool names its catalog listed (labels are limited
    /// to these).
    known: RwLock<HashMap<String, HashSet<String>>>,
    /// Per tenant and source of mints (the MCP host, the UI host): the count last added.
    mints_seen: Mutex<HashMap<(String, MintSource), u64>>,
}

/// Which host a mint count comes from (each host has its own token provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MintSource {
    Mcp,
    Ui,
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
        let upstream = Family::<StatusLabels, Counter>::default();
        let mints = Family::<TenantLabel, Counter>::default();
        let pending = Family::<TenantLabel, Gauge>::default();
        let mut registry = Registry::default();
        registry.register(
            "toolhost_calls",
            "Tool call attempts, by tenant, tool, policy decision and outcome",
            calls.clone(),
        );
        registry.register(
            "toolhost_call_duration_seconds",
            "Time a call spent in the sandbox (instantiation and execution), by tenant and tool",
            durations.clone(),
        );
        registry.register(
            "toolhost_upstream_responses",
            "Upstream HTTP responses the plugin's calls received, by tenant and status",
            upstream.clone(),
        );
        registry.register(
            "toolhost_token_mints",
            "OAuth access tokens minted at the tenant's token endpoint, by tenant",
            mints.clone(),
        );
        registry.register(
            "toolhost_pending_approvals",
            "Calls waiting for a person's approval, by tenant",
            pending.clone(),
        );
        Metrics {
            registry,
            calls,
            durations,
            upstream,
            mints,
            pending,
            known: RwLock::new(HashMap::new()),
            mints_seen: Mutex::new(HashMap::new()),
        }
    }

    /// Serves `tenant`: its series are labelled with its name from now on.
    pub fn add_tenant(&self, tenant: &str) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        known.entry(tenant.to_string()).or_default();
    }

    /// The tool names `tenant`'s labels may carry (its catalog's, as last listed); serves
    /// the tenant too.
    pub fn set_known_tools(&self, tenant: &str, names: impl IntoIterator<Item = String>) {
        let mut known = self.known.write().unwrap_or_else(|p| p.into_inner());
        known.entry(tenant.to_string()).or_default().extend(names);
    }

    /// The labels of `tenant` and `tool`: each as given when known, else `other`.
    fn labels(&self, tenant: &str, tool: &str) -> (String, String) {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        match known.get(tenant) {
            Some(tools) if tools.contains(tool) => (tenant.to_string(), tool.to_string()),
            Some(_) => (tenant.to_string(), OTHER_TOOL.to_string()),
            None => (OTHER_TENANT.to_string(), OTHER_TOOL.to_string()),
        }
    }

    fn tenant_label(&self, tenant: &str) -> TenantLabel {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        TenantLabel {
            tenant: if known.contains_key(tenant) {
                tenant.to_string()
            } else {
                OTHER_TENANT.to_string()
            },
        }
    }

    /// A host's own mint count (which restarts with a new connection): adds what is new to
    /// `tenant`'s.
    pub fn observe_mints(&self, tenant: &str, source: MintSource, count: u64) {
        let previous = {
            let mut seen = self.mints_seen.lock().unwrap_or_else(|p| p.into_inner());
            seen.insert((tenant.to_string(), source), count)
                .unwrap_or(0)
        };
        let new = if count >= previous {
            count - previous
        } else {
            count
        };
        if new > 0 {
            self.mints
                .get_or_create(&self.tenant_label(tenant))
                .inc_by(new);
        }
    }

    pub fn set_pending_approvals(&self, tenant: &str, pending: usize) {
        self.pending
            .get_or_create(&self.tenant_label(tenant))
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
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
        let (tenant, tool) = self.labels(call.tenant, call.tool);
        self.calls
            .get_or_create(&CallLabels {
                tenant: tenant.clone(),
                tool: tool.clone(),
                decision: call.decision.as_str().to_string(),
                outcome: call.outcome.as_str().to_string(),
            })
            .inc();
        if let Some(duration) = call.duration {
            self.durations
                .get_or_create(&ToolLabels {
                    tenant: tenant.clone(),
                    tool,
                })
                .observe(duration.as_secs_f64());
        }
        for status in call.upstream_statuses {
            // A status outside 100..=999 is not HTTP; one label keeps it bounded.
            let status = if (100..=999).contains(status) {
                status.to_string()
            } else {
                "invalid".to_string()
            };
            self.upstream
                .get_or_create(&StatusLabels {
                    tenant: tenant.clone(),
                    status,
                })
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use toolhost_governance::{AuditDecision, AuditOutcome};

    fn ended<'a>(tenant: &'a str, tool: &'a str, statuses: &'a [u16]) -> CallEnded<'a> {
        CallEnded {
            tenant,
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
        metrics.set_known_tools("default", ["p:list".to_string()]);
        metrics.call_ended(&ended("default", "p:list", &[200, 200]));
        metrics.call_ended(&ended("default", "p:anything-a-client-typed\"}", &[503, 0]));
        let text = metrics.render();
        assert!(
            text.contains(r#"toolhost_calls_total{tenant="default",tool="p:list",decision="auto",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_calls_total{tenant="default",tool="other",decision="auto",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(!text.contains("anything-a-client-typed"), "{text}");
        assert!(
            text.contains(r#"toolhost_upstream_responses_total{tenant="default",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"toolhost_upstream_responses_total{tenant="default",status="invalid"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"toolhost_call_duration_seconds_count{tenant="default",tool="p:list"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn tenants_are_counted_apart_and_only_served_ones_are_labels() {
        let metrics = Metrics::new();
        metrics.set_known_tools("acme", ["p:list".to_string()]);
        metrics.set_known_tools("globex", ["p:list".to_string(), "p:get".to_string()]);
        metrics.call_ended(&ended("acme", "p:list", &[200]));
        metrics.call_ended(&ended("globex", "p:list", &[200]));
        metrics.call_ended(&ended("globex", "p:list", &[404]));
        // A tool only the other tenant knows is `other` here; an unknown tenant is `other`.
        metrics.call_ended(&ended("acme", "p:get", &[]));
        metrics.call_ended(&ended("initech", "p:list", &[200]));
        let text = metrics.render();
        for line in [
            r#"toolhost_calls_total{tenant="acme",tool="p:list",decision="auto",outcome="ok"} 1"#,
            r#"toolhost_calls_total{tenant="globex",tool="p:list",decision="auto",outcome="ok"} 2"#,
            r#"toolhost_calls_total{tenant="acme",tool="other",decision="auto",outcome="ok"} 1"#,
            r#"toolhost_calls_total{tenant="other",tool="other",decision="auto",outcome="ok"} 1"#,
            r#"toolhost_upstream_responses_total{tenant="acme",status="200"} 1"#,
            r#"toolhost_upstream_responses_total{tenant="globex",status="404"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(!text.contains("initech"), "{text}");
    }

    #[test]
    fn mints_add_what_is_new_per_tenant_and_source_and_survive_a_reset() {
        let metrics = Metrics::new();
        metrics.add_tenant("default");
        metrics.add_tenant("acme");
        metrics.observe_mints("default", MintSource::Mcp, 2);
        metrics.observe_mints("default", MintSource::Mcp, 2);
        metrics.observe_mints("default", MintSource::Ui, 1);
        metrics.observe_mints("default", MintSource::Mcp, 1); // a new connection: its count restarts
        metrics.observe_mints("acme", MintSource::Mcp, 5);
        metrics.set_pending_approvals("default", 3);
        metrics.set_pending_approvals("acme", 0);
        let text = metrics.render();
        assert!(
            text.contains(r#"toolhost_token_mints_total{tenant="default"} 4"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_token_mints_total{tenant="acme"} 5"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_pending_approvals{tenant="default"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"toolhost_pending_approvals{tenant="acme"} 0"#),
            "{text}"
        );
    }
}
