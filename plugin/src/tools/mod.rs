//! Dispatch of tool calls onto the per-area implementations.

pub mod companies;
pub mod context;
pub mod devices;
pub mod groups;
pub mod patches;
pub mod scripts;
pub mod state;
pub mod tasks;
pub mod tickets;

use crate::catalog::*;
use crate::errors::{ToolError, ToolResult};
use crate::script_tools;
use context::Ctx;
use serde_json::Value;

/// Runs one tool by name and returns its JSON answer.
pub fn call(ctx: &Ctx, name: &str, arguments: &str) -> ToolResult<String> {
    let answer: Value = match name {
        LIST_COMPANIES => companies::list_companies(ctx, arguments)?,
        GET_COMPANY => companies::get_company(ctx, arguments)?,
        LIST_SITES => companies::list_sites(ctx, arguments)?,
        // Written as text page by page: a listing's rows never exist as one tree of values.
        LIST_DEVICES => return devices::list::list_devices(ctx, arguments),
        GET_DEVICE => devices::details::get_device(ctx, arguments)?,
        GET_DEVICE_STATE => state::get_device_state(ctx, arguments)?,
        GET_DEVICE_PATCHES => patches::get_device_patches(ctx, arguments)?,
        LIST_DEVICE_GROUPS => groups::list_device_groups(ctx, arguments)?,
        LIST_SCRIPTS => scripts::list_scripts(ctx, arguments)?,
        LIST_SHELL_SCRIPTS => scripts::list_shell_scripts(ctx, arguments)?,
        LIST_TASKS => scripts::list_tasks(ctx, arguments)?,
        GET_TASKS_SUMMARY => tasks::summary::get_tasks_summary(ctx, arguments)?,
        RUN_TASK => tasks::run::run_task(ctx, arguments)?,
        GET_TASK_RESULTS => tasks::results::get_task_results(ctx, arguments)?,
        LIST_TICKETS => tickets::list_tickets(ctx, arguments)?,
        GET_TICKET => tickets::get_ticket(ctx, arguments)?,
        CREATE_TICKET => tickets::create_ticket(ctx, arguments)?,
        _ if name.starts_with(script_tools::naming::PREFIX) => script_tools::call(ctx, name, arguments)?,
        _ => {
            return Err(ToolError::NotFound(format!(
                "no tool named `{name}` in the ConnectWise RMM plugin; list the tools to see the available names"
            )))
        }
    };
    let text = crate::pruned::print(&answer);
    crate::shape::discard(answer);
    Ok(text)
}

#[cfg(test)]
pub mod testing {
    //! Shared fixtures: a context on the fake transport with default configuration.
    use super::*;
    use crate::http::fake::FakeTransport;
    use crate::region::fake::MapConfig;

    /// 2025-01-31T12:00:00Z.
    pub const NOW: i64 = 1_738_324_800;

    pub fn ctx(fake: &FakeTransport) -> Ctx<'_> {
        Ctx::new(fake, &MapConfig::default(), || NOW).unwrap()
    }

    pub fn run(fake: &FakeTransport, name: &str, args: &str) -> ToolResult<Value> {
        call(&ctx(fake), name, args).map(|s| serde_json::from_str(&s).unwrap())
    }

    pub fn invalid_field(result: ToolResult<Value>) -> String {
        match result {
            Err(ToolError::InvalidInput { field, .. }) => field,
            other => panic!("expected invalid-input, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use crate::http::fake::FakeTransport;

    #[test]
    fn unknown_tools_are_not_found() {
        let fake = FakeTransport::new();
        assert!(matches!(
            run(&fake, "cw-rmm-nope", "{}"),
            Err(crate::errors::ToolError::NotFound(_))
        ));
        assert!(fake.requests.borrow().is_empty());
    }
}
