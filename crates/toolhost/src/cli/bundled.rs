//! The ConnectWise RMM plugin, bundled into the binary at build time (see `build.rs`): the
//! default plugin travels with `toolhost`, so nothing points into a build tree at run time.
//! It is written once to `<home>/plugins/`, named by its digest, and run from there like any
//! other component (the compile cache and, later, grants key on that file).

use anyhow::Context;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

static BUNDLED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundled_plugin.wasm"));

/// The bundled plugin's file under `home`, written on first use.
pub fn install(home: &Path) -> anyhow::Result<PathBuf> {
    let digest = Sha256::digest(BUNDLED);
    let hex = hex::encode(&digest[..8]);
    let path = home
        .join("plugins")
        .join(format!("cw_rmm_plugin-{hex}.wasm"));
    let current = std::fs::read(&path).is_ok_and(|bytes| bytes == BUNDLED);
    if !current {
        toolhost_base::write_private(&path, BUNDLED)
            .with_context(|| format!("writing the bundled plugin to {}", path.display()))?;
    }
    Ok(path)
}

/// `--plugin` as given, else the bundled ConnectWise RMM plugin (installed under `home`).
pub fn plugin_path(plugin: Option<PathBuf>, home: &Path) -> anyhow::Result<PathBuf> {
    let Some(path) = plugin else {
        return install(home);
    };
    anyhow::ensure!(
        path.exists(),
        "plugin not found at {}: pass the path of a plugin component (.wasm), or leave out \
         --plugin (and TOOLHOST_PLUGIN) to run the bundled ConnectWise RMM plugin",
        path.display()
    );
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_and_repairs_a_damaged_copy() {
        let home = tempfile::tempdir().unwrap();
        let path = install(home.path()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), BUNDLED);
        std::fs::write(&path, b"damaged").unwrap();
        assert_eq!(install(home.path()).unwrap(), path);
        assert_eq!(std::fs::read(&path).unwrap(), BUNDLED);
    }
}
