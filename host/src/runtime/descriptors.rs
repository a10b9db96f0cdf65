//! Host-side, serializable forms of what a plugin declares, converted from the WIT types
//! and checked on the way in: a plugin is untrusted, its metadata too.

use super::bindings::wit;
use crate::outbound::{Origin, Scheme};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PolicyHint {
    Auto,
    Approval,
    Never,
}

impl PolicyHint {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyHint::Auto => "auto",
            PolicyHint::Approval => "approval",
            PolicyHint::Never => "never",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDescriptor {
    /// The plugin's own (un-namespaced) name. Serialized as `toolName` so a `ToolEntry`,
    /// which flattens this and adds the namespaced `name`, has one `name` key.
    #[serde(rename = "toolName")]
    pub name: String,
    pub title: String,
    pub description: String,
    pub input_schema: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    pub annotations: Annotations,
    pub policy_hint: PolicyHint,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigKey {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub default_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum CredentialKind {
    None,
    #[serde(rename = "oauth2-client-credentials")]
    OAuth2ClientCredentials {
        token_path: String,
        body_encoding: String,
        scopes: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub id: String,
    pub label: String,
    pub api: Origin,
    pub extra_origins: Vec<Origin>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginMetadata {
    pub id: String,
    pub name: String,
    pub version: String,
    pub description: String,
    pub config_keys: Vec<ConfigKey>,
    pub credential: CredentialKind,
    pub regions: Vec<Region>,
    pub default_region: String,
}

impl PluginMetadata {
    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn region_ids(&self) -> Vec<&str> {
        self.regions.iter().map(|r| r.id.as_str()).collect()
    }
}

/// A declaration the host refuses, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid plugin declaration: {field}: {message}")]
pub struct DeclarationError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> DeclarationError {
    DeclarationError {
        field: field.into(),
        message: message.into(),
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
        Ok(ToolDescriptor {
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ToolError {
    #[error("invalid input: {field}: {message}")]
    InvalidInput { field: String, message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    #[error("rate limited: {message}{}", retry_after_seconds.map(|s| format!(" (retry after {s} s)")).unwrap_or_default())]
    RateLimited {
        retry_after_seconds: Option<u32>,
        message: String,
    },
    #[error("upstream error (HTTP {status}): {message}")]
    Upstream { status: u16, message: String },
    #[error("timeout: {message}")]
    Timeout { message: String },
    #[error("plugin internal error: {message}")]
    Internal { message: String },
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
