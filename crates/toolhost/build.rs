//! Bundles the ConnectWise RMM plugin component into the `toolhost` binary, so an installed
//! binary (`cargo install --path crates/toolhost`, or a copy on another machine) runs without
//! a checkout. `TOOLHOST_BUNDLED_PLUGIN=<path.wasm>` bundles a prebuilt component instead of
//! building `plugin/`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-env-changed=TOOLHOST_BUNDLED_PLUGIN");
    let wasm = match std::env::var_os("TOOLHOST_BUNDLED_PLUGIN") {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            path
        }
        None => build_plugin(&manifest.join("../../plugin")),
    };
    let bytes = std::fs::read(&wasm)
        .unwrap_or_else(|e| panic!("cannot read the plugin component {}: {e}", wasm.display()));
    std::fs::write(out.join("bundled_plugin.wasm"), bytes).expect("writing OUT_DIR");
}

/// `cargo build --release --target wasm32-wasip2` of the plugin crate, in its own workspace
/// and target directory (the plugin has its own size-tuned release profile).
fn build_plugin(plugin: &Path) -> PathBuf {
    for input in ["src", "Cargo.toml", "Cargo.lock", "build.rs", "../wit"] {
        println!("cargo:rerun-if-changed={}", plugin.join(input).display());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The outer build's settings (its target, flags, profile, jobserver) are not the guest's.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().to_string();
        if (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || key.starts_with("RUSTC")
            || key == "RUSTFLAGS"
            || key == "RUSTDOCFLAGS"
            || key.starts_with("DEP_")
            || key == "TARGET"
            || key == "HOST"
            || key == "OUT_DIR"
            || key == "PROFILE"
            || key == "OPT_LEVEL"
            || key == "DEBUG"
            || key == "NUM_JOBS"
        {
            cmd.env_remove(&key);
        }
    }
    let status = cmd
        .current_dir(plugin)
        .args(["build", "--release", "--quiet", "--target", "wasm32-wasip2"])
        .arg("--target-dir")
        .arg(plugin.join("target"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the plugin: {e}"));
    if !status.success() {
        panic!(
            "building the ConnectWise RMM plugin failed ({status}); it needs the wasm32-wasip2 \
             target: `rustup target add wasm32-wasip2` (./dev.sh does it), or set \
             TOOLHOST_BUNDLED_PLUGIN to a prebuilt component"
        );
    }
    plugin.join("target/wasm32-wasip2/release/cw_rmm_plugin.wasm")
}
