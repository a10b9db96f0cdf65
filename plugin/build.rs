//! Embeds the tool catalog minified: `src/catalog.json` stays readable for reviewers, and
//! the component stays well under its size budget.

use std::path::PathBuf;

/// Initial heap, in bytes (whole wasm pages).
const INITIAL_HEAP_BYTES: usize = 128 << 10;

fn main() {
    // Heap room in the initial memory (after the data and the 1 MiB stack) for an ordinary
    // one-request call: the response, its parsed rows and the answer. Without it every call
    // grew the memory by a page: an `mprotect` then and another when the host's pool slot
    // was reused (tests/all/scale.rs, `a_one_request_tool_runs_in_the_initial_memory`).
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=--initial-heap={INITIAL_HEAP_BYTES}");
    }
    let source = "src/catalog.json";
    println!("cargo:rerun-if-changed={source}");
    let text = std::fs::read_to_string(source).expect("src/catalog.json is readable");
    let mut catalog: serde_json::Value =
        serde_json::from_str(&text).expect("src/catalog.json is valid JSON");
    // Repeated boilerplate is restored by `catalog::spec_from_json`: every input schema's
    // `$schema`, and the annotations as four flags in a fixed order.
    for tool in catalog
        .as_array_mut()
        .expect("src/catalog.json is an array")
    {
        let schema = tool["inputSchema"]
            .as_object_mut()
            .expect("inputSchema objects");
        schema.remove("$schema");
        let a = &tool["annotations"];
        let flags: Vec<serde_json::Value> = ["readOnly", "destructive", "idempotent", "openWorld"]
            .iter()
            .map(|k| a.get(*k).cloned().unwrap_or(serde_json::Value::Bool(false)))
            .collect();
        tool["annotations"] = serde_json::Value::Array(flags);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("catalog.min.json"), catalog.to_string())
        .expect("writing the minified catalog");
}
