//! A fresh database per test on the test server, for this crate's tests, the host's and the
//! end-to-end tests (the `testing` feature; never in a release build).
//!
//! The server comes from `TOOLHOST_TEST_DATABASE_URL` (`./dev.sh test` starts a throw-away
//! one and exports it). Without it a test that needs it is skipped with a note, except under
//! CI, where a missing server is a failure.

use crate::database::Database;
use crate::database_tls::{split_ssl_mode, DatabaseTrust};
use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the test server.
pub const TEST_DATABASE_URL: &str = "TOOLHOST_TEST_DATABASE_URL";

/// The variable naming the PEM file of the CA that signed the test server's certificate
/// (`./dev.sh test` makes one for the run).
pub const TEST_DATABASE_CA_FILE: &str = "TOOLHOST_TEST_DATABASE_CA_FILE";

/// The test server's URL, or `None` (with a note) when none is configured; panics in CI
/// rather than skip.
pub fn test_server_url() -> Option<String> {
    let url = std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{TEST_DATABASE_URL} is not set in CI: `./dev.sh test` starts a server"
        );
        eprintln!("SKIPPED the PostgreSQL part: {TEST_DATABASE_URL} is not set");
    }
    url
}

/// Runs `sql` on the database `url` names (creating, closing or dropping test databases),
/// outside any pool. Panics on failure: it is test set-up.
pub async fn run_sql(url: &str, sql: &str) {
    let (url, mode) = split_ssl_mode(url).expect("the test database URL");
    let tls = DatabaseTrust::public()
        .connector(mode)
        .expect("a TLS connector");
    let mut config: tokio_postgres::Config = url.parse().expect("the test database URL");
    config.ssl_mode(mode.driver());
    let (client, connection) = config
        .connect(tls)
        .await
        .unwrap_or_else(|e| panic!("the test database server ({TEST_DATABASE_URL}): {e}"));
    tokio::spawn(connection);
    client.batch_execute(sql).await.expect(sql);
}

/// `url` naming the database `name` on the same server (its parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let base = base.strip_suffix('/').unwrap_or(base);
    let server = base
        .rsplit_once('/')
        .filter(|(scheme, _)| !scheme.ends_with('/'))
        .map_or(base, |(server, _)| server);
    format!("{server}/{name}{query}")
}

/// The URL of a new, empty database on the test server (unique to this call), or `None`
/// (with a note) when no server is configured.
pub async fn fresh_database_url() -> Option<String> {
    let url = test_server_url()?;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "toolhost_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    run_sql(&url, &format!("CREATE DATABASE {name}")).await;
    Some(with_database(&url, &name))
}

/// A new database on the test server, connected and migrated as a host migrates it, or
/// `None` (with a note) when no server is configured.
pub async fn fresh_database() -> Option<Database> {
    let url = fresh_database_url().await?;
    Some(
        Database::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("the fresh test database: {e}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_and_the_parameters_kept() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432", "t1"),
            "postgres://u@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://h/db/", "t1"), "postgres://h/t1");
    }
}
