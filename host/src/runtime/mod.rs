//! Running plugin components: compile once, a fresh Store per call from one InstancePre.

pub mod bindings;
pub mod call_state;
pub mod compile_cache;
pub mod descriptors;
pub mod engine;
pub mod linked;
pub mod linker;
pub mod plugin;

pub use descriptors::{Annotations, PluginMetadata, PolicyHint, ToolDescriptor, ToolError};
pub use linked::{
    CallContext, CallFailure, CallLimits, CallOutcome, CompiledPlugin, LinkedPlugin, LoadError,
    RuntimeOptions,
};
pub use plugin::PluginRuntime;
