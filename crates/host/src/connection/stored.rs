//! Where a tenant's connection is saved: `connection.json` in its home ([`super::file`]), or
//! its row in the state database, the client secret sealed with the operator's key.

use super::file::{self as connection, ConnectionSettings};
use crate::config::HostConfig;
use crate::error::HostError;
use crate::state::StateBackend;
use toolhost_state::{PgConnections, StoredConnection};

/// The tenant's saved connection: `connection.json` in its home, or its row in the database
/// (the client secret opened with the operator's key).
pub(crate) async fn load_connection(
    config: &HostConfig,
) -> Result<Option<ConnectionSettings>, HostError> {
    match &config.state {
        StateBackend::Embedded => Ok(connection::load(&config.home)?),
        StateBackend::Postgres { db, tenant, key } => {
            let connections = PgConnections::new(db, key.clone());
            match connections.load(tenant).await? {
                Some(stored) => Ok(Some(connection::from_public_settings(
                    tenant,
                    stored.settings,
                    stored.client_secret,
                )?)),
                // Moving a home to the database: its connection is imported once, sealed;
                // from then on the database's row is the one every replica reads.
                None => match connection::load(&config.home)? {
                    None => Ok(None),
                    Some(settings) => {
                        let stored = StoredConnection {
                            settings: connection::public_settings(&settings),
                            client_secret: settings.client_secret.clone(),
                        };
                        connections.save(tenant, &stored).await?;
                        tracing::warn!(
                            "imported {} into the state database (tenant `{tenant}`, the secret \
                             sealed): the database's copy is used from now on; remove the file",
                            connection::connection_path(&config.home).display()
                        );
                        Ok(Some(settings))
                    }
                },
            }
        }
    }
}

/// Saves the tenant's connection where [`load_connection`] finds it; says where, for the
/// operator (a file path, or the database and tenant).
pub(crate) async fn save_connection(
    config: &HostConfig,
    settings: &ConnectionSettings,
) -> Result<String, HostError> {
    match &config.state {
        StateBackend::Embedded => Ok(connection::save(&config.home, settings)?
            .display()
            .to_string()),
        StateBackend::Postgres { db, tenant, key } => {
            let stored = StoredConnection {
                settings: connection::public_settings(settings),
                client_secret: settings.client_secret.clone(),
            };
            PgConnections::new(db, key.clone())
                .save(tenant, &stored)
                .await?;
            Ok(format!(
                "the state database `{}` at {} (tenant `{tenant}`, the secret sealed)",
                db.name(),
                db.at()
            ))
        }
    }
}
