//! The plugin's static tools as catalog entries, built once per component: an entry's digest
//! serialises and hashes the tool's whole declaration, which neither a listing nor a call
//! should pay again while the component stays the same.

use super::entry::ToolEntry;
use std::collections::HashMap;
use std::sync::Mutex;
use toolhost_governance::ToolKind;
use toolhost_sandbox::{PluginRuntime, ToolDescriptor};

/// What the static entries are built from: one component's declared tools.
pub(super) struct Component<'a> {
    pub sha256: &'a str,
    pub plugin_id: &'a str,
    pub tools: &'a [ToolDescriptor],
}

impl<'a> Component<'a> {
    pub fn of(runtime: &'a PluginRuntime) -> Component<'a> {
        Component {
            sha256: &runtime.compile_report().component_sha256,
            plugin_id: &runtime.metadata().id,
            tools: runtime.static_tools(),
        }
    }
}

/// The static entries of the component last asked about (their modes still the plugin's
/// hints: a policy is applied to a copy, as it may change between calls).
#[derive(Default)]
pub(super) struct StaticEntries {
    memo: Mutex<Option<Built>>,
}

/// The entries of one component, in declaration order (a listing's order).
struct Built {
    component_sha256: String,
    entries: Vec<ToolEntry>,
    /// Bare tool name -> index in `entries`.
    by_name: HashMap<String, usize>,
}

impl StaticEntries {
    /// The entry of the static tool `name` (bare) of `component`.
    pub fn get(&self, component: &Component<'_>, name: &str) -> Option<ToolEntry> {
        self.read(component, |built| {
            built.by_name.get(name).map(|&i| built.entries[i].clone())
        })
    }

    /// Every static entry of `component`, in declaration order.
    pub fn all(&self, component: &Component<'_>) -> Vec<ToolEntry> {
        self.read(component, |built| built.entries.clone())
    }

    /// `read` on the entries of `component`, built first when the memo holds another's.
    fn read<R>(&self, component: &Component<'_>, read: impl FnOnce(&Built) -> R) -> R {
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        match memo.as_ref() {
            Some(built) if built.component_sha256 == component.sha256 => read(built),
            _ => read(memo.insert(Built::from(component))),
        }
    }
}

impl From<&Component<'_>> for Built {
    fn from(component: &Component<'_>) -> Built {
        let entries: Vec<ToolEntry> = component
            .tools
            .iter()
            .map(|d| {
                let name = format!("{}:{}", component.plugin_id, d.name);
                ToolEntry::new(name, ToolKind::Static, d.clone())
            })
            .collect();
        let by_name = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.descriptor.name.clone(), i))
            .collect();
        Built {
            component_sha256: component.sha256.to_string(),
            entries,
            by_name,
        }
    }
}
