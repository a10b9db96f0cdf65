//! `toolhost`: the front ends of the host: the command line, the MCP server (stdio and
//! streamable HTTP) and the local admin web UI. Each is a thin layer over `ToolHost`, so a
//! rule lives in the host once and every front end enforces it the same way.

// Host errors carry what an operator needs to act; they travel on the cold path only.
#![allow(clippy::result_large_err)]

mod cli;
mod mcp;
mod serve;
mod ui;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a tool call allocates and frees thousands of small
/// objects across wasmtime, wasi-http, hyper and serde_json, and glibc spent about a tenth of
/// the call's CPU on them (docs/PERFORMANCE.md, "Session 9").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging(&args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let json = args.json;
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            cli::output::print_error(&err, json);
            ExitCode::from(cli::output::exit_code(&err))
        }
    }
}
