//! Replicas of one tenant on one state database, deployed as an operator deploys them: each
//! with a home of its own holding only the saved connection and grant (copied from a home
//! that connected once), its shared state (token, catalog, approvals, audit) in the database.

use crate::postgres::{fresh_database, test_state_key};
use crate::{host_config, open_host, plugin_wasm, TempDir};
use std::path::Path;
use toolhost_host::{StateBackend, TenantName, ToolHost};
use toolhost_sandbox::{TOKEN_FILE, TOKEN_LOCK_FILE};
use toolhost_state::Database;

/// A fresh, migrated database, or `None` when no test server is configured (see
/// [`fresh_database`]).
pub async fn database() -> Option<Database> {
    let url = fresh_database().await?;
    Some(
        Database::connect(&url)
            .await
            .expect("connecting to the test database"),
    )
}

/// A replica of `tenant`: its own home with `connected`'s connection, its shared state in
/// `db`. The home is the caller's to keep for as long as the replica runs.
pub async fn replica(connected: &Path, db: &Database, tenant: &str) -> (ToolHost, TempDir) {
    let home = TempDir::new("replica");
    copy_home(connected, home.path());
    let mut config = host_config(home.path(), &plugin_wasm());
    config.tenant = TenantName::parse(tenant).unwrap();
    config.state = StateBackend::Postgres {
        db: db.clone(),
        tenant: tenant.to_string(),
        key: test_state_key(),
    };
    (open_host(config).await, home)
}

/// Copies `from` into `to`, less the home's token file and lock (a replica's token is in
/// the database) and the compile cache.
fn copy_home(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [TOKEN_FILE, TOKEN_LOCK_FILE, "cache"].contains(&name.to_str().unwrap_or_default()) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_home(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
