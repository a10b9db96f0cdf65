//! A compiled and linked component, and raw calls into fresh instances of it. Nothing here
//! trusts what the plugin returns: `PluginRuntime` validates, the conformance suite judges.

use super::bindings::{wit, ToolPlugin, ToolPluginIndices};
use super::call_failure::CallFailure;
use super::call_limits::CallLimits;
use super::call_state::CallState;
use super::call_tool_export::CallToolExport;
use super::compile_cache::{self, CompileReport};
use super::declaration_error::DeclarationError;
use super::engine::{build_engine, EngineSettings, MemoryLayout};
use super::host_limits::host_limit_failure;
use super::instances::{CallSetup, Instances};
use super::linker::plugin_linker;
use super::memory_budget::Occupancy;
use super::timer_anchor::TimerAnchor;
use crate::outbound::tool_routes::ToolRoutes;
use crate::outbound::ExchangeObserver;
use crate::outbound::UpstreamExchange;
use crate::outbound::{CallLedger, GateFailure, OutboundPolicy};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Instance};
use wasmtime::{Engine, Store};

/// How a plugin is loaded and run.
#[derive(Debug, Clone, Default)]
pub struct RuntimeOptions {
    /// Where compiled artifacts are kept; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// The limits every call runs under.
    pub limits: CallLimits,
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The plugin file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a component wasmtime can compile.
    #[error("{path} is not a usable WebAssembly component: {detail}")]
    Compile {
        /// The plugin file.
        path: PathBuf,
        /// wasmtime's explanation.
        detail: String,
    },
    /// The component imports something the world does not offer, or exports the wrong types.
    #[error("the plugin does not fit the toolhost:plugin world: {detail}")]
    Link {
        /// wasmtime's explanation, naming the import or export.
        detail: String,
    },
    /// `metadata` or `list-tools` did not return (trapped, or ran out of memory or time).
    #[error("the plugin failed while describing itself: {detail}")]
    Describe {
        /// What went wrong.
        detail: String,
    },
    /// The plugin described itself, but the host refuses the description.
    #[error(transparent)]
    Declaration(#[from] DeclarationError),
    /// The engine or the linker could not be set up.
    #[error("could not start the WebAssembly engine: {detail}")]
    Engine {
        /// wasmtime's explanation.
        detail: String,
    },
}

/// The outcome of one call, with what the host observed while it ran.
#[derive(Debug, Clone)]
pub struct CallOutcome<R = serde_json::Value> {
    /// The result, or why there is none.
    pub result: Result<R, CallFailure>,
    /// Every request that went upstream, in order.
    pub exchanges: Vec<UpstreamExchange>,
    /// Every request the gate stopped, in order.
    pub gate_failures: Vec<GateFailure>,
    /// Time to instantiate the component: for a call in a warm instance, made before the
    /// call arrived, the time that took (not part of the call's wall time).
    pub instantiate: Duration,
    /// Whether the call ran in an instance made ahead of it (see `runtime::instances`).
    pub warm: bool,
    /// Time spent running the call after instantiation.
    pub execute: Duration,
    /// What the plugin wrote to stdout and stderr (capped).
    pub plugin_log: String,
    /// Times the plugin's linear memory grew during the call (its creation not counted).
    pub memory_grows: u32,
}

/// What a call may reach and which configuration it sees.
#[derive(Clone)]
pub struct CallContext {
    /// What the call's requests may reach and carry.
    pub outbound: Arc<OutboundPolicy>,
    /// The values the plugin reads through `wasi:config/store`.
    pub config: Vec<(String, String)>,
    /// The requests this call may make (the routes of the tool called). Empty: none.
    pub tool_routes: Arc<ToolRoutes>,
    /// Told of each upstream exchange as it completes (progress on a terminal), if anyone.
    pub observer: Option<ExchangeObserver>,
}

impl CallContext {
    /// This context, for a call that may make exactly `routes`.
    pub fn scoped(mut self, routes: ToolRoutes) -> CallContext {
        self.tool_routes = Arc::new(routes);
        self
    }

    /// No network, no configuration.
    pub fn offline() -> CallContext {
        CallContext {
            outbound: Arc::new(OutboundPolicy::deny_all()),
            config: Vec::new(),
            tool_routes: Arc::new(ToolRoutes::default()),
            observer: None,
        }
    }
}

/// A component compiled for this host's engine, not yet linked.
pub struct CompiledPlugin {
    engine: Engine,
    layout: MemoryLayout,
    component: Component,
    compile: CompileReport,
    limits: CallLimits,
}

impl CompiledPlugin {
    /// Compiles `wasm` (or loads it from the cache) on a fresh engine sized for
    /// `options.limits`. `path` only names the plugin in errors.
    pub fn compile(
        wasm: &[u8],
        path: &Path,
        options: &RuntimeOptions,
    ) -> Result<CompiledPlugin, LoadError> {
        let limits = options.limits;
        let (engine, layout) = build_engine(EngineSettings {
            max_memory_bytes: limits.max_memory_bytes,
            // Every call holds its slot's instance; a call only creates one under its
            // concurrency slot (`with_instance`), so the pool never runs out.
            instance_slots: u32::try_from(limits.max_concurrent_calls.max(1)).unwrap_or(u32::MAX),
        })
        .map_err(|e| LoadError::Engine {
            detail: format!("{e:#}"),
        })?;
        let (component, compile) = compile_cache::load(&engine, wasm, options.cache_dir.as_deref())
            .map_err(|e| LoadError::Compile {
                path: path.to_path_buf(),
                detail: format!("{e:#}"),
            })?;
        Ok(CompiledPlugin {
            engine,
            layout,
            component,
            compile,
            limits,
        })
    }

    /// The names of the component's imports, e.g. `wasi:http/types@0.2.12`.
    pub fn imports(&self) -> Vec<String> {
        self.component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect()
    }

    /// How the component was obtained (cache hit or compile, and how long it took).
    pub fn compile_report(&self) -> &CompileReport {
        &self.compile
    }

    /// Links against exactly the world's imports and checks the exports' types.
    pub fn link(self) -> Result<LinkedPlugin, LoadError> {
        let linker = plugin_linker(&self.engine).map_err(|e| LoadError::Engine {
            detail: format!("{e:#}"),
        })?;
        let instance_pre =
            linker
                .instantiate_pre(&self.component)
                .map_err(|e| LoadError::Link {
                    detail: format!("{e:#}"),
                })?;
        let call_tool = CallToolExport::find(&instance_pre).map_err(|e| LoadError::Link {
            detail: format!("{e:#}"),
        })?;
        let indices = ToolPluginIndices::new(&instance_pre).map_err(|e| LoadError::Link {
            detail: format!("{e:#}"),
        })?;
        Ok(LinkedPlugin {
            instances: Arc::new(Instances::new(self.engine, instance_pre, self.limits)),
            timer_anchor: TimerAnchor::default(),
            layout: self.layout,
            indices,
            call_tool: Arc::new(call_tool),
            limits: self.limits,
            compile: self.compile,
        })
    }
}

/// What a call does with its instance and store.
type InstanceWork<'a, R> =
    std::pin::Pin<Box<dyn std::future::Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// A linked plugin: each call gets a fresh Store and instance from one `InstancePre`.
pub struct LinkedPlugin {
    layout: MemoryLayout,
    /// Every call's instance, made for it or ahead of it.
    instances: Arc<Instances>,
    /// Every export, loaded (and type-checked) per instance for the calls made rarely.
    indices: ToolPluginIndices,
    /// The export every agent call runs, checked once.
    call_tool: Arc<CallToolExport>,
    limits: CallLimits,
    compile: CompileReport,
    /// Keeps the timers each call sets from waking idle workers.
    timer_anchor: TimerAnchor,
}

impl LinkedPlugin {
    /// The plugin's own engine.
    pub fn engine(&self) -> &Engine {
        self.instances.engine()
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &CallLimits {
        &self.limits
    }

    /// How the engine lays out linear memories: `unchecked` (4 GiB of address space each, no
    /// bounds checks in compiled code) or `checked` (the process allowance was used up).
    pub fn memory_layout(&self) -> &'static str {
        self.layout.name()
    }

    /// How the component was obtained.
    pub fn compile_report(&self) -> &CompileReport {
        &self.compile
    }

    /// The calls in flight and the linear memory charged to the budget, now and at most.
    pub fn occupancy(&self) -> Occupancy {
        self.instances.occupancy()
    }

    /// Calls `metadata` and returns what the plugin said, unchecked.
    pub async fn raw_metadata(&self, ctx: CallContext) -> CallOutcome<wit::PluginMetadata> {
        self.with_instance(ctx, |plugin, store| {
            Box::pin(async move {
                plugin
                    .toolhost_plugin_tools()
                    .call_metadata(&mut *store)
                    .await
            })
        })
        .await
    }

    /// Calls `list-tools` and returns what the plugin said, unchecked.
    pub async fn raw_list_tools(&self, ctx: CallContext) -> CallOutcome<Vec<wit::ToolDescriptor>> {
        self.with_instance(ctx, |plugin, store| {
            Box::pin(async move {
                plugin
                    .toolhost_plugin_tools()
                    .call_list_tools(&mut *store)
                    .await
            })
        })
        .await
    }

    /// Calls `discover-tools` and returns what the plugin said, unchecked.
    pub async fn raw_discover_tools(
        &self,
        ctx: CallContext,
    ) -> CallOutcome<Result<Vec<wit::ToolDescriptor>, wit::ToolError>> {
        self.with_instance(ctx, |plugin, store| {
            Box::pin(async move {
                plugin
                    .toolhost_plugin_tools()
                    .call_discover_tools(&mut *store)
                    .await
            })
        })
        .await
    }

    /// Calls `call-tool` with `arguments` (JSON text) and returns what the plugin said,
    /// unchecked: neither the output cap nor JSON validity is applied here.
    pub async fn raw_call_tool(
        &self,
        ctx: CallContext,
        name: &str,
        arguments: &str,
    ) -> CallOutcome<Result<String, wit::ToolError>> {
        let (name, arguments) = (name.to_string(), arguments.to_string());
        let export = self.call_tool.clone();
        self.with_instance_of(ctx, move |instance, store| {
            Box::pin(async move { export.call(instance, store, &name, &arguments).await })
        })
        .await
    }

    /// Calls `preview-call` and returns what the plugin said, unchecked. The context is used
    /// as given: [`PluginRuntime::preview_call`](super::PluginRuntime::preview_call) narrows
    /// it to reads first.
    pub async fn raw_preview_call(
        &self,
        ctx: CallContext,
        name: &str,
        arguments: &str,
    ) -> CallOutcome<Result<Option<wit::CallPreview>, wit::ToolError>> {
        let (name, arguments) = (name.to_string(), arguments.to_string());
        self.with_instance(ctx, |plugin, store| {
            Box::pin(async move {
                plugin
                    .toolhost_plugin_tools()
                    .call_preview_call(&mut *store, &name, &arguments)
                    .await
            })
        })
        .await
    }

    /// Runs `f` on the plugin's bindings (every export loaded and type-checked) in a fresh
    /// instance: for the calls made once per plugin or per connection.
    async fn with_instance<R, F>(&self, ctx: CallContext, f: F) -> CallOutcome<R>
    where
        F: for<'a> FnOnce(&'a ToolPlugin, &'a mut Store<CallState>) -> InstanceWork<'a, R>
            + Send
            + 'static,
        R: Clone,
    {
        let indices = self.indices.clone();
        self.with_instance_of(ctx, move |instance, store| {
            Box::pin(async move {
                let plugin = indices.load(&mut *store, instance)?;
                f(&plugin, store).await
            })
        })
        .await
    }

    /// Instantiates the plugin in a fresh Store, runs `f` under the call's limits, and
    /// collects what the gate saw.
    async fn with_instance_of<R, F>(&self, ctx: CallContext, f: F) -> CallOutcome<R>
    where
        F: for<'a> FnOnce(&'a Instance, &'a mut Store<CallState>) -> InstanceWork<'a, R>,
        R: Clone,
    {
        let arrived = self.instances.arrive();
        let ledger = Arc::new(CallLedger::observed(ctx.observer.clone()));
        let setup = CallSetup {
            outbound: ctx.outbound,
            tool_routes: ctx.tool_routes,
            ledger: ledger.clone(),
            config: &ctx.config,
        };
        let mut call = self.instances.for_call(&arrived, setup).await;
        let in_flight = self.instances.budget().enter();
        self.timer_anchor.ensure();
        let store = &mut call.store;
        // Yield to the executor every tick so the deadline below can fire even while the
        // guest spins in a loop. Set here, not when a warm instance was made: it counts from
        // the call's start.
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);

        let started = Instant::now();
        let warm = call.warm.take();
        let made_warm = warm.is_some();
        let mut instantiate = Duration::ZERO;
        let deadline = self.limits.deadline;
        let run = async {
            let instance = match warm {
                Some((instance, took)) => {
                    instantiate = took;
                    instance
                }
                None => {
                    let instance = self
                        .instances
                        .instance_pre()
                        .instantiate_async(&mut *store)
                        .await?;
                    instantiate = started.elapsed();
                    instance
                }
            };
            f(&instance, &mut *store).await
        };
        let result = match tokio::time::timeout(deadline, run).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) if store.data().memory.budget_hit => {
                tracing::debug!("plugin refused memory by the shared budget: {err:#}");
                Err(CallFailure::MemoryBudget {
                    budget_bytes: self.instances.budget().limit(),
                })
            }
            Ok(Err(err)) if store.data().memory.hit => {
                tracing::debug!("plugin trapped after hitting its memory cap: {err:#}");
                Err(CallFailure::MemoryLimit {
                    limit_bytes: self.limits.max_memory_bytes,
                })
            }
            Ok(Err(err)) => Err(failure_of_trap(&err, &self.limits)),
            Err(_) => Err(CallFailure::Deadline {
                deadline_ms: deadline.as_millis() as u64,
            }),
        };
        // A warm instance was made before `started`: all of the call's time is execution.
        let on_path = if made_warm {
            Duration::ZERO
        } else {
            instantiate
        };
        let execute = started.elapsed().saturating_sub(on_path);
        let plugin_log = store.data().plugin_log();
        if !plugin_log.is_empty() {
            tracing::debug!(target: "toolhost::plugin", "{plugin_log}");
        }
        let memory_grows = store.data().memory.grows;
        drop((in_flight, arrived));
        self.instances.after_call(call);
        CallOutcome {
            result,
            exchanges: ledger.exchanges(),
            gate_failures: ledger.failures(),
            instantiate,
            warm: made_warm,
            execute,
            plugin_log,
            memory_grows,
        }
    }
}

impl<R> CallOutcome<R> {
    pub(super) fn map_result<S>(self, f: impl FnOnce(R) -> S) -> CallOutcome<S> {
        self.map_result_flat(|r| Ok(f(r)))
    }

    pub(super) fn map_result_flat<S>(
        self,
        f: impl FnOnce(R) -> Result<S, CallFailure>,
    ) -> CallOutcome<S> {
        CallOutcome {
            result: self.result.and_then(f),
            exchanges: self.exchanges,
            gate_failures: self.gate_failures,
            instantiate: self.instantiate,
            warm: self.warm,
            execute: self.execute,
            plugin_log: self.plugin_log,
            memory_grows: self.memory_grows,
        }
    }
}

/// A host-side cap the trap came from, named as such; otherwise a plain trap.
fn failure_of_trap(err: &wasmtime::Error, limits: &CallLimits) -> CallFailure {
    if let Some(failure) = host_limit_failure(err, limits) {
        tracing::debug!("plugin trapped on a host-side cap: {err:#}");
        return failure;
    }
    CallFailure::Trap {
        detail: trap_summary(err),
    }
}

fn trap_summary(err: &wasmtime::Error) -> String {
    let text = format!("{err:#}");
    text.lines().take(3).collect::<Vec<_>>().join(" ")
}
