//! A loaded plugin: its compiled component, its declarations, and the per-call machinery.

use super::bindings::{ToolPlugin, ToolPluginPre};
use super::call_state::CallState;
use super::compile_cache::{self, CompileReport};
use super::descriptors::{DeclarationError, PluginMetadata, ToolDescriptor, ToolError};
use super::engine::{build_engine, EngineSettings};
use super::linker::plugin_linker;
use crate::outbound::gate::UpstreamExchange;
use crate::outbound::{CallLedger, GateFailure, OutboundPolicy};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use wasmtime::{Engine, Store};

/// Per-call limits. Each has a safe default and produces a typed failure when hit.
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub max_memory_bytes: usize,
    pub deadline: Duration,
    pub max_output_bytes: usize,
    pub max_concurrent_calls: usize,
}

impl Default for CallLimits {
    fn default() -> CallLimits {
        CallLimits {
            max_memory_bytes: 64 << 20,
            deadline: Duration::from_secs(60),
            max_output_bytes: 4 << 20,
            max_concurrent_calls: 16,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Where compiled artifacts are kept; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    pub limits: CallLimits,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable WebAssembly component: {detail}")]
    Compile { path: PathBuf, detail: String },
    #[error("the plugin does not fit the toolhost:plugin world: {detail}")]
    Link { detail: String },
    #[error("the plugin failed while describing itself: {detail}")]
    Describe { detail: String },
    #[error(transparent)]
    Declaration(#[from] DeclarationError),
    #[error("could not start the WebAssembly engine: {detail}")]
    Engine { detail: String },
}

/// Why a call produced no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CallFailure {
    #[error("{0}")]
    Tool(ToolError),
    #[error("{0}")]
    Gate(#[serde(serialize_with = "as_display")] GateFailure),
    #[error("the plugin crashed (trap): {detail}")]
    Trap { detail: String },
    #[error("the plugin exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit { limit_bytes: usize },
    #[error("the call exceeded its deadline of {} ms", deadline_ms)]
    Deadline { deadline_ms: u64 },
    #[error("the plugin's output ({size} bytes) exceeds the limit of {limit} bytes")]
    OutputTooLarge { size: usize, limit: usize },
    #[error("the plugin returned output that is not JSON: {detail}")]
    InvalidOutput { detail: String },
}

fn as_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The outcome of one call, with what the host observed while it ran.
#[derive(Debug, Clone)]
pub struct CallOutcome<R = serde_json::Value> {
    pub result: Result<R, CallFailure>,
    pub exchanges: Vec<UpstreamExchange>,
    pub gate_failures: Vec<GateFailure>,
    pub instantiate: Duration,
    pub execute: Duration,
    pub plugin_log: String,
}

/// What a call may reach and which configuration it sees.
#[derive(Clone)]
pub struct CallContext {
    pub outbound: Arc<OutboundPolicy>,
    pub config: Vec<(String, String)>,
}

impl CallContext {
    /// No network, no configuration.
    pub fn offline() -> CallContext {
        CallContext {
            outbound: Arc::new(OutboundPolicy::deny_all()),
            config: Vec::new(),
        }
    }
}

pub struct PluginRuntime {
    engine: Engine,
    pre: ToolPluginPre<CallState>,
    metadata: PluginMetadata,
    static_tools: Vec<ToolDescriptor>,
    limits: CallLimits,
    compile: CompileReport,
    slots: Semaphore,
}

impl PluginRuntime {
    pub async fn load(path: &Path, options: RuntimeOptions) -> Result<PluginRuntime, LoadError> {
        let wasm = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&wasm, path, options).await
    }

    pub async fn from_bytes(
        wasm: &[u8],
        path: &Path,
        options: RuntimeOptions,
    ) -> Result<PluginRuntime, LoadError> {
        let limits = options.limits;
        let engine = build_engine(EngineSettings {
            pool_slots: (limits.max_concurrent_calls as u32).max(1) + 2,
            max_memory_bytes: limits.max_memory_bytes,
        })
        .map_err(|e| LoadError::Engine {
            detail: format!("{e:#}"),
        })?;
        let (component, compile) = compile_cache::load(&engine, wasm, options.cache_dir.as_deref())
            .map_err(|e| LoadError::Compile {
                path: path.to_path_buf(),
                detail: format!("{e:#}"),
            })?;
        let linker = plugin_linker(&engine).map_err(|e| LoadError::Engine {
            detail: format!("{e:#}"),
        })?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Link {
                detail: format!("{e:#}"),
            })?;
        let pre = ToolPluginPre::new(instance_pre).map_err(|e| LoadError::Link {
            detail: format!("{e:#}"),
        })?;
        let mut runtime = PluginRuntime {
            engine,
            pre,
            metadata: placeholder_metadata(),
            static_tools: Vec::new(),
            limits,
            compile,
            slots: Semaphore::new(limits.max_concurrent_calls.max(1)),
        };
        let (metadata, tools) = runtime.describe().await?;
        runtime.metadata = metadata;
        runtime.static_tools = tools;
        Ok(runtime)
    }

    /// `metadata` and `list-tools`, offline, validated.
    async fn describe(&self) -> Result<(PluginMetadata, Vec<ToolDescriptor>), LoadError> {
        let described = self
            .with_instance(CallContext::offline(), |plugin, store| {
                Box::pin(async move {
                    let tools = plugin.toolhost_plugin_tools();
                    let metadata = tools.call_metadata(&mut *store).await?;
                    let listed = tools.call_list_tools(&mut *store).await?;
                    Ok((metadata, listed))
                })
            })
            .await;
        let (metadata, listed) = described.result.map_err(|f| LoadError::Describe {
            detail: f.to_string(),
        })?;
        let metadata = PluginMetadata::try_from(metadata)?;
        let tools = listed
            .into_iter()
            .map(ToolDescriptor::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((metadata, tools))
    }

    pub fn metadata(&self) -> &PluginMetadata {
        &self.metadata
    }

    pub fn static_tools(&self) -> &[ToolDescriptor] {
        &self.static_tools
    }

    pub fn compile_report(&self) -> &CompileReport {
        &self.compile
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The plugin's tenant-dependent tools (e.g. one per script).
    pub async fn discover_tools(
        &self,
        ctx: CallContext,
    ) -> (Result<Vec<ToolDescriptor>, CallFailure>, CallOutcome) {
        let outcome = self
            .with_instance(ctx, |plugin, store| {
                Box::pin(async move {
                    plugin
                        .toolhost_plugin_tools()
                        .call_discover_tools(&mut *store)
                        .await
                })
            })
            .await;
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
        let limit = self.limits.max_output_bytes;
        let outcome = self
            .with_instance(ctx, |plugin, store| {
                let (name, arguments) = (name.to_string(), arguments.to_string());
                Box::pin(async move {
                    plugin
                        .toolhost_plugin_tools()
                        .call_call_tool(&mut *store, &name, &arguments)
                        .await
                })
            })
            .await;
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

    /// Instantiates the plugin in a fresh Store, runs `f` under the call's limits, and
    /// collects what the gate saw.
    async fn with_instance<R, F>(&self, ctx: CallContext, f: F) -> CallOutcome<R>
    where
        F: for<'a> FnOnce(
            &'a ToolPlugin,
            &'a mut Store<CallState>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = wasmtime::Result<R>> + Send + 'a>,
        >,
        R: Clone,
    {
        // The semaphore is never closed, so acquiring only waits.
        let _slot = self.slots.acquire().await.ok();
        let ledger = Arc::new(CallLedger::default());
        let state = CallState::new(
            ctx.outbound,
            ledger.clone(),
            &ctx.config,
            self.limits.max_memory_bytes,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.memory);
        // Yield to the executor every tick so the deadline below can fire even while the
        // guest spins in a loop.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);

        let started = Instant::now();
        let mut instantiate = Duration::ZERO;
        let deadline = self.limits.deadline;
        let run = async {
            let plugin = self.pre.instantiate_async(&mut store).await?;
            instantiate = started.elapsed();
            f(&plugin, &mut store).await
        };
        let result = match tokio::time::timeout(deadline, run).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) if store.data().memory.hit => {
                tracing::debug!("plugin trapped after hitting its memory cap: {err:#}");
                Err(CallFailure::MemoryLimit {
                    limit_bytes: self.limits.max_memory_bytes,
                })
            }
            Ok(Err(err)) => Err(CallFailure::Trap {
                detail: trap_summary(&err),
            }),
            Err(_) => Err(CallFailure::Deadline {
                deadline_ms: deadline.as_millis() as u64,
            }),
        };
        let execute = started.elapsed().saturating_sub(instantiate);
        let plugin_log = store.data().plugin_log();
        if !plugin_log.is_empty() {
            tracing::debug!(target: "toolhost::plugin", "{plugin_log}");
        }
        CallOutcome {
            result,
            exchanges: ledger.exchanges(),
            gate_failures: ledger.failures(),
            instantiate,
            execute,
            plugin_log,
        }
    }
}

impl<R> CallOutcome<R> {
    fn map_result<S>(self, f: impl FnOnce(R) -> S) -> CallOutcome<S> {
        self.map_result_flat(|r| Ok(f(r)))
    }

    fn map_result_flat<S>(self, f: impl FnOnce(R) -> Result<S, CallFailure>) -> CallOutcome<S> {
        CallOutcome {
            result: self.result.and_then(f),
            exchanges: self.exchanges,
            gate_failures: self.gate_failures,
            instantiate: self.instantiate,
            execute: self.execute,
            plugin_log: self.plugin_log,
        }
    }
}

/// The gate knows exactly why a request failed; the guest only saw a WASI error code.
fn prefer_gate_failure(gate_failures: &[GateFailure], tool_error: ToolError) -> CallFailure {
    match gate_failures.first() {
        Some(failure) => CallFailure::Gate(failure.clone()),
        None => CallFailure::Tool(tool_error),
    }
}

fn trap_summary(err: &wasmtime::Error) -> String {
    let text = format!("{err:#}");
    text.lines().take(3).collect::<Vec<_>>().join(" ")
}

fn placeholder_metadata() -> PluginMetadata {
    PluginMetadata {
        id: String::new(),
        name: String::new(),
        version: String::new(),
        description: String::new(),
        config_keys: Vec::new(),
        credential: super::descriptors::CredentialKind::None,
        regions: Vec::new(),
        default_region: String::new(),
    }
}
