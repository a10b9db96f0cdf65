wit_bindgen::generate!({
    world: "tool-plugin",
    path: "../wit",
    with: {
        "wasi:http/types@0.2.12": wasip2::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasip2::http::outgoing_handler,
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
        "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
        "wasi:random/random@0.2.12": wasip2::random::random,
        "wasi:random/insecure@0.2.12": wasip2::random::insecure,
        "wasi:random/insecure-seed@0.2.12": wasip2::random::insecure_seed,
        "wasi:cli/environment@0.2.12": wasip2::cli::environment,
        "wasi:cli/exit@0.2.12": wasip2::cli::exit,
        "wasi:cli/stdin@0.2.12": wasip2::cli::stdin,
        "wasi:cli/stdout@0.2.12": wasip2::cli::stdout,
        "wasi:cli/stderr@0.2.12": wasip2::cli::stderr,
        "wasi:cli/terminal-input@0.2.12": wasip2::cli::terminal_input,
        "wasi:cli/terminal-output@0.2.12": wasip2::cli::terminal_output,
        "wasi:cli/terminal-stdin@0.2.12": wasip2::cli::terminal_stdin,
        "wasi:cli/terminal-stdout@0.2.12": wasip2::cli::terminal_stdout,
        "wasi:cli/terminal-stderr@0.2.12": wasip2::cli::terminal_stderr,
        "wasi:config/store@0.2.0-rc.1": generate,
    },
});
use exports::toolhost::plugin::tools::Guest;
use toolhost::plugin::types::*;
struct P;
impl Guest for P {
    fn metadata() -> PluginMetadata { todo!() }
    fn list_tools() -> Vec<ToolDescriptor> { vec![] }
    fn discover_tools() -> Result<Vec<ToolDescriptor>, ToolError> { Ok(vec![]) }
    fn call_tool(_n: String, _a: String) -> Result<String, ToolError> {
        let v = wasi::config::store::get("region");
        Ok(format!("{v:?}"))
    }
}
export!(P);
