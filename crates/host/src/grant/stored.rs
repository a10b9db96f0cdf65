//! Where a tenant's grant is kept: `grant.json` in its home ([`super::file`]), or its row in
//! the state database, which every replica (and a command run elsewhere on the same database)
//! checks its component against.

use super::file;
use super::model::Grant;
use crate::config::HostConfig;
use crate::state::StateBackend;
use toolhost_state::PgGrants;

/// The recorded grant; `Ok(None)` when there is none, an error saying where when it is
/// unreadable or damaged (never read as "no grant needed").
pub(crate) async fn load(config: &HostConfig) -> Result<Option<Grant>, String> {
    match &config.state {
        StateBackend::Embedded => file::load(&config.home),
        StateBackend::Postgres { db, tenant, .. } => {
            let stored = PgGrants::new(db.clone(), tenant.clone())
                .load()
                .await
                .map_err(|e| e.to_string())?;
            match stored {
                None => import(config).await,
                Some(value) => serde_json::from_value(value).map(Some).map_err(|e| {
                    format!("tenant `{tenant}`'s grant in the state database is damaged ({e})")
                }),
            }
        }
    }
}

/// Records `grant` where [`load`] finds it.
pub(crate) async fn save(config: &HostConfig, grant: &Grant) -> Result<(), String> {
    match &config.state {
        StateBackend::Embedded => file::save(&config.home, grant)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        StateBackend::Postgres { db, tenant, .. } => {
            let value = serde_json::to_value(grant).map_err(|e| e.to_string())?;
            PgGrants::new(db.clone(), tenant.clone())
                .save(&value)
                .await
                .map_err(|e| e.to_string())
        }
    }
}

/// A home moving to the database brings its grant along, once, as it brings its connection
/// (`connection::load_connection`).
async fn import(config: &HostConfig) -> Result<Option<Grant>, String> {
    let Some(grant) = file::load(&config.home)? else {
        return Ok(None);
    };
    save(config, &grant).await?;
    tracing::warn!(
        "imported {} into the state database: the database's copy is used from now on",
        file::grant_path(&config.home).display()
    );
    Ok(Some(grant))
}
