//! `toolhost conformance`: is a component a well-behaved plugin of our world?
//!
//! Works on any component, not only ours: it compiles it, lists its imports against the
//! world, links it, and judges its declarations and behaviour. Behavioural checks run
//! offline, or against a backend (the CLI's default is the built-in Asio simulator) through
//! the same outbound gate the host uses, so an attempt to leave the declared origins is seen.

mod behaviour;
mod declarations;
mod preview;
mod report;

use crate::config::OutboundLimits;
use crate::connection::{call_context, ConnectionSettings};
pub use report::{Check, PluginSummary, Report, Status};
use std::path::Path;
use std::time::Duration;
use toolhost_base::SecretString;
use toolhost_sandbox::{
    is_world_import, CallContext, CallLimits, CompiledPlugin, Origin, PluginMetadata,
    RuntimeOptions, ToolRoutes, UpstreamRoutes,
};

/// What behavioural calls talk to.
#[derive(Debug, Clone)]
pub enum Backend {
    /// No network: every outbound request is denied.
    None,
    /// The plugin's default-region API origin is routed to `origin`.
    Upstream {
        /// Where requests go.
        origin: Origin,
        /// How the report names it.
        label: String,
        /// Client id and secret for plugins that use credentials (a backend's test
        /// credentials); without them a placeholder is sent.
        credentials: Option<(String, SecretString)>,
    },
}

impl Backend {
    fn describe(&self) -> String {
        match self {
            Backend::None => "none (offline)".into(),
            Backend::Upstream { label, .. } => label.clone(),
        }
    }
}

/// Conformance runs with tighter limits than production, so misbehaviour shows quickly.
fn conformance_limits() -> CallLimits {
    CallLimits {
        deadline: Duration::from_secs(20),
        ..CallLimits::default()
    }
}

/// Checks the component at `path`. `cache_dir` keeps compiled artifacts (keyed by the
/// component's hash), so re-checking the same build is fast.
pub async fn run(path: &Path, backend: Backend, cache_dir: Option<&Path>) -> Report {
    let mut report = Report::new(path.display().to_string(), backend.describe());
    let wasm = match std::fs::read(path) {
        Ok(wasm) => wasm,
        Err(err) => {
            report.push(Check::new(
                "component.valid",
                "is a WebAssembly component",
                vec![format!("cannot read it: {err}")],
            ));
            return report;
        }
    };
    let options = RuntimeOptions {
        cache_dir: cache_dir.map(Path::to_path_buf),
        limits: conformance_limits(),
    };
    let compiled = match CompiledPlugin::compile(&wasm, path, &options) {
        Ok(compiled) => compiled,
        Err(err) => {
            report.push(Check::new(
                "component.valid",
                "is a WebAssembly component",
                vec![err.to_string()],
            ));
            return report;
        }
    };
    report.sha256 = Some(compiled.compile_report().component_sha256.clone());
    report.push(Check::new(
        "component.valid",
        "is a WebAssembly component",
        vec![],
    ));
    let offending: Vec<String> = compiled
        .imports()
        .into_iter()
        .filter(|name| !is_world_import(name))
        .map(|name| format!("imports `{name}`, which the toolhost:plugin world does not allow"))
        .collect();
    report.push(Check::new(
        "world.imports",
        "imports only what the world allows",
        offending,
    ));
    let linked = match compiled.link() {
        Ok(linked) => linked,
        Err(err) => {
            report.push(Check::new(
                "world.exports",
                "links against the toolhost:plugin world",
                vec![err.to_string()],
            ));
            return report;
        }
    };
    report.push(Check::new(
        "world.exports",
        "links against the toolhost:plugin world",
        vec![],
    ));

    let metadata_call = linked.raw_metadata(CallContext::offline()).await;
    let listing_call = linked.raw_list_tools(CallContext::offline()).await;
    let (raw_metadata, tools) = match (&metadata_call.result, &listing_call.result) {
        (Ok(m), Ok(t)) => (m.clone(), t.clone()),
        (m, t) => {
            let findings = [m.as_ref().err(), t.as_ref().err()]
                .into_iter()
                .flatten()
                .map(|f| format!("describing itself failed: {f}"))
                .collect();
            report.push(Check::new(
                "metadata.well-formed",
                "metadata is complete and well-formed",
                findings,
            ));
            return report;
        }
    };
    report.push(declarations::metadata(&raw_metadata));
    report.push(behaviour::offline_description(
        &metadata_call,
        &listing_call,
    ));
    report.push(declarations::names(&tools));
    report.push(declarations::schemas(&tools));
    report.push(declarations::descriptions(&tools));
    report.push(declarations::annotations(&tools));
    report.push(declarations::routes(&tools));
    report.push(behaviour::deterministic_listing(&linked, &tools).await);
    let metadata = PluginMetadata::try_from(raw_metadata.clone()).ok();
    report.plugin = Some(report::PluginSummary {
        id: raw_metadata.id.clone(),
        name: raw_metadata.name.clone(),
        version: raw_metadata.version.clone(),
        tools: tools.len(),
    });

    let ctx = behaviour_context(&backend, metadata.as_ref());
    let mut observed = behaviour::Observed::default();
    report.push(behaviour::unknown_tool(&linked, &ctx, &mut observed).await);
    let (discovery, discovered) = match (&backend, &metadata) {
        (Backend::None, _) | (_, None) => (
            Check::skip(
                "behaviour.discover-tools",
                "discover-tools answers without trapping",
                "needs a backend and valid metadata",
            ),
            Vec::new(),
        ),
        _ => {
            let routes = ToolRoutes {
                tool: format!("{}:discover-tools", raw_metadata.id),
                routes: metadata
                    .as_ref()
                    .map(|m| m.discovery_routes.clone())
                    .unwrap_or_default(),
            };
            let scoped = ctx.clone().scoped(routes);
            behaviour::discovery(&linked, &scoped, &tools, &mut observed).await
        }
    };
    report.push(discovery);
    let every_tool: Vec<_> = tools.iter().chain(discovered.iter()).cloned().collect();
    report.push(behaviour::invalid_arguments(&linked, &ctx, &every_tool, &mut observed).await);
    report.push(match (&backend, &metadata) {
        (Backend::None, _) | (_, None) => preview::skipped(),
        _ => preview::reads_only(&linked, &ctx, &raw_metadata.id, &every_tool).await,
    });
    report.push(behaviour::declared_origins(&observed));
    report.push(behaviour::limits(&observed));
    report
}

/// The call context of behavioural checks: the default region's origins, routed to the
/// backend, with its credentials for OAuth2 plugins.
fn behaviour_context(backend: &Backend, metadata: Option<&PluginMetadata>) -> CallContext {
    let Some(metadata) = metadata else {
        return CallContext::offline();
    };
    let Some(region) = metadata.region(&metadata.default_region) else {
        return CallContext::offline();
    };
    let Backend::Upstream {
        origin,
        credentials,
        ..
    } = backend
    else {
        return CallContext::offline();
    };
    let mut routes = UpstreamRoutes::new();
    routes.insert(region.api.clone(), origin.clone());
    let (client_id, client_secret) = credentials.clone().unwrap_or_else(|| {
        (
            "toolhost-conformance".to_string(),
            SecretString::new("toolhost-conformance"),
        )
    });
    let settings = ConnectionSettings {
        region: region.id.clone(),
        client_id,
        client_secret,
        scopes: None,
        routes,
    };
    call_context(metadata, &settings, &OutboundLimits::default())
        .map(|(ctx, _)| ctx)
        .unwrap_or_else(|_| CallContext::offline())
}
