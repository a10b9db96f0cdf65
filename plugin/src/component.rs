//! WIT bindings and the export glue: converts between the WIT types and the plugin's own types.

wit_bindgen::generate!({
    world: "tool-plugin",
    path: "../wit",
    with: {
        "wasi:http/types@0.2.12": wasip2::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasip2::http::outgoing_handler,
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
        "wasi:random/random@0.2.12": wasip2::random::random,
        "wasi:random/insecure@0.2.12": wasip2::random::insecure,
        "wasi:random/insecure-seed@0.2.12": wasip2::random::insecure_seed,
        "wasi:cli/environment@0.2.12": wasip2::cli::environment,
        "wasi:cli/exit@0.2.12": wasip2::cli::exit,
        "wasi:cli/stdin@0.2.12": wasip2::cli::stdin,
        "wasi:cli/stdout@0.2.12": wasip2::cli::stdout,
        "wasi:cli/stderr@0.2.12": wasip2::cli::stderr,
        "wasi:cli/terminal-input@0.2.12": wasip2::cli::terminal_input,
        "wasi:cli/terminal-output@0.2.12": wasip2::cli::terminal_output,
        "wasi:cli/terminal-stdin@0.2.12": wasip2::cli::terminal_stdin,
        "wasi:cli/terminal-stdout@0.2.12": wasip2::cli::terminal_stdout,
        "wasi:cli/terminal-stderr@0.2.12": wasip2::cli::terminal_stderr,
        "wasi:config/store@0.2.0-rc.1": generate,
    },
});

use crate::catalog::{self, ToolSpec};
use crate::errors::ToolError as PluginError;
use crate::region::{self, ConfigSource};
use crate::roles;
use crate::routes::{self, Route as PluginRoute};
use crate::tools::{self, context::Ctx};
use crate::wasi_http::WasiTransport;
use exports::toolhost::plugin::tools::Guest;
use toolhost::plugin::types::*;

/// The host's configuration values, fetched with one host call: a call reads about seven
/// keys, and a `get` per key was a host call each.
struct WasiConfig(Vec<(String, String)>);

impl WasiConfig {
    /// Everything the host configured; a store that fails to answer is read as empty, so
    /// every key takes its default, as a failed `get` did.
    fn fetch() -> WasiConfig {
        WasiConfig(wasi::config::store::get_all().unwrap_or_default())
    }
}

impl ConfigSource for WasiConfig {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.clone())
    }
}

fn now() -> i64 {
    wasip2::clocks::wall_clock::now().seconds as i64
}

fn to_wit_error(error: PluginError) -> ToolError {
    match error {
        PluginError::InvalidInput { field, message } => {
            ToolError::InvalidInput(InvalidInputDetail { field, message })
        }
        PluginError::NotFound(m) => ToolError::NotFound(m),
        PluginError::Unauthorized(m) => ToolError::Unauthorized(m),
        PluginError::Forbidden(m) => ToolError::Forbidden(m),
        PluginError::RateLimited {
            retry_after_seconds,
            message,
        } => ToolError::RateLimited(RateLimitDetail {
            retry_after_seconds,
            message,
        }),
        PluginError::Upstream { status, message } => {
            ToolError::Upstream(UpstreamDetail { status, message })
        }
        PluginError::Timeout(m) => ToolError::Timeout(m),
        PluginError::Internal(m) => ToolError::Internal(m),
    }
}

fn to_wit_tool(spec: ToolSpec) -> ToolDescriptor {
    ToolDescriptor {
        name: spec.name,
        title: spec.title,
        description: spec.description,
        input_schema: spec.input_schema.to_string(),
        output_schema: spec.output_schema.map(|s| s.to_string()),
        annotations: Annotations {
            read_only: spec.annotations.read_only,
            destructive: spec.annotations.destructive,
            idempotent: spec.annotations.idempotent,
            open_world: spec.annotations.open_world,
        },
        policy_hint: match spec.policy {
            catalog::Policy::Auto => PolicyHint::Auto,
            catalog::Policy::Approval => PolicyHint::Approval,
        },
        permissions: spec.permissions,
        routes: to_wit_routes(spec.routes),
    }
}

fn to_wit_routes(routes: Vec<PluginRoute>) -> Vec<Route> {
    routes
        .into_iter()
        .map(|r| Route {
            method: r.method,
            path: r.path,
            access: if r.write { Access::Write } else { Access::Read },
        })
        .collect()
}

struct Plugin;

impl Guest for Plugin {
    fn metadata() -> PluginMetadata {
        PluginMetadata {
            id: crate::PLUGIN_ID.to_string(),
            name: crate::PLUGIN_NAME.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: crate::PLUGIN_DESCRIPTION.to_string(),
            config_keys: region::CONFIG_KEYS
                .iter()
                .map(|k| ConfigKey {
                    name: k.name.to_string(),
                    description: k.description.to_string(),
                    required: false,
                    default_value: Some(k.default.to_string()),
                })
                .collect(),
            credential: CredentialKind::Oauth2ClientCredentials(Oauth2ClientCredentials {
                token_path: crate::TOKEN_PATH.to_string(),
                body_encoding: crate::TOKEN_BODY_ENCODING.to_string(),
                scopes: crate::SCOPES.iter().map(|s| s.to_string()).collect(),
            }),
            regions: region::REGIONS
                .iter()
                .map(|r| Region {
                    id: r.id.to_string(),
                    label: r.label.to_string(),
                    api: Origin {
                        scheme: "https".to_string(),
                        host: r.api_host.to_string(),
                        port: region::API_PORT,
                    },
                    extra_origins: Vec::new(),
                })
                .collect(),
            default_region: region::DEFAULT_REGION.to_string(),
            roles: roles::matrix()
                .into_iter()
                .map(|r| RoleTemplate {
                    name: r.name.to_string(),
                    ai_assist: r.ai_assist,
                    limited_access: r.limited_access,
                    permissions: r.permissions.iter().map(|p| p.to_string()).collect(),
                    fixed: r.fixed.iter().map(|p| p.to_string()).collect(),
                })
                .collect(),
            default_role: Some(roles::DEFAULT_ROLE.to_string()),
            discovery_routes: to_wit_routes(routes::discovery()),
        }
    }

    fn list_tools() -> Vec<ToolDescriptor> {
        catalog::static_tools()
            .into_iter()
            .map(to_wit_tool)
            .collect()
    }

    fn discover_tools() -> Result<Vec<ToolDescriptor>, ToolError> {
        let transport = WasiTransport;
        let ctx = Ctx::new(&transport, &WasiConfig::fetch(), now).map_err(to_wit_error)?;
        let tools = crate::script_tools::discover(&ctx).map_err(to_wit_error)?;
        Ok(tools.into_iter().map(to_wit_tool).collect())
    }

    fn call_tool(name: String, arguments: String) -> Result<String, ToolError> {
        let transport = WasiTransport;
        let ctx = Ctx::new(&transport, &WasiConfig::fetch(), now).map_err(to_wit_error)?;
        tools::call(&ctx, &name, &arguments).map_err(to_wit_error)
    }

    fn preview_call(name: String, arguments: String) -> Result<Option<CallPreview>, ToolError> {
        let transport = WasiTransport;
        let ctx = Ctx::new(&transport, &WasiConfig::fetch(), now).map_err(to_wit_error)?;
        let preview = crate::preview::preview(&ctx, &name, &arguments).map_err(to_wit_error)?;
        Ok(preview.map(|p| CallPreview {
            summary: p.summary,
            facts: p
                .facts
                .into_iter()
                .map(|(label, value)| PreviewFact { label, value })
                .collect(),
        }))
    }
}

export!(Plugin);
