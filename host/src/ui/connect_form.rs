//! The connect form: the same inputs and checks as `toolhost connect`, in library form.

use crate::connection::ConnectionSettings;
use crate::credentials::SecretString;
use crate::outbound::{Origin, UpstreamRoutes};
use crate::runtime::PluginMetadata;
use crate::HostError;

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

/// A form input the host would not accept, named as the form names it.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("{0}")]
    Field(String),
    #[error(transparent)]
    Host(#[from] HostError),
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl ConnectForm {
    /// Builds the settings `ToolHost::connect` takes, checking what `toolhost connect`
    /// checks before it: the secret is not empty, the region exists, the upstream is an
    /// origin.
    pub fn settings(self, metadata: &PluginMetadata) -> Result<ConnectionSettings, FormError> {
        let region = self.region.trim().to_string();
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() {
            return Err(FormError::Field(
                "the client id is empty: copy it from the Asio portal (Integrations > API Access)"
                    .into(),
            ));
        }
        if self.client_secret.is_empty() {
            return Err(FormError::Field("the client secret is empty".into()));
        }
        let known = metadata
            .region(&region)
            .ok_or_else(|| HostError::UnknownRegion {
                region: region.clone(),
                known: metadata.region_ids().join(", "),
            })?;
        let mut routes = UpstreamRoutes::new();
        if let Some(upstream) = non_empty(self.upstream.as_deref()) {
            let target = Origin::parse(upstream)
                .map_err(|err| FormError::Field(format!("upstream URL {upstream}: {err}")))?;
            routes.insert(known.api.clone(), target);
        }
        Ok(ConnectionSettings {
            region,
            client_id,
            client_secret: SecretString::new(self.client_secret),
            scopes: non_empty(self.scopes.as_deref())
                .map(|s| s.split_whitespace().map(str::to_string).collect()),
            routes,
        })
    }
}
