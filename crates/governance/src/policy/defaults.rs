//! The default mode of a tool, before any override.
//!
//! - Static tools: the plugin's hint (the vendor's policy table is the plugin's to declare:
//!   the ConnectWise plugin hints approval for `cw-rmm-run-task` and `cw-rmm-create-ticket`
//!   and auto for every other static tool, the seed's table), and at least approval when the
//!   tool is not annotated read-only.
//! - Script (discovered) tools: the [`classifier`](super::classifier).
//!
//! In every case the result is never looser than the plugin's own hint:
//! `effective = max(table or classifier, hint)`. The plugin can make a tool stricter, never
//! looser.

use super::classifier;
use super::Mode;
use crate::tool::{ToolFacts, ToolKind};

/// Where a default came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultBasis {
    /// The plugin's hint (static tools).
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
    /// e.g. "plugin hint `approval`" or "classifier: destructive verb `uninstall`".
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
        ToolKind::Static if hint == Mode::Auto && !tool.read_only => {
            return DefaultMode {
                mode: Mode::Approval,
                basis: DefaultBasis::Hint,
                rule: "plugin hint `auto`, raised to `approval`: the tool is not read-only"
                    .to_string(),
            };
        }
        ToolKind::Static => (hint, DefaultBasis::Hint, format!("plugin hint `{hint}`")),
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
    fn static_tools_take_the_plugins_hint() {
        let run = default_mode(&static_tool("cw-rmm-run-task", Mode::Approval, false));
        assert_eq!(run.mode, Mode::Approval);
        assert_eq!(run.basis, DefaultBasis::Hint);
        assert_eq!(run.rule, "plugin hint `approval`");
        // A write hinted `auto` still needs approval: the hint cannot make a write free.
        let ticket = default_mode(&static_tool("cw-rmm-create-ticket", Mode::Auto, false));
        assert_eq!(ticket.mode, Mode::Approval);
        let list = default_mode(&static_tool("cw-rmm-list-devices", Mode::Auto, true));
        assert_eq!(list.mode, Mode::Auto);
    }

    #[test]
    fn never_looser_than_the_hint() {
        let d = default_mode(&static_tool("cw-rmm-list-devices", Mode::Never, true));
        assert_eq!(d.mode, Mode::Never);
        assert_eq!(d.rule, "plugin hint `never`");
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

    #[test]
    fn a_script_tool_hinted_auto_is_the_classifiers_even_though_not_read_only() {
        // Script tools are never annotated read-only: the static rule "auto but not read-only
        // -> approval" would make every one of them approval and the classifier moot.
        let check = script_tool("cw-rmm-script-check-disk-space", "", Mode::Auto);
        assert!(!check.read_only);
        let d = default_mode(&check);
        assert_eq!(
            (d.mode, d.basis, d.rule.as_str()),
            (
                Mode::Auto,
                DefaultBasis::Classifier,
                "classifier: read-only verb `check`"
            )
        );
        let d = default_mode(&script_tool("cw-rmm-script-defrag", "", Mode::Auto));
        assert_eq!(d.mode, Mode::Approval);
        assert_eq!(d.rule, "classifier: no known verb, unknown effect");
    }
}
