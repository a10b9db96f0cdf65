//! The linker offers exactly the imports of the `tool-plugin` world. A component that
//! imports anything else (a filesystem, sockets, another HTTP handler) fails to
//! instantiate with wasmtime naming the missing import: deny by default at link time.

use super::call_state::CallState;
use wasmtime::component::Linker;
use wasmtime::Engine;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::{cli, random};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::WasiView;

pub fn plugin_linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    let l = &mut linker;
    // wasi:io, wasi:clocks, wasi:random/random, wasi:cli/std{in,out,err}.
    wasmtime_wasi::p2::add_to_linker_proxy_interfaces_async(l)?;
    random::insecure::add_to_linker::<CallState, WasiRandom>(l, |s| s.ctx().ctx.random())?;
    random::insecure_seed::add_to_linker::<CallState, WasiRandom>(l, |s| s.ctx().ctx.random())?;
    cli::environment::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::exit::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_input::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_output::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stdin::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stdout::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    cli::terminal_stderr::add_to_linker::<CallState, WasiCli>(l, CallState::cli)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(l)?;
    wasmtime_wasi_config::add_to_linker(l, |s| wasmtime_wasi_config::WasiConfig::from(&s.config))?;
    Ok(linker)
}

/// The interfaces the world lets a plugin import (any 0.2.x version of each). Kept next to
/// the linker that provides them; the conformance suite reports anything else by name.
pub const WORLD_IMPORTS: &[&str] = &[
    "wasi:http/outgoing-handler",
    "wasi:http/types",
    "wasi:config/store",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
];

/// The world's own type-only interface, imported by every plugin that uses its types.
const OWN_TYPES: &str = "toolhost:plugin/types";

/// Whether an import name such as `wasi:http/types@0.2.12` is one the world allows.
pub fn is_world_import(name: &str) -> bool {
    let (interface, version) = name.split_once('@').unwrap_or((name, ""));
    if interface == OWN_TYPES {
        return version.starts_with("0.2.");
    }
    WORLD_IMPORTS.contains(&interface) && (version.is_empty() || version.starts_with("0.2."))
}

#[cfg(test)]
mod tests {
    use super::is_world_import;

    #[test]
    fn allows_the_world_and_nothing_else() {
        assert!(is_world_import("wasi:http/outgoing-handler@0.2.12"));
        assert!(is_world_import("wasi:config/store@0.2.0-rc.1"));
        assert!(is_world_import("toolhost:plugin/types@0.2.0"));
        assert!(!is_world_import("toolhost:plugin/types@0.1.0"));
        assert!(!is_world_import("toolhost:plugin/types@1.0.0"));
        assert!(!is_world_import("wasi:filesystem/types@0.2.12"));
        assert!(!is_world_import("wasi:sockets/tcp@0.2.12"));
        assert!(!is_world_import("wasi:http/outgoing-handler@0.3.0"));
        assert!(!is_world_import("evil:backdoor/api"));
    }
}
