//! The MCP `ServerHandler`: tools/list from the host's catalog, tools/call through the
//! host's one call path (roles, policy, approvals, audit, limits).

use super::approval_round::{AskMode, Resumed, Round, RoundApprover};
use super::approver::ElicitationApprover;
use super::call_result;
use super::identity::{self, AuthenticatedClient, Identity};
use super::names;
use super::request_state::{ApprovalStates, Binding, StateError};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    Implementation, JsonObject, ListToolsResult, MetaObject, PaginatedRequestParams,
    ProtocolVersion, ServerCapabilities, ServerConfig, SubscriptionFilter, Tool, ToolAnnotations,
};
use rmcp::service::{NotificationContext, Peer, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use toolhost_governance::Mode;
use toolhost_host::Caller;
use toolhost_host::HostError;
use toolhost_host::{CallReport, TenantName, ToolEntry, ToolHost};

/// How the server calls tools.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// Who calls run as: a named client (its role from its record), or nobody identified.
    pub identity: Identity,
    /// The role of calls that identify no client (`toolhost mcp --as`); `None` uses the
    /// configured default. Never applies to a named client.
    pub role: Option<String>,
    /// The global flags the server runs with, when not the defaults (`--home H --tenant T`,
    /// see [`command_flags`]): approval commands in error texts then carry them, so an
    /// operator can paste them as they are and acts in the server's home and tenant.
    pub command_flags: Option<String>,
    /// The admin UI's address (`toolhost mcp --approvals-url`): on 2026-07-28 a client that
    /// may not approve is sent to the UI's page of the pending approval (URL elicitation).
    pub approvals_url: Option<String>,
}

/// The global flags a command needs to act where a server runs: `--home` when one was given,
/// `--tenant` when not the default tenant; `None` when both are the defaults.
pub fn command_flags(home_flag: Option<&str>, tenant: &TenantName) -> Option<String> {
    let mut flags = Vec::new();
    if let Some(home) = home_flag {
        flags.push(format!("--home {home}"));
    }
    if !tenant.is_default() {
        flags.push(format!("--tenant {tenant}"));
    }
    (!flags.is_empty()).then(|| flags.join(" "))
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
    /// 2026-07-28 `subscriptions/listen` streams, told when the catalog changes.
    catalog_changed: broadcast::Sender<()>,
    /// Signs and checks the `requestState` of 2026-07-28 approval rounds; `None` when the
    /// home's key cannot be used (approvals then end pending, as for a client that cannot
    /// be asked).
    states: Option<ApprovalStates>,
}

impl McpServer {
    pub async fn new(host: Arc<ToolHost>, options: McpOptions) -> McpServer {
        let states = ApprovalStates::for_host(&host)
            .await
            .inspect_err(|err| {
                tracing::error!("2026-07-28 approval rounds are off: {err}");
            })
            .ok();
        McpServer {
            shared: Arc::new(Shared {
                host,
                options,
                fingerprint: Mutex::new(None),
                peers: Mutex::new(Vec::new()),
                catalog_changed: broadcast::channel(16).0,
                states,
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
                "the tool catalog changed: notifying {} client(s) and {} listen stream(s)",
                peers.len(),
                self.shared.catalog_changed.receiver_count()
            );
            // No listener is not an error: nobody is subscribed.
            let _ = self.shared.catalog_changed.send(());
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
        if let Some(flags) = &self.shared.options.command_flags {
            text = text.replace(
                "`toolhost approvals ",
                &format!("`toolhost {flags} approvals "),
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
    if let Some(schema) = call_result::output_schema(entry) {
        tool = tool.with_raw_output_schema(Arc::new(schema.clone()));
    }
    tool
}

impl ServerHandler for McpServer {
    /// Every revision up to 2026-07-28, to whichever client arrives: sessions and
    /// `initialize` up to 2025-11-25 (approvals ask through `elicitation/create`), stateless
    /// requests with `server/discover` on 2026-07-28 (approvals answer input-required: see
    /// [`super::approval_round`]).
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2026_07_28))
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
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = self
            .shared
            .host
            .tools()
            .await
            .map_err(|err| McpError::internal_error(err.to_string(), None))?;
        self.observe_catalog(&tools);
        let mut listed = ListToolsResult {
            tools: tools.iter().map(mcp_tool).collect(),
            ..Default::default()
        };
        if is_2026_07_28(&context) {
            // The list is the catalog, cached on disk for the catalog TTL; it depends on this
            // tenant (and its policy), so only the requesting client may cache it.
            let ttl = self.shared.host.config().catalog_ttl;
            listed.ttl_ms = Some(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
            listed.cache_scope = Some(CacheScope::Private);
        }
        Ok(listed)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let host_name = names::to_host(&request.name);
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default()).to_string();
        // The request's own `_meta` clientInfo on 2026-07-28, the session's otherwise.
        let client = context
            .client_info()
            .map(|info| info.name)
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
        )
        .await
        {
            Ok(who) => who,
            Err(message) => {
                return Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
        };
        let caller = Caller::new(who.caller.clone(), who.role.clone());
        let outcome = match (is_2026_07_28(&context), &self.shared.states) {
            (true, None) => {
                // Without its key the server cannot hold an approval round: an approval-needed
                // call ends pending (the tool error naming the approval), a retry is refused.
                if request.request_state.is_some() {
                    return Err(McpError::invalid_params(NO_STATE_KEY, None));
                }
                host.call(&host_name, &arguments, &caller, &RoundApprover::default())
                    .await
            }
            (true, Some(states)) => {
                let round = Round {
                    host,
                    states,
                    binding: Binding {
                        tool: &host_name,
                        arguments: &arguments,
                        client: &who.caller,
                    },
                    mode: AskMode::choose(
                        who.elicitation_approvals,
                        context.client_capabilities().as_ref(),
                        self.shared.options.approvals_url.as_deref(),
                    ),
                    client: &who.caller,
                };
                match call_in_rounds(&round, &request, &caller).await? {
                    Step::Respond(response) => return Ok(response),
                    Step::Outcome(outcome) => outcome,
                }
            }
            (false, _) => {
                let approver = ElicitationApprover::new(
                    context.peer.clone(),
                    who.caller.clone(),
                    who.elicitation_approvals,
                );
                host.call(&host_name, &arguments, &caller, &approver).await
            }
        };
        let tools = host.tools().await.unwrap_or_default();
        let result = match outcome {
            Ok(report) => call_result::tool_result(&tools, &report.tool, report.result),
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

    /// 2026-07-28 list-changed notifications come on a `subscriptions/listen` stream; the
    /// tool list is the only list this server has.
    fn accepted_subscription_filter(
        &self,
        _requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(SubscriptionFilter::builder().tools_list_changed().build())
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), McpError> {
        let mut changes = self.shared.catalog_changed.subscribe();
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                change = changes.recv() => match change {
                    Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        if context.accepted().tools_list_changed != Some(true) {
                            continue;
                        }
                        if let Err(err) = context.sink().notify_tool_list_changed().await {
                            tracing::debug!("a listen stream ended: {err}");
                            return Ok(());
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
            }
        }
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let mut peers = self.shared.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.retain(|p| !p.is_transport_closed());
        peers.push(context.peer);
    }
}

/// A retry this server cannot verify, because its request-state key is unusable.
const NO_STATE_KEY: &str = "this server cannot verify requestState (its key is unusable: see the server's log); call the tool again without it";

/// Whether the request is on 2026-07-28 or later (stateless: no server-to-client requests).
fn is_2026_07_28(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// Where a 2026-07-28 call stands after its approval round.
enum Step {
    /// Answer this (input required, or the end of a decided approval).
    Respond(CallToolResponse),
    /// The pipeline's outcome, shaped like any call's.
    Outcome(Result<CallReport, HostError>),
}

/// A 2026-07-28 `tools/call`: a retry with `requestState` resumes its approval round; a
/// fresh call goes through the pipeline and, when it needs approval, asks in a round.
async fn call_in_rounds(
    round: &Round<'_>,
    request: &CallToolRequestParams,
    caller: &Caller,
) -> Result<Step, McpError> {
    if let Some(state) = &request.request_state {
        let resumed = round.resume(state, request.input_responses.as_ref()).await;
        if let Err(err @ (StateError::Io { .. } | StateError::BadKey(_) | StateError::Shared(_))) =
            &resumed
        {
            tracing::error!("an approval round failed: {err}");
        }
        return match resumed {
            Ok(Resumed::Ran(outcome)) => Ok(Step::Outcome(outcome)),
            Ok(Resumed::Over(result)) => Ok(Step::Respond(result.into())),
            Ok(Resumed::Waiting(again)) => Ok(Step::Respond(again.into())),
            Err(StateError::Io { .. } | StateError::BadKey(_) | StateError::Shared(_)) => {
                // The operator's problem, with paths: for the log, not for the agent.
                Err(McpError::internal_error(
                    "the server cannot record this approval round: see the server's log",
                    None,
                ))
            }
            Err(err) => Err(McpError::invalid_params(err.to_string(), None)),
        };
    }
    let approver = RoundApprover::default();
    let outcome = round
        .host
        .call(
            round.binding.tool,
            round.binding.arguments,
            caller,
            &approver,
        )
        .await;
    if let Err(HostError::ApprovalRequired { id, .. }) = &outcome {
        let message = approver.message().unwrap_or_default();
        if let Some(ask) = round.ask(id, &message) {
            return Ok(Step::Respond(ask.into()));
        }
    }
    Ok(Step::Outcome(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_flags_name_the_home_and_a_non_default_tenant() {
        let default = TenantName::default();
        let acme = TenantName::parse("acme").unwrap();
        assert_eq!(command_flags(None, &default), None);
        assert_eq!(
            command_flags(Some("/h"), &default).as_deref(),
            Some("--home /h")
        );
        assert_eq!(command_flags(None, &acme).as_deref(), Some("--tenant acme"));
        assert_eq!(
            command_flags(Some("/h"), &acme).as_deref(),
            Some("--home /h --tenant acme")
        );
    }
}
