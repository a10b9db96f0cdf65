//! [`PgCatalogs`] against a real PostgreSQL server (`TOOLHOST_TEST_DATABASE_URL`): rows kept
//! apart by tenant and key, revisions, and one refresh turn at a time. Two replicas serving
//! one catalog are tested end to end in tests/all/shared_catalog.rs.

use super::*;
use crate::testing::fresh_database;
use serde_json::json;

fn key(region: &str) -> CatalogKey {
    CatalogKey {
        component_sha256: "abc".into(),
        region: region.into(),
        client_id: "client".into(),
    }
}

const PATIENCE: Duration = Duration::from_secs(5);

#[tokio::test]
async fn saves_revisions_apart_by_tenant_and_key() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let acme = PgCatalogs::new(db.clone(), "acme");
    let globex = PgCatalogs::new(db.clone(), "globex");
    assert_eq!(acme.load(&key("au")).await.unwrap(), None);

    let tools = json!([{"name": "cw-rmm-script-a"}]);
    let turn = acme.refresh_turn(&key("au"), PATIENCE).await.unwrap();
    let saved = turn.unwrap().save(1_000, &tools).await.unwrap();
    assert_eq!(saved.revision, 1);
    assert_eq!(acme.load(&key("au")).await.unwrap(), Some(saved));

    let more = json!([{"name": "cw-rmm-script-a"}, {"name": "cw-rmm-script-b"}]);
    let turn = acme.refresh_turn(&key("au"), PATIENCE).await.unwrap();
    let saved = turn.unwrap().save(2_000, &more).await.unwrap();
    assert_eq!((saved.revision, saved.discovered_at_ms), (2, 2_000));
    assert_eq!(acme.load(&key("au")).await.unwrap().unwrap().tools, more);

    // Another tenant, and another connection of the same tenant, see nothing of it.
    assert_eq!(globex.load(&key("au")).await.unwrap(), None);
    assert_eq!(acme.load(&key("eu")).await.unwrap(), None);
}

#[tokio::test]
async fn one_refresh_turn_at_a_time_and_the_next_sees_what_it_saved() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let a = PgCatalogs::new(db.clone(), "acme");
    let b = PgCatalogs::new(db.clone(), "acme");
    let other_tenant = PgCatalogs::new(db.clone(), "globex");
    let first = a.refresh_turn(&key("au"), PATIENCE).await.unwrap().unwrap();
    // Held: the other replica waits out its patience; another tenant does not wait.
    let waited = b
        .refresh_turn(&key("au"), Duration::from_millis(150))
        .await
        .unwrap();
    assert!(waited.is_none(), "two refresh turns at once");
    assert!(other_tenant
        .refresh_turn(&key("au"), Duration::ZERO)
        .await
        .unwrap()
        .is_some());

    // The waiter gets its turn as soon as the holder saves, and reads what it saved.
    let waiter = tokio::spawn(async move { b.refresh_turn(&key("au"), PATIENCE).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tools = json!([{"name": "cw-rmm-script-new"}]);
    first.save(5_000, &tools).await.unwrap();
    let second = waiter
        .await
        .unwrap()
        .unwrap()
        .expect("the turn after a save");
    let current = second.current().await.unwrap().unwrap();
    assert_eq!((current.revision, current.tools), (1, tools));

    // A turn dropped without saving (a failed discovery, a cancelled call) lets go too.
    drop(second);
    assert!(a
        .refresh_turn(&key("au"), PATIENCE)
        .await
        .unwrap()
        .is_some());
}
