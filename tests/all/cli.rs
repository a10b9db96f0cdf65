//! The `toolhost` binary, spawned against a private home and an in-process simulator.
//! Every run is also checked (by the harness) never to print the client secret.

use e2e::*;
use simulator::{MintLimit, Simulator, SimulatorConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use std::time::Duration;

async fn sim() -> Simulator {
    Simulator::start(sim_config()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_tools_and_call() {
    let sim = sim().await;
    let cli = Cli::new().await;

    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "connect failed:\n{}", out.all());
    assert!(out.stdout.contains("Connected"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&format!("{SEEDED_TOOL_COUNT} tools discovered")),
        "{}",
        out.stdout
    );
    let file = cli.home.path().join("connection.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "connection.json is {mode:o}");
    }
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["region"], "au");
    assert_eq!(saved["clientId"], DEMO_CLIENT_ID);

    let tools = cli.run(&["tools", "--json"], &[]).await;
    assert!(tools.success(), "{}", tools.all());
    let listed = tools.json();
    assert_eq!(
        listed.as_array().unwrap().len(),
        SEEDED_TOOL_COUNT,
        "{}",
        tools.stdout
    );
    // Every entry carries its namespaced name. (Matched in the text: see the report on the
    // duplicate `name` key, which makes a JSON parser keep the bare name instead.)
    assert_eq!(
        tools.stdout.matches("\"connectwise_rmm:cw-rmm-").count(),
        SEEDED_TOOL_COUNT,
        "{}",
        tools.stdout
    );
    assert!(tools
        .stdout
        .contains("\"connectwise_rmm:cw-rmm-script-disk-cleanup\""));
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["inputSchema"].is_object() || t["input_schema"].is_object()));

    let table = cli.run(&["tools"], &[]).await;
    assert!(table.success() && table.stdout.contains("cw-rmm-run-task"));

    let call = cli
        .run(
            &[
                "call",
                "cw-rmm-list-devices",
                "--args",
                r#"{"name":"DC01"}"#,
            ],
            &[],
        )
        .await;
    assert!(call.success(), "{}", call.all());
    let result = call.json();
    assert!(
        result["devices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["endpointId"] == seed::DC01_ID),
        "{result}"
    );

    let report = cli
        .run(
            &[
                "call",
                "connectwise_rmm:cw-rmm-get-company",
                "--args",
                &format!(r#"{{"companyId":"{}"}}"#, seed::CONTOSO_ID),
                "--json",
            ],
            &[],
        )
        .await;
    assert!(report.success(), "{}", report.all());
    let report = report.json();
    assert_eq!(report["tool"], "connectwise_rmm:cw-rmm-get-company");
    assert_eq!(report["result"]["name"], seed::CONTOSO_NAME);

    let unapproved = cli
        .run(
            &[
                "call",
                "cw-rmm-run-task",
                "--args",
                &format!(
                    r#"{{"templateId":"{}","targets":["{}"],"parameters":{{"drive":"C:"}}}}"#,
                    seed::DISK_CLEANUP_SCRIPT_ID,
                    seed::MARIA_LAPTOP_ID
                ),
            ],
            &[],
        )
        .await;
    assert_eq!(unapproved.code, Some(2), "{}", unapproved.all());
    assert!(
        unapproved.stderr.contains("needs approval"),
        "{}",
        unapproved.stderr
    );
    assert!(sim
        .requests()
        .iter()
        .all(|r| !r.path.ends_with("/schedule-tasks")));

    let bad_args = cli
        .run(&["call", "cw-rmm-get-device", "--args", "{}"], &[])
        .await;
    assert_eq!(bad_args.code, Some(2), "{}", bad_args.all());
    assert!(
        bad_args.stderr.contains("endpointId"),
        "{}",
        bad_args.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_fails_clearly() {
    let sim = sim().await;
    let cli = Cli::new().await;
    let out = cli
        .connect("definitely-not-the-secret", &sim.base_url(), &[])
        .await;
    assert!(!out.success(), "{}", out.all());
    assert!(out.stderr.contains("client id or secret"), "{}", out.stderr);
    assert!(
        !out.all().contains("definitely-not-the-secret"),
        "{}",
        out.all()
    );
    assert!(!cli.home.path().join("connection.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_region_lists_the_known_ones() {
    let sim = sim().await;
    let cli = Cli::new().await;
    let out = cli
        .run(
            &[
                "connect",
                "--region",
                "mars",
                "--client-id",
                DEMO_CLIENT_ID,
                "--upstream",
                &sim.base_url(),
            ],
            &[("TOOLHOST_CLIENT_SECRET", DEMO_CLIENT_SECRET)],
        )
        .await;
    assert!(!out.success(), "{}", out.all());
    for region in ["mars", "au", "na", "eu"] {
        assert!(out.stderr.contains(region), "{region}: {}", out.stderr);
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_key_says_to_wait() {
    let sim = Simulator::start(SimulatorConfig {
        mint_limit: MintLimit {
            max_mints: 1,
            window: Duration::from_secs(60),
        },
        ..sim_config()
    })
    .await
    .unwrap();
    let cli = Cli::new().await;
    let first = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(first.success(), "{}", first.all());
    let second = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(!second.success(), "{}", second.all());
    let message = second.stderr.to_lowercase();
    assert!(message.contains("locked"), "{}", second.stderr);
    assert!(message.contains("wait"), "{}", second.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_without_a_connection_says_to_connect() {
    let cli = Cli::new().await;
    let out = cli.run(&["call", "cw-rmm-list-companies"], &[]).await;
    assert_eq!(out.code, Some(2), "{}", out.all());
    assert!(out.stderr.contains("toolhost connect"), "{}", out.stderr);

    let json = cli
        .run(&["call", "cw-rmm-list-companies", "--json"], &[])
        .await;
    assert_ne!(json.code, Some(0));
    assert_eq!(
        json.json()["error"]["kind"],
        "not-connected",
        "{}",
        json.stdout
    );

    let tools = cli.run(&["tools"], &[]).await;
    assert!(tools.success(), "{}", tools.all());
    assert!(tools.stdout.contains("Not connected"), "{}", tools.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_plays_both_stories() {
    let cli = Cli::new().await;
    let out = cli.run(&["demo", "--task-step-ms", "100"], &[]).await;
    assert!(out.success(), "demo failed:\n{}", out.all());
    assert!(out.stdout.contains("Answer: DC01 is"), "{}", out.stdout);
    assert!(out.stdout.contains("Success"), "{}", out.stdout);
    assert!(out.stdout.contains("ticket #"), "{}", out.stdout);
    // The demo never touches the home it was given.
    assert!(!cli.home.path().join("connection.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toolhost_toml_limits_reach_the_gate_and_a_bad_one_names_line_and_column() {
    let sim = sim().await;
    let cli = Cli::new().await;
    let out = cli.connect(DEMO_CLIENT_SECRET, &sim.base_url(), &[]).await;
    assert!(out.success(), "connect failed:\n{}", out.all());
    let settings = cli.home.path().join("toolhost.toml");

    // One outbound request per call: listing devices needs more, so the gate stops it.
    std::fs::write(&settings, "[outbound]\nmax_requests_per_call = 1\n").unwrap();
    let out = cli
        .run(
            &[
                "call",
                "cw-rmm-list-devices",
                "--args",
                r#"{"name":"DC01"}"#,
            ],
            &[],
        )
        .await;
    assert!(!out.success(), "{}", out.all());
    assert!(
        out.stderr.contains("per-call limit"),
        "expected the request cap from toolhost.toml:\n{}",
        out.all()
    );

    // A key out of range: refused with the file, line, column and the valid range.
    std::fs::write(&settings, "[limits]\nmemory_mb = 0\n").unwrap();
    let out = cli.run(&["tools"], &[]).await;
    assert!(!out.success(), "{}", out.all());
    assert!(
        out.stderr.contains("toolhost.toml, line 2, column 13"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("1..=4096"), "{}", out.all());

    // Without the file, the defaults serve the same call.
    std::fs::remove_file(&settings).unwrap();
    let out = cli
        .run(
            &[
                "call",
                "cw-rmm-list-devices",
                "--args",
                r#"{"name":"DC01"}"#,
            ],
            &[],
        )
        .await;
    assert!(out.success(), "{}", out.all());
}

/// A `toolhost` copied out of the checkout runs with the plugin it carries: no
/// `TOOLHOST_PLUGIN`, no `--plugin`, no build tree. The story plays on its embedded
/// simulator, and a fresh home lists the plugin's tools.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_copied_out_of_the_checkout_runs_its_bundled_plugin() {
    let elsewhere = TempDir::new("installed");
    let bin = elsewhere.path().join("toolhost");
    std::fs::copy(toolhost_bin(), &bin).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(&bin)
            .args(args)
            .current_dir(elsewhere.path())
            .env("HOME", elsewhere.path())
            .env("XDG_CONFIG_HOME", elsewhere.path().join("config"))
            .env_remove("TOOLHOST_PLUGIN")
            .env_remove("TOOLHOST_HOME")
            .env_remove("CARGO_MANIFEST_DIR")
            .output()
            .unwrap()
    };
    let tools = run(&["tools", "--json"]);
    let stderr = String::from_utf8_lossy(&tools.stderr);
    assert!(tools.status.success(), "{stderr}");
    let listed = String::from_utf8_lossy(&tools.stdout);
    assert!(
        listed.contains("\"connectwise_rmm:cw-rmm-list-devices\""),
        "{listed}"
    );
    let home = elsewhere.path().join("config/toolhost");
    let installed: Vec<_> = std::fs::read_dir(home.join("plugins"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        installed.len() == 1 && installed[0].starts_with("cw_rmm_plugin-"),
        "{installed:?}"
    );

    let demo = run(&["demo", "--task-step-ms", "20"]);
    let stdout = String::from_utf8_lossy(&demo.stdout);
    assert!(
        demo.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    assert!(stdout.contains("DC01"), "{stdout}");
}
