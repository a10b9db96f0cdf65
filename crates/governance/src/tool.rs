//! What governance knows of a tool: its name and what its plugin declared about it. The host
//! builds one from its catalog entry; governance never sees the plugin itself.

use crate::policy::Mode;

/// Where a tool came from, which decides how its default mode is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    /// Listed by the plugin itself (the same for every tenant).
    Static,
    /// Discovered in the tenant (one tool per script): its defaults come from the classifier.
    Discovered,
}

/// A tool as policy and roles judge it.
#[derive(Debug, Clone, Copy)]
pub struct ToolFacts<'a> {
    /// `<plugin-id>:<tool-name>`: what policy patterns and audit records name.
    pub name: &'a str,
    /// Static or discovered.
    pub kind: ToolKind,
    /// The plugin's description (the classifier reads script tools' descriptions).
    pub description: &'a str,
    /// The plugin's own suggestion: the effective mode is never looser.
    pub hint: Mode,
    /// The plugin's read-only annotation.
    pub read_only: bool,
    /// The permissions the tool declares a role must hold.
    pub permissions: &'a [String],
    /// Digest of a discovered tool's declaration: an override confirmed for it applies only
    /// while the script behind the name is still that one. `None` for static tools.
    pub digest: Option<&'a str>,
}
