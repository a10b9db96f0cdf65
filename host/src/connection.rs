//! A saved connection to a tenant: region, client id, secret, scopes and upstream routes,
//! kept in a 0600 file in the toolhost home directory.

use crate::credentials::SecretString;
use crate::error::HostError;
use crate::outbound::{Origin, UpstreamRoutes};
use crate::runtime::PluginMetadata;
use std::path::{Path, PathBuf};

const CONNECTION_FILE: &str = "connection.json";

#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    pub region: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Scopes to request; `None` requests the plugin's default scopes.
    pub scopes: Option<Vec<String>>,
    /// Where to actually send the traffic of an allowed origin (the simulator, a proxy).
    pub routes: UpstreamRoutes,
}

/// What a person supplies to connect, from `toolhost connect` flags or the UI's form:
/// checked in this one place, the same way for both.
#[derive(Debug, Clone)]
pub struct ConnectRequest {
    pub region: String,
    pub client_id: String,
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
    pub fn settings(self, metadata: &PluginMetadata) -> Result<ConnectionSettings, HostError> {
        let invalid =
            |field: &'static str, message: String| HostError::InvalidConnection { field, message };
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
            .ok_or_else(|| HostError::UnknownRegion {
                region: region.clone(),
                known: metadata.region_ids().join(", "),
            })?;
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

#[derive(Debug, thiserror::Error)]
pub enum ConnectionFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged ({detail}); run `toolhost connect` again to replace it")]
    Malformed { path: PathBuf, detail: String },
}

/// The on-disk form. The secret is only ever serialized here.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectionFile {
    region: String,
    client_id: String,
    client_secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    routes: Vec<(Origin, Origin)>,
}

pub fn connection_path(home: &Path) -> PathBuf {
    home.join(CONNECTION_FILE)
}

pub fn load(home: &Path) -> Result<Option<ConnectionSettings>, ConnectionFileError> {
    let path = connection_path(home);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ConnectionFileError::Read { path, source }),
    };
    let file: ConnectionFile =
        serde_json::from_str(&text).map_err(|err| ConnectionFileError::Malformed {
            path: path.clone(),
            detail: err.to_string(),
        })?;
    let mut routes = UpstreamRoutes::new();
    for (from, to) in file.routes {
        routes.insert(from, to);
    }
    Ok(Some(ConnectionSettings {
        region: file.region,
        client_id: file.client_id,
        client_secret: SecretString::new(file.client_secret),
        scopes: file.scopes,
        routes,
    }))
}

/// Writes atomically with mode 0600 from the first byte (the secret is never world-readable,
/// not even briefly).
pub fn save(home: &Path, settings: &ConnectionSettings) -> Result<PathBuf, ConnectionFileError> {
    let path = connection_path(home);
    let write_err = |source| ConnectionFileError::Write {
        path: path.clone(),
        source,
    };
    crate::runtime::compile_cache::create_private_dir(home).map_err(write_err)?;
    let file = ConnectionFile {
        region: settings.region.clone(),
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.expose().to_string(),
        scopes: settings.scopes.clone(),
        routes: settings
            .routes
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect(),
    };
    let text =
        serde_json::to_string_pretty(&file).map_err(|e| write_err(std::io::Error::other(e)))?;
    let tmp = path.with_extension("json.tmp");
    write_private(&tmp, text.as_bytes()).map_err(write_err)?;
    std::fs::rename(&tmp, &path).map_err(write_err)?;
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_home(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("toolhost-conn-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn round_trips_with_private_permissions() {
        let home = temp_home("roundtrip");
        let mut routes = UpstreamRoutes::new();
        routes.insert(
            Origin::parse("https://api.example.com").unwrap(),
            Origin::parse("http://127.0.0.1:9").unwrap(),
        );
        let settings = ConnectionSettings {
            region: "au".into(),
            client_id: "id".into(),
            client_secret: SecretString::new("s3cret-value"),
            scopes: None,
            routes,
        };
        let path = save(&home, &settings).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let loaded = load(&home).unwrap().unwrap();
        assert_eq!(loaded.client_secret.expose(), "s3cret-value");
        assert_eq!(loaded.routes, settings.routes);
        std::fs::remove_dir_all(&home).unwrap();
    }

    #[test]
    fn missing_file_is_not_an_error_and_garbage_is_named() {
        let home = temp_home("garbage");
        assert!(load(&home).unwrap().is_none());
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(connection_path(&home), "{not json").unwrap();
        let err = load(&home).unwrap_err().to_string();
        assert!(
            err.contains("connection.json") && err.contains("toolhost connect"),
            "{err}"
        );
        std::fs::remove_dir_all(&home).unwrap();
    }
}
