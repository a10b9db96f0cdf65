//! A grant: what the operator saw and accepted when connecting, recorded so the host runs only
//! that. The component (by SHA-256), who it says it is, where its traffic and the client secret
//! may go, and every tool's declaration (by digest, with its routes).

use crate::catalog::ToolEntry;
use std::collections::BTreeMap;
use toolhost_sandbox::{CredentialKind, Origin, PluginMetadata, ToolRoute};

/// A tool as granted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedTool {
    /// Digest of the whole declaration ([`ToolEntry::digest`]).
    pub digest: String,
    /// Annotated read-only.
    pub read_only: bool,
    /// Every request it may make.
    pub routes: Vec<ToolRoute>,
}

/// What the operator accepted for one connection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// SHA-256 of the component file.
    pub component_sha256: String,
    /// The plugin's id.
    pub plugin_id: String,
    /// The plugin's version.
    pub plugin_version: String,
    /// The region connected to.
    pub region: String,
    /// The region's API origin: tool requests go here.
    pub api_origin: Origin,
    /// Where the client secret may be sent (`origin` + path), when the plugin uses one.
    pub token_endpoint: Option<String>,
    /// Further origins the plugin calls in this region.
    pub extra_origins: Vec<Origin>,
    /// Extra origins the operator named explicitly (http, loopback, private, IP literals).
    #[serde(default)]
    pub allowed_origins: Vec<Origin>,
    /// Requests `discover-tools` may make.
    pub discovery_routes: Vec<ToolRoute>,
    /// Every tool, by namespaced name.
    pub tools: BTreeMap<String, GrantedTool>,
    /// When it was accepted (RFC 3339).
    pub accepted_at: String,
    /// Who accepted it.
    pub accepted_by: String,
}

impl Grant {
    /// The facts of a component as it is now, for `region`, with its tools `tools`.
    pub fn of(
        component_sha256: &str,
        metadata: &PluginMetadata,
        region: &str,
        tools: &[ToolEntry],
        accepted_by: &str,
    ) -> Option<Grant> {
        let r = metadata.region(region)?;
        let token_endpoint = match &metadata.credential {
            CredentialKind::None => None,
            CredentialKind::OAuth2ClientCredentials { token_path, .. } => {
                Some(format!("{}{token_path}", r.api.url()))
            }
        };
        Some(Grant {
            component_sha256: component_sha256.to_string(),
            plugin_id: metadata.id.clone(),
            plugin_version: metadata.version.clone(),
            region: region.to_string(),
            api_origin: r.api.clone(),
            token_endpoint,
            extra_origins: r.extra_origins.clone(),
            allowed_origins: Vec::new(),
            discovery_routes: metadata.discovery_routes.clone(),
            tools: tools
                .iter()
                .map(|t| {
                    let granted = GrantedTool {
                        digest: t.digest().to_string(),
                        read_only: t.descriptor.annotations.read_only,
                        routes: t.descriptor.routes.clone(),
                    };
                    (t.name.clone(), granted)
                })
                .collect(),
            accepted_at: chrono::Utc::now().to_rfc3339(),
            accepted_by: accepted_by.to_string(),
        })
    }

    /// Reads sent with another method than GET or HEAD, for the operator to see.
    pub fn warnings(&self) -> Vec<String> {
        self.tools
            .iter()
            .flat_map(|(name, tool)| {
                tool.routes
                    .iter()
                    .filter(|r| r.is_unusual_read())
                    .map(move |r| format!("`{name}` reads with `{} {}`", r.method, r.path))
            })
            .collect()
    }

    /// Whether `entry` is served: granted with the same declaration, or new (a script added
    /// in the tenant since, which policy and approvals govern like any other).
    pub fn serves(&self, entry: &ToolEntry) -> bool {
        self.tools
            .get(&entry.name)
            .is_none_or(|granted| granted.digest == entry.digest())
    }
}
