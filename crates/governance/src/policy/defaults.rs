//! The default mode of a tool, before any override.
//!
//! - Static tools: the seed's table ([`SEED_TABLE`]: `cw-rmm-run-task` and
//!   `cw-rmm-create-ticket` need approval, every other static tool is auto).
//! - A static tool the table does not know: the plugin's hint, and at least approval when the
//!   tool is not annotated read-only.
//! - Script (discovered) tools: the [`classifier`](super::classifier).
//!
//! In every case the result is never looser than the plugin's own hint:
//! `effective = max(table or classifier, hint)`. The plugin can make a tool stricter, never
//! looser.

use super::classifier;
use super::Mode;
use crate::tool::{ToolFacts, ToolKind};

/// The seed's policy table for the static tools of the ConnectWise RMM plugin.
pub const SEED_TABLE: &[(&str, Mode)] = &[
    ("connectwise_rmm:cw-rmm-list-companies", Mode::Auto),
    ("connectwise_rmm:cw-rmm-get-company", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-sites", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-devices", Mode::Auto),
    ("connectwise_rmm:cw-rmm-get-device", Mode::Auto),
    ("connectwise_rmm:cw-rmm-get-device-state", Mode::Auto),
    ("connectwise_rmm:cw-rmm-get-device-patches", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-device-groups", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-scripts", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-shell-scripts", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-tasks", Mode::Auto),
    ("connectwise_rmm:cw-rmm-get-tasks-summary", Mode::Auto),
    ("connectwise_rmm:cw-rmm-run-task", Mode::Approval),
    ("connectwise_rmm:cw-rmm-get-task-results", Mode::Auto),
    ("connectwise_rmm:cw-rmm-list-tickets", Mode::Auto),
    ("connectwise_rmm:cw-rmm-get-ticket", Mode::Auto),
    ("connectwise_rmm:cw-rmm-create-ticket", Mode::Approval),
];

/// The seed table's mode for a namespaced tool name.
pub fn table_mode(name: &str) -> Option<Mode> {
    SEED_TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, mode)| mode)
}

/// Where a default came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultBasis {
    /// The seed table (static tools).
    Table,
    /// The plugin's hint, for a static tool the table does not know.
    Hint,
    /// The script-tool classifier.
    Classifier,
}

/// A tool's default mode and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultMode {
    /// The effective default, already raised to the plugin's hint.
    pub mode: Mode,
    /// Which rule set produced it, so a decision can say "classifier" rather than "default".
    pub basis: DefaultBasis,
    /// e.g. "seed table: `approval`" or "classifier: destructive verb `uninstall`".
    pub rule: String,
}

/// The default mode of `tool`: see the module documentation.
pub fn default_mode(tool: &ToolFacts<'_>) -> DefaultMode {
    let hint = tool.hint;
    let (base, basis, mut rule) = match tool.kind {
        ToolKind::Discovered => {
            let c = classifier::classify(tool.name, tool.description);
            (c.mode, DefaultBasis::Classifier, c.rule)
        }
        ToolKind::Static => match table_mode(tool.name) {
            Some(mode) => (mode, DefaultBasis::Table, format!("seed table: `{mode}`")),
            None if hint == Mode::Auto && !tool.read_only => {
                return DefaultMode {
                    mode: Mode::Approval,
                    basis: DefaultBasis::Hint,
                    rule: "plugin hint `auto`, raised to `approval`: the tool is not read-only"
                        .to_string(),
                };
            }
            None => (hint, DefaultBasis::Hint, format!("plugin hint `{hint}`")),
        },
    };
    if hint > base {
        rule = format!("{rule}, raised to `{hint}` by the plugin's hint");
    }
    DefaultMode {
        mode: base.max(hint),
        basis,
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testing::{script_tool, static_tool};

    #[test]
    fn seed_table_for_static_tools() {
        let run = default_mode(&static_tool("cw-rmm-run-task", Mode::Approval, false));
        assert_eq!(run.mode, Mode::Approval);
        assert_eq!(run.basis, DefaultBasis::Table);
        assert_eq!(run.rule, "seed table: `approval`");
        let ticket = default_mode(&static_tool("cw-rmm-create-ticket", Mode::Auto, false));
        assert_eq!(ticket.mode, Mode::Approval);
        let list = default_mode(&static_tool("cw-rmm-list-devices", Mode::Auto, true));
        assert_eq!(list.mode, Mode::Auto);
        assert_eq!(SEED_TABLE.len(), 17);
        assert_eq!(
            SEED_TABLE
                .iter()
                .filter(|(_, m)| *m == Mode::Approval)
                .count(),
            2
        );
    }

    #[test]
    fn never_looser_than_the_hint() {
        let d = default_mode(&static_tool("cw-rmm-list-devices", Mode::Never, true));
        assert_eq!(d.mode, Mode::Never);
        assert_eq!(
            d.rule,
            "seed table: `auto`, raised to `never` by the plugin's hint"
        );
        let d = default_mode(&script_tool(
            "cw-rmm-script-list-admins",
            "Lists local admins",
            Mode::Approval,
        ));
        assert_eq!(d.mode, Mode::Approval);
        assert_eq!(
            d.rule,
            "classifier: read-only verb `list`, raised to `approval` by the plugin's hint"
        );
    }

    #[test]
    fn the_hint_cannot_loosen() {
        let d = default_mode(&script_tool(
            "cw-rmm-script-uninstall-agent",
            "",
            Mode::Auto,
        ));
        assert_eq!(d.mode, Mode::Approval);
        assert_eq!(d.basis, DefaultBasis::Classifier);
        let d = default_mode(&script_tool("cw-rmm-script-list-admins", "", Mode::Auto));
        assert_eq!(d.mode, Mode::Auto);
    }

    #[test]
    fn unknown_static_tools_use_the_hint_and_writes_need_approval() {
        let d = default_mode(&static_tool("cw-rmm-new-read", Mode::Auto, true));
        assert_eq!((d.mode, d.basis), (Mode::Auto, DefaultBasis::Hint));
        let d = default_mode(&static_tool("cw-rmm-new-write", Mode::Auto, false));
        assert_eq!(d.mode, Mode::Approval);
        assert!(d.rule.contains("not read-only"));
        let d = default_mode(&static_tool("cw-rmm-new-never", Mode::Never, false));
        assert_eq!(d.mode, Mode::Never);
    }
}
