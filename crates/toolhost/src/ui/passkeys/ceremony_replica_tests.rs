//! The ceremonies and passkeys of two replicas sharing their stores, on both backends: what
//! one replica begins, the other finishes, once.

use super::*;
use toolhost_state::testing::fresh_database;

/// A replica's passkeys whose ceremonies live in `ceremonies`.
fn replica(home: &Path, ceremonies: Arc<dyn CeremonyStore>) -> Passkeys {
    Passkeys::with_stores(8080, Arc::new(FilePasskeys::new(home)), ceremonies).unwrap()
}

/// An enrolment begun at one replica is found (once) by the other: its forged
/// credential is checked against the state begun elsewhere, and then nothing is open.
async fn an_enrolment_begun_at_one_replica_is_finished_at_the_other(
    at_a: Arc<dyn CeremonyStore>,
    at_b: Arc<dyn CeremonyStore>,
) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (replica(dir.path(), at_a), replica(dir.path(), at_b));
    let options = a.start_registration("s", "maria").await.unwrap();
    assert!(options["publicKey"]["challenge"].is_string(), "{options}");
    let forged = serde_json::json!({
        "id": b64(b"cred"), "rawId": b64(b"cred"), "type": "public-key",
        "response": {"attestationObject": b64(b"x"), "clientDataJSON": b64(b"{}")},
        "extensions": {}});
    // Another session, or another approver, finds nothing to finish.
    let err = b
        .finish_registration("s2", "maria", forged.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, PasskeyError::NoRegistration), "{err}");
    let err = b
        .finish_registration("s", "maria", forged.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, PasskeyError::Registration(_)), "{err}");
    let err = a
        .finish_registration("s", "maria", forged)
        .await
        .unwrap_err();
    assert!(matches!(err, PasskeyError::NoRegistration), "{err}");
}

#[tokio::test]
async fn ceremonies_cross_replicas_in_memory_and_in_the_database() {
    // One process's memory is shared by its UIs only.
    let memory = Arc::new(MemoryCeremonies::default());
    an_enrolment_begun_at_one_replica_is_finished_at_the_other(memory.clone(), memory).await;
    let Some(db) = fresh_database().await else {
        return;
    };
    an_enrolment_begun_at_one_replica_is_finished_at_the_other(
        Arc::new(PgCeremonies::new(db.clone(), "acme")),
        Arc::new(PgCeremonies::new(db, "acme")),
    )
    .await;
}

#[tokio::test]
async fn a_homes_passkeys_file_is_imported_once_into_the_database() {
    let Some(db) = fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let handle = Uuid::new_v4();
    let file = serde_json::json!({"approvers": {"maria": {"userId": handle, "passkeys": []}}});
    std::fs::write(dir.path().join("passkeys.json"), file.to_string()).unwrap();
    let rows = || PgPasskeys::new(db.clone(), "acme");
    let store = DbPasskeys::open(rows(), dir.path()).await.unwrap();
    assert_eq!(store.of("maria").await.unwrap().user_id, handle);
    // The database's copy wins from then on: a changed file is not imported again.
    let other =
        serde_json::json!({"approvers": {"maria": {"userId": Uuid::new_v4(), "passkeys": []}}});
    std::fs::write(dir.path().join("passkeys.json"), other.to_string()).unwrap();
    let again = DbPasskeys::open(rows(), dir.path()).await.unwrap();
    assert_eq!(again.of("maria").await.unwrap().user_id, handle);
    // Another tenant has none; a damaged row is refused with the fix.
    let globex = DbPasskeys::open(
        PgPasskeys::new(db.clone(), "globex"),
        Path::new("/nonexistent"),
    )
    .await
    .unwrap();
    assert!(globex.of("maria").await.unwrap().passkeys.is_empty());
    db.client()
        .await
        .unwrap()
        .execute(
            "UPDATE ui_passkeys SET passkeys = '{\"not\": \"a list\"}'",
            &[],
        )
        .await
        .unwrap();
    let err = again.of("maria").await.unwrap_err();
    assert!(matches!(err, CredentialsError::DamagedRow { .. }), "{err}");
    assert!(err.to_string().contains("enrol again"), "{err}");
}
