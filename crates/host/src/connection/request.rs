//! What a person supplies to connect (`toolhost connect` flags or the UI's form), checked in
//! this one place so both front ends refuse the same mistakes with the same words.

use super::file::ConnectionSettings;
use toolhost_base::SecretString;
use toolhost_sandbox::{Origin, PluginMetadata, UpstreamRoutes};

/// A connection that cannot be made as asked; each names the input to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// The plugin declares no such region.
    #[error("unknown region `{region}`: choose one of {known}")]
    UnknownRegion {
        /// As asked.
        region: String,
        /// The plugin's regions, comma-separated.
        known: String,
    },
    /// A field is empty or malformed.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as the form and the flags call it.
        field: &'static str,
        /// What is wrong and what to enter instead.
        message: String,
    },
}

impl ConnectionError {
    pub(crate) fn unknown_region(region: &str, metadata: &PluginMetadata) -> ConnectionError {
        ConnectionError::UnknownRegion {
            region: region.to_string(),
            known: metadata.region_ids().join(", "),
        }
    }
}

/// What a person supplies to connect, from `toolhost connect` flags or the UI's form:
/// checked in this one place, the same way for both.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    /// The region id, as typed.
    pub region: String,
    /// The API client id, as typed.
    pub client_id: String,
    /// The API client secret (never echoed).
    pub client_secret: SecretString,
    /// Space-separated scopes instead of the plugin's defaults.
    pub scopes: Option<String>,
    /// Send the region's API traffic to this origin instead (the simulator, a proxy).
    pub upstream: Option<String>,
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl ConnectRequest {
    /// The settings `ToolHost::connect` takes, or an error naming the input to fix.
    pub fn settings(
        self,
        metadata: &PluginMetadata,
    ) -> Result<ConnectionSettings, ConnectionError> {
        let invalid =
            |field: &'static str, message: String| ConnectionError::Invalid { field, message };
        let region = self.region.trim().to_string();
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() {
            return Err(invalid(
                "client id",
                "it is empty: copy it from the Asio portal (Integrations > API Access)".into(),
            ));
        }
        if self.client_secret.expose().trim().is_empty() {
            return Err(invalid(
                "client secret",
                "it is empty: paste the API key shown once when the key was generated".into(),
            ));
        }
        let known = metadata
            .region(&region)
            .ok_or_else(|| ConnectionError::unknown_region(&region, metadata))?;
        let mut routes = UpstreamRoutes::new();
        if let Some(upstream) = non_empty(self.upstream.as_deref()) {
            let target =
                Origin::parse(upstream).map_err(|err| invalid("upstream", format!("{err}")))?;
            routes.insert(known.api.clone(), target);
        }
        Ok(ConnectionSettings {
            region,
            client_id,
            client_secret: self.client_secret,
            scopes: non_empty(self.scopes.as_deref())
                .map(|s| s.split_whitespace().map(str::to_string).collect()),
            routes,
        })
    }
}
