//! TLS to the state database against a real PostgreSQL with `ssl = on` (`./dev.sh test` makes
//! a throw-away CA and server certificate for 127.0.0.1 and exports
//! `TOOLHOST_TEST_DATABASE_CA_FILE`): `verify-full` with that CA is really TLS, without it is
//! a clear error naming the fix, `disable` is still plain, and a bad `sslmode` is refused
//! naming the field. Skipped, with the reason printed, without a server or its CA.

use e2e::postgres::{fresh_database, TEST_DATABASE_CA_FILE};
use std::path::PathBuf;
use toolhost_state::{Database, DatabaseTrust, StateError, DATABASE_CA_FILE_ENV};

/// A fresh database's URL and the test server's CA, or `None` (with the reason) when the run
/// has no TLS test server.
async fn tls_database() -> Option<(String, PathBuf)> {
    let Some(ca) = std::env::var_os(TEST_DATABASE_CA_FILE).filter(|v| !v.is_empty()) else {
        eprintln!(
            "SKIPPED: {TEST_DATABASE_CA_FILE} is not set (`./dev.sh test` starts a TLS server)"
        );
        return None;
    };
    Some((fresh_database().await?, PathBuf::from(ca)))
}

/// `url` with `sslmode=mode` (its other parameters kept).
fn with_ssl_mode(url: &str, mode: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}sslmode={mode}")
}

/// `url` with a password (the test server trusts loopback, so any is accepted): the errors
/// must never repeat it.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (user, server) = rest.split_once('@').expect("the URL names a user");
    let user = user.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{server}")
}

/// Whether the session `db` hands out is encrypted, as the server sees it.
async fn session_is_tls(db: &Database) -> bool {
    db.client()
        .await
        .unwrap()
        .query_one(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn verify_full_with_the_private_ca_connects_over_tls() {
    let Some((url, ca)) = tls_database().await else {
        return;
    };
    let trust = DatabaseTrust::from_ca_file(&ca).unwrap();
    let db = Database::connect_trusting(&with_ssl_mode(&url, "verify-full"), &trust)
        .await
        .expect("verify-full with the server's CA");
    assert!(session_is_tls(&db).await, "the session is not TLS");
    // verify-ca (the name unchecked) and the default (prefer) are TLS too.
    for mode in ["verify-ca", "prefer"] {
        let db = Database::connect_trusting(&with_ssl_mode(&url, mode), &trust)
            .await
            .unwrap_or_else(|e| panic!("sslmode={mode}: {e}"));
        assert!(session_is_tls(&db).await, "sslmode={mode} is not TLS");
    }
}

#[tokio::test]
async fn verify_full_without_the_ca_is_refused_naming_the_fix_not_the_password() {
    let Some((url, _)) = tls_database().await else {
        return;
    };
    let url = with_password(&with_ssl_mode(&url, "verify-full"), "hunter2-secret");
    let err = Database::connect_trusting(&url, &DatabaseTrust::public())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StateError::Tls { .. }), "{text}");
    assert!(text.contains("not trusted"), "{text}");
    assert!(text.contains(DATABASE_CA_FILE_ENV), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

#[tokio::test]
async fn sslmode_disable_still_connects_in_the_clear() {
    let Some((url, _)) = tls_database().await else {
        return;
    };
    let db = Database::connect(&with_ssl_mode(&url, "disable"))
        .await
        .expect("sslmode=disable");
    assert!(!session_is_tls(&db).await, "sslmode=disable used TLS");
}

#[tokio::test]
async fn a_bad_sslmode_is_refused_naming_the_field() {
    // Refused before any connection: no server needed.
    let url = "postgres://toolhost:hunter2-secret@127.0.0.1:5432/db?sslmode=verify-always";
    let err = Database::connect(url).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StateError::InvalidUrl { .. }), "{text}");
    assert!(text.contains("sslmode"), "{text}");
    assert!(text.contains("verify-full"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
}

#[tokio::test]
async fn the_binary_reads_the_ca_file_and_refuses_an_untrusted_server_naming_it() {
    let Some((url, ca)) = tls_database().await else {
        return;
    };
    let url = with_password(&with_ssl_mode(&url, "verify-full"), "hunter2-secret");
    let cli = e2e::Cli::new().await;
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let base = [
        ("TOOLHOST_DATABASE_URL", url.as_str()),
        ("TOOLHOST_STATE_KEY", key),
    ];

    let untrusted = cli.run(&["tenants"], &base).await;
    assert!(!untrusted.success(), "{}", untrusted.all());
    assert!(
        untrusted.stderr.contains("not trusted"),
        "{}",
        untrusted.all()
    );
    assert!(
        untrusted.stderr.contains(DATABASE_CA_FILE_ENV),
        "{}",
        untrusted.all()
    );
    assert!(!untrusted.all().contains("hunter2"), "{}", untrusted.all());

    let ca = ca.to_string_lossy().into_owned();
    let trusted = cli
        .run(
            &["tenants"],
            &[base[0], base[1], (DATABASE_CA_FILE_ENV, &ca)],
        )
        .await;
    assert!(trusted.success(), "{}", trusted.all());
    assert!(trusted.stdout.contains("default"), "{}", trusted.all());

    let missing = cli
        .run(
            &["tenants"],
            &[
                base[0],
                base[1],
                (DATABASE_CA_FILE_ENV, "/nonexistent/ca.pem"),
            ],
        )
        .await;
    assert!(!missing.success(), "{}", missing.all());
    assert!(
        missing.stderr.contains(DATABASE_CA_FILE_ENV),
        "{}",
        missing.all()
    );
    assert!(
        missing.stderr.contains("/nonexistent/ca.pem"),
        "{}",
        missing.all()
    );
}
