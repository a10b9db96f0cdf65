//! The connect form: the same inputs and checks as `toolhost connect`, in library form.

use toolhost_base::SecretString;
use toolhost_host::HostError;
use toolhost_host::{ConnectRequest, ConnectionSettings};
use toolhost_sandbox::PluginMetadata;

/// What the form posts. The secret is only ever read from here, never sent back.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectForm {
    pub region: String,
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated scopes instead of the plugin's defaults.
    #[serde(default)]
    pub scopes: Option<String>,
    /// Send the region's API traffic here (the simulator), like `connect --upstream`.
    #[serde(default)]
    pub upstream: Option<String>,
}

impl std::fmt::Debug for ConnectForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectForm")
            .field("region", &self.region)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

impl ConnectForm {
    /// The settings `ToolHost::connect` takes, checked exactly as `toolhost connect` checks
    /// them (`ConnectRequest::settings`).
    pub fn settings(self, metadata: &PluginMetadata) -> Result<ConnectionSettings, HostError> {
        ConnectRequest {
            region: self.region,
            client_id: self.client_id,
            client_secret: SecretString::new(self.client_secret),
            scopes: self.scopes,
            upstream: self.upstream,
        }
        .settings(metadata)
        .map_err(HostError::from)
    }
}
