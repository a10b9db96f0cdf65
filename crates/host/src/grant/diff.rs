//! What differs between a grant and the component as it is now, in lines an operator reads
//! before accepting.

use super::model::Grant;
use std::collections::BTreeSet;
use std::fmt;

/// The differences, one line each; empty when the component matches its grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GrantDiff(pub Vec<String>);

impl GrantDiff {
    /// Component-level differences (the component, its identity, where its traffic and the
    /// client secret go): any of them stops the host from running the component.
    pub fn component(granted: &Grant, now: &Grant) -> GrantDiff {
        let mut lines = Vec::new();
        let mut changed = |what: &str, was: String, is: String| {
            if was != is {
                lines.push(format!("{what}: {was} -> {is}"));
            }
        };
        changed(
            "component sha256",
            granted.component_sha256.clone(),
            now.component_sha256.clone(),
        );
        changed("plugin", granted.plugin_id.clone(), now.plugin_id.clone());
        changed(
            "plugin version",
            granted.plugin_version.clone(),
            now.plugin_version.clone(),
        );
        changed("API origin", granted.api_origin.url(), now.api_origin.url());
        changed(
            "token endpoint (where the client secret goes)",
            granted.token_endpoint.clone().unwrap_or("none".into()),
            now.token_endpoint.clone().unwrap_or("none".into()),
        );
        let was: BTreeSet<String> = granted.extra_origins.iter().map(|o| o.url()).collect();
        let is: BTreeSet<String> = now.extra_origins.iter().map(|o| o.url()).collect();
        for added in is.difference(&was) {
            lines.push(format!("extra origin added: {added}"));
        }
        for removed in was.difference(&is) {
            lines.push(format!("extra origin removed: {removed}"));
        }
        if granted.discovery_routes != now.discovery_routes {
            lines.push("discovery routes changed".into());
        }
        GrantDiff(lines)
    }

    /// Component and tool differences: everything `toolhost grant show` lists.
    pub fn full(granted: &Grant, now: &Grant) -> GrantDiff {
        let mut diff = GrantDiff::component(granted, now);
        for (name, tool) in &now.tools {
            match granted.tools.get(name) {
                None => diff.0.push(format!("tool added: {name}")),
                Some(old) if old.digest != tool.digest => {
                    diff.0
                        .push(format!("tool changed: {name} (not served until accepted)"));
                    if old.routes != tool.routes {
                        let routes: Vec<String> =
                            tool.routes.iter().map(|r| r.to_string()).collect();
                        diff.0.push(format!("  routes now: {}", routes.join(", ")));
                    }
                }
                Some(_) => {}
            }
        }
        for name in granted.tools.keys().filter(|n| !now.tools.contains_key(*n)) {
            diff.0.push(format!("tool removed: {name}"));
        }
        diff
    }

    /// No difference.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for GrantDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}
