//! The MCP `ServerHandler`: tools/list from the host's catalog, tools/call through the
//! host's one call path (roles, policy, approvals, audit, limits).

use super::approver::ElicitationApprover;
use super::identity::{self, AuthenticatedClient, Identity};
use super::names;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, MetaObject, PaginatedRequestParams, ProtocolVersion,
    ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, Peer, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use toolhost_governance::Mode;
use toolhost_host::Caller;
use toolhost_host::HostError;
use toolhost_host::{ToolEntry, ToolHost};

/// How the server calls tools.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// Who calls run as: a named client (its role from its record), or nobody identified.
    pub identity: Identity,
    /// The role of calls that identify no client (`toolhost mcp --as`); `None` uses the
    /// configured default. Never applies to a named client.
    pub role: Option<String>,
    /// The `--home` the server runs with, when not the default: approval commands in error
    /// texts then carry it, so an operator can paste them as they are.
    pub home_flag: Option<String>,
}

/// The MCP server. Cheap to clone: every session (the stdio one, or one per streamable HTTP
/// session) shares one host, one catalog fingerprint and one list of peers to notify.
#[derive(Clone)]
pub struct McpServer {
    shared: Arc<Shared>,
}

struct Shared {
    host: Arc<ToolHost>,
    options: McpOptions,
    /// A hash of the listed tools (MCP names and modes); `None` until first listed.
    fingerprint: Mutex<Option<u64>>,
    /// Initialized sessions, told when the catalog changes.
    peers: Mutex<Vec<Peer<RoleServer>>>,
}

impl McpServer {
    pub fn new(host: Arc<ToolHost>, options: McpOptions) -> McpServer {
        McpServer {
            shared: Arc::new(Shared {
                host,
                options,
                fingerprint: Mutex::new(None),
                peers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Records the catalog's fingerprint; when it changed since it was last seen, tells every
    /// connected client (`notifications/tools/list_changed`).
    fn observe_catalog(&self, tools: &[ToolEntry]) {
        let fingerprint = fingerprint(tools);
        let changed = {
            let mut seen = self
                .shared
                .fingerprint
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let changed = seen.is_some_and(|old| old != fingerprint);
            *seen = Some(fingerprint);
            changed
        };
        if changed {
            let peers: Vec<Peer<RoleServer>> = {
                let mut peers = self.shared.peers.lock().unwrap_or_else(|p| p.into_inner());
                peers.retain(|p| !p.is_transport_closed());
                peers.clone()
            };
            tracing::info!(
                "the tool catalog changed: notifying {} client(s)",
                peers.len()
            );
            tokio::spawn(async move {
                for peer in peers {
                    if let Err(err) = peer.notify_tool_list_changed().await {
                        tracing::debug!("could not send tools/list_changed: {err}");
                    }
                }
            });
        }
    }

    /// After a call: the call may have refreshed the catalog (a miss rediscovers, an expired
    /// catalog is discovered again).
    async fn recheck_catalog(&self) {
        if let Ok(tools) = self.shared.host.tools().await {
            self.observe_catalog(&tools);
        }
    }

    /// A host error as the tool error result an MCP client shows to the model.
    /// `requested` is the name the client sent, `host_name` what it mapped to.
    fn error_result(
        &self,
        err: &HostError,
        requested: &str,
        host_name: &str,
        known: &[String],
    ) -> CallToolResult {
        let mut text = names::rewrite_quoted(&err.to_string(), known);
        if let HostError::UnknownTool { .. } = err {
            text = text
                .replace(&format!("`{host_name}`"), &format!("`{requested}`"))
                .replace("`toolhost tools` lists", "tools/list lists");
        }
        if let Some(home) = &self.shared.options.home_flag {
            text = text.replace(
                "`toolhost approvals ",
                &format!("`toolhost --home {home} approvals "),
            );
        }
        let mut meta = JsonObject::new();
        meta.insert("toolhost/error".into(), json!(err.kind()));
        if let HostError::ApprovalRequired { id, .. } = err {
            meta.insert("toolhost/approvalId".into(), json!(id));
        }
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.meta = Some(MetaObject(meta));
        result
    }
}

/// The catalog's identity as clients see it: the names and how each runs.
pub fn fingerprint(tools: &[ToolEntry]) -> u64 {
    let mut listed: Vec<(&str, &str)> = tools
        .iter()
        .map(|t| (t.name.as_str(), t.policy.as_str()))
        .collect();
    listed.sort_unstable();
    let mut hasher = DefaultHasher::new();
    listed.hash(&mut hasher);
    hasher.finish()
}

/// A host tool as an MCP tool: mapped name, title, description, schemas and annotations.
pub fn mcp_tool(entry: &ToolEntry) -> Tool {
    let d = &entry.descriptor;
    let input_schema = match &d.input_schema {
        Value::Object(schema) => schema.clone(),
        _ => {
            let mut schema = JsonObject::new();
            schema.insert("type".into(), json!("object"));
            schema
        }
    };
    let mut description = d.description.clone();
    match entry.policy {
        Mode::Approval => description.push_str(
            "\n\nNeeds a person's approval for each call (asked through the client, or recorded as a pending approval).",
        ),
        Mode::Never => description.push_str("\n\nSet to never run through an agent: calls are refused."),
        Mode::Auto => {}
    }
    let annotations = ToolAnnotations::with_title(d.title.clone())
        .read_only(d.annotations.read_only)
        .destructive(d.annotations.destructive)
        .idempotent(d.annotations.idempotent)
        .open_world(d.annotations.open_world);
    let mut meta = JsonObject::new();
    meta.insert("toolhost/name".into(), json!(entry.name));
    meta.insert("toolhost/policy".into(), json!(entry.policy.as_str()));
    meta.insert("toolhost/kind".into(), json!(entry.kind));
    let mut tool = Tool::new(
        names::to_mcp(&entry.name),
        description,
        Arc::new(input_schema),
    )
    .with_title(d.title.clone())
    .with_annotations(annotations)
    .with_meta(MetaObject(meta));
    if let Some(Value::Object(schema)) = &d.output_schema {
        if schema.get("type").and_then(Value::as_str) == Some("object") {
            tool = tool.with_raw_output_schema(Arc::new(schema.clone()));
        }
    }
    tool
}

/// A successful result: the JSON as text (every client reads it), plus structured content
/// when the tool declares an output schema and the result is an object.
fn success_result(result: Value, structured: bool) -> CallToolResult {
    let text = serde_json::to_string_pretty(&result).unwrap_or_else(|_| result.to_string());
    let mut out = CallToolResult::success(vec![ContentBlock::text(text)]);
    if structured && result.is_object() {
        out.structured_content = Some(result);
    }
    out
}

impl ServerHandler for McpServer {
    /// Up to 2025-11-25: approvals ask through `elicitation/create`, a server-to-client
    /// request that the stateless 2026-07-28 protocol no longer allows.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(
            &ProtocolVersion::LATEST_WITH_INITIALIZE,
        ))
    }

    fn get_info(&self) -> ServerConfig {
        let metadata = self.shared.host.metadata();
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_tool_list_changed()
                .build(),
        )
        .with_server_info(
            Implementation::new("toolhost", env!("CARGO_PKG_VERSION"))
                .with_title(format!("toolhost: {}", metadata.name)),
        )
        .with_instructions(format!(
            "Tools of the {} plugin ({}), run by toolhost under its roles, policy, approvals and audit. \
             Tools marked as needing approval ask the user first when the operator allowed this client \
             to approve; otherwise the call returns an approval id for an operator to approve.",
            metadata.name, metadata.description
        ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = self
            .shared
            .host
            .tools()
            .await
            .map_err(|err| McpError::internal_error(err.to_string(), None))?;
        self.observe_catalog(&tools);
        Ok(ListToolsResult {
            tools: tools.iter().map(mcp_tool).collect(),
            ..Default::default()
        })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let host_name = names::to_host(&request.name);
        let arguments = Value::Object(request.arguments.unwrap_or_default()).to_string();
        let client = context
            .peer
            .peer_info()
            .map(|info| info.client_info.name.clone())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "client".into());
        let host = &self.shared.host;
        let authenticated = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<AuthenticatedClient>());
        let who = match identity::resolve(
            &self.shared.options.identity,
            host,
            self.shared.options.role.as_deref(),
            &client,
            authenticated,
        ) {
            Ok(who) => who,
            Err(message) => {
                return Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
        };
        let caller = Caller::new(who.caller.clone(), who.role);
        let approver =
            ElicitationApprover::new(context.peer.clone(), who.caller, who.elicitation_approvals);
        let outcome = host.call(&host_name, &arguments, &caller, &approver).await;
        let tools = host.tools().await.unwrap_or_default();
        let result = match outcome {
            Ok(report) => {
                let structured = tools
                    .iter()
                    .find(|t| t.name == report.tool)
                    .is_some_and(|t| mcp_tool(t).output_schema.is_some());
                success_result(report.result, structured)
            }
            Err(err) => {
                tracing::info!("{} failed: {err}", request.name);
                let known: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
                self.error_result(&err, &request.name, &host_name, &known)
            }
        };
        if !tools.is_empty() {
            self.observe_catalog(&tools);
        } else {
            self.recheck_catalog().await;
        }
        Ok(result.into())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let mut peers = self.shared.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.retain(|p| !p.is_transport_closed());
        peers.push(context.peer);
    }
}
