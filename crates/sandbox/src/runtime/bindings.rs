//! Host-side bindings of the `toolhost:plugin/tool-plugin` world (`wit/plugin.wit`).
//!
//! Every WASI interface is mapped onto wasmtime's own implementations, so the only code
//! generated here is for our `types` and `tools` interfaces (and the small `wasi:config/store`
//! trait, unused: the linker takes `wasmtime-wasi-config`'s implementation instead).
//!
//! `missing_docs` is off for this module alone: the generated items carry the doc comments
//! of `wit/plugin.wit`, and what the WIT leaves undocumented (some fields and cases, the
//! generated `Host` trait and `add_to_linker`) cannot be documented from Rust.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "toolhost:plugin/tool-plugin",
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
        "wasi:cli": wasmtime_wasi::p2::bindings::cli,
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
    },
});

pub use self::toolhost::plugin::types as wit;
