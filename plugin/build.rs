//! Embeds the tool catalog minified: `src/catalog.json` stays readable for reviewers, and
//! the component stays well under its size budget.

use std::path::PathBuf;

fn main() {
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
