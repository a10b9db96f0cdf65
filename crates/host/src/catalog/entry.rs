//! A tool as the host lists it: namespaced, with the mode it runs under, and how a name a
//! caller typed finds it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use toolhost_governance::{Mode, ToolFacts, ToolKind};
use toolhost_sandbox::{PolicyHint, ToolDescriptor};

/// A tool of the catalog.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolEntry {
    /// `<plugin-id>:<tool-name>`.
    pub name: String,
    /// Static (the plugin's own) or discovered (the tenant's scripts).
    pub kind: ToolKind,
    /// The effective mode (defaults, classifier and the operator's overrides applied).
    pub policy: Mode,
    /// What the plugin declared: shared with the catalog's memo, so finding a tool for a
    /// call copies no schema.
    #[serde(flatten)]
    pub descriptor: Arc<ToolDescriptor>,
    /// Digest of the declaration, computed once (see [`ToolEntry::digest`]).
    #[serde(skip)]
    digest: String,
}

impl ToolEntry {
    /// The entry of `descriptor`, namespaced as `name`, with the plugin's hint as its mode
    /// until a policy decides.
    pub fn new(
        name: String,
        kind: ToolKind,
        descriptor: impl Into<Arc<ToolDescriptor>>,
    ) -> ToolEntry {
        let descriptor = descriptor.into();
        #[cfg(test)]
        BUILT.with(|built| built.set(built.get() + 1));
        let declared = serde_json::to_vec(&*descriptor).unwrap_or_default();
        let digest = hex::encode(Sha256::digest(&declared));
        ToolEntry {
            name,
            kind,
            policy: hint_mode(descriptor.policy_hint),
            descriptor,
            digest,
        }
    }

    /// Digest of everything the plugin declared about the tool (name, title, description,
    /// schemas, annotations, hint, permissions, routes; for a script tool its schema names
    /// the template): what an approval, a grant or an override was given on. A renamed or
    /// replaced script, or a changed plugin, gives another digest.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// What policy and roles judge.
    pub fn facts(&self) -> ToolFacts<'_> {
        ToolFacts {
            name: &self.name,
            kind: self.kind,
            description: &self.descriptor.description,
            hint: hint_mode(self.descriptor.policy_hint),
            read_only: self.descriptor.annotations.read_only,
            permissions: &self.descriptor.permissions,
            digest: (self.kind == ToolKind::Discovered).then_some(self.digest.as_str()),
        }
    }
}

#[cfg(test)]
thread_local! {
    /// How many entries this thread built (their digests computed): what memoising saves.
    static BUILT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many entries this thread built so far.
#[cfg(test)]
pub(crate) fn entries_built() -> usize {
    BUILT.with(std::cell::Cell::get)
}

/// The plugin's hint, as a mode: the floor under its tool's default.
pub(crate) fn hint_mode(hint: PolicyHint) -> Mode {
    match hint {
        PolicyHint::Auto => Mode::Auto,
        PolicyHint::Approval => Mode::Approval,
        PolicyHint::Never => Mode::Never,
    }
}

/// `plugin:tool` for a bare tool name, without looking the tool up.
pub(crate) fn qualified_name(plugin_id: &str, name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("{plugin_id}:{name}")
    }
}

/// The entry named `name` (`plugin:tool` or the bare tool name), or the closest name.
pub(crate) fn resolve<'a>(
    plugin_id: &str,
    entries: &'a [ToolEntry],
    name: &str,
) -> Result<&'a ToolEntry, Option<String>> {
    let wanted = name
        .strip_prefix(plugin_id)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(name);
    entries
        .iter()
        .find(|e| e.descriptor.name == wanted)
        .ok_or_else(|| closest(wanted, entries.iter().map(|e| e.name.as_str())))
}

/// The listed name sharing the longest run of words with `wanted`, if any share one.
fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<String> {
    let words: Vec<&str> = wanted
        .split(['-', ':', '_'])
        .filter(|w| w.len() > 2)
        .collect();
    names
        .map(|n| (words.iter().filter(|w| n.contains(**w)).count(), n))
        .filter(|(score, _)| *score > 0)
        .max_by_key(|(score, n)| (*score, std::cmp::Reverse(n.len())))
        .map(|(_, n)| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_tool() {
        let names = [
            "p:cw-rmm-list-devices",
            "p:cw-rmm-get-device",
            "p:cw-rmm-list-tickets",
        ];
        assert_eq!(
            closest("list-device", names.into_iter()).as_deref(),
            Some("p:cw-rmm-list-devices")
        );
        assert_eq!(closest("zzz", names.into_iter()), None);
    }

    #[test]
    fn hints_map_to_modes() {
        assert_eq!(hint_mode(PolicyHint::Approval), Mode::Approval);
        assert_eq!(hint_mode(PolicyHint::Never), Mode::Never);
        assert_eq!(hint_mode(PolicyHint::Auto), Mode::Auto);
    }

    #[test]
    fn names_are_qualified_once() {
        assert_eq!(qualified_name("p", "t"), "p:t");
        assert_eq!(qualified_name("p", "p:t"), "p:t");
    }
}
