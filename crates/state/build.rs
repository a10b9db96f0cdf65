//! Lists the SQL files of `migrations/` (named `NNNN_name.sql`) for `src/migrations.rs`, so a
//! migration is applied by adding its file, with nothing else to keep in step.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read at run time: a build script compiled once can be run for another checkout of the same
    // crate (a shared target directory), and must list that checkout's migrations.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found: Vec<(u32, String, String)> = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("crates/state/migrations is readable") {
        let path = entry.expect("a migrations entry").path();
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        let (number, name) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("migration {file}: expected NNNN_name.sql"));
        let version: u32 = number
            .parse()
            .unwrap_or_else(|_| panic!("migration {file}: {number} is not a number"));
        println!("cargo:rerun-if-changed={}", path.display());
        found.push((version, name.to_string(), path.display().to_string()));
    }
    found.sort();
    for pair in found.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "migrations {} and {} share the number {}",
            pair[0].1,
            pair[1].1,
            pair[0].0
        );
    }
    let mut out = String::from("&[\n");
    for (version, name, path) in &found {
        writeln!(
            out,
            "    Migration {{ version: {version}, name: {name:?}, sql: include_str!({path:?}) }},"
        )
        .unwrap();
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
