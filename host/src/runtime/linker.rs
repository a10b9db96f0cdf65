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
