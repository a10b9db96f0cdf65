//! Host-side, serializable forms of what a plugin declares, converted from the WIT types
//! and checked on the way in: a plugin is untrusted, its metadata too.

use super::bindings::wit;
use super::declaration_error::{invalid, DeclarationError};
use super::declared_routes::declared_routes;
use super::role_templates::{role_templates, RoleTemplate};
use crate::outbound::tool_routes::ToolRoute;
use crate::outbound::{Origin, Scheme};

/// The plugin's recommended default policy for a tool. The host may make it stricter, never
/// looser. Ordered from least to most restrictive.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PolicyHint {
    /// Safe to run without asking a person.
    Auto,
    /// A person approves each call before anything reaches the vendor API.
    Approval,
    /// Never run through an agent.
    Never,
}

impl PolicyHint {
    /// `auto`, `approval` or `never`, as in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyHint::Auto => "auto",
            PolicyHint::Approval => "approval",
            PolicyHint::Never => "never",
        }
    }
}

/// Behaviour hints, mirroring MCP tool annotations: defaults for policy, not enforcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// The tool does not modify its environment.
    pub read_only: bool,
    /// The tool may perform destructive updates (only meaningful when not read-only).
    pub destructive: bool,
    /// Calling it again with the same arguments has no additional effect.
    pub idempotent: bool,
    /// The tool interacts with an open world of external entities.
    pub open_world: bool,
}

/// One tool a plugin offers, its name checked and its schemas parsed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDescriptor {
    /// The plugin's own (un-namespaced) name. Serialized as `toolName` so a `ToolEntry`,
    /// which flattens this and adds the namespaced `name`, has one `name` key.
    #[serde(rename = "toolName")]
    pub name: String,
    /// A short human title.
    pub title: String,
    /// What the tool does, written for a model choosing tools.
    pub description: String,
    /// JSON Schema of the arguments object (checked to be an object).
    pub input_schema: serde_json::Value,
    /// JSON Schema of the result, when the plugin promises a shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// Behaviour hints.
    pub annotations: Annotations,
    /// The plugin's recommended default policy.
    pub policy_hint: PolicyHint,
    /// Permissions a caller's role must hold, e.g. `tasks:view`.
    pub permissions: Vec<String>,
    /// Every request the tool may make; the gate refuses anything else.
    pub routes: Vec<ToolRoute>,
}

/// A configuration key the plugin reads through `wasi:config/store`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigKey {
    /// The key.
    pub name: String,
    /// What it configures, for the operator.
    pub description: String,
    /// Whether the plugin cannot work without it.
    pub required: bool,
    /// The value used when the operator sets none.
    pub default_value: Option<String>,
}

/// The credential a plugin's API needs; the host obtains it, the plugin never sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum CredentialKind {
    /// The API needs no credential.
    None,
    /// An OAuth2 client-credentials grant, performed by the host.
    #[serde(rename = "oauth2-client-credentials")]
    OAuth2ClientCredentials {
        /// The token endpoint's path on the region's API origin (starts with `/`).
        token_path: String,
        /// `json` or `form` (checked on the way in).
        body_encoding: String,
        /// Scopes requested by default; operators may override them.
        scopes: Vec<String>,
    },
}

/// A deployment region of the vendor API and the origins used there.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Short id used in configuration, e.g. `au`.
    pub id: String,
    /// Human label, e.g. `Australia`.
    pub label: String,
    /// The API origin: token minting and the tool requests go here.
    pub api: Origin,
    /// Further origins the plugin calls in this region (often none).
    pub extra_origins: Vec<Origin>,
}

/// What a plugin declares about itself, checked: a valid id, valid origins, a default
/// region that exists, a well-formed credential.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginMetadata {
    /// Namespace of the plugin's tool names, e.g. `connectwise_rmm`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The plugin's version (semver).
    pub version: String,
    /// What the plugin integrates, for the operator.
    pub description: String,
    /// The configuration keys it reads.
    pub config_keys: Vec<ConfigKey>,
    /// The credential its API needs.
    pub credential: CredentialKind,
    /// Where its API is deployed.
    pub regions: Vec<Region>,
    /// The region used when the operator configures none.
    pub default_region: String,
    /// The vendor's roles: the host's default role table (empty: the built-in role).
    pub roles: Vec<RoleTemplate>,
    /// The role of a caller who names none, one of `roles`.
    pub default_role: Option<String>,
    /// Every request `discover-tools` may make (reads only).
    pub discovery_routes: Vec<ToolRoute>,
}

impl ToolDescriptor {
    /// The requests a call to this tool may make, named `tool` in refusals.
    pub fn routes_for(&self, tool: &str) -> crate::outbound::tool_routes::ToolRoutes {
        crate::outbound::tool_routes::ToolRoutes {
            tool: tool.to_string(),
            routes: self.routes.clone(),
        }
    }
}

impl PluginMetadata {
    /// The region with this id.
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// The ids of all declared regions, in declaration order.
    pub fn region_ids(&self) -> Vec<&str> {
        self.regions.iter().map(|r| r.id.as_str()).collect()
    }
}

/// `[a-z][a-z0-9_]*`, the namespace of tool names.
pub fn is_valid_plugin_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && id.len() <= 64
}

/// `[a-z][a-z0-9-]*`, at most 64 characters.
pub fn is_valid_tool_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
        && name.len() <= 64
}

fn origin(o: wit::Origin, field: &str) -> Result<Origin, DeclarationError> {
    let scheme = match o.scheme.as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => {
            return Err(invalid(
                field,
                format!("scheme `{other}` is not http or https"),
            ))
        }
    };
    if o.host.contains(['/', '@', ' ', '*']) {
        return Err(invalid(
            field,
            format!("host `{}` is not a plain host name", o.host),
        ));
    }
    Origin::new(scheme, &o.host, o.port).map_err(|e| invalid(field, e.to_string()))
}

impl TryFrom<wit::PluginMetadata> for PluginMetadata {
    type Error = DeclarationError;

    fn try_from(m: wit::PluginMetadata) -> Result<PluginMetadata, DeclarationError> {
        if !is_valid_plugin_id(&m.id) {
            return Err(invalid(
                "id",
                format!("`{}` must match [a-z][a-z0-9_]* (at most 64)", m.id),
            ));
        }
        let mut regions = Vec::new();
        for (i, r) in m.regions.into_iter().enumerate() {
            let field = format!("regions[{i}]");
            let extra_origins = r
                .extra_origins
                .into_iter()
                .map(|o| origin(o, &format!("{field}.extra-origins")))
                .collect::<Result<_, _>>()?;
            regions.push(Region {
                api: origin(r.api, &format!("{field}.api"))?,
                id: r.id,
                label: r.label,
                extra_origins,
            });
        }
        if !regions.is_empty() && !regions.iter().any(|r| r.id == m.default_region) {
            return Err(invalid(
                "default-region",
                format!("`{}` is not one of the declared regions", m.default_region),
            ));
        }
        let (roles, default_role) = role_templates(m.roles, m.default_role)?;
        let discovery_routes = declared_routes(m.discovery_routes, "discovery-routes", true)?;
        let credential = match m.credential {
            wit::CredentialKind::None => CredentialKind::None,
            wit::CredentialKind::Oauth2ClientCredentials(c) => {
                if !c.token_path.starts_with('/') {
                    return Err(invalid("credential.token-path", "must start with `/`"));
                }
                if !matches!(c.body_encoding.as_str(), "json" | "form") {
                    return Err(invalid(
                        "credential.body-encoding",
                        "must be `json` or `form`",
                    ));
                }
                CredentialKind::OAuth2ClientCredentials {
                    token_path: c.token_path,
                    body_encoding: c.body_encoding,
                    scopes: c.scopes,
                }
            }
        };
        Ok(PluginMetadata {
            id: m.id,
            name: m.name,
            version: m.version,
            description: m.description,
            config_keys: m
                .config_keys
                .into_iter()
                .map(|k| ConfigKey {
                    name: k.name,
                    description: k.description,
                    required: k.required,
                    default_value: k.default_value,
                })
                .collect(),
            credential,
            regions,
            default_region: m.default_region,
            roles,
            default_role,
            discovery_routes,
        })
    }
}

impl TryFrom<wit::ToolDescriptor> for ToolDescriptor {
    type Error = DeclarationError;

    fn try_from(t: wit::ToolDescriptor) -> Result<ToolDescriptor, DeclarationError> {
        let field = |f: &str| format!("tool `{}`.{f}", t.name);
        if !is_valid_tool_name(&t.name) {
            return Err(invalid(
                field("name"),
                "must match [a-z][a-z0-9-]* (at most 64)",
            ));
        }
        let input_schema: serde_json::Value = serde_json::from_str(&t.input_schema)
            .map_err(|e| invalid(field("input-schema"), format!("not JSON: {e}")))?;
        if !input_schema.is_object() {
            return Err(invalid(
                field("input-schema"),
                "must be a JSON Schema object",
            ));
        }
        let output_schema = match &t.output_schema {
            Some(s) => Some(
                serde_json::from_str(s)
                    .map_err(|e| invalid(field("output-schema"), format!("not JSON: {e}")))?,
            ),
            None => None,
        };
        let routes = declared_routes(t.routes, &field("routes"), t.annotations.read_only)?;
        Ok(ToolDescriptor {
            routes,
            input_schema,
            output_schema,
            annotations: Annotations {
                read_only: t.annotations.read_only,
                destructive: t.annotations.destructive,
                idempotent: t.annotations.idempotent,
                open_world: t.annotations.open_world,
            },
            policy_hint: match t.policy_hint {
                wit::PolicyHint::Auto => PolicyHint::Auto,
                wit::PolicyHint::Approval => PolicyHint::Approval,
                wit::PolicyHint::Never => PolicyHint::Never,
            },
            permissions: t.permissions,
            name: t.name,
            title: t.title,
            description: t.description,
        })
    }
}

/// A plugin's `tool-error`, as the host reports it.
///
/// Messages come from the plugin: untrusted text for people and models, never instructions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ToolError {
    /// An argument failed the plugin's own validation.
    #[error("invalid input: {field}: {message}")]
    InvalidInput {
        /// Path of the offending argument, e.g. `targets[0]`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The thing asked for does not exist.
    #[error("not found: {message}")]
    NotFound {
        /// The plugin's explanation.
        message: String,
    },
    /// The vendor API refused the credential.
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// The plugin's explanation.
        message: String,
    },
    /// The credential lacks a permission the tool needs.
    #[error("forbidden: {message}")]
    Forbidden {
        /// The plugin's explanation.
        message: String,
    },
    /// The vendor API is rate limiting.
    #[error("rate limited: {message}{}", retry_after_seconds.map(|s| format!(" (retry after {s} s)")).unwrap_or_default())]
    RateLimited {
        /// When to try again, if upstream said.
        retry_after_seconds: Option<u32>,
        /// The plugin's explanation.
        message: String,
    },
    /// The vendor API failed in a way the plugin passes on.
    #[error("upstream error (HTTP {status}): {message}")]
    Upstream {
        /// The upstream HTTP status.
        status: u16,
        /// The plugin's explanation.
        message: String,
    },
    /// The plugin gave up waiting (its own deadline, not the host's).
    #[error("timeout: {message}")]
    Timeout {
        /// The plugin's explanation.
        message: String,
    },
    /// A bug or unexpected state inside the plugin.
    #[error("plugin internal error: {message}")]
    Internal {
        /// The plugin's explanation.
        message: String,
    },
}

impl From<wit::ToolError> for ToolError {
    fn from(e: wit::ToolError) -> ToolError {
        match e {
            wit::ToolError::InvalidInput(d) => ToolError::InvalidInput {
                field: d.field,
                message: d.message,
            },
            wit::ToolError::NotFound(message) => ToolError::NotFound { message },
            wit::ToolError::Unauthorized(message) => ToolError::Unauthorized { message },
            wit::ToolError::Forbidden(message) => ToolError::Forbidden { message },
            wit::ToolError::RateLimited(d) => ToolError::RateLimited {
                retry_after_seconds: d.retry_after_seconds,
                message: d.message,
            },
            wit::ToolError::Upstream(d) => ToolError::Upstream {
                status: d.status,
                message: d.message,
            },
            wit::ToolError::Timeout(message) => ToolError::Timeout { message },
            wit::ToolError::Internal(message) => ToolError::Internal { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_world_rules() {
        assert!(is_valid_tool_name("cw-rmm-list-devices"));
        assert!(!is_valid_tool_name("Cw-rmm"));
        assert!(!is_valid_tool_name("1abc"));
        assert!(!is_valid_tool_name("a:b"));
        assert!(!is_valid_tool_name(&"a".repeat(65)));
        assert!(is_valid_plugin_id("connectwise_rmm"));
        assert!(!is_valid_plugin_id("connectwise-rmm"));
    }

    #[test]
    fn refuses_bad_origins() {
        let o = |scheme: &str, host: &str| wit::Origin {
            scheme: scheme.into(),
            host: host.into(),
            port: 443,
        };
        assert!(origin(o("https", "api.example.com"), "f").is_ok());
        assert!(origin(o("ftp", "api.example.com"), "f").is_err());
        assert!(origin(o("https", "*.example.com"), "f").is_err());
        assert!(origin(o("https", "user@example.com"), "f").is_err());
        assert!(origin(o("https", ""), "f").is_err());
    }
}
