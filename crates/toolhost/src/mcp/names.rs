//! The one place where host tool names and MCP tool names meet.
//!
//! The host namespaces tools as `<plugin-id>:<tool-name>`; MCP tool names may only use
//! `[A-Za-z0-9_.-]`, and several agent runtimes (OpenAI and Gemini function names) allow
//! only `[A-Za-z0-9_-]`. So `:` becomes `__`:
//! `connectwise_rmm:cw-rmm-list-devices` <-> `connectwise_rmm__cw-rmm-list-devices`.
//!
//! The mapping is reversible: a plugin id is `[a-z][a-z0-9_]*` and a tool name
//! `[a-z][a-z0-9-]*` (no underscore), so the *last* `__` of an MCP name is the separator.

/// What replaces the host's `:` namespace separator.
pub const SEPARATOR: &str = "__";

/// `plugin:tool` -> `plugin__tool`. A name without a namespace is returned unchanged.
pub fn to_mcp(host_name: &str) -> String {
    match host_name.split_once(':') {
        Some((plugin, tool)) => format!("{plugin}{SEPARATOR}{tool}"),
        None => host_name.to_string(),
    }
}

/// `plugin__tool` -> `plugin:tool`. Anything else (a bare tool name, an unknown shape) is
/// passed through for the host to resolve or to refuse as an unknown tool.
pub fn to_host(mcp_name: &str) -> String {
    match mcp_name.rsplit_once(SEPARATOR) {
        Some((plugin, tool)) if !plugin.is_empty() && !tool.is_empty() && !tool.contains('_') => {
            format!("{plugin}:{tool}")
        }
        _ => mcp_name.to_string(),
    }
}

/// Rewrites host names quoted in a message (`` `plugin:tool` ``) to their MCP spelling, so
/// error texts name tools the way the MCP client knows them.
pub fn rewrite_quoted(message: &str, host_names: &[String]) -> String {
    let mut out = message.to_string();
    for name in host_names {
        let quoted = format!("`{name}`");
        if out.contains(&quoted) {
            out = out.replace(&quoted, &format!("`{}`", to_mcp(name)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for name in [
            "connectwise_rmm:cw-rmm-list-devices",
            "connectwise_rmm:cw-rmm-script-disk-cleanup",
            "a:b",
            "plugin_:tool-x",
            "p__q:t",
        ] {
            let mcp = to_mcp(name);
            assert!(
                mcp.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{mcp}"
            );
            assert_eq!(to_host(&mcp), name, "{mcp}");
        }
        assert_eq!(
            to_mcp("connectwise_rmm:cw-rmm-list-devices"),
            "connectwise_rmm__cw-rmm-list-devices"
        );
    }

    #[test]
    fn other_shapes_pass_through() {
        assert_eq!(to_host("cw-rmm-list-devices"), "cw-rmm-list-devices");
        assert_eq!(to_host("__tool"), "__tool");
        assert_eq!(to_host("plugin__"), "plugin__");
        assert_eq!(to_host("a__b_c"), "a__b_c");
        assert_eq!(to_mcp("bare"), "bare");
    }

    #[test]
    fn rewrites_quoted_names() {
        let names = vec!["p:list-x".to_string()];
        assert_eq!(
            rewrite_quoted("unknown tool `lst-x`; did you mean `p:list-x`?", &names),
            "unknown tool `lst-x`; did you mean `p__list-x`?"
        );
    }
}
