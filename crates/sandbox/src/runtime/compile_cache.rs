//! Compile once, then load the native artifact from disk.
//!
//! The cache key covers the wasmtime version, the engine's compatibility hash (target,
//! tunables, features) and the component's SHA-256, so a stale or foreign artifact is never
//! picked. Deserializing runs native code: the cache directory is created private (0700)
//! and must stay so.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;
use wasmtime::component::Component;
use wasmtime::Engine;

const WASMTIME_VERSION: &str = "48.0.8";

/// How the component was obtained.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CompileReport {
    /// The component's SHA-256, hex.
    pub component_sha256: String,
    /// `hit` (loaded), `miss` (compiled and stored) or `off` (no cache directory).
    pub cache: &'static str,
    /// Compile or load time.
    pub elapsed_ms: f64,
}

pub fn load(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: Option<&Path>,
) -> wasmtime::Result<(Component, CompileReport)> {
    let started = Instant::now();
    let component_sha256 = hex::encode(Sha256::digest(wasm));
    let report = |cache| CompileReport {
        component_sha256: component_sha256.clone(),
        cache,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    let Some(dir) = cache_dir else {
        let component = Component::new(engine, wasm)?;
        return Ok((component, report("off")));
    };
    let path = artifact_path(engine, dir, &component_sha256);
    if path.exists() {
        // SAFETY: the artifact was written by `Component::serialize` for this exact engine
        // configuration and component (both in the key) into a private directory.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, report("hit"))),
            Err(err) => {
                tracing::warn!(path = %path.display(), "discarding unusable compiled artifact: {err}")
            }
        }
    }
    let component = Component::new(engine, wasm)?;
    if let Err(err) = store(&path, &component.serialize()?) {
        tracing::warn!(path = %path.display(), "could not cache the compiled component: {err}");
    }
    Ok((component, report("miss")))
}

fn artifact_path(engine: &Engine, dir: &Path, component_sha256: &str) -> PathBuf {
    let mut hasher = Sha256Hasher(Sha256::new());
    WASMTIME_VERSION.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    component_sha256.hash(&mut hasher);
    let key = hex::encode(hasher.0.finalize());
    dir.join(format!("{}.cwasm", &key[..32]))
}

/// Writes atomically and owner-only, so a crash never leaves half an artifact.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    toolhost_base::create_private_dir(dir)?;
    // Loading an artifact runs its native code: the directory is the host's own and is kept
    // private even when someone loosened it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    toolhost_base::write_private(path, bytes)
}

/// Feeds `Hash` output into SHA-256: stable across processes, unlike `DefaultHasher`.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
