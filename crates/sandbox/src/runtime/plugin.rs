//! A loaded plugin whose declarations passed validation: what the host runs.

use super::call_failure::CallFailure;
use super::compile_cache::CompileReport;
use super::descriptors::{PluginMetadata, ToolDescriptor, ToolError};
use super::linked::{
    CallContext, CallOutcome, CompiledPlugin, LinkedPlugin, LoadError, RuntimeOptions,
};
use crate::outbound::tool_routes::ToolRoutes;
use crate::outbound::GateFailure;
use std::path::Path;
use std::sync::Arc;
use wasmtime::Engine;

/// A plugin ready to run: compiled, linked, and its metadata and static tools validated.
/// Clones share the engine, the compiled component, the concurrency slots and the memory
/// budget: hosts of several tenants in one process run on one clone each.
#[derive(Clone)]
pub struct PluginRuntime {
    linked: Arc<LinkedPlugin>,
    metadata: PluginMetadata,
    static_tools: Vec<ToolDescriptor>,
}

impl PluginRuntime {
    /// Reads, compiles, links and describes the plugin at `path`.
    pub async fn load(path: &Path, options: RuntimeOptions) -> Result<PluginRuntime, LoadError> {
        let wasm = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&wasm, path, options).await
    }

    /// As [`load`](Self::load), from bytes already read; `path` only names it in errors.
    pub async fn from_bytes(
        wasm: &[u8],
        path: &Path,
        options: RuntimeOptions,
    ) -> Result<PluginRuntime, LoadError> {
        let linked = CompiledPlugin::compile(wasm, path, &options)?.link()?;
        let (metadata, static_tools) = describe(&linked).await?;
        Ok(PluginRuntime {
            linked: Arc::new(linked),
            metadata,
            static_tools,
        })
    }

    /// What the plugin declared about itself, validated.
    pub fn metadata(&self) -> &PluginMetadata {
        &self.metadata
    }

    /// The tools from `list-tools`, validated.
    pub fn static_tools(&self) -> &[ToolDescriptor] {
        &self.static_tools
    }

    /// How the component was obtained.
    pub fn compile_report(&self) -> &CompileReport {
        self.linked.compile_report()
    }

    /// The plugin's own engine.
    pub fn engine(&self) -> &Engine {
        self.linked.engine()
    }

    /// The linked plugin underneath, for raw calls that skip validation.
    pub fn linked(&self) -> &LinkedPlugin {
        &self.linked
    }

    /// The plugin's tenant-dependent tools (e.g. one per script).
    pub async fn discover_tools(
        &self,
        ctx: CallContext,
    ) -> (Result<Vec<ToolDescriptor>, CallFailure>, CallOutcome) {
        let routes = ToolRoutes {
            tool: format!("{}:discover-tools", self.metadata.id),
            routes: self.metadata.discovery_routes.clone(),
        };
        let outcome = self.linked.raw_discover_tools(ctx.scoped(routes)).await;
        let tools = match outcome.result.clone() {
            Ok(Ok(listed)) => listed
                .into_iter()
                .map(|t| {
                    ToolDescriptor::try_from(t).map_err(|e| CallFailure::InvalidOutput {
                        detail: e.to_string(),
                    })
                })
                .collect(),
            Ok(Err(err)) => Err(prefer_gate_failure(
                &outcome.gate_failures,
                ToolError::from(err),
            )),
            Err(failure) => Err(failure),
        };
        (tools, outcome.map_result(|_| serde_json::Value::Null))
    }

    /// Runs one tool in a fresh instance.
    pub async fn call_tool(&self, ctx: CallContext, name: &str, arguments: &str) -> CallOutcome {
        let limit = self.linked.limits().max_output_bytes;
        let outcome = self.linked.raw_call_tool(ctx, name, arguments).await;
        let gate_failures = outcome.gate_failures.clone();
        outcome.map_result_flat(|returned| match returned {
            Ok(json) if json.len() > limit => Err(CallFailure::OutputTooLarge {
                size: json.len(),
                limit,
            }),
            Ok(json) => serde_json::from_str(&json).map_err(|e| CallFailure::InvalidOutput {
                detail: e.to_string(),
            }),
            Err(err) => Err(prefer_gate_failure(&gate_failures, ToolError::from(err))),
        })
    }

    /// Previews one call in a fresh instance that may only read: `ctx` keeps only the read
    /// routes of the tool it was scoped to, so the gate refuses every write the preview tries
    /// (and the outcome's `gate_failures` shows it). `None`: the tool has no preview.
    pub async fn preview_call(
        &self,
        ctx: CallContext,
        name: &str,
        arguments: &str,
    ) -> CallOutcome<Option<PluginPreview>> {
        let mut reads = ctx.tool_routes.reads_only();
        // Names the preview in the gate's refusals: "`tool (preview: reads only)` may not
        // send POST ...".
        reads.tool = format!("{} (preview: reads only)", reads.tool);
        let outcome = self
            .linked
            .raw_preview_call(ctx.scoped(reads), name, arguments)
            .await;
        let gate_failures = outcome.gate_failures.clone();
        outcome.map_result_flat(|returned| match returned {
            Ok(preview) => Ok(preview.map(|p| PluginPreview {
                summary: p.summary,
                facts: p.facts.into_iter().map(|f| (f.label, f.value)).collect(),
            })),
            Err(err) => Err(prefer_gate_failure(&gate_failures, ToolError::from(err))),
        })
    }
}

/// A plugin's preview of one call, as it said it: untrusted text, for the host to clean
/// before anyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginPreview {
    /// One line, as the plugin wrote it.
    pub summary: String,
    /// `(label, value)` pairs, as the plugin wrote them.
    pub facts: Vec<(String, String)>,
}

/// `metadata` and `list-tools`, offline, validated.
async fn describe(
    linked: &LinkedPlugin,
) -> Result<(PluginMetadata, Vec<ToolDescriptor>), LoadError> {
    let describe_err = |f: CallFailure| LoadError::Describe {
        detail: f.to_string(),
    };
    let metadata = linked
        .raw_metadata(CallContext::offline())
        .await
        .result
        .map_err(describe_err)?;
    let listed = linked
        .raw_list_tools(CallContext::offline())
        .await
        .result
        .map_err(describe_err)?;
    let metadata = PluginMetadata::try_from(metadata)?;
    let tools = listed
        .into_iter()
        .map(ToolDescriptor::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((metadata, tools))
}

/// The gate knows exactly why a request failed; the guest only saw a WASI error code.
fn prefer_gate_failure(gate_failures: &[GateFailure], tool_error: ToolError) -> CallFailure {
    match gate_failures.first() {
        Some(failure) => CallFailure::Gate(failure.clone()),
        None => CallFailure::Tool(tool_error),
    }
}
