//! What calls through a connection may reach and how they authenticate: the region's
//! origins, its upstream routes, and a token provider for the plugin's credential kind.
//! A host's connection shares its token with every process of the home, or with every
//! replica of the tenant when the state is in PostgreSQL (see [`shared_call_context`]);
//! conformance runs against throw-away backends keep theirs in memory.

use super::file::ConnectionSettings;
use super::request::ConnectionError;
use crate::config::{HostConfig, OutboundLimits};
use crate::state::StateBackend;
use std::sync::Arc;
use toolhost_sandbox::{
    AllowedOrigins, BodyEncoding, CallContext, ClientCredentials, CredentialKind, OutboundPolicy,
    PluginMetadata, TokenEndpoint, TokenProvider, TokenStore,
};
use toolhost_state::PgTokens;

/// `toolhost/<version> (<plugin>/<version>)`: how the vendor can tell our traffic apart.
fn user_agent(metadata: &PluginMetadata) -> String {
    format!(
        "toolhost/{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        metadata.id,
        metadata.version
    )
}

type Built = (CallContext, Option<Arc<TokenProvider>>);

/// The call context of `settings` for the plugin described by `metadata`, and the token
/// provider when the plugin uses credentials; the token lives in this process only.
pub(crate) fn call_context(
    metadata: &PluginMetadata,
    settings: &ConnectionSettings,
    limits: &OutboundLimits,
) -> Result<Built, ConnectionError> {
    build(metadata, settings, limits, None)
}

/// Like [`call_context`], with the token shared where `config` keeps its state: one token
/// per connection, not one per process or replica (see [`token_store`]).
pub(crate) fn shared_call_context(
    metadata: &PluginMetadata,
    settings: &ConnectionSettings,
    config: &HostConfig,
) -> Result<Built, ConnectionError> {
    let store = token_store(config)?;
    build(metadata, settings, &config.outbound, Some(store))
}

/// Where the token and the 423 lock-out deadline are shared: the home's token file (every
/// process of the home: the CLI, `toolhost mcp`, `toolhost ui`), or the tenant's rows in the
/// state database (every replica), sealed there with the operator's state key.
fn token_store(config: &HostConfig) -> Result<TokenStore, ConnectionError> {
    match &config.state {
        StateBackend::Embedded => Ok(TokenStore::in_home(&config.home)),
        StateBackend::Postgres { db, tenant, key } => Ok(PgTokens::new(db.clone(), tenant.clone())
            .sealed_with(key.clone())
            .into_store()),
    }
}

fn build(
    metadata: &PluginMetadata,
    settings: &ConnectionSettings,
    limits: &OutboundLimits,
    store: Option<TokenStore>,
) -> Result<Built, ConnectionError> {
    let region = metadata
        .region(&settings.region)
        .ok_or_else(|| ConnectionError::unknown_region(&settings.region, metadata))?;
    let allowed = AllowedOrigins::new(
        std::iter::once(region.api.clone()).chain(region.extra_origins.iter().cloned()),
    );
    let user_agent = user_agent(metadata);
    let provider = match &metadata.credential {
        CredentialKind::None => None,
        CredentialKind::OAuth2ClientCredentials {
            token_path,
            body_encoding,
            scopes,
        } => {
            let provider = TokenProvider::new(
                TokenEndpoint {
                    origin: region.api.clone(),
                    path: token_path.clone(),
                    encoding: BodyEncoding::parse(body_encoding).unwrap_or(BodyEncoding::Json),
                    scopes: settings.scopes.clone().unwrap_or_else(|| scopes.clone()),
                    user_agent: user_agent.clone(),
                },
                ClientCredentials {
                    client_id: settings.client_id.clone(),
                    client_secret: settings.client_secret.clone(),
                },
                settings.routes.clone(),
                limits.timeouts,
            );
            Some(Arc::new(match store {
                Some(store) => provider.shared_in(store),
                None => provider,
            }))
        }
    };
    let outbound = OutboundPolicy {
        allowed,
        routes: settings.routes.clone(),
        credentials: provider.clone().map(|p| (p, vec![region.api.clone()])),
        timeouts: limits.timeouts,
        retry: limits.retry,
        max_requests_per_call: limits.max_requests_per_call,
        max_in_flight_per_call: limits.max_in_flight_per_call,
        max_request_body_bytes: limits.max_request_body_bytes,
        max_response_body_bytes: limits.max_response_body_bytes,
        user_agent,
    };
    let config = vec![("region".to_string(), settings.region.clone())];
    Ok((
        CallContext {
            outbound: Arc::new(outbound),
            config,
            // Each call is scoped to its tool's routes when it is made.
            tool_routes: Arc::default(),
            observer: None,
        },
        provider,
    ))
}
