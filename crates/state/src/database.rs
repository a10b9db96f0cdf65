//! [`Database`]: the pooled connection to the state database every replica shares, checked and
//! migrated when it is opened.

use crate::database_tls::{split_ssl_mode, tls_problem, DatabaseTrust};
use crate::error::StateError;
use crate::migrations::MigrationFailure;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Longest a connection attempt may take before the server is reported unreachable.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);
/// Longest one operation (a pooled connection and its statements) may take: a lost server
/// otherwise leaves a call waiting on TCP for minutes.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);
/// Connections per replica: enough for its concurrent calls, few for the server.
const POOL_SIZE: usize = 16;

/// The state database: a pool of connections, migrated. Cheap to clone (clones share the
/// pool). Its `Debug` and its errors name the server and database, never the password.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    place: Arc<Place>,
}

/// Where the database is, as messages may say it.
#[derive(Debug)]
struct Place {
    at: String,
    database: String,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("at", &self.place.at)
            .field("database", &self.place.database)
            .finish()
    }
}

impl Database {
    /// Opens the pool for `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`), checks that
    /// the server answers, and applies the migrations it lacks (once, under an advisory lock,
    /// however many replicas start together). Fails at once, naming host:port and the
    /// database, when the server cannot be reached. A server's certificate, when the URL's
    /// `sslmode` checks it, must chain to the public web roots: see [`Database::connect_trusting`].
    pub async fn connect(url: &str) -> Result<Database, StateError> {
        Database::connect_trusting(url, &DatabaseTrust::public()).await
    }

    /// [`Database::connect`], a server's certificate checked against `trust` (under
    /// `sslmode=verify-ca` or `verify-full`, and `require` with a private CA, as libpq).
    pub async fn connect_trusting(
        url: &str,
        trust: &DatabaseTrust,
    ) -> Result<Database, StateError> {
        let (url, ssl_mode) = split_ssl_mode(url)?;
        let mut config =
            tokio_postgres::Config::from_str(&url).map_err(|e| StateError::InvalidUrl {
                reason: e.to_string(),
            })?;
        if config.get_hosts().is_empty() {
            return Err(StateError::InvalidUrl {
                reason: "it names no host".into(),
            });
        }
        config
            .ssl_mode(ssl_mode.driver())
            .application_name("toolhost")
            .connect_timeout(CONNECT_WITHIN)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30));
        let place = Arc::new(Place {
            at: describe_hosts(&config),
            database: config
                .get_dbname()
                .or(config.get_user())
                .unwrap_or("postgres")
                .to_string(),
        });
        let tls = trust
            .connector(ssl_mode)
            .map_err(|detail| StateError::Tls {
                at: place.at.clone(),
                database: place.database.clone(),
                detail,
            })?;
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(ANSWER_WITHIN))
            .create_timeout(Some(CONNECT_WITHIN))
            .recycle_timeout(Some(CONNECT_WITHIN))
            .build()
            .map_err(|e| StateError::InvalidUrl {
                reason: e.to_string(),
            })?;
        let db = Database { pool, place };
        db.within(async {
            let mut client = db.client().await?;
            client
                .simple_query("SELECT 1")
                .await
                .map_err(|e| db.failed("a first query", e))?;
            crate::migrations::apply(&mut client)
                .await
                .map_err(|failure| db.migration_error(failure))
        })
        .await?;
        Ok(db)
    }

    /// The pool, for the stores of this crate built on it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The server, `host:port`.
    pub fn at(&self) -> &str {
        &self.place.at
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.place.database
    }

    /// A pooled connection; a server that is gone is reported unreachable. After the server
    /// comes back, the next call gets a fresh connection (broken ones are not reused).
    pub async fn client(&self) -> Result<Object, StateError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => self.failed("a connection", e),
            PoolError::Timeout(_) => self.unreachable("no connection within the timeout"),
            other => self.unreachable(other),
        })
    }

    /// Runs `operation`, reporting the server unreachable when it takes longer than a
    /// statement ever should.
    pub async fn within<T>(
        &self,
        operation: impl Future<Output = Result<T, StateError>>,
    ) -> Result<T, StateError> {
        match tokio::time::timeout(ANSWER_WITHIN, operation).await {
            Ok(result) => result,
            Err(_) => {
                Err(self.unreachable(format!("no answer within {} s", ANSWER_WITHIN.as_secs())))
            }
        }
    }

    /// The rows `sql` returns for `params`, on a pooled connection within the answer timeout;
    /// `what` (e.g. "listing approvals") names the operation in an error.
    pub async fn query(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StateError> {
        self.run(
            what,
            |client| async move { client.query(sql, params).await },
        )
        .await
    }

    /// The one row `sql` returns for `params`, or none; more than one is an error. As
    /// [`Database::query`].
    pub async fn query_opt(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StateError> {
        self.run(
            what,
            |client| async move { client.query_opt(sql, params).await },
        )
        .await
    }

    /// The one row `sql` returns for `params`; none or more is an error. As
    /// [`Database::query`].
    pub async fn query_one(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, StateError> {
        self.run(
            what,
            |client| async move { client.query_one(sql, params).await },
        )
        .await
    }

    /// Runs `sql` for `params` and says how many rows it changed. As [`Database::query`].
    pub async fn execute(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StateError> {
        self.run(
            what,
            |client| async move { client.execute(sql, params).await },
        )
        .await
    }

    /// One statement on a pooled connection within the answer timeout, its error said as
    /// [`Database::failed`] says it.
    async fn run<T, Answer>(
        &self,
        what: &str,
        statement: impl FnOnce(Object) -> Answer,
    ) -> Result<T, StateError>
    where
        Answer: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        self.within(async {
            let client = self.client().await?;
            statement(client).await.map_err(|e| self.failed(what, e))
        })
        .await
    }

    /// The error for `err`, met while doing `what`: the server's own refusal, TLS that could
    /// not be had, or (for a broken or refused connection) unreachable.
    pub fn failed(&self, what: &str, err: tokio_postgres::Error) -> StateError {
        if let Some(db) = err.as_db_error() {
            return StateError::Query {
                at: self.place.at.clone(),
                database: self.place.database.clone(),
                what: what.to_string(),
                detail: db.message().to_string(),
            };
        }
        match tls_problem(&err) {
            Some(detail) => StateError::Tls {
                at: self.place.at.clone(),
                database: self.place.database.clone(),
                detail,
            },
            None => self.unreachable(error_chain(&err)),
        }
    }

    /// The server cannot be reached: `detail` says how.
    pub fn unreachable(&self, detail: impl fmt::Display) -> StateError {
        StateError::Unreachable {
            at: self.place.at.clone(),
            database: self.place.database.clone(),
            detail: detail.to_string(),
        }
    }

    /// A record that does not read back: `what` names it and why.
    pub(crate) fn corrupt(&self, what: impl fmt::Display) -> StateError {
        StateError::Corrupt {
            at: self.place.at.clone(),
            database: self.place.database.clone(),
            what: what.to_string(),
        }
    }

    /// The error for a failed migration: the server's refusal of a migration's SQL names
    /// the migration; a lost connection is unreachable.
    fn migration_error(&self, failure: MigrationFailure) -> StateError {
        match failure {
            MigrationFailure::Step { what, error } => self.failed(what, error),
            MigrationFailure::Migration {
                version,
                name,
                error,
            } => match error.as_db_error() {
                Some(server) => StateError::Migration {
                    at: self.place.at.clone(),
                    database: self.place.database.clone(),
                    version,
                    name: name.to_string(),
                    detail: server.message().to_string(),
                },
                None => self.failed("a migration", error),
            },
        }
    }
}

/// `host:port` of every host the URL names (a Unix socket by its directory).
fn describe_hosts(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(dir) => format!("{}:{port}", dir.display()),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An error and its causes, one sentence (the driver's top message alone can be as terse as
/// "error connecting to server").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unparsable_url_is_refused_without_repeating_it() {
        let err = Database::connect("postgres://u:s3cret@host:notaport/db")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StateError::InvalidUrl { .. }), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("TOOLHOST_DATABASE_URL"), "{text}");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_naming_the_server_not_the_password() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("postgres://toolhost:s3cret@127.0.0.1:{port}/toolhost_x");
        let err = Database::connect(&url).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StateError::Unreachable { .. }), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(text.contains("toolhost_x"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[tokio::test]
    async fn require_against_a_server_without_tls_names_the_fix() {
        // A server that answers the TLS request with "no", as PostgreSQL with ssl off does.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 8];
                if stream.read_exact(&mut request).await.is_ok() {
                    let _ = stream.write_all(b"N").await;
                }
            }
        });
        let url = format!("postgres://toolhost:s3cret@127.0.0.1:{port}/toolhost_x?sslmode=require");
        let err = Database::connect(&url).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StateError::Tls { .. }), "{text}");
        assert!(text.contains("does not offer TLS"), "{text}");
        assert!(text.contains("sslmode"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
