//! `behaviour.preview-reads-only`: a preview tells a person what a call would do, so it may
//! only read. Every tool that declares a write route is previewed against the backend with
//! only its read routes open (as the host runs previews); any request the gate had to refuse
//! there, and any write that reached the backend, is a finding.

use super::report::Check;
use toolhost_sandbox::{
    wit, Access, CallContext, CallFailure, GateFailure, LinkedPlugin, ToolRoute, ToolRoutes,
};

const ID: &str = "behaviour.preview-reads-only";
const TITLE: &str = "a preview makes no write";

/// The tool's declared routes, as the host would scope its calls (invalid ones dropped: the
/// declarations check reports them).
fn routes_of(plugin_id: &str, tool: &wit::ToolDescriptor) -> ToolRoutes {
    ToolRoutes {
        tool: format!("{plugin_id}:{}", tool.name),
        routes: tool
            .routes
            .iter()
            .filter_map(|r| {
                let access = match r.access {
                    wit::Access::Read => Access::Read,
                    wit::Access::Write => Access::Write,
                };
                ToolRoute::new(&r.method, &r.path, access).ok()
            })
            .collect(),
    }
}

/// Previews each writing tool with `{}` and reads what the gate and the backend saw.
pub async fn reads_only(
    plugin: &LinkedPlugin,
    ctx: &CallContext,
    plugin_id: &str,
    tools: &[wit::ToolDescriptor],
) -> Check {
    let mut findings = Vec::new();
    for tool in tools {
        let routes = routes_of(plugin_id, tool);
        let writes: Vec<&ToolRoute> = routes
            .routes
            .iter()
            .filter(|r| r.access == Access::Write)
            .collect();
        if writes.is_empty() {
            continue;
        }
        let scoped = ctx.clone().scoped(routes.reads_only());
        let outcome = plugin.raw_preview_call(scoped, &tool.name, "{}").await;
        for failure in &outcome.gate_failures {
            if let GateFailure::NotARoute { method, path, .. } = failure {
                let what = match writes.iter().any(|w| w.matches(method, path)) {
                    true => "one of its write routes",
                    false => "not one of its read routes",
                };
                findings.push(format!(
                    "the preview of `{}` tried {method} {path} ({what}); a preview may only read",
                    tool.name
                ));
            }
        }
        for exchange in &outcome.exchanges {
            if writes
                .iter()
                .any(|w| w.matches(&exchange.method, &exchange.path))
            {
                findings.push(format!(
                    "the preview of `{}` sent {} {} to the backend, a write",
                    tool.name, exchange.method, exchange.path
                ));
            }
        }
        if let Err(failure) = &outcome.result {
            if !matches!(failure, CallFailure::Gate(_)) {
                findings.push(format!("the preview of `{}`: {failure}", tool.name));
            }
        }
    }
    Check::new(ID, TITLE, findings)
}

/// Without a backend a preview's reads fail before anything could be judged.
pub fn skipped() -> Check {
    Check::skip(ID, TITLE, "needs a backend and valid metadata")
}
