//! The deployment files (`Dockerfile`, `deploy/kubernetes/*.yaml`) agree with the binary and
//! with each other. The image cannot be built here (no registry for its base images): CI
//! elsewhere builds it; this test keeps the files honest. It parses them and checks that the
//! final stage runs as a non-root user, the builder builds the plugin, every variable they set
//! is one `toolhost serve` reads, the probes hit `/healthz` and `/readyz`, several replicas
//! run, and every Secret key they reference exists.

use e2e::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One Dockerfile instruction: its keyword (upper case) and the rest of its line.
#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
}

/// A build stage: its `FROM` arguments and its instructions.
#[derive(Debug)]
struct Stage {
    from: String,
    name: Option<String>,
    instructions: Vec<Instruction>,
}

impl Stage {
    fn all(&self, keyword: &str) -> impl Iterator<Item = &str> {
        let keyword = keyword.to_string();
        self.instructions
            .iter()
            .filter(move |i| i.keyword == keyword)
            .map(|i| i.args.as_str())
    }
}

/// The stages of a Dockerfile: comments dropped, continuation lines joined.
fn dockerfile_stages(text: &str) -> Vec<Stage> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if trimmed.starts_with('#') {
            continue; // a comment inside a continued instruction
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    assert!(
        current.is_empty(),
        "the Dockerfile ends inside a continued line"
    );
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let args = args.trim().to_string();
        if keyword == "FROM" {
            let words: Vec<&str> = args.split_whitespace().collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            stages.push(Stage {
                from: words.first().unwrap_or(&"").to_string(),
                name,
                instructions: Vec::new(),
            });
            continue;
        }
        let stage = stages
            .last_mut()
            .unwrap_or_else(|| panic!("`{keyword}` before the first FROM"));
        stage.instructions.push(Instruction { keyword, args });
    }
    stages
}

/// Every YAML document of every file under `deploy/kubernetes/`, by file name.
fn manifests() -> BTreeMap<String, Vec<Value>> {
    let dir = workspace_root().join("deploy/kubernetes");
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("deploy/kubernetes exists") {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let docs: Vec<Value> = split_documents(&text)
            .iter()
            .map(|doc| {
                serde_norway::from_str::<Value>(doc)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()))
            })
            .filter(|doc| !doc.is_null())
            .collect();
        assert!(!docs.is_empty(), "{} holds no document", path.display());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        files.insert(name, docs);
    }
    files
}

/// A YAML stream's documents (separated by `---` lines).
fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().unwrap();
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs
}

fn of_kind<'a>(files: &'a BTreeMap<String, Vec<Value>>, kind: &str) -> Vec<&'a Value> {
    files
        .values()
        .flatten()
        .filter(|doc| doc["kind"] == kind)
        .collect()
}

/// The names of `TOOLHOST_*` variables `toolhost serve` reads: those clap shows in its help
/// (`[env: NAME=...]`), and the ones the code reads itself (string literals in the non-test
/// part of the sources of the binary and the crates it uses: secrets, keys and files never
/// have a flag).
fn variables_serve_reads() -> BTreeSet<String> {
    let output = std::process::Command::new(toolhost_bin())
        .args(["serve", "--help"])
        .output()
        .expect("running toolhost serve --help");
    assert!(output.status.success(), "toolhost serve --help failed");
    let help = String::from_utf8_lossy(&output.stdout);
    let mut names: BTreeSet<String> = help
        .split("[env: ")
        .skip(1)
        .filter_map(|rest| rest.split(['=', ']']).next())
        .map(str::to_string)
        .collect();
    assert!(
        names.contains("TOOLHOST_LISTEN") && names.contains("TOOLHOST_HOME"),
        "the help should list the variables: {help}"
    );
    for dir in ["crates/toolhost/src", "crates/state/src", "crates/host/src"] {
        collect_literals(&workspace_root().join(dir), &mut names);
    }
    names
}

fn collect_literals(dir: &Path, names: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_literals(&path, names);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs")
            || path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains("test"))
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for piece in code.split("\"TOOLHOST_").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if piece[name.len()..].starts_with('"') {
                names.insert(format!("TOOLHOST_{name}"));
            }
        }
    }
}

/// The port of an `IP:PORT` listening address.
fn port_of(listen: &str) -> u64 {
    listen
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("`{listen}` is not IP:PORT"))
}

#[test]
fn the_dockerfile_builds_the_plugin_and_runs_serve_as_a_non_root_user() {
    let text = std::fs::read_to_string(workspace_root().join("Dockerfile")).unwrap();
    let stages = dockerfile_stages(&text);
    assert!(stages.len() >= 2, "a multi-stage build: {stages:?}");
    let runtime = stages.last().unwrap();

    // The builder: the stage the runtime copies the binary from.
    let copies: Vec<&str> = runtime.all("COPY").collect();
    let from_builder = copies
        .iter()
        .find_map(|args| {
            args.split_whitespace()
                .find_map(|w| w.strip_prefix("--from="))
                .filter(|_| args.contains("/usr/local/bin/toolhost"))
        })
        .expect("the runtime copies the binary from a build stage");
    let builder = stages
        .iter()
        .find(|s| s.name.as_deref() == Some(from_builder))
        .unwrap_or_else(|| panic!("no stage named {from_builder}"));
    assert!(builder.from.starts_with("rust:"), "{}", builder.from);
    let runs: Vec<&str> = builder.all("RUN").collect();
    let position = |needle: &[&str]| {
        runs.iter()
            .position(|run| needle.iter().all(|n| run.contains(n)))
            .unwrap_or_else(|| panic!("no RUN with {needle:?} in the builder: {runs:?}"))
    };
    let target = position(&["rustup target add wasm32-wasip2"]);
    let plugin = position(&[
        "cargo build",
        "--release",
        "--target wasm32-wasip2",
        "--manifest-path plugin/Cargo.toml",
    ]);
    let host = position(&["cargo build", "--release", "-p toolhost"]);
    assert!(
        target < plugin && plugin < host,
        "target, plugin, then host"
    );
    // The host bundles the component built just before, not a second build of it.
    assert!(
        runs[host].contains("TOOLHOST_BUNDLED_PLUGIN="),
        "{}",
        runs[host]
    );

    // The runtime: slim Debian, no toolchain, a fixed non-root user, `toolhost serve`.
    assert!(runtime.from.starts_with("debian:"), "{}", runtime.from);
    assert!(
        runtime.all("RUN").all(|run| !run.contains("cargo")),
        "no build in the runtime stage"
    );
    let user = runtime
        .all("USER")
        .last()
        .expect("the final stage sets USER");
    let uid = user.split(':').next().unwrap();
    let uid: u32 = uid
        .parse()
        .unwrap_or_else(|_| panic!("USER {user}: a numeric uid, so runAsNonRoot can check it"));
    assert!(uid >= 1000, "USER {user} is a system or root uid");
    let entrypoint: Vec<String> =
        serde_json::from_str(runtime.all("ENTRYPOINT").last().expect("an ENTRYPOINT")).unwrap();
    assert_eq!(entrypoint, ["toolhost", "serve"]);

    // What it sets is what serve reads, and it exposes the port it listens on.
    let reads = variables_serve_reads();
    let mut listen = None;
    for env in runtime.all("ENV") {
        for pair in env.split_whitespace() {
            let (name, value) = pair.split_once('=').expect("ENV NAME=VALUE");
            assert!(
                reads.contains(name),
                "the Dockerfile sets {name}, which serve does not read"
            );
            if name == "TOOLHOST_LISTEN" {
                listen = Some(port_of(value));
            }
        }
    }
    let exposed: u64 = runtime
        .all("EXPOSE")
        .next()
        .expect("EXPOSE")
        .parse()
        .unwrap();
    assert_eq!(Some(exposed), listen, "EXPOSE and TOOLHOST_LISTEN agree");

    let ignore = std::fs::read_to_string(workspace_root().join(".dockerignore")).unwrap();
    for line in ["target/", "**/node_modules/"] {
        assert!(
            ignore.lines().any(|l| l.trim() == line),
            ".dockerignore lacks {line}"
        );
    }
}

#[test]
fn the_kubernetes_example_agrees_with_the_binary_and_with_itself() {
    let files = manifests();
    let kustomization = &files["kustomization.yaml"][0];
    let listed: BTreeSet<&str> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let present: BTreeSet<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|f| *f != "kustomization.yaml")
        .collect();
    assert_eq!(listed, present, "kustomization.yaml lists every manifest");

    let secrets: BTreeMap<&str, BTreeSet<String>> = of_kind(&files, "Secret")
        .into_iter()
        .map(|s| {
            let keys = ["data", "stringData"]
                .iter()
                .filter_map(|field| s[field].as_object())
                .flat_map(|map| map.keys().cloned())
                .collect();
            (s["metadata"]["name"].as_str().unwrap(), keys)
        })
        .collect();
    // The example's key must not be usable: nobody should run with a key from a repository.
    for secret in of_kind(&files, "Secret") {
        if let Some(key) = secret["stringData"]["state-key"].as_str() {
            let base64ish = key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
            assert!(
                !(base64ish && key.len() == 44),
                "the example Secret holds a real key"
            );
        }
    }

    let deployments = of_kind(&files, "Deployment");
    assert_eq!(deployments.len(), 1);
    let deployment = deployments[0];
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap();
    assert!(replicas > 1, "several replicas on one database: {replicas}");
    let pod = &deployment["spec"]["template"]["spec"];
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let dockerfile = std::fs::read_to_string(workspace_root().join("Dockerfile")).unwrap();
    let image_user = dockerfile_stages(&dockerfile)
        .last()
        .and_then(|s| s.all("USER").last().map(str::to_string))
        .unwrap();
    assert_eq!(
        pod["securityContext"]["runAsUser"].to_string(),
        image_user.split(':').next().unwrap(),
        "the pod runs as the image's user"
    );

    let volumes: BTreeMap<&str, &Value> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v))
        .collect();
    let reads = variables_serve_reads();
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );

    // Where each mounted file comes from: path -> (secret, key), and emptyDir mounts.
    let mut secret_files: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut empty_dirs = BTreeSet::new();
    for mount in container["volumeMounts"].as_array().unwrap() {
        let at = mount["mountPath"].as_str().unwrap();
        let volume = volumes[mount["name"].as_str().unwrap()];
        if volume.get("emptyDir").is_some() {
            empty_dirs.insert(at.to_string());
        }
        if let Some(secret) = volume.get("secret") {
            let name = secret["secretName"].as_str().unwrap();
            let keys = secrets
                .get(name)
                .unwrap_or_else(|| panic!("the volume mounts Secret {name}, which is not defined"));
            for item in secret["items"].as_array().unwrap() {
                let key = item["key"].as_str().unwrap();
                assert!(keys.contains(key), "Secret {name} has no key {key}");
                let path = format!("{at}/{}", item["path"].as_str().unwrap());
                secret_files.insert(path, (name.to_string(), key.to_string()));
            }
            // Readable by the pod's group at most (the sealing key file is refused looser).
            let mode = secret["defaultMode"].as_u64().expect("defaultMode is set");
            assert_eq!(
                mode & 0o037,
                0,
                "defaultMode {mode:o} lets others read the secrets"
            );
        }
    }

    let mut set = BTreeSet::new();
    let mut listen = None;
    for env in container["env"].as_array().unwrap() {
        let name = env["name"].as_str().unwrap();
        assert!(set.insert(name.to_string()), "{name} is set twice");
        assert!(
            reads.contains(name),
            "the Deployment sets {name}, which toolhost serve does not read (it reads {reads:?})"
        );
        if let Some(reference) = env["valueFrom"].get("secretKeyRef") {
            let (secret, key) = (
                reference["name"].as_str().unwrap(),
                reference["key"].as_str().unwrap(),
            );
            assert!(
                secrets.get(secret).is_some_and(|keys| keys.contains(key)),
                "{name} refers to key {key} of Secret {secret}, which does not exist"
            );
        }
        let value = env["value"].as_str().unwrap_or_default();
        if name.ends_with("_FILE") {
            assert!(
                secret_files.contains_key(value),
                "{name}={value} is not a file mounted from a Secret"
            );
        }
        if name == "TOOLHOST_LISTEN" {
            listen = Some(port_of(value));
        }
        if name == "TOOLHOST_HOME" {
            assert!(
                empty_dirs.contains(value),
                "the home {value} is not a writable emptyDir"
            );
        }
    }
    // PostgreSQL and the sealing key: what lets several replicas share one state.
    for needed in ["TOOLHOST_DATABASE_URL_FILE", "TOOLHOST_STATE_KEY_FILE"] {
        assert!(set.contains(needed), "the Deployment does not set {needed}");
    }

    let ports = container["ports"].as_array().unwrap();
    let http = ports
        .iter()
        .find(|p| p["name"] == "http")
        .expect("a port named http");
    assert_eq!(
        http["containerPort"].as_u64(),
        listen,
        "the port serve listens on"
    );
    for (probe, path) in [
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("startupProbe", "/healthz"),
    ] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert_eq!(get["port"], "http", "{probe}");
    }
    // Unset, serve's default deadline is 30 s.
    let deadline: u64 = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "TOOLHOST_SHUTDOWN_DEADLINE")
        .map_or(30, |e| e["value"].as_str().unwrap().parse().unwrap());
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(
        grace > deadline,
        "the grace period outlasts the shutdown deadline"
    );

    let services = of_kind(&files, "Service");
    assert_eq!(services.len(), 1);
    let service = &services[0]["spec"];
    for (label, value) in service["selector"].as_object().unwrap() {
        assert_eq!(&pod_labels[label], value, "the Service selects the pods");
    }
    assert_eq!(service["ports"][0]["targetPort"], "http");

    // The guide names every variable the example sets.
    let guide = std::fs::read_to_string(workspace_root().join("docs/DEPLOY.md")).unwrap();
    for name in &set {
        assert!(
            guide.contains(name.as_str()),
            "docs/DEPLOY.md does not explain {name}"
        );
    }
}
