//! Approvers' passkeys and the passkey ceremonies under way, in PostgreSQL (migration 0008),
//! shared by every replica of a tenant: a passkey enrolled through one replica signs approvals
//! on all, and a ceremony begun on one replica finishes on whichever the next request reaches.
//!
//! This crate does not know WebAuthn: it keeps the documents the UI hands it (webauthn-rs'
//! own serialisations, all public material: no secret leaves an authenticator) and gives
//! them back, with the locking and take-once rules replicas need.

use crate::database::Database;
use crate::error::StateError;
use serde_json::Value;
use std::time::Duration;

/// One approver's passkeys as stored: the WebAuthn user handle and the credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPasskeys {
    /// The user handle (a UUID, as text).
    pub user_id: String,
    /// The enrolled credentials, as the UI serialised them.
    pub passkeys: Value,
}

/// The enrolled passkeys of one tenant in the shared database.
#[derive(Clone)]
pub struct PgPasskeys {
    db: Database,
    tenant: String,
}

impl PgPasskeys {
    /// The passkeys of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgPasskeys {
        PgPasskeys {
            db,
            tenant: tenant.into(),
        }
    }

    /// Where the passkeys are, for the operator's messages.
    pub fn location(&self) -> String {
        format!(
            "the state database `{}` at {}, tenant `{}`",
            self.db.name(),
            self.db.at(),
            self.tenant
        )
    }

    /// `approver`'s passkeys, `None` before the first enrolment.
    pub async fn get(&self, approver: &str) -> Result<Option<StoredPasskeys>, StateError> {
        let row = self
            .db
            .query_opt(
                "reading passkeys",
                "SELECT user_id, passkeys FROM ui_passkeys \
                 WHERE tenant = $1 AND approver = $2",
                &[&self.tenant, &approver],
            )
            .await?;
        Ok(row.map(|row| StoredPasskeys {
            user_id: row.get("user_id"),
            passkeys: row.get("passkeys"),
        }))
    }

    /// Changes `approver`'s passkeys with `change` (given what is stored, returning what to
    /// store and an answer), holding a lock on the approver so that two replicas changing
    /// them at once (an enrolment, a counter written back) do not lose either change.
    pub async fn change<T, E>(
        &self,
        approver: &str,
        change: impl FnOnce(Option<StoredPasskeys>) -> Result<(StoredPasskeys, T), E> + Send,
    ) -> Result<T, E>
    where
        T: Send,
        E: From<StateError> + Send,
    {
        let db = &self.db;
        let failed = |what| move |e| db.failed(what, e);
        let lock = format!("ui_passkeys/{}/{approver}", self.tenant);
        let outcome = db
            .within(async {
                let mut client = db.client().await?;
                let tx = client
                    .transaction()
                    .await
                    .map_err(failed("opening a passkeys transaction"))?;
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    &[&lock],
                )
                .await
                .map_err(failed("locking an approver's passkeys"))?;
                let rows = tx
                    .query(
                        "SELECT user_id, passkeys FROM ui_passkeys \
                         WHERE tenant = $1 AND approver = $2",
                        &[&self.tenant, &approver],
                    )
                    .await
                    .map_err(failed("reading passkeys"))?;
                let stored = rows.first().map(|row| StoredPasskeys {
                    user_id: row.get("user_id"),
                    passkeys: row.get("passkeys"),
                });
                // A refused change rolls back (the transaction is dropped unused).
                let (new, answer) = match change(stored) {
                    Ok(changed) => changed,
                    Err(refused) => return Ok(Err(refused)),
                };
                tx.execute(
                    "INSERT INTO ui_passkeys (tenant, approver, user_id, passkeys) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, approver) DO UPDATE \
                     SET user_id = excluded.user_id, passkeys = excluded.passkeys, \
                         updated = now()",
                    &[&self.tenant, &approver, &new.user_id, &new.passkeys],
                )
                .await
                .map_err(failed("storing passkeys"))?;
                tx.commit().await.map_err(failed("committing passkeys"))?;
                Ok(Ok(answer))
            })
            .await;
        outcome.map_err(E::from)?
    }

    /// Stores `passkeys` for `approver` unless the database has theirs already: `true` when
    /// stored (moving a home's `passkeys.json` to the database imports each approver once).
    pub async fn import(
        &self,
        approver: &str,
        passkeys: &StoredPasskeys,
    ) -> Result<bool, StateError> {
        let inserted = self
            .db
            .execute(
                "importing passkeys",
                "INSERT INTO ui_passkeys (tenant, approver, user_id, passkeys) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, approver) DO NOTHING",
                &[
                    &self.tenant,
                    &approver,
                    &passkeys.user_id,
                    &passkeys.passkeys,
                ],
            )
            .await?;
        Ok(inserted == 1)
    }
}

/// The passkey ceremonies under way for one tenant in the shared database: an enrolment (by
/// the session's hash) or an approval challenge (by approval id), each taken exactly once.
#[derive(Clone)]
pub struct PgCeremonies {
    db: Database,
    tenant: String,
}

impl PgCeremonies {
    /// The ceremonies of `tenant` (an already checked tenant name) in `db`.
    pub fn new(db: Database, tenant: impl Into<String>) -> PgCeremonies {
        PgCeremonies {
            db,
            tenant: tenant.into(),
        }
    }

    /// Keeps `state` as the open ceremony `kind`/`key`, replacing an earlier one (which is
    /// void from now on); ceremonies of `kind` older than `ttl` are removed meanwhile.
    pub async fn put(
        &self,
        kind: &str,
        key: &str,
        state: &Value,
        ttl: Duration,
    ) -> Result<(), StateError> {
        let db = &self.db;
        let seconds = ttl.as_secs_f64();
        db.within(async {
            let client = db.client().await?;
            client
                .execute(
                    "DELETE FROM ui_ceremonies WHERE tenant = $1 AND kind = $2 \
                     AND issued <= now() - make_interval(secs => $3)",
                    &[&self.tenant, &kind, &seconds],
                )
                .await
                .map_err(|e| db.failed("removing expired passkey ceremonies", e))?;
            client
                .execute(
                    "INSERT INTO ui_ceremonies (tenant, kind, key, state) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant, kind, key) DO UPDATE \
                     SET state = excluded.state, issued = now()",
                    &[&self.tenant, &kind, &key, state],
                )
                .await
                .map_err(|e| db.failed("opening a passkey ceremony", e))
        })
        .await?;
        Ok(())
    }

    /// Takes out (and so closes) the ceremony `kind`/`key`: its state and its age on the
    /// server's clock, or `None` when none is open. Of replicas racing for one ceremony, one
    /// gets it (the DELETE decides).
    pub async fn take(
        &self,
        kind: &str,
        key: &str,
    ) -> Result<Option<(Value, Duration)>, StateError> {
        let row = self
            .db
            .query_opt(
                "taking a passkey ceremony",
                "DELETE FROM ui_ceremonies WHERE tenant = $1 AND kind = $2 AND key = $3 \
                 RETURNING state, \
                 greatest(extract(epoch FROM now() - issued), 0)::float8 AS age",
                &[&self.tenant, &kind, &key],
            )
            .await?;
        Ok(row.map(|row| {
            let age: f64 = row.get("age");
            (row.get("state"), Duration::from_secs_f64(age))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;
    use serde_json::json;

    fn doc(user: &str, keys: Value) -> StoredPasskeys {
        StoredPasskeys {
            user_id: user.to_string(),
            passkeys: keys,
        }
    }

    /// Appends `key` to the approver's list (the user handle kept once chosen).
    async fn enrol(store: &PgPasskeys, approver: &str, key: Value) -> usize {
        store
            .change(approver, |stored| {
                let mut stored = stored.unwrap_or_else(|| doc("u-new", json!([])));
                let list = stored.passkeys.as_array_mut().unwrap();
                list.push(key);
                let count = list.len();
                Ok::<_, StateError>((stored, count))
            })
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn passkey_changes_from_racing_replicas_are_all_kept() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let replica = PgPasskeys::new(db.clone(), "acme");
                tokio::spawn(async move { enrol(&replica, "maria", json!({"k": i})).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let other = PgPasskeys::new(db.clone(), "acme");
        let stored = other.get("maria").await.unwrap().unwrap();
        assert_eq!(stored.user_id, "u-new");
        assert_eq!(stored.passkeys.as_array().unwrap().len(), 8);
        assert_eq!(
            PgPasskeys::new(db.clone(), "globex")
                .get("maria")
                .await
                .unwrap(),
            None
        );
        // A refused change stores nothing.
        let refused: Result<(), StateError> = other
            .change("maria", |_| Err(db.unreachable("refused by the test")))
            .await;
        assert!(refused.is_err());
        assert_eq!(other.get("maria").await.unwrap().unwrap(), stored);
        // Importing never overwrites what the database has.
        assert!(!other
            .import("maria", &doc("u-file", json!([])))
            .await
            .unwrap());
        assert!(other
            .import("jo", &doc("u-file", json!([1])))
            .await
            .unwrap());
        assert_eq!(other.get("jo").await.unwrap().unwrap().user_id, "u-file");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_ceremony_is_taken_once_by_one_replica_with_its_age() {
        let Some(db) = fresh_database().await else {
            return;
        };
        let ttl = Duration::from_secs(300);
        let a = PgCeremonies::new(db.clone(), "acme");
        a.put("approval", "ap1", &json!({"n": 1}), ttl)
            .await
            .unwrap();
        // A newer ceremony replaces the older one.
        a.put("approval", "ap1", &json!({"n": 2}), ttl)
            .await
            .unwrap();
        assert_eq!(
            PgCeremonies::new(db.clone(), "globex")
                .take("approval", "ap1")
                .await
                .unwrap(),
            None
        );
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let replica = PgCeremonies::new(db.clone(), "acme");
                tokio::spawn(async move { replica.take("approval", "ap1").await.unwrap() })
            })
            .collect();
        let mut taken = Vec::new();
        for task in tasks {
            taken.extend(task.await.unwrap());
        }
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].0, json!({"n": 2}));
        assert!(taken[0].1 < ttl);
        // Kinds are apart; an expired one is pruned by the next put of its kind.
        a.put("registration", "ap1", &json!(1), ttl).await.unwrap();
        assert_eq!(a.take("approval", "ap1").await.unwrap(), None);
        a.put("approval", "old", &json!(1), ttl).await.unwrap();
        a.put("approval", "new", &json!(1), Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(a.take("approval", "old").await.unwrap(), None);
        assert!(a.take("registration", "ap1").await.unwrap().is_some());
    }
}
