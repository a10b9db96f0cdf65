//! The shared state (pending approvals, the audit log) behaves the same in both backends: the
//! embedded files (two hosts on one home) and PostgreSQL (two replicas on one database).
//! Exactly-once claims, one ordered audit log with nothing lost, clear errors when the
//! database is unreachable or lost, recovery when it returns, migrations applied once.

use e2e::postgres::{fresh_database, server_of, through_port, Forwarder};
use e2e::*;
use simulator::Simulator;
use toolhost_governance::{ApprovalError, AuditDecision};
use toolhost_host::{Caller, DeferApprovals, HostError, StateBackend, ToolHost, AUDIT_SPOOL_FILE};
use toolhost_state::{Database, StateError};

/// Where the two hosts of a case keep their shared state.
#[derive(Debug, Clone)]
enum Backend {
    /// Both hosts on one home.
    Embedded,
    /// Each host with its own home, both on one database (this URL).
    Postgres(String),
}

/// Every backend this run can test: the embedded one always, PostgreSQL when a test server
/// is configured (see [`fresh_database`]).
async fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Embedded];
    if let Some(url) = fresh_database().await {
        all.push(Backend::Postgres(url));
    }
    all
}

/// Two hosts connected to one simulator, sharing approvals and audit through `backend`.
struct Replicas {
    sim: Simulator,
    hosts: [ToolHost; 2],
    _homes: Vec<TempDir>,
}

impl Replicas {
    async fn start(backend: &Backend) -> Replicas {
        let sim = Simulator::start(sim_config())
            .await
            .expect("starting the simulator");
        let mut homes = vec![TempDir::new("replica-a")];
        let hosts = match backend {
            Backend::Embedded => {
                let a = connected(host_config(homes[0].path(), &plugin_wasm()), &sim).await;
                // The second host of the same home loads the saved connection.
                let b = open_host(a.config().clone()).await;
                [a, b]
            }
            Backend::Postgres(url) => {
                homes.push(TempDir::new("replica-b"));
                let mut hosts = Vec::new();
                for home in &homes {
                    // A pool of its own per replica, as separate processes have.
                    let db = Database::connect(url).await.expect("the state database");
                    hosts.push(connected(on_database(home.path(), db), &sim).await);
                }
                let [a, b]: [ToolHost; 2] = hosts.try_into().ok().unwrap();
                [a, b]
            }
        };
        Replicas {
            sim,
            hosts,
            _homes: homes,
        }
    }
}

/// A host configuration in `home` whose approvals and audit are in `db`.
fn on_database(home: &std::path::Path, db: Database) -> toolhost_host::HostConfig {
    let mut config = host_config(home, &plugin_wasm());
    config.state = StateBackend::Postgres {
        db,
        tenant: "default".into(),
        key: e2e::postgres::test_state_key(),
    };
    config
}

async fn connected(config: toolhost_host::HostConfig, sim: &Simulator) -> ToolHost {
    let mut host = open_host(config).await;
    let settings = demo_settings(&host, sim);
    host.connect(settings)
        .await
        .expect("connecting to the simulator");
    host
}

/// A ticket held for approval on `host`: its approval id.
async fn held_ticket(host: &ToolHost, summary: &str) -> String {
    pending_id(
        call_on(
            host,
            "cw-rmm-create-ticket",
            ticket_args(summary),
            None,
            &DeferApprovals,
        )
        .await,
    )
}

fn approval_error<T: std::fmt::Debug>(result: Result<T, HostError>) -> ApprovalError {
    match result {
        Err(HostError::Approval(e)) => e,
        other => panic!("expected an approval error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_approval_approved_through_two_hosts_at_once_runs_once() {
    for backend in backends().await {
        let replicas = Replicas::start(&backend).await;
        let [a, b] = &replicas.hosts;
        for round in 0..3 {
            let id = held_ticket(a, &format!("e2e replicas {round}")).await;
            // The other replica sees the record at once.
            assert_eq!(b.approval(&id).await.expect("replica b reads it").id, id);
            let (x, y) = tokio::join!(a.approve(&id, "ops-a"), b.approve(&id, "ops-b"));
            assert_eq!(
                usize::from(x.is_ok()) + usize::from(y.is_ok()),
                1,
                "{backend:?}: {x:?} {y:?}"
            );
            for loser in [x, y].into_iter().filter(Result::is_err) {
                let err = approval_error(loser);
                assert!(
                    matches!(
                        err,
                        ApprovalError::AlreadyExecuting { .. }
                            | ApprovalError::AlreadyExecuted { .. }
                    ),
                    "{backend:?}: {err}"
                );
            }
            assert_eq!(
                write_requests(&replicas.sim).len(),
                round + 1,
                "{backend:?}: one write per approval"
            );
        }
        // Both replicas list the same three approvals, all run.
        let listed_a = a.list_approvals(&Default::default()).await.unwrap();
        let listed_b = b.list_approvals(&Default::default()).await.unwrap();
        assert_eq!(listed_a.len(), 3, "{backend:?}");
        assert_eq!(listed_a, listed_b, "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_of_two_hosts_all_read_back_in_one_order() {
    const EACH: usize = 12;
    for backend in backends().await {
        let replicas = Replicas::start(&backend).await;
        let [a, b] = &replicas.hosts;
        let before = a.audit_records(&Default::default()).await.unwrap().len();
        let (ra, rb) = tokio::join!(
            run_calls(a, "replica-a", EACH),
            run_calls(b, "replica-b", EACH)
        );
        ra.unwrap();
        rb.unwrap();
        let read_a = a.audit_records(&Default::default()).await.unwrap();
        let read_b = b.audit_records(&Default::default()).await.unwrap();
        assert_eq!(
            read_a, read_b,
            "{backend:?}: both read one log in one order"
        );
        let new = &read_a[before..];
        assert_eq!(new.len(), 2 * EACH, "{backend:?}: none lost");
        for replica in ["replica-a", "replica-b"] {
            let callers: Vec<String> = new
                .iter()
                .filter(|r| r.caller.starts_with(replica))
                .map(|r| r.caller.clone())
                .collect();
            // Each replica's own records keep the order it wrote them in.
            let expected: Vec<String> = (0..EACH).map(|i| format!("{replica}-{i:02}")).collect();
            assert_eq!(callers, expected, "{backend:?}");
        }
        assert!(new.iter().all(|r| r.decision == AuditDecision::Auto));
    }
}

/// `count` reads on `host`, one after another, by callers `<name>-NN`.
async fn run_calls(host: &ToolHost, name: &str, count: usize) -> Result<(), HostError> {
    for i in 0..count {
        let caller = Caller::new(format!("{name}-{i:02}"), None);
        host.call("cw-rmm-list-companies", "{}", &caller, &DeferApprovals)
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn an_unreachable_database_at_open_is_a_clear_error() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://toolhost:hunter2-secret@127.0.0.1:{port}/toolhost_e2e");
    let err = Database::connect(&url).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StateError::Unreachable { .. }), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("toolhost_e2e"), "{text}");
    assert!(text.contains("unreachable"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
    assert!(!format!("{err:?}").contains("hunter2"));
}

/// A host on a fresh database reached through a [`Forwarder`], so a test can cut the
/// database away mid-run and bring it back.
struct CutRun {
    /// The database itself (not through the forwarder).
    url: String,
    forwarder: Forwarder,
    sim: Simulator,
    home: TempDir,
    host: ToolHost,
}

impl CutRun {
    /// `None` when no test database is configured (see [`fresh_database`]).
    async fn start(home: &str) -> Option<CutRun> {
        let url = fresh_database().await?;
        let forwarder = Forwarder::start(server_of(&url)).await;
        let through = through_port(&url, forwarder.port());
        let sim = Simulator::start(sim_config())
            .await
            .expect("starting the simulator");
        let home = TempDir::new(home);
        let db = Database::connect(&through)
            .await
            .expect("the state database");
        let host = connected(on_database(home.path(), db), &sim).await;
        Some(CutRun {
            url,
            forwarder,
            sim,
            home,
            host,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_lost_mid_run_refuses_what_needs_a_record_and_recovers() {
    let Some(CutRun {
        forwarder,
        sim,
        home: _home,
        host,
        ..
    }) = CutRun::start("lost-db").await
    else {
        return;
    };
    let id = held_ticket(&host, "e2e before the loss").await;

    forwarder.cut();
    let at = format!("127.0.0.1:{}", forwarder.port());
    // Approving needs the record: refused, clearly, and nothing is sent.
    let err = host.approve(&id, "ops").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unreachable") && text.contains(&at), "{text}");
    // A call that must be held cannot be, so it does not run either.
    let err = call_on(
        &host,
        "cw-rmm-create-ticket",
        ticket_args("e2e during the loss"),
        None,
        &DeferApprovals,
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("unreachable") && text.contains(&at), "{text}");
    assert!(
        write_requests(&sim).is_empty(),
        "nothing ran without its record"
    );

    forwarder.restore();
    // The same host, not restarted, serves again.
    let report = host
        .approve(&id, "ops")
        .await
        .expect("approving after recovery");
    assert_eq!(report.result["summary"], "e2e before the loss");
    assert_eq!(write_requests(&sim).len(), 1);
    let again = held_ticket(&host, "e2e after the loss").await;
    host.approve(&again, "ops")
        .await
        .expect("a new approval runs");
    assert_eq!(write_requests(&sim).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_made_while_the_database_is_lost_wait_on_disk_and_arrive_in_order_once() {
    let Some(CutRun {
        url,
        forwarder,
        sim,
        home,
        host,
    }) = CutRun::start("spooled-audit").await
    else {
        return;
    };
    run_calls(&host, "before", 2).await.unwrap();

    forwarder.cut();
    // A read needs no approval record: it runs, and its record waits in the replica's spool.
    run_calls(&host, "during", 3)
        .await
        .expect("reads run while the database is lost");
    let spool = home.path().join(AUDIT_SPOOL_FILE);
    let spooled = std::fs::read_to_string(&spool).expect("the spool");
    assert_eq!(spooled.lines().count(), 3, "{spooled}");
    // The log is not shown without them: reading it is a clear error.
    let err = host
        .audit_records(&Default::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("3 audit record(s) wait in") && err.contains("unreachable"),
        "{err}"
    );

    forwarder.restore();
    // The same host, not restarted: its next call sends the spool first.
    run_calls(&host, "after", 1).await.unwrap();
    assert_eq!(std::fs::read_to_string(&spool).unwrap(), "", "emptied");
    let expected = [
        "before-00",
        "before-01",
        "during-00",
        "during-01",
        "during-02",
        "after-00",
    ];
    let direct = Database::connect(&url).await.expect("the database itself");
    assert_eq!(callers_in_the_database(&direct).await, expected);

    // A crash after the database kept the spooled records but before the spool was emptied:
    // the restarted host sends them again, and the database keeps each once.
    std::fs::write(&spool, &spooled).unwrap();
    let restarted = connected(on_database(home.path(), direct.clone()), &sim).await;
    run_calls(&restarted, "restarted", 1).await.unwrap();
    assert_eq!(std::fs::read_to_string(&spool).unwrap(), "");
    let mut all = expected.to_vec();
    all.push("restarted-00");
    assert_eq!(callers_in_the_database(&direct).await, all, "none twice");
    let read: Vec<String> = restarted
        .audit_records(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.caller)
        .collect();
    assert_eq!(read, all);
}

/// The callers of every audit record in `db`, in the database's one order.
async fn callers_in_the_database(db: &Database) -> Vec<String> {
    let client = db.client().await.unwrap();
    client
        .query(
            "SELECT record->>'caller' FROM audit_records ORDER BY seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_starting_on_a_fresh_database_apply_each_migration_once() {
    let files = std::fs::read_dir(workspace_root().join("crates/state/migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    for _ in 0..3 {
        let Some(url) = fresh_database().await else {
            return;
        };
        let (x, y) = tokio::join!(Database::connect(&url), Database::connect(&url));
        let (x, _y) = (x.expect("replica 1"), y.expect("replica 2"));
        let client = x.client().await.unwrap();
        let rows = client
            .query(
                "SELECT version, count(*) FROM toolhost_schema_migrations GROUP BY version",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), files, "every migration recorded");
        assert!(rows.iter().all(|r| r.get::<_, i64>(1) == 1));
        // A third start finds nothing to do.
        Database::connect(&url).await.expect("a restart");
        let count: i64 = client
            .query_one("SELECT count(*) FROM toolhost_schema_migrations", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(count as usize, files);
    }
}
