//! [`PgTokens`] against a real PostgreSQL server (`TOOLHOST_TEST_DATABASE_URL`).

use super::*;
use crate::testing::{fresh_database, run_sql, test_server_url};

const HOUR: Duration = Duration::from_secs(3600);
const WAIT: Duration = Duration::from_secs(5);

fn binding(secret: &str) -> TokenBinding {
    TokenBinding::new(
        "https://api.example.com/v1/token",
        "http://127.0.0.1:9",
        "client",
        &["a".to_string()],
        &SecretString::new(secret),
    )
}

fn token(value: &str) -> SharedToken {
    SharedToken {
        token: Some(StoredToken {
            value: SecretString::new(value),
            refresh_at: SystemTime::now() + HOUR,
            unproven_until: None,
        }),
        locked_until: None,
    }
}

fn key(byte: u8) -> SealingKey {
    SealingKey::from_bytes([byte; 32])
}

fn store(db: &Database, tenant: &str) -> TokenStore {
    PgTokens::new(db.clone(), tenant)
        .sealed_with(key(7))
        .into_store()
}

async fn read(store: &TokenStore, binding: &TokenBinding) -> Result<SharedToken, StoreError> {
    store.lock(binding, WAIT).await?.read().await
}

/// Every stored row as text, to look for what must not be there.
async fn rows(db: &Database) -> Vec<String> {
    db.client()
        .await
        .unwrap()
        .query(
            "SELECT row_to_json(access_tokens)::text FROM access_tokens",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_second_replica_waits_for_the_first_and_reads_its_token() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let (first, second) = (store(&db, "acme"), store(&db, "acme"));
    let mine = binding("s");
    let mut held = first.lock(&mine, WAIT).await.unwrap();
    assert!(held.read().await.unwrap().token.is_none());

    // While the first holds the lock (minting), the second cannot take it...
    let started = Instant::now();
    let busy = second
        .lock(&mine, Duration::from_millis(150))
        .await
        .err()
        .expect("the lock is held");
    assert!(matches!(busy, StoreError::Busy { .. }), "{busy}");
    assert!(busy.to_string().contains("`acme`"), "{busy}");
    assert!(started.elapsed() >= Duration::from_millis(150));

    // ...and one that waits gets it as soon as the first has written, and reads its token.
    let waiter = tokio::spawn(async move {
        let started = Instant::now();
        let mut guard = second.lock(&binding("s"), WAIT).await.unwrap();
        (started.elapsed(), guard.read().await.unwrap())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    held.write(&token("minted-once")).await.unwrap();
    let (waited, record) = waiter.await.unwrap();
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    let stored = record.usable(SystemTime::now()).expect("the first's token");
    assert_eq!(stored.value.expose(), "minted-once");
    drop(held);

    // The writer may use its guard again: it takes the lock again first.
    let mut again = first.lock(&mine, WAIT).await.unwrap();
    again.write(&token("second")).await.unwrap();
    again.write(&token("third")).await.unwrap();
    assert_eq!(
        again.read().await.unwrap().token.unwrap().value.expose(),
        "third"
    );
}

#[tokio::test]
async fn tenants_never_share_a_record_or_a_lock() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let (acme, globex) = (store(&db, "acme"), store(&db, "globex"));
    // The same connection (same binding) in two tenants.
    let same = binding("s");
    let mut held = acme.lock(&same, WAIT).await.unwrap();
    held.write(&token("acme-token")).await.unwrap();
    let _still_held = acme.lock(&binding("other"), WAIT).await.unwrap();
    // globex locks its own record at once, and finds nothing of acme's.
    let mut theirs = globex
        .lock(&same, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(theirs.read().await.unwrap().token.is_none());
    theirs.write(&token("globex-token")).await.unwrap();
    drop(theirs);
    assert_eq!(
        read(&acme, &same)
            .await
            .unwrap()
            .token
            .unwrap()
            .value
            .expose(),
        "acme-token"
    );
    assert_eq!(
        read(&globex, &same)
            .await
            .unwrap()
            .token
            .unwrap()
            .value
            .expose(),
        "globex-token"
    );
    // A sealed token copied into the other tenant's row does not open there.
    let client = db.client().await.unwrap();
    client
        .execute(
            "UPDATE access_tokens SET access_token = (SELECT access_token FROM access_tokens WHERE tenant = 'acme') \
             WHERE tenant = 'globex'",
            &[],
        )
        .await
        .unwrap();
    let err = read(&globex, &same).await.unwrap_err();
    assert!(err.to_string().contains("does not open"), "{err}");
    assert!(!err.to_string().contains("acme-token"), "{err}");
}

#[tokio::test]
async fn the_token_is_sealed_at_rest_and_needs_the_key() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let sealed = store(&db, "acme");
    let mine = binding("client-secret");
    let mut guard = sealed.lock(&mine, WAIT).await.unwrap();
    guard.write(&token("bearer-value-1")).await.unwrap();
    drop(guard);
    let stored = rows(&db).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains("bearer-value-1"), "{stored:?}");
    let hex_token = hex::encode(b"bearer-value-1");
    assert!(!stored[0].contains(&hex_token), "{stored:?}");
    assert!(!stored[0].contains("client-secret"), "{stored:?}");
    assert!(stored[0].contains(&mine.key()), "{stored:?}");
    assert!(stored[0].contains(r#""sealed":true"#), "{stored:?}");

    // Another key, or none: a clear error, never the token, and nothing minted past it.
    for other in [
        PgTokens::new(db.clone(), "acme").sealed_with(key(8)),
        PgTokens::new(db.clone(), "acme"),
    ] {
        let err = read(&other.into_store(), &mine).await.unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::Backend { .. }), "{text}");
        assert!(text.contains("state key"), "{text}");
        assert!(text.contains("`acme`"), "{text}");
        assert!(!text.contains("bearer-value-1"), "{text}");
    }
}

#[tokio::test]
async fn a_lock_out_and_dead_records_are_kept_as_in_the_token_file() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let store = store(&db, "acme");
    let (old, locked, mine) = (binding("old"), binding("locked"), binding("mine"));
    let until = SystemTime::now() + HOUR;
    let lock_out = SharedToken {
        token: None,
        locked_until: Some(until),
    };
    store
        .lock(&locked, WAIT)
        .await
        .unwrap()
        .write(&lock_out)
        .await
        .unwrap();
    let mut expired = token("expired");
    expired.token.as_mut().unwrap().refresh_at = SystemTime::now();
    store
        .lock(&old, WAIT)
        .await
        .unwrap()
        .write(&expired)
        .await
        .unwrap();
    assert_eq!(rows(&db).await.len(), 1, "a dead record is not written");

    let read_back = read(&store, &locked).await.unwrap();
    assert_eq!(to_ms(read_back.locked_until.unwrap()), to_ms(until));
    assert!(read_back.token.is_none());

    // A token refused with a 401 leaves no copy of itself.
    store
        .lock(&mine, WAIT)
        .await
        .unwrap()
        .write(&token("dead"))
        .await
        .unwrap();
    assert_eq!(rows(&db).await.len(), 2);
    let mut guard = store.lock(&mine, WAIT).await.unwrap();
    guard.write(&SharedToken::default()).await.unwrap();
    drop(guard);
    assert_eq!(rows(&db).await.len(), 1);
    assert!(read(&store, &locked).await.unwrap().locked_until.is_some());

    // Once a lock-out has passed, the next write of any binding of the tenant sweeps it.
    let brief = SharedToken {
        token: None,
        locked_until: Some(SystemTime::now() + Duration::from_millis(100)),
    };
    store
        .lock(&locked, WAIT)
        .await
        .unwrap()
        .write(&brief)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    store
        .lock(&mine, WAIT)
        .await
        .unwrap()
        .write(&token("live"))
        .await
        .unwrap();
    let left = rows(&db).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains(&mine.key()), "{left:?}");
}

#[tokio::test]
async fn a_guard_dropped_without_a_write_lets_go() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let store = store(&db, "acme");
    let mine = binding("s");
    for _ in 0..20 {
        // Read only, or cancelled mid-way: the transaction is rolled back, the lock freed,
        // and the connection goes back to the pool clean (no transaction left open).
        let mut guard = store.lock(&mine, WAIT).await.unwrap();
        guard.read().await.unwrap();
        drop(guard);
    }
    let mut guard = store
        .lock(&mine, Duration::from_secs(2))
        .await
        .expect("the lock was let go");
    guard.write(&token("t")).await.unwrap();
    let open: i64 = db
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(open, 0, "a pooled connection was left inside a transaction");
}

#[tokio::test]
async fn a_lost_database_fails_clearly_and_the_store_recovers_when_it_returns() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let url = test_server_url().unwrap();
    let store = store(&db, "acme");
    let mine = binding("secret-1");
    store
        .lock(&mine, WAIT)
        .await
        .unwrap()
        .write(&token("bearer-1"))
        .await
        .unwrap();

    // The database goes away: new connections are refused and the pooled ones are cut.
    let name = db.name().to_string();
    run_sql(
        &url,
        &format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ),
    )
    .await;
    let err = read(&store, &mine).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Backend { .. }), "{text}");
    assert!(text.contains("tenant `acme`"), "{text}");
    assert!(text.contains(&name), "{text}");
    assert!(
        !text.contains("secret-1") && !text.contains("bearer-1"),
        "{text}"
    );

    // It returns: the next lock gets a fresh connection and the token is still there.
    run_sql(
        &url,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
    )
    .await;
    let record = read(&store, &mine).await.expect("the store recovered");
    assert_eq!(record.token.unwrap().value.expose(), "bearer-1");
}
