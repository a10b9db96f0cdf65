#![allow(clippy::result_large_err)] // HostError is the host's rich, cold-path error.
//! The end-to-end harness: the real host, the real component and the real simulator, over
//! loopback. Every test gets its own simulator and its own home directory, so tests run in
//! parallel; only built artifacts and the compiled-component cache are shared.
//!
//! - [`plugin_wasm`], [`probe_wasm`], [`toolhost_bin`]: build once per test process.
//! - [`TestEnv`]: a simulator plus a connected [`ToolHost`].
//! - [`Cli`]: runs the `toolhost` binary against a private home, bounded in time, and checks
//!   that no output ever carries the demo secret.
//! - [`poll_until`]: the one way to wait for something.

mod cli;
pub mod postgres;
pub mod replicas;
pub mod ui_session;
pub use cli::*;

use serde_json::Value;
use simulator::{RecordedRequest, Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use toolhost_base::SecretString;
use toolhost_host::ConnectionSettings;
use toolhost_host::{
    ApprovalAnswer, CallReport, Caller, DeferApprovals, HostConfig, HostError, StaticApprover,
    ToolHost,
};
use toolhost_sandbox::{Origin, UpstreamRoutes};

pub use serde_json::json;
pub use simulator::seed;

/// Task state transitions in tests: fast, but slow enough to observe `done: false`.
pub const TASK_STEP: Duration = Duration::from_millis(50);
/// The upper bound of any single tool call in the tests.
pub const CALL_DEADLINE: Duration = Duration::from_secs(20);
/// The upper bound of one CLI run.
pub const CLI_DEADLINE: Duration = Duration::from_secs(60);
/// Tools the seeded tenant offers: 17 static plus 9 active shell scripts.
pub const SEEDED_TOOL_COUNT: usize = 26;
pub const STATIC_TOOL_COUNT: usize = 17;

// ---------------------------------------------------------------------------------------
// Paths and one-time builds
// ---------------------------------------------------------------------------------------

/// The repository root (the cargo workspace of host, simulator and tests).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `.../target/<profile>/deps/<test-binary>` -> `.../target/<profile>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("test binary has a directory");
    let profile = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps has a parent")
    } else {
        deps
    };
    profile.to_path_buf()
}

/// The cargo target directory the tests were built into.
pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("profile dir has a parent")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Builds run from inside a test: never let the test's own environment pick the target.
    cmd.env_remove("CARGO_TARGET_DIR");
    cmd
}

fn run_build(mut cmd: Command, what: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run cargo to build {what}: {e}"));
    assert!(
        output.status.success(),
        "building {what} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds a wasm32-wasip2 component crate in `dir` (release, with `features` when not
/// empty) into `target_dir`.
fn build_component(dir: &Path, target_dir: &Path, artifact: &str, features: &str) -> PathBuf {
    let mut cmd = cargo();
    cmd.current_dir(dir)
        .args(["build", "--release", "--quiet", "--target", "wasm32-wasip2"])
        .arg("--target-dir")
        .arg(target_dir);
    if !features.is_empty() {
        cmd.args(["--features", features]);
    }
    run_build(cmd, artifact);
    let wasm = target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join(artifact);
    assert!(wasm.exists(), "{} was not produced", wasm.display());
    wasm
}

/// The ConnectWise RMM plugin component, built once per test process (cargo's own lock
/// makes concurrent builds from several test processes safe).
pub fn plugin_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        let plugin = workspace_root().join("plugin");
        build_component(&plugin, &plugin.join("target"), "cw_rmm_plugin.wasm", "")
    })
    .clone()
}

/// The `probe` fixture component (tests/fixtures/probe), built once per test process.
pub fn probe_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| build_fixture("probe", "probe.wasm", "", "e2e-fixtures"))
        .clone()
}

/// The `toolhost` binary of this workspace, built once per test process.
pub fn toolhost_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let profile = profile_dir();
        let mut cmd = cargo();
        cmd.current_dir(workspace_root())
            .args(["build", "--quiet", "-p", "toolhost", "--bin", "toolhost"])
            .arg("--target-dir")
            .arg(target_dir());
        if profile.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        run_build(cmd, "toolhost");
        let bin = profile.join(format!("toolhost{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} was not produced", bin.display());
        bin
    })
    .clone()
}

/// Compiled components shared by every test (the cache key covers the component's hash).
pub fn shared_cache_dir() -> PathBuf {
    target_dir().join("e2e-cache")
}

// ---------------------------------------------------------------------------------------
// Temporary directories and waiting
// ---------------------------------------------------------------------------------------

/// A directory under the system temp dir, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "e2e-{label}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("creating a temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Calls `check` until it returns `Some`, every `every`, for at most `within`.
pub async fn poll_until<T, F, Fut>(within: Duration, every: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {within:?}"
        );
        tokio::time::sleep(every).await;
    }
}

/// The longest any test's HTTP request may take: a host that stopped answering fails the
/// test with the request named instead of hanging the whole run.
pub const HTTP_DEADLINE: Duration = Duration::from_secs(120);

/// An HTTP client for the tests: reqwest's defaults and [`HTTP_DEADLINE`] on every request.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HTTP_DEADLINE)
        .build()
        .expect("building the tests' HTTP client")
}

/// A stopped server's port, kept from every other test's server while a test expects no
/// answer there: a listener that closes each connection it accepts before reading a byte.
/// A client sees the same "no answer" as from a closed port, and no other server can bind
/// the port meanwhile. Dropping it frees the port soon; [`DeadPort::free`] before returning.
pub struct DeadPort(Option<tokio::task::JoinHandle<()>>);

impl DeadPort {
    /// Takes `addr` (the stopped server's); `None` when another socket took it first.
    pub async fn take(addr: std::net::SocketAddr) -> Option<DeadPort> {
        let listener = tokio::net::TcpListener::bind(addr).await.ok()?;
        Some(DeadPort(Some(tokio::spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                drop(connection);
            }
        }))))
    }

    /// Closes the listener and returns once the port is free to bind again.
    pub async fn free(mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for DeadPort {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Host and simulator
// ---------------------------------------------------------------------------------------

/// The simulator configuration the tests use unless they say otherwise.
pub fn sim_config() -> SimulatorConfig {
    SimulatorConfig {
        task_step: TASK_STEP,
        ..SimulatorConfig::default()
    }
}

/// A host configuration with the shared compile cache and a test-sized call deadline.
pub fn host_config(home: &Path, plugin: &Path) -> HostConfig {
    let mut config = HostConfig::new(home, plugin);
    config.cache_dir = shared_cache_dir();
    config.limits.deadline = CALL_DEADLINE;
    config
}

/// Opens a host. The first open of each component in this process compiles it while the
/// others wait, so parallel tests share one compilation instead of racing to write it.
pub async fn open_host(config: HostConfig) -> ToolHost {
    static COMPILED: tokio::sync::Mutex<Option<HashSet<PathBuf>>> =
        tokio::sync::Mutex::const_new(None);
    let mut compiled = COMPILED.lock().await;
    let set = compiled.get_or_insert_with(HashSet::new);
    if set.contains(&config.plugin) {
        drop(compiled);
        return ToolHost::open(config).await.expect("opening the host");
    }
    let plugin = config.plugin.clone();
    let host = ToolHost::open(config).await.expect("opening the host");
    set.insert(plugin);
    host
}

/// Routes the region's real API origin (as the plugin declares it) to the simulator.
pub fn routes_to(host: &ToolHost, region: &str, sim: &Simulator) -> UpstreamRoutes {
    let api = host
        .metadata()
        .region(region)
        .unwrap_or_else(|| panic!("the plugin declares no region `{region}`"))
        .api
        .clone();
    let mut routes = UpstreamRoutes::new();
    routes.insert(
        api,
        Origin::parse(&sim.base_url()).expect("simulator origin"),
    );
    routes
}

/// Demo credentials for `region`, routed to `sim`.
pub fn demo_settings(host: &ToolHost, sim: &Simulator) -> ConnectionSettings {
    ConnectionSettings {
        region: "au".into(),
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: SecretString::new(DEMO_CLIENT_SECRET),
        scopes: None,
        routes: routes_to(host, "au", sim),
    }
}

/// One simulator, one private home and one host connected to that simulator.
pub struct TestEnv {
    pub sim: Simulator,
    pub host: ToolHost,
    pub home: TempDir,
}

impl TestEnv {
    /// The ConnectWise RMM plugin against the default test simulator.
    pub async fn start() -> TestEnv {
        TestEnv::with(sim_config()).await
    }

    /// The ConnectWise RMM plugin against a simulator configured by the test.
    pub async fn with(config: SimulatorConfig) -> TestEnv {
        TestEnv::with_plugin(&plugin_wasm(), config).await
    }

    /// The `probe` fixture against the default test simulator.
    pub async fn probe() -> TestEnv {
        TestEnv::with_plugin(&probe_wasm(), sim_config()).await
    }

    /// Any component against a simulator, connected with the demo credentials.
    pub async fn with_plugin(plugin: &Path, config: SimulatorConfig) -> TestEnv {
        let sim = Simulator::start(config)
            .await
            .expect("starting the simulator");
        let home = TempDir::new("home");
        let mut host = open_host(host_config(home.path(), plugin)).await;
        let settings = demo_settings(&host, &sim);
        host.connect(settings)
            .await
            .expect("connecting to the simulator");
        TestEnv { sim, host, home }
    }

    /// The tenant retires its disk cleanup script and gives its name to another script (Flush
    /// DNS Cache): `cw-rmm-script-disk-cleanup` now stands for a different template.
    pub async fn give_the_disk_cleanup_name_to_another_script(&self) {
        let listing = self
            .call("cw-rmm-list-shell-scripts", json!({}))
            .await
            .expect("listing the shell scripts");
        let other = listing["scripts"]
            .as_array()
            .and_then(|scripts| scripts.iter().find(|s| s["name"] == "Flush DNS Cache"))
            .and_then(|s| s["templateId"].as_str())
            .unwrap_or_else(|| panic!("no Flush DNS Cache script in {listing}"))
            .to_string();
        assert!(self
            .sim
            .rename_script(seed::DISK_CLEANUP_SCRIPT_ID, "Disk Cleanup (retired)"));
        assert!(self
            .sim
            .rename_script(&other, seed::DISK_CLEANUP_SCRIPT_NAME));
    }

    /// A second host over the same home and configuration, as after a restart: it loads the
    /// saved connection, catalog, policy, roles, approvals and audit log from disk.
    pub async fn reopen(&self) -> ToolHost {
        open_host(self.host.config().clone()).await
    }

    /// A call by `caller` as `role` (`None`: the default role), answered by `approver`.
    pub async fn call_as(
        &self,
        tool: &str,
        args: Value,
        role: Option<&str>,
        approver: &dyn toolhost_host::Approver,
    ) -> Result<CallReport, HostError> {
        call_on(&self.host, tool, args, role, approver).await
    }

    /// Upstream writes: every `POST` that schedules a task or creates a ticket.
    pub fn writes(&self) -> Vec<RecordedRequest> {
        write_requests(&self.sim)
    }

    /// The whole audit log, oldest first.
    pub async fn audit(&self) -> Vec<toolhost_governance::AuditRecord> {
        self.host
            .audit_records(&toolhost_governance::AuditFilter::default())
            .await
            .expect("reading the audit log")
    }

    /// A tool call without approval; returns the result document.
    pub async fn call(&self, tool: &str, args: Value) -> Result<Value, HostError> {
        self.report(tool, args, false).await.map(|r| r.result)
    }

    /// A tool call the operator approved; returns the result document.
    pub async fn call_approved(&self, tool: &str, args: Value) -> Result<Value, HostError> {
        self.report(tool, args, true).await.map(|r| r.result)
    }

    /// A tool call with its full report (upstream exchanges, timings).
    pub async fn report(
        &self,
        tool: &str,
        args: Value,
        approved: bool,
    ) -> Result<CallReport, HostError> {
        let args = args.to_string();
        let caller = Caller::new("e2e", None);
        let approve = StaticApprover(ApprovalAnswer::Approve {
            by: "e2e approver".into(),
        });
        let approver: &dyn toolhost_host::Approver =
            if approved { &approve } else { &DeferApprovals };
        let call = self.host.call(tool, &args, &caller, approver);
        tokio::time::timeout(CALL_DEADLINE + Duration::from_secs(5), call)
            .await
            .unwrap_or_else(|_| panic!("`{tool}` did not return within the test deadline"))
    }

    /// A call that must succeed.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        match self.call(tool, args.clone()).await {
            Ok(value) => value,
            Err(err) => panic!("`{tool}` {args} failed: {err} ({err:?})"),
        }
    }

    /// An approved call that must succeed.
    pub async fn ok_approved(&self, tool: &str, args: Value) -> Value {
        match self.call_approved(tool, args.clone()).await {
            Ok(value) => value,
            Err(err) => panic!("`{tool}` {args} (approved) failed: {err} ({err:?})"),
        }
    }

    /// Waits until a call is in flight on this host, while `call` (the task making it) runs.
    pub async fn until_in_flight<T>(&self, call: &tokio::task::JoinHandle<T>) {
        let occupancy = || self.host.runtime().linked().occupancy();
        poll_until(
            Duration::from_secs(10),
            Duration::from_millis(2),
            || async {
                assert!(
                    !call.is_finished(),
                    "the call ended before it was seen in flight: {:?}",
                    occupancy()
                );
                (occupancy().calls_in_flight > 0).then_some(())
            },
        )
        .await;
    }

    /// The plugin's occupancy once the host is idle: every call returned, the task after the
    /// last one has run, and no memory charged but the instance made ahead of the next call.
    /// Panics if that does not happen within 5 s.
    pub async fn idle_occupancy(&self) -> toolhost_sandbox::Occupancy {
        let occupancy = || self.host.runtime().linked().occupancy();
        for _ in 0..500 {
            let now = occupancy();
            if now.calls_in_flight == 0
                && now.warm_instances == 1
                && now.memory_charged_bytes == now.warm_memory_bytes
            {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the host did not settle with one instance made ahead: {:?}",
            occupancy()
        );
    }

    /// Requests the simulator received whose method matches and whose path contains `path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<RecordedRequest> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.contains(path))
            .collect()
    }
}

/// A call on any host by the caller `e2e` as `role`, answered by `approver`, bounded in time.
pub async fn call_on(
    host: &ToolHost,
    tool: &str,
    args: Value,
    role: Option<&str>,
    approver: &dyn toolhost_host::Approver,
) -> Result<CallReport, HostError> {
    let args = args.to_string();
    let caller = Caller::new("e2e", role.map(str::to_string));
    tokio::time::timeout(
        CALL_DEADLINE + Duration::from_secs(5),
        host.call(tool, &args, &caller, approver),
    )
    .await
    .unwrap_or_else(|_| panic!("`{tool}` did not return within the test deadline"))
}

/// An approver that always approves, as `by`.
pub fn approve_as(by: &str) -> StaticApprover {
    StaticApprover(ApprovalAnswer::Approve { by: by.into() })
}

/// An approver that always denies, as `by`.
pub fn deny_as(by: &str) -> StaticApprover {
    StaticApprover(ApprovalAnswer::Deny { by: by.into() })
}

/// Whether a recorded request is an upstream write (task scheduling or ticket creation).
pub fn is_write(r: &RecordedRequest) -> bool {
    r.method.eq_ignore_ascii_case("POST")
        && (r.path.ends_with("/schedule-tasks") || r.path.ends_with("/tickets"))
}

/// Every upstream write `sim` received, in order.
pub fn write_requests(sim: &Simulator) -> Vec<RecordedRequest> {
    sim.requests().into_iter().filter(is_write).collect()
}

/// Requests `sim` received after the first `before`, when any of them was not a read (a GET,
/// or the device listing, a read sent as a POST): what a held call's preview must never do.
pub fn non_reads_since(sim: &Simulator, before: usize) -> Vec<RecordedRequest> {
    sim.requests()
        .into_iter()
        .skip(before)
        .filter(|r| {
            !r.method.eq_ignore_ascii_case("GET")
                && !(r.method.eq_ignore_ascii_case("POST")
                    && (r.path == "/v1/token"
                        || r.path.ends_with("/device/categories/all/endpoints")))
        })
        .collect()
}

/// The approval id of an `ApprovalRequired` error; panics on anything else.
#[track_caller]
pub fn pending_id<T: std::fmt::Debug>(result: Result<T, HostError>) -> String {
    match result {
        Err(HostError::ApprovalRequired { id, .. }) => id,
        other => panic!("expected approval-required, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// The plugin's tool error inside a host error, if that is what it is.
pub fn tool_error(err: &HostError) -> Option<&toolhost_sandbox::ToolError> {
    match err {
        HostError::Call {
            failure: toolhost_sandbox::CallFailure::Tool(e),
            ..
        } => Some(e),
        _ => None,
    }
}

/// Asserts the plugin answered `not-found` and returns its message.
#[track_caller]
pub fn expect_not_found(result: Result<Value, HostError>) -> String {
    match result {
        Err(err) => match tool_error(&err) {
            Some(toolhost_sandbox::ToolError::NotFound { message }) => message.clone(),
            _ => panic!("expected a not-found tool error, got {err:?}"),
        },
        Ok(value) => panic!("expected a not-found tool error, got a result: {value}"),
    }
}

/// Asserts the call failed on invalid input (host-side schema check or plugin-side check)
/// naming `field`; returns the message.
#[track_caller]
pub fn expect_invalid(result: Result<Value, HostError>, field: &str) -> String {
    match result {
        Err(HostError::InvalidArguments { error, .. }) => {
            assert_eq!(error.field, field, "wrong field in {error:?}");
            error.message
        }
        Err(err) => match tool_error(&err) {
            Some(toolhost_sandbox::ToolError::InvalidInput {
                field: got,
                message,
            }) => {
                assert_eq!(got, field, "wrong field in plugin error: {message}");
                message.clone()
            }
            _ => panic!("expected invalid input naming `{field}`, got {err:?}"),
        },
        Ok(value) => panic!("expected invalid input naming `{field}`, got a result: {value}"),
    }
}

// ---------------------------------------------------------------------------------------
// Hardening: hostile fixtures, configured hosts, secret scans
// ---------------------------------------------------------------------------------------

/// Builds a fixture crate under tests/fixtures/<name> (release, wasm32-wasip2) with
/// `features`, into its own target directory so feature builds never overwrite each other.
fn build_fixture(name: &str, artifact: &str, features: &str, target: &str) -> PathBuf {
    let dir = workspace_root().join("tests").join("fixtures").join(name);
    build_component(&dir, &target_dir().join(target), artifact, features)
}

/// The `hostile` fixture (tests/fixtures/hostile), built once per test process.
pub fn hostile_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| build_fixture("hostile", "hostile.wasm", "", "e2e-fixtures"))
        .clone()
}

/// The `probe` fixture declaring another API origin, `https://capture.example`.
pub fn probe_other_origin_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        build_fixture(
            "probe",
            "probe.wasm",
            "other-origin",
            "e2e-fixtures-other-origin",
        )
    })
    .clone()
}

/// The `probe` fixture declaring the cloud metadata service as an extra origin.
pub fn probe_metadata_origin_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        build_fixture(
            "probe",
            "probe.wasm",
            "metadata-origin",
            "e2e-fixtures-metadata-origin",
        )
    })
    .clone()
}

/// The `hostile` fixture built with its `bad-declarations` feature (for conformance).
pub fn hostile_bad_declarations_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        build_fixture(
            "hostile",
            "hostile.wasm",
            "bad-declarations",
            "e2e-fixtures-bad-declarations",
        )
    })
    .clone()
}

/// The `fs-importer` fixture: a component that imports `wasi:filesystem`.
pub fn fs_importer_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| build_fixture("fs-importer", "fs_importer.wasm", "", "e2e-fixtures"))
        .clone()
}

impl TestEnv {
    /// Any component against a simulator, with the host configuration adjusted by `tweak`
    /// (limits, timeouts, retries), connected with the demo credentials.
    pub async fn configured(
        plugin: &Path,
        sim: SimulatorConfig,
        tweak: impl FnOnce(&mut HostConfig),
    ) -> TestEnv {
        let sim = Simulator::start(sim).await.expect("starting the simulator");
        let home = TempDir::new("home");
        let mut config = host_config(home.path(), plugin);
        tweak(&mut config);
        let mut host = open_host(config).await;
        let settings = demo_settings(&host, &sim);
        host.connect(settings)
            .await
            .expect("connecting to the simulator");
        TestEnv { sim, host, home }
    }
}

/// The call failure inside a host error, if that is what it is.
pub fn call_failure(err: &HostError) -> Option<&toolhost_sandbox::CallFailure> {
    match err {
        HostError::Call { failure, .. } => Some(failure),
        _ => None,
    }
}

/// The gate failure inside a host error, if that is what it is.
pub fn gate_failure(err: &HostError) -> Option<&toolhost_sandbox::GateFailure> {
    match call_failure(err) {
        Some(toolhost_sandbox::CallFailure::Gate(failure)) => Some(failure),
        _ => None,
    }
}

/// Every place under `dir` (recursively) whose file contents contain one of `needles`,
/// except the files named in `except` (compared by file name).
pub fn files_containing(dir: &Path, needles: &[String], except: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needles, except));
            continue;
        }
        if path
            .file_name()
            .is_some_and(|n| except.iter().any(|e| n == *e))
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for needle in needles {
            if !needle.is_empty() && text.contains(needle.as_str()) {
                hits.push(format!("{} contains a secret", path.display()));
            }
        }
    }
    hits
}

// ---------------------------------------------------------------------------------------
// Arguments of the write tools
// ---------------------------------------------------------------------------------------

/// `cw-rmm-run-task` of the seeded Disk Cleanup script on Maria's laptop, named `name`.
pub fn run_task_args(name: &str) -> Value {
    json!({
        "templateId": seed::DISK_CLEANUP_SCRIPT_ID,
        "targets": [seed::MARIA_LAPTOP_ID],
        "parameters": {"drive": "C:"},
        "name": name
    })
}

/// `cw-rmm-create-ticket` for Contoso with `summary`.
pub fn ticket_args(summary: &str) -> Value {
    json!({
        "summary": summary,
        "description": "Created by the e2e suite.",
        "board": "Service Desk",
        "source": "API",
        "companyId": seed::CONTOSO_ID
    })
}
