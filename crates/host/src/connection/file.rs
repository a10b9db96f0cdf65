//! The saved connection to a tenant: region, client id, secret, scopes and upstream routes,
//! kept in a 0600 file in the toolhost home directory.

use std::path::{Path, PathBuf};
use toolhost_base::{create_private_dir, write_private, SecretString};
use toolhost_sandbox::{Origin, UpstreamRoutes};

const CONNECTION_FILE: &str = "connection.json";

/// A tenant connection as saved: what every call of this home uses.
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// The plugin's region id (`au`, `na`, `eu`).
    pub region: String,
    /// The API client id.
    pub client_id: String,
    /// The API client secret: only ever sent to the token endpoint.
    pub client_secret: SecretString,
    /// Scopes to request; `None` requests the plugin's default scopes.
    pub scopes: Option<Vec<String>>,
    /// Where to actually send the traffic of an allowed origin (the simulator, a proxy).
    pub routes: UpstreamRoutes,
}

impl ConnectionSettings {
    /// Whether `other` is the same connection: same region, client id, secret, scopes and
    /// routes (so a token minted for one is a token of the other).
    pub fn same_as(&self, other: &ConnectionSettings) -> bool {
        self.region == other.region
            && self.client_id == other.client_id
            && self.client_secret.expose() == other.client_secret.expose()
            && self.scopes == other.scopes
            && self.routes == other.routes
    }
}

/// The connection file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionFileError {
    /// It exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The connection file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The connection file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not a connection file of this version.
    #[error("{} is damaged ({detail}); run `toolhost connect` again to replace it", path.display())]
    Malformed {
        /// The connection file.
        path: PathBuf,
        /// What the parser said.
        detail: String,
    },
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

/// What a shared state database keeps of a connection besides its sealed secret: the
/// connection file's fields without `clientSecret` (see `toolhost_state::PgConnections`).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PublicSettings {
    region: String,
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    routes: Vec<(Origin, Origin)>,
}

/// `settings` without the secret, as the state database stores them.
pub(crate) fn public_settings(settings: &ConnectionSettings) -> serde_json::Value {
    let public = PublicSettings {
        region: settings.region.clone(),
        client_id: settings.client_id.clone(),
        scopes: settings.scopes.clone(),
        routes: settings
            .routes
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect(),
    };
    serde_json::to_value(public).unwrap_or(serde_json::Value::Null)
}

/// The settings the state database stored for `tenant`, with their opened secret.
pub(crate) fn from_public_settings(
    tenant: &str,
    value: serde_json::Value,
    client_secret: SecretString,
) -> Result<ConnectionSettings, ConnectionFileError> {
    let public: PublicSettings =
        serde_json::from_value(value).map_err(|err| ConnectionFileError::Malformed {
            path: PathBuf::from(format!(
                "the state database's connection of tenant `{tenant}`"
            )),
            detail: err.to_string(),
        })?;
    let mut routes = UpstreamRoutes::new();
    for (from, to) in public.routes {
        routes.insert(from, to);
    }
    Ok(ConnectionSettings {
        region: public.region,
        client_id: public.client_id,
        client_secret,
        scopes: public.scopes,
        routes,
    })
}

/// Where the connection of a home directory is saved.
pub fn connection_path(home: &Path) -> PathBuf {
    home.join(CONNECTION_FILE)
}

/// The saved connection, if any.
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
    create_private_dir(home).map_err(write_err)?;
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
    write_private(&path, text.as_bytes()).map_err(write_err)?;
    Ok(path)
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
