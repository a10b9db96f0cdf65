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

build_plugin() {
  echo "==> building the ConnectWise RMM plugin component" >&2
  cargo build --quiet --release --target wasm32-wasip2 --manifest-path plugin/Cargo.toml
}

case "${1:-}" in
  demo)
    ensure_wasm_target
    build_plugin
    echo "==> building the host (the first build takes a few minutes)" >&2
    cargo run --quiet -p toolhost -- demo "${@:2}"
    ;;
  test)
    ensure_wasm_target
    build_plugin
    echo "==> plugin unit tests (native)" >&2
    cargo test --manifest-path plugin/Cargo.toml
    echo "==> workspace tests: host, simulator, end to end" >&2
    cargo test --workspace "${@:2}"
    ;;
  *)
    echo "usage: ./dev.sh demo | test" >&2
    exit 64
    ;;
esac
