//! `call-tool`, the export every agent call runs, called without loading the other exports.
//!
//! The generated bindings (`ToolPlugin`) find and type-check all five exports of the world in
//! every new instance, and a call uses one of them: about 4 us per call for nothing
//! (docs/PERFORMANCE.md, "Session 8"). Here the export is found once per component and
//! type-checked on its first call; every instance of one `InstancePre` has that component's
//! export types, so the check holds for all later instances.

use super::bindings::wit;
use super::call_state::CallState;
use std::sync::atomic::{AtomicBool, Ordering};
use wasmtime::component::{ComponentExportIndex, Instance, InstancePre, TypedFunc};
use wasmtime::Store;

/// The exported interface, as `wit/plugin.wit` names and versions it.
const TOOLS_INTERFACE: &str = "toolhost:plugin/tools@0.2.0";

type Params<'a> = (&'a str, &'a str);
type Results = (Result<String, wit::ToolError>,);

/// The `call-tool` export of one component.
pub(crate) struct CallToolExport {
    index: ComponentExportIndex,
    /// Set once an instance's export passed the type check.
    checked: AtomicBool,
}

impl CallToolExport {
    /// Finds `call-tool` in the component `pre` instantiates.
    pub(crate) fn find<T>(pre: &InstancePre<T>) -> wasmtime::Result<CallToolExport> {
        let component = pre.component();
        let tools = component
            .get_export_index(None, TOOLS_INTERFACE)
            .ok_or_else(|| {
                wasmtime::format_err!("no exported instance named `{TOOLS_INTERFACE}`")
            })?;
        let index = component
            .get_export_index(Some(&tools), "call-tool")
            .ok_or_else(|| {
                wasmtime::format_err!(
                    "instance export `{TOOLS_INTERFACE}` does not have export `call-tool`"
                )
            })?;
        Ok(CallToolExport {
            index,
            checked: AtomicBool::new(false),
        })
    }

    /// Calls `call-tool` of `instance`, an instance of the component this export was found in.
    pub(crate) async fn call(
        &self,
        instance: &Instance,
        store: &mut Store<CallState>,
        name: &str,
        arguments: &str,
    ) -> wasmtime::Result<Result<String, wit::ToolError>> {
        let func = instance
            .get_func(&mut *store, self.index)
            .ok_or_else(|| wasmtime::format_err!("the instance has no `call-tool` export"))?;
        let typed = if self.checked.load(Ordering::Acquire) {
            // SAFETY: `func` is `call-tool` of an instance of the same component (the caller's
            // contract) whose `call-tool` passed `typed` below, and a component's export
            // types are the same in all its instances.
            unsafe { TypedFunc::<Params, Results>::new_unchecked(func) }
        } else {
            let typed = func.typed::<Params, Results>(&*store)?;
            self.checked.store(true, Ordering::Release);
            typed
        };
        let (result,) = typed.call_async(&mut *store, (name, arguments)).await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::TOOLS_INTERFACE;

    /// The name is written out (the generated bindings keep theirs private), so a new version
    /// of the world in `wit/plugin.wit` must come with a new name here, or no plugin built
    /// against it would be found.
    #[test]
    fn the_interface_name_follows_the_world_package() {
        let wit = include_str!("../../../../wit/plugin.wit");
        let package = wit
            .lines()
            .find_map(|line| line.trim().strip_prefix("package "))
            .and_then(|rest| rest.strip_suffix(';'))
            .expect("wit/plugin.wit declares its package");
        let (name, version) = package.split_once('@').expect("the package is versioned");
        assert_eq!(TOOLS_INTERFACE, format!("{name}/tools@{version}"));
    }
}
