//! The schema: the SQL files of `crates/state/migrations/` (`NNNN_name.sql`, listed by the
//! build script), applied in order, each once, recorded in `toolhost_schema_migrations`.
//!
//! Replicas starting together on a fresh database serialise on one session-level advisory
//! lock: the first applies what is missing, the others then find it recorded. Each migration
//! runs in a transaction with its record, so a failed one leaves no trace and is tried again
//! on the next start.

use deadpool_postgres::Object;

/// What failed while migrating (the caller names the server in its error).
#[derive(Debug)]
pub(crate) enum MigrationFailure {
    /// A step around the migrations: the lock, the bookkeeping table.
    Step {
        what: &'static str,
        error: tokio_postgres::Error,
    },
    /// A migration's own SQL (or its record); its transaction was rolled back.
    Migration {
        version: u32,
        name: &'static str,
        error: tokio_postgres::Error,
    },
}

/// One SQL file.
pub(crate) struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order (generated from the directory by `build.rs`).
pub(crate) const MIGRATIONS: &[Migration] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The advisory lock key of migrations: fixed, so every replica takes the same lock
/// ("toolhost" in ASCII).
const LOCK_KEY: i64 = 0x746f_6f6c_686f_7374;

/// Applies every migration `client`'s database lacks, holding the migration lock meanwhile.
pub(crate) async fn apply(client: &mut Object) -> Result<(), MigrationFailure> {
    let step = |what| move |error| MigrationFailure::Step { what, error };
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(step("taking the migration lock"))?;
    let applied = apply_locked(client).await;
    // Released on every path; should the connection be broken instead, the server drops
    // the session and the lock with it.
    let released = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await
        .map_err(step("releasing the migration lock"));
    applied.and(released.map(|_| ()))
}

async fn apply_locked(client: &mut Object) -> Result<(), MigrationFailure> {
    let step = |what| move |error| MigrationFailure::Step { what, error };
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS toolhost_schema_migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .map_err(step("creating toolhost_schema_migrations"))?;
    let done: Vec<i32> = client
        .query("SELECT version FROM toolhost_schema_migrations", &[])
        .await
        .map_err(step("reading toolhost_schema_migrations"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    for migration in MIGRATIONS {
        let version = migration.version as i32;
        if done.contains(&version) {
            continue;
        }
        let failed = |error| MigrationFailure::Migration {
            version: migration.version,
            name: migration.name,
            error,
        };
        let tx = client.transaction().await.map_err(failed)?;
        tx.batch_execute(migration.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO toolhost_schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, &migration.name],
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied a state database migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_once() {
        assert!(!MIGRATIONS.is_empty());
        assert_eq!(MIGRATIONS[0].version, 1);
        assert_eq!(MIGRATIONS[0].name, "approvals_audit");
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].version < pair[1].version);
        }
        assert!(MIGRATIONS[0].sql.contains("CREATE TABLE approvals"));
    }
}
