//! Where the discovered half of the catalog is kept: `catalog.json` in the tenant's home (one
//! machine), or the tenant's row in the state database, which every replica serves (a
//! refresh on one is what all of them list and call).
//!
//! The catalog is a cache of what the tenant has: a store that cannot be read or written is
//! warned about and the host discovers (or serves its own copy) instead of failing calls.

use super::discovered::{self, CatalogKey, DiscoveredTools, StoredTool};
use crate::config::HostConfig;
use crate::state::StateBackend;
use std::path::PathBuf;
use std::time::Duration;
use toolhost_state::{CatalogRefresh, PgCatalogs, StoredCatalog};

/// How long a replica waits for another's refresh of the same catalog before discovering
/// without the turn: longer than a discovery takes, short enough to never hang a call.
const REFRESH_PATIENCE: Duration = Duration::from_secs(30);

/// A catalog as read from its store.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub catalog: DiscoveredTools,
    /// The shared row's revision (`None` for the home's file): changes with every refresh.
    pub revision: Option<i64>,
}

/// The discovered catalog's store.
pub(crate) enum CatalogStore {
    /// `catalog.json` in the tenant's home.
    Home(PathBuf),
    /// The tenant's rows in the state database.
    Shared(PgCatalogs),
}

impl CatalogStore {
    pub fn new(config: &HostConfig) -> CatalogStore {
        match &config.state {
            StateBackend::Embedded => CatalogStore::Home(config.home.clone()),
            StateBackend::Postgres { db, tenant, .. } => {
                CatalogStore::Shared(PgCatalogs::new(db.clone(), tenant.clone()))
            }
        }
    }

    /// The home whose file it is, if it is one.
    pub fn home(&self) -> Option<&std::path::Path> {
        match self {
            CatalogStore::Home(home) => Some(home),
            CatalogStore::Shared(_) => None,
        }
    }

    /// Whether replicas share it (so another may have refreshed it since it was read).
    pub fn is_shared(&self) -> bool {
        matches!(self, CatalogStore::Shared(_))
    }

    /// The stored catalog for `key`, if any (a damaged or unreachable one is absent).
    pub async fn load(&self, key: &CatalogKey) -> Option<Loaded> {
        match self {
            CatalogStore::Home(home) => {
                discovered::load(home)
                    .filter(|c| &c.key == key)
                    .map(|catalog| Loaded {
                        catalog,
                        revision: None,
                    })
            }
            CatalogStore::Shared(catalogs) => match catalogs.load(&shared_key(key)).await {
                Ok(stored) => stored.and_then(|s| loaded(key, s)),
                Err(err) => {
                    tracing::warn!("the shared tool catalog cannot be read ({err}); using this replica's copy or discovering");
                    None
                }
            },
        }
    }

    /// The turn to refresh `key`'s catalog: one replica at a time refreshes a shared
    /// catalog; a home's is refreshed by whoever asks.
    pub async fn refresh_turn(&self, key: &CatalogKey) -> RefreshTurn {
        match self {
            CatalogStore::Home(home) => RefreshTurn::Home(home.clone()),
            CatalogStore::Shared(catalogs) => {
                let turn = catalogs
                    .refresh_turn(&shared_key(key), REFRESH_PATIENCE)
                    .await;
                match turn {
                    Ok(Some(turn)) => RefreshTurn::Shared(key.clone(), Box::new(turn)),
                    Ok(None) => {
                        tracing::warn!(
                            "another replica has been refreshing the tool catalog for over {} s; discovering here too",
                            REFRESH_PATIENCE.as_secs()
                        );
                        RefreshTurn::Unlocked
                    }
                    Err(err) => {
                        tracing::warn!("the shared tool catalog's refresh lock cannot be taken ({err}); discovering here");
                        RefreshTurn::Unlocked
                    }
                }
            }
        }
    }
}

/// A refresh in progress: what it may read and where it saves.
pub(crate) enum RefreshTurn {
    Home(PathBuf),
    /// This replica's turn: the advisory lock is held until saved or dropped.
    Shared(CatalogKey, Box<CatalogRefresh>),
    /// The lock could not be had: the catalog is discovered regardless, and not saved.
    Unlocked,
}

impl RefreshTurn {
    /// The shared catalog as it stands now that this replica has the turn (another's
    /// refresh that ended meanwhile is here); `None` for a home, whose caller just read it.
    pub async fn current(&self) -> Option<Loaded> {
        let RefreshTurn::Shared(key, turn) = self else {
            return None;
        };
        match turn.current().await {
            Ok(stored) => stored.and_then(|s| loaded(key, s)),
            Err(err) => {
                tracing::warn!("the shared tool catalog cannot be read ({err}); discovering");
                None
            }
        }
    }

    /// Saves `catalog` (discovered from `discovered_at_ms` on) and ends the turn.
    pub async fn save(self, catalog: DiscoveredTools, discovered_at_ms: i64) -> Loaded {
        let mut saved = Loaded {
            catalog,
            revision: None,
        };
        let result = match self {
            RefreshTurn::Home(home) => {
                discovered::save(&home, &saved.catalog).map_err(|e| e.to_string())
            }
            RefreshTurn::Shared(_, turn) => match tools_json(&saved.catalog) {
                Ok(tools) => turn
                    .save(discovered_at_ms, &tools)
                    .await
                    .map(|row| saved.revision = Some(row.revision))
                    .map_err(|e| e.to_string()),
                Err(err) => Err(err),
            },
            // Another replica holds the turn (its refresh is saved when it ends) or the
            // database is unreachable: this replica serves what it discovered, unsaved.
            RefreshTurn::Unlocked => Err("this replica did not have the refresh turn".to_string()),
        };
        if let Err(err) = result {
            tracing::warn!("could not save the tool catalog: {err}");
        }
        saved
    }
}

fn shared_key(key: &CatalogKey) -> toolhost_state::CatalogKey {
    toolhost_state::CatalogKey {
        component_sha256: key.component_sha256.clone(),
        region: key.region.clone(),
        client_id: key.client_id.clone(),
    }
}

fn tools_json(catalog: &DiscoveredTools) -> Result<serde_json::Value, String> {
    serde_json::to_value(&catalog.tools).map_err(|e| e.to_string())
}

/// A shared row as the host's catalog; a row that does not read back as tools is ignored
/// (and rediscovered), as a damaged `catalog.json` is.
fn loaded(key: &CatalogKey, stored: StoredCatalog) -> Option<Loaded> {
    match serde_json::from_value::<Vec<StoredTool>>(stored.tools) {
        Ok(tools) => Some(Loaded {
            catalog: DiscoveredTools {
                key: key.clone(),
                refreshed_at: u64::try_from(stored.discovered_at_ms / 1000).unwrap_or(0),
                tools,
            },
            revision: Some(stored.revision),
        }),
        Err(err) => {
            tracing::warn!(
                "ignoring the damaged shared tool catalog ({err}); it will be rediscovered"
            );
            None
        }
    }
}
