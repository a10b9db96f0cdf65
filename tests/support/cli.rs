//! The `toolhost` binary in tests: a private home with a pre-warmed compile cache, runs
//! with their output, runs on a pseudo-terminal, and servers a test talks to while they run.

use super::*;

// ---------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------

/// The outcome of one CLI run.
#[derive(Debug)]
pub struct CliOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Both streams, for assertions that do not care where a message went.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs the `toolhost` binary with a private home, the workspace's plugin and a pre-warmed
/// compile cache.
pub struct Cli {
    pub home: TempDir,
    xdg_cache: PathBuf,
}

impl Cli {
    /// A fresh home whose compile cache already holds the plugin (so runs start fast).
    pub async fn new() -> Cli {
        let plugin = plugin_wasm();
        // Make sure the shared cache holds the compiled plugin, then seed this home's cache
        // with it: the CLI keeps compiled components in `<home>/cache`.
        let warm = TempDir::new("warm");
        drop(open_host(host_config(warm.path(), &plugin)).await);
        let home = TempDir::new("cli-home");
        let xdg_cache = target_dir().join("e2e-xdg-cache");
        for dest in [home.path().join("cache"), xdg_cache.join("toolhost")] {
            copy_artifacts(&shared_cache_dir(), &dest);
        }
        Cli { home, xdg_cache }
    }

    /// Runs `toolhost --home <home> --plugin <plugin> <args>` with `envs` set.
    pub async fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> CliOutput {
        let mut cmd = self.command(args);
        cmd.envs(envs.iter().copied())
            .stdin(std::process::Stdio::null());
        let output = tokio::time::timeout(CLI_DEADLINE, cmd.output())
            .await
            .unwrap_or_else(|_| panic!("toolhost {args:?} did not finish within {CLI_DEADLINE:?}"))
            .expect("spawning toolhost");
        let out = CliOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !out.stdout.contains(DEMO_CLIENT_SECRET) && !out.stderr.contains(DEMO_CLIENT_SECRET),
            "toolhost {args:?} printed the client secret:\n{}",
            out.all()
        );
        out
    }

    /// Runs `toolhost --home <home> --plugin <plugin> <args>` on a pseudo-terminal (util-linux
    /// `script`), as a person at an interactive terminal would, typing `input`. stdout and
    /// stderr come back together in `stdout` (a terminal has one screen).
    pub async fn run_at_terminal(&self, args: &[&str], input: &str) -> CliOutput {
        self.run_at_terminal_with(args, input, &[]).await
    }

    /// [`Cli::run_at_terminal`] with `envs` set (after `NO_COLOR` is cleared, so a terminal
    /// behaves the same whatever the test runner's environment says).
    pub async fn run_at_terminal_with(
        &self,
        args: &[&str],
        input: &str,
        envs: &[(&str, &str)],
    ) -> CliOutput {
        use tokio::io::AsyncWriteExt;
        let quoted: Vec<String> = args
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
            .collect();
        let command = format!(
            r#"exec "$TH_BIN" --home "$TH_HOME" --plugin "$TH_PLUGIN" {}"#,
            quoted.join(" ")
        );
        let mut child = tokio::process::Command::new("script")
            .args(["-q", "-e", "-c"])
            .arg(command)
            .arg("/dev/null")
            .env("SHELL", "/bin/sh")
            .env("TH_BIN", toolhost_bin())
            .env("TH_HOME", self.home.path())
            .env("TH_PLUGIN", plugin_wasm())
            .env("XDG_CACHE_HOME", &self.xdg_cache)
            .env_remove("TOOLHOST_HOME")
            .env_remove("TOOLHOST_PLUGIN")
            .env_remove("TOOLHOST_TENANT")
            .env_remove("TOOLHOST_LOG")
            .env_remove("NO_COLOR")
            .envs(envs.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("running `script` (util-linux) for a pseudo-terminal");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        let output = tokio::time::timeout(CLI_DEADLINE, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("toolhost {args:?} at a terminal did not finish"))
            .expect("waiting for `script`");
        drop(stdin);
        let out = CliOutput {
            code: output.status.code(),
            stdout: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            stderr: String::new(),
        };
        assert!(
            !out.stdout.contains(DEMO_CLIENT_SECRET),
            "toolhost {args:?} printed the client secret:\n{}",
            out.stdout
        );
        out
    }

    /// `toolhost connect` with the demo client id, `secret` in the environment, routed to
    /// `upstream`.
    pub async fn connect(&self, secret: &str, upstream: &str, extra: &[&str]) -> CliOutput {
        let mut args = connect_args(upstream).to_vec();
        args.extend_from_slice(extra);
        self.run(&args, &[("TOOLHOST_CLIENT_SECRET", secret)]).await
    }

    /// `toolhost --tenant <tenant> connect` with the demo credentials, routed to `sim`, in
    /// the state `envs` names (the home, or a database).
    pub async fn connect_tenant(
        &self,
        tenant: &str,
        sim: &Simulator,
        envs: &[(&str, &str)],
    ) -> CliOutput {
        self.connect_in(Some(tenant), &sim.base_url(), envs).await
    }

    /// `toolhost [--tenant <tenant>] connect` with the demo credentials, routed to
    /// `upstream`, in the state `envs` names (the home, or a database).
    pub async fn connect_in(
        &self,
        tenant: Option<&str>,
        upstream: &str,
        envs: &[(&str, &str)],
    ) -> CliOutput {
        let mut envs = envs.to_vec();
        envs.push(("TOOLHOST_CLIENT_SECRET", DEMO_CLIENT_SECRET));
        let mut args = match tenant {
            Some(tenant) => vec!["--tenant", tenant],
            None => Vec::new(),
        };
        args.extend(connect_args(upstream));
        self.run(&args, &envs).await
    }

    /// `toolhost --tenant <tenant> clients add <name> --role <role>`: the new client's token.
    pub async fn add_client(
        &self,
        tenant: &str,
        name: &str,
        role: &str,
        envs: &[(&str, &str)],
    ) -> String {
        let args = [
            "--tenant", tenant, "clients", "add", name, "--role", role, "--json",
        ];
        let out = self.run(&args, envs).await;
        assert!(out.success(), "{}", out.all());
        out.json()["token"]
            .as_str()
            .expect("the new client's token")
            .to_string()
    }
}

fn copy_artifacts(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating a cache dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700));
    }
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "cwasm") {
            let dest = to.join(entry.file_name());
            if !dest.exists() {
                // Copy under a unique name, then rename: a concurrent reader never sees half.
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let tmp = to.join(format!(
                    ".{}.{}-{}.tmp",
                    entry.file_name().to_string_lossy(),
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                if std::fs::copy(&path, &tmp).is_ok() {
                    let _ = std::fs::rename(&tmp, &dest);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Long-running commands (toolhost mcp)
// ---------------------------------------------------------------------------------------

impl Cli {
    /// `toolhost --home <home> --plugin <plugin> <args>`, not yet spawned: what [`Cli::run`]
    /// runs, and servers (`toolhost mcp`) that a test talks to while they run. Killed on drop.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(toolhost_bin());
        cmd.arg("--home")
            .arg(self.home.path())
            .arg("--plugin")
            .arg(plugin_wasm())
            .args(args)
            .env_remove("TOOLHOST_HOME")
            .env_remove("TOOLHOST_PLUGIN")
            .env_remove("TOOLHOST_TENANT")
            .env_remove("TOOLHOST_CLIENT_SECRET")
            .env_remove("TOOLHOST_LOG")
            .env("XDG_CACHE_HOME", &self.xdg_cache)
            .kill_on_drop(true);
        cmd
    }
}

/// `connect` to the demo tenant's region and client, routed to `upstream`.
fn connect_args(upstream: &str) -> [&str; 7] {
    [
        "connect",
        "--region",
        "au",
        "--client-id",
        DEMO_CLIENT_ID,
        "--upstream",
        upstream,
    ]
}
