//! Behavioural checks: what a plugin does when called, judged from the host's side.

use super::report::Check;
use toolhost_sandbox::wit;
use toolhost_sandbox::GateFailure;
use toolhost_sandbox::{CallContext, CallFailure, CallOutcome, LinkedPlugin};

/// Everything the gate and the limits saw across the behavioural calls.
#[derive(Default)]
pub struct Observed {
    pub denied: Vec<String>,
    pub limit_failures: Vec<String>,
}

impl Observed {
    pub fn note<R>(&mut self, what: &str, outcome: &CallOutcome<R>) {
        for failure in &outcome.gate_failures {
            match failure {
                GateFailure::OriginDenied { origin, .. }
                | GateFailure::Malformed { reason: origin } => self.denied.push(format!(
                    "{what}: request to {origin} outside the declared origins"
                )),
                GateFailure::NotARoute { method, path, .. } => self.denied.push(format!(
                    "{what}: {method} {path} outside the declared routes"
                )),
                _ => {}
            }
        }
        if let Err(
            failure @ (CallFailure::MemoryLimit { .. }
            | CallFailure::Deadline { .. }
            | CallFailure::OutputTooLarge { .. }
            | CallFailure::HostResourceLimit { .. }
            | CallFailure::HeaderLimit { .. }),
        ) = &outcome.result
        {
            self.limit_failures.push(format!("{what}: {failure}"));
        }
    }
}

pub async fn deterministic_listing(plugin: &LinkedPlugin, first: &[wit::ToolDescriptor]) -> Check {
    let again = plugin.raw_list_tools(CallContext::offline()).await;
    let findings = match again.result {
        Ok(second) if format!("{second:?}") == format!("{first:?}") => vec![],
        Ok(_) => vec!["two calls of list-tools returned different tools or order".into()],
        Err(failure) => vec![format!("the second list-tools call failed: {failure}")],
    };
    Check::new(
        "tools.deterministic",
        "list-tools is deterministic",
        findings,
    )
}

pub fn offline_description(
    metadata: &CallOutcome<wit::PluginMetadata>,
    listing: &CallOutcome<Vec<wit::ToolDescriptor>>,
) -> Check {
    let mut findings = Vec::new();
    for (what, failures, exchanges) in [
        (
            "metadata",
            &metadata.gate_failures,
            metadata.exchanges.len(),
        ),
        (
            "list-tools",
            &listing.gate_failures,
            listing.exchanges.len(),
        ),
    ] {
        if !failures.is_empty() || exchanges > 0 {
            findings.push(format!("{what} tried to use the network; it must be pure"));
        }
    }
    Check::new(
        "metadata.offline",
        "metadata and list-tools use no network",
        findings,
    )
}

/// Unparseable and non-object arguments must come back as `invalid-input`, never a trap.
pub async fn invalid_arguments(
    plugin: &LinkedPlugin,
    ctx: &CallContext,
    tools: &[wit::ToolDescriptor],
    observed: &mut Observed,
) -> Check {
    let mut findings = Vec::new();
    for tool in tools {
        for bad in ["{not json", "[1, 2]"] {
            let outcome = plugin.raw_call_tool(ctx.clone(), &tool.name, bad).await;
            observed.note(&tool.name, &outcome);
            match outcome.result {
                Ok(Err(wit::ToolError::InvalidInput(_))) => {}
                Ok(Err(other)) => findings.push(format!(
                    "`{}` answered `{bad}` with {other:?} instead of invalid-input",
                    tool.name
                )),
                Ok(Ok(_)) => {
                    findings.push(format!("`{}` accepted `{bad}` as arguments", tool.name))
                }
                Err(failure) => findings.push(format!("`{}` with `{bad}`: {failure}", tool.name)),
            }
        }
    }
    Check::new(
        "behaviour.invalid-arguments",
        "invalid arguments give invalid-input, never a trap",
        findings,
    )
}

pub async fn unknown_tool(
    plugin: &LinkedPlugin,
    ctx: &CallContext,
    observed: &mut Observed,
) -> Check {
    let outcome = plugin
        .raw_call_tool(ctx.clone(), "conformance-no-such-tool", "{}")
        .await;
    observed.note("unknown tool", &outcome);
    let findings = match outcome.result {
        Ok(Err(wit::ToolError::NotFound(_))) => vec![],
        Ok(other) => vec![format!(
            "an unknown tool name gave {other:?} instead of not-found"
        )],
        Err(failure) => vec![format!("an unknown tool name: {failure}")],
    };
    Check::new(
        "behaviour.unknown-tool",
        "an unknown tool gives not-found",
        findings,
    )
}

pub async fn discovery(
    plugin: &LinkedPlugin,
    ctx: &CallContext,
    static_tools: &[wit::ToolDescriptor],
    observed: &mut Observed,
) -> (Check, Vec<wit::ToolDescriptor>) {
    let outcome = plugin.raw_discover_tools(ctx.clone()).await;
    observed.note("discover-tools", &outcome);
    let mut findings = Vec::new();
    let discovered = match outcome.result {
        Ok(Ok(tools)) => tools,
        // A typed error is acceptable behaviour (the backend may not be the plugin's API).
        Ok(Err(_)) => Vec::new(),
        Err(failure) => {
            findings.push(format!("discover-tools: {failure}"));
            Vec::new()
        }
    };
    for tool in &discovered {
        if static_tools.iter().any(|s| s.name == tool.name) {
            findings.push(format!(
                "discovered tool `{}` clashes with a static tool",
                tool.name
            ));
        }
    }
    let check = Check::new(
        "behaviour.discover-tools",
        "discover-tools answers without trapping",
        findings,
    );
    (check, discovered)
}

pub fn declared_origins(observed: &Observed) -> Check {
    Check::new(
        "behaviour.declared-origins",
        "no outbound request outside the declared origins and routes",
        observed.denied.clone(),
    )
}

pub fn limits(observed: &Observed) -> Check {
    Check::new(
        "behaviour.limits",
        "every call stays inside the default limits",
        observed.limit_failures.clone(),
    )
}
