//! Running plugin components: compile once, a fresh Store per call from one InstancePre.

pub mod bindings;
pub mod call_state;
pub mod compile_cache;
pub mod descriptors;
pub mod engine;
pub mod linker;
pub mod plugin;

pub use descriptors::{Annotations, PluginMetadata, PolicyHint, ToolDescriptor, ToolError};
pub use plugin::{
    CallContext, CallFailure, CallLimits, CallOutcome, LoadError, PluginRuntime, RuntimeOptions,
};
