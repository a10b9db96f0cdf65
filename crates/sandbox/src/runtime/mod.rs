//! Running plugin components: compile once, a fresh Store per call from one InstancePre.

pub(crate) mod address_space;
pub(crate) mod bindings;
pub(crate) mod call_failure;
pub(crate) mod call_limits;
pub(crate) mod call_state;
pub(crate) mod call_tool_export;
pub(crate) mod compile_cache;
pub(crate) mod declaration_error;
pub(crate) mod declared_routes;
pub(crate) mod descriptors;
pub(crate) mod engine;
pub(crate) mod host_limits;
pub(crate) mod instances;
pub(crate) mod linked;
pub(crate) mod linker;
pub(crate) mod memory_budget;
pub(crate) mod plugin;
pub(crate) mod role_templates;
pub(crate) mod timer_anchor;

pub use call_failure::CallFailure;
pub use call_limits::CallLimits;
pub use compile_cache::CompileReport;
pub use declaration_error::DeclarationError;
pub use descriptors::is_valid_tool_name;
pub use descriptors::{
    Annotations, ConfigKey, CredentialKind, PluginMetadata, PolicyHint, Region, ToolDescriptor,
    ToolError,
};
pub use linked::{
    CallContext, CallOutcome, CompiledPlugin, LinkedPlugin, LoadError, RuntimeOptions,
};
pub use linker::is_world_import;
pub use memory_budget::Occupancy;
pub use plugin::{PluginPreview, PluginRuntime};
pub use role_templates::RoleTemplate;
