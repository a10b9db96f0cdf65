//! One token per tenant across replicas: hosts on one PostgreSQL database share the access
//! token and the API's 423 lock-out deadline as the processes of one home share them through
//! the token file. Real parts: the simulator (which counts token requests), the component,
//! the hosts, and a real database per test (`TOOLHOST_TEST_DATABASE_URL`).
//!
//! Each replica has its own home holding only what an operator deploys to it (the saved
//! connection and grant, copied from a home that connected once); nothing of the token is on
//! its disk.

use e2e::replicas::{database, replica};
use e2e::*;
use simulator::{Fault, FaultAction, MintLimit, PathMatch, Simulator, SimulatorConfig};
use std::time::Duration;
use toolhost_governance::AuditFilter;
use toolhost_host::{DeferApprovals, HostError, ToolHost};
use toolhost_sandbox::{CredentialError, GateFailure, TOKEN_FILE};
use toolhost_state::Database;

const TOKEN: &str = "/v1/token";
const LIST_COMPANIES: &str = "cw-rmm-list-companies";

/// The real API's lock-out: a sixth token request within ten seconds is answered 423.
fn like_the_real_api() -> SimulatorConfig {
    SimulatorConfig {
        mint_limit: MintLimit {
            max_mints: 5,
            window: Duration::from_secs(10),
        },
        ..sim_config()
    }
}

/// Every token request the simulator received, whatever it answered.
fn token_requests(sim: &Simulator) -> usize {
    sim.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == TOKEN)
        .count()
}

/// Requests to the API itself (everything but the token endpoint).
fn api_requests(sim: &Simulator) -> usize {
    sim.requests().len() - token_requests(sim)
}

/// A home that connected to `sim` once, with the embedded state: the connection and grant
/// the replicas are deployed with. Connecting minted one token, kept in this home's file.
async fn connected_home(sim: &Simulator) -> TempDir {
    let home = TempDir::new("connected");
    let mut host = open_host(host_config(home.path(), &plugin_wasm())).await;
    let settings = demo_settings(&host, sim);
    host.connect(settings).await.expect("connecting");
    home
}

async fn list_companies(host: &ToolHost) -> Result<serde_json::Value, HostError> {
    call_on(host, LIST_COMPANIES, json!({}), None, &DeferApprovals)
        .await
        .map(|report| report.result)
}

/// The stored token rows: (tenant, sealed bytes as hex). Every row must be sealed (the host
/// always has the operator's key), so none holds a token in clear.
async fn stored_tokens(db: &Database) -> Vec<(String, String)> {
    db.client()
        .await
        .unwrap()
        .query(
            "SELECT tenant, encode(access_token, 'hex'), sealed FROM access_tokens \
             WHERE access_token IS NOT NULL ORDER BY tenant",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            assert!(row.get::<_, bool>(2), "a token stored in clear");
            (row.get(0), row.get(1))
        })
        .collect()
}

/// Every row of every table but the token store's, as text.
async fn everything_but_the_tokens(db: &Database) -> String {
    let client = db.client().await.unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> 'access_tokens'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(tables.iter().any(|t| t == "audit_records"), "{tables:?}");
    let mut text = String::new();
    for table in tables {
        for row in client
            .query(&format!("SELECT row_to_json(t)::text FROM {table} t"), &[])
            .await
            .unwrap()
        {
            text.push_str(&row.get::<_, String>(0));
            text.push('\n');
        }
    }
    text
}

/// Asserts `text` carries none of the tokens the simulator minted.
#[track_caller]
fn no_token_in(sim: &Simulator, what: &str, text: &str) {
    for token in sim.issued_tokens() {
        assert!(
            !text.contains(&token),
            "{what} holds an access token:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_calling_at_once_mint_one_token() {
    let Some(db) = database().await else {
        return;
    };
    let sim = Simulator::start(like_the_real_api()).await.unwrap();
    let connected = connected_home(&sim).await;
    let (a, a_home) = replica(connected.path(), &db, "acme").await;
    let (b, b_home) = replica(connected.path(), &db, "acme").await;
    assert_eq!(token_requests(&sim), 1, "connecting minted once");
    // A slow token endpoint: while one replica mints, the other's calls are waiting.
    sim.inject(
        Fault::on_path(
            PathMatch::Exact(TOKEN.into()),
            FaultAction::Latency(Duration::from_millis(700)),
        )
        .method("POST"),
    );

    let results = tokio::join!(
        list_companies(&a),
        list_companies(&b),
        list_companies(&a),
        list_companies(&b),
        list_companies(&b),
        list_companies(&a),
    );
    for result in [
        results.0, results.1, results.2, results.3, results.4, results.5,
    ] {
        if let Err(err) = result {
            panic!("a concurrent call failed: {err}");
        }
    }
    assert_eq!(
        token_requests(&sim),
        2,
        "the two replicas minted {} tokens between them",
        token_requests(&sim) - 1
    );
    assert_eq!(a.token_mints() + b.token_mints(), 1);
    assert!(sim
        .requests()
        .iter()
        .all(|r| r.status != 401 && r.status != 423));

    // The one token is the tenant's row in the database, and on neither replica's disk.
    let minted = sim.issued_tokens().last().cloned().unwrap();
    let stored = stored_tokens(&db).await;
    assert_eq!(stored.len(), 1, "one token row");
    assert_eq!(stored[0].0, "acme");
    let minted_hex = hex::encode(&minted);
    assert!(
        !stored[0].1.contains(&minted_hex),
        "the token is stored in clear"
    );
    for home in [&a_home, &b_home] {
        assert!(!home.path().join(TOKEN_FILE).exists());
        assert!(files_containing(home.path(), &sim.issued_tokens(), &[]).is_empty());
    }

    // Nor in the audit (the records of both replicas, in the database) or anywhere else.
    let audit = a.audit_records(&AuditFilter::default()).await.unwrap();
    assert!(audit.len() >= 6, "{} audit records", audit.len());
    no_token_in(&sim, "the audit", &serde_json::to_string(&audit).unwrap());
    no_token_in(&sim, "the database", &everything_but_the_tokens(&db).await);

    // A replica opened later (a restart, a scale-up) uses the shared token: no mint.
    let (c, _c_home) = replica(connected.path(), &db, "acme").await;
    list_companies(&c).await.expect("a call on the new replica");
    assert_eq!(token_requests(&sim), 2);
    assert_eq!(c.token_mints(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_out_seen_by_one_replica_stops_the_other_minting() {
    let Some(db) = database().await else {
        return;
    };
    let sim = Simulator::start(sim_config()).await.unwrap();
    let connected = connected_home(&sim).await;
    let (a, _a_home) = replica(connected.path(), &db, "acme").await;
    let (b, _b_home) = replica(connected.path(), &db, "acme").await;
    sim.inject(
        Fault::on_path(
            PathMatch::Exact(TOKEN.into()),
            FaultAction::status_retry_after(423, "60"),
        )
        .method("POST"),
    );

    // The first replica asks for a token and is locked out for 60 s.
    let err = list_companies(&a).await.unwrap_err();
    assert!(
        matches!(
            gate_failure(&err),
            Some(GateFailure::Credentials(CredentialError::Locked { .. }))
        ),
        "{err:?}"
    );
    assert_eq!(
        token_requests(&sim),
        2,
        "connect, then the locked-out request"
    );
    let api_before = api_requests(&sim);

    // The other replica neither asks the locked key nor calls the API: it fails at once,
    // with the deadline the first one saw.
    for _ in 0..3 {
        let err = list_companies(&b).await.unwrap_err();
        match gate_failure(&err) {
            Some(GateFailure::Credentials(CredentialError::Locked { retry_after })) => {
                assert!(*retry_after <= Duration::from_secs(60), "{retry_after:?}");
                assert!(*retry_after > Duration::from_secs(50), "{retry_after:?}");
            }
            _ => panic!("expected the shared lock-out, got {err:?}"),
        }
        let text = format!("{err} {err:?}").to_lowercase();
        assert!(text.contains("locked") && text.contains("wait"), "{text}");
        no_token_in(&sim, "the lock-out error", &text);
    }
    assert_eq!(
        token_requests(&sim),
        2,
        "the second replica asked a locked key"
    );
    assert_eq!(api_requests(&sim), api_before);
    assert_eq!(b.token_mints(), 0);
    no_token_in(&sim, "the database", &everything_but_the_tokens(&db).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_token_is_never_used_for_another_tenant() {
    let Some(db) = database().await else {
        return;
    };
    // Two tenants on one database with the very same connection (same API, client and
    // secret): only the tenant tells their tokens apart.
    let sim = Simulator::start(sim_config()).await.unwrap();
    let connected = connected_home(&sim).await;
    let (acme, _acme_home) = replica(connected.path(), &db, "acme").await;
    let (globex, _globex_home) = replica(connected.path(), &db, "globex").await;

    list_companies(&acme).await.expect("a call for acme");
    assert_eq!(token_requests(&sim), 2, "acme minted its token");
    list_companies(&globex).await.expect("a call for globex");
    assert_eq!(
        token_requests(&sim),
        3,
        "globex used acme's token instead of minting its own"
    );
    assert_eq!((acme.token_mints(), globex.token_mints()), (1, 1));

    // Each tenant's row holds its own token; further calls of either mint nothing.
    let stored = stored_tokens(&db).await;
    assert_eq!(stored.len(), 2, "{:?}", stored.len());
    assert_eq!(
        (stored[0].0.as_str(), stored[1].0.as_str()),
        ("acme", "globex")
    );
    assert_ne!(stored[0].1, stored[1].1, "both tenants hold the same token");
    let (other_acme, _home) = replica(connected.path(), &db, "acme").await;
    for host in [&acme, &globex, &other_acme, &globex] {
        list_companies(host).await.expect("a later call");
    }
    assert_eq!(token_requests(&sim), 3);
    assert_eq!(stored_tokens(&db).await, stored);
}
