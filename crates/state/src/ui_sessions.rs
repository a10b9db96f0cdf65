//! The admin UI's sign-ins in PostgreSQL (migration 0008), shared by every replica of a
//! tenant: a launch link printed by one replica signs in at any other (once), and the session
//! it starts is known to all of them until it expires or is ended.
//!
//! Nothing here can be replayed from the table: launch tokens and session ids are kept as
//! their SHA-256 only (the caller hashes them); the CSRF token is stored as it is, useless
//! without the session cookie it belongs to.

use crate::database::Database;
use crate::error::StateError;
use async_trait::async_trait;
use std::time::Duration;

/// What trading a launch token for a session came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchExchange {
    /// The token was unspent: it is spent now and the session is started.
    Started,
    /// The token was spent before (on this replica or another).
    AlreadyUsed,
    /// No replica of this tenant printed this token.
    Unknown,
}

/// Where the admin UI's launch tokens and sessions live: this database ([`PgUiSessions`]), or
/// a process's memory (the `toolhost` binary's embedded backend). Every argument is a SHA-256
/// of a launch token or session id, never the value.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Records a launch token this process prints, unspent.
    async fn add_launch_token(&self, token_sha256: &str) -> Result<(), StateError>;

    /// Spends an unspent launch token and starts session `id_sha256` (with `csrf`) for
    /// `lifetime`, both or neither.
    async fn exchange(
        &self,
        token_sha256: &str,
        id_sha256: &str,
        csrf: &str,
        lifetime: Duration,
    ) -> Result<LaunchExchange, StateError>;

    /// The CSRF token of the live session `id_sha256`.
    async fn find(&self, id_sha256: &str) -> Result<Option<String>, StateError>;

    /// Ends session `id_sha256`.
    async fn end(&self, id_sha256: &str) -> Result<(), StateError>;

    /// Forgets launch token `token_sha256` unless it was spent: its link stops working.
    async fn withdraw_launch_token(&self, token_sha256: &str) -> Result<(), StateError>;
}

/// The UI sessions and launch tokens of one tenant in the shared database.
#[derive(Clone)]
pub struct PgUiSessions {
    db: Database,
    tenant: String,
}

impl PgUiSessions {
    /// The sessions of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgUiSessions {
        PgUiSessions {
            db,
            tenant: tenant.into(),
        }
    }

    /// Where the sessions are, for the operator's messages.
    pub fn location(&self) -> String {
        format!(
            "the state database `{}` at {}, tenant `{}`",
            self.db.name(),
            self.db.at(),
            self.tenant
        )
    }
}

#[async_trait]
impl SessionStore for PgUiSessions {
    /// Records a launch token this replica prints (by its SHA-256), unspent.
    async fn add_launch_token(&self, token_sha256: &str) -> Result<(), StateError> {
        self.db
            .execute(
                "recording a UI launch token",
                "INSERT INTO ui_launch_tokens (tenant, token_sha256) VALUES ($1, $2) \
                 ON CONFLICT (tenant, token_sha256) DO NOTHING",
                &[&self.tenant, &token_sha256],
            )
            .await?;
        Ok(())
    }

    /// Spends the launch token hashing to `token_sha256` and, in the same statement, starts
    /// the session `id_sha256` for `lifetime`: of replicas racing with one token, one starts
    /// a session (the row lock decides).
    async fn exchange(
        &self,
        token_sha256: &str,
        id_sha256: &str,
        csrf: &str,
        lifetime: Duration,
    ) -> Result<LaunchExchange, StateError> {
        let db = &self.db;
        let seconds = lifetime.as_secs_f64();
        let row = db
            .within(async {
                let client = db.client().await?;
                // Expired sessions go whenever a new one starts.
                client
                    .execute(
                        "DELETE FROM ui_sessions WHERE tenant = $1 AND expires <= now()",
                        &[&self.tenant],
                    )
                    .await
                    .map_err(|e| db.failed("removing expired UI sessions", e))?;
                client
                    .query_one(
                        "WITH spent AS ( \
                           UPDATE ui_launch_tokens SET spent = now() \
                           WHERE tenant = $1 AND token_sha256 = $2 AND spent IS NULL \
                           RETURNING tenant), \
                         started AS ( \
                           INSERT INTO ui_sessions (tenant, id_sha256, csrf, expires) \
                           SELECT tenant, $3, $4, now() + make_interval(secs => $5) FROM spent \
                           RETURNING 1) \
                         SELECT EXISTS (SELECT 1 FROM started) AS started, \
                                EXISTS (SELECT 1 FROM ui_launch_tokens \
                                        WHERE tenant = $1 AND token_sha256 = $2) AS known",
                        &[&self.tenant, &token_sha256, &id_sha256, &csrf, &seconds],
                    )
                    .await
                    .map_err(|e| db.failed("starting a UI session", e))
            })
            .await?;
        Ok(match (row.get("started"), row.get("known")) {
            (true, _) => LaunchExchange::Started,
            (false, true) => LaunchExchange::AlreadyUsed,
            (false, false) => LaunchExchange::Unknown,
        })
    }

    /// The CSRF token of the live (unexpired, not ended) session `id_sha256`.
    async fn find(&self, id_sha256: &str) -> Result<Option<String>, StateError> {
        let row = self
            .db
            .query_opt(
                "reading a UI session",
                "SELECT csrf FROM ui_sessions \
                 WHERE tenant = $1 AND id_sha256 = $2 AND expires > now()",
                &[&self.tenant, &id_sha256],
            )
            .await?;
        Ok(row.map(|row| row.get("csrf")))
    }

    /// Forgets the launch token hashing to `token_sha256` unless it was spent (the replica
    /// that printed it is stopping).
    async fn withdraw_launch_token(&self, token_sha256: &str) -> Result<(), StateError> {
        self.db
            .execute(
                "withdrawing a UI launch token",
                "DELETE FROM ui_launch_tokens \
                 WHERE tenant = $1 AND token_sha256 = $2 AND spent IS NULL",
                &[&self.tenant, &token_sha256],
            )
            .await?;
        Ok(())
    }

    /// Ends the session `id_sha256` on every replica (its row is deleted).
    async fn end(&self, id_sha256: &str) -> Result<(), StateError> {
        self.db
            .execute(
                "ending a UI session",
                "DELETE FROM ui_sessions WHERE tenant = $1 AND id_sha256 = $2",
                &[&self.tenant, &id_sha256],
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;

    const HOUR: Duration = Duration::from_secs(3600);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_launch_token_starts_one_session_across_replicas() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let printing = PgUiSessions::new(db.clone(), "acme");
        printing.add_launch_token("t-sha").await.unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let replica = PgUiSessions::new(db.clone(), "acme");
                tokio::spawn(async move {
                    replica
                        .exchange("t-sha", &format!("s{i}"), "csrf", HOUR)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut started = 0;
        for task in tasks {
            match task.await.unwrap() {
                LaunchExchange::Started => started += 1,
                other => assert_eq!(other, LaunchExchange::AlreadyUsed),
            }
        }
        assert_eq!(started, 1);
        let other = PgUiSessions::new(db.clone(), "acme");
        let unknown = other.exchange("nope", "s9", "c", HOUR).await.unwrap();
        assert_eq!(unknown, LaunchExchange::Unknown);
        // Another tenant's replicas never printed it.
        let globex = PgUiSessions::new(db, "globex");
        let foreign = globex.exchange("t-sha", "s9", "c", HOUR).await.unwrap();
        assert_eq!(foreign, LaunchExchange::Unknown);
    }

    #[tokio::test]
    async fn a_session_is_seen_everywhere_until_it_ends_or_expires() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let a = PgUiSessions::new(db.clone(), "acme");
        let b = PgUiSessions::new(db.clone(), "acme");
        a.add_launch_token("t1").await.unwrap();
        a.add_launch_token("t2").await.unwrap();
        assert_eq!(
            a.exchange("t1", "s1", "c1", HOUR).await.unwrap(),
            LaunchExchange::Started
        );
        assert_eq!(b.find("s1").await.unwrap().as_deref(), Some("c1"));
        let globex = PgUiSessions::new(db.clone(), "globex");
        assert_eq!(globex.find("s1").await.unwrap(), None);
        b.end("s1").await.unwrap();
        assert_eq!(a.find("s1").await.unwrap(), None);
        // An expired session is not found, and the next sign-in removes its row.
        assert_eq!(
            a.exchange("t2", "s2", "c2", Duration::ZERO).await.unwrap(),
            LaunchExchange::Started
        );
        assert_eq!(b.find("s2").await.unwrap(), None);
        a.add_launch_token("t3").await.unwrap();
        a.exchange("t3", "s3", "c3", HOUR).await.unwrap();
        let rows: i64 = db
            .client()
            .await
            .unwrap()
            .query_one("SELECT count(*) FROM ui_sessions", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(rows, 1);
    }
}
