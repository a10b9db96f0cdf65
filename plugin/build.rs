//! Embeds the tool catalog minified: `src/catalog.json` stays readable for reviewers, and
//! the component stays well under its size budget.

use std::path::PathBuf;

fn main() {
    let source = "src/catalog.json";
    println!("cargo:rerun-if-changed={source}");
    let text = std::fs::read_to_string(source).expect("src/catalog.json is readable");
    let catalog: serde_json::Value =
        serde_json::from_str(&text).expect("src/catalog.json is valid JSON");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("catalog.min.json"), catalog.to_string())
        .expect("writing the minified catalog");
}
