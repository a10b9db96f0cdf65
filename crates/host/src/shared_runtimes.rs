//! One loaded plugin for every host of a process that runs the same plugin under the same
//! limits. `toolhost serve` opens two hosts per tenant (MCP and admin UI); each loading its
//! own would give each its own engine (with its epoch thread), compiled code, concurrency
//! slots and memory budget, so threads and memory would grow with the tenants and
//! `limits.memory_budget_mib` would bound each host instead of the process.

use std::fmt;
use std::path::{Path, PathBuf};
use toolhost_sandbox::{CallLimits, LoadError, PluginRuntime, RuntimeOptions};

/// The runtimes loaded so far, by plugin file and limits. A tenant whose `toolhost.toml`
/// sets other limits gets a runtime of its own.
#[derive(Default)]
pub struct SharedRuntimes {
    loaded: tokio::sync::Mutex<Vec<Loaded>>,
}

struct Loaded {
    plugin: PathBuf,
    limits: CallLimits,
    runtime: PluginRuntime,
}

impl fmt::Debug for SharedRuntimes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedRuntimes").finish_non_exhaustive()
    }
}

impl SharedRuntimes {
    /// None loaded yet.
    pub fn new() -> SharedRuntimes {
        SharedRuntimes::default()
    }

    /// The runtime of `plugin` under `options.limits`: the one loaded before, or loaded now
    /// (once, even when hosts open at the same time). The plugin file is read once per
    /// process: hosts opened later run what the first one loaded.
    pub(crate) async fn get_or_load(
        &self,
        plugin: &Path,
        options: RuntimeOptions,
    ) -> Result<PluginRuntime, LoadError> {
        let mut loaded = self.loaded.lock().await;
        if let Some(found) = loaded
            .iter()
            .find(|l| l.plugin == plugin && l.limits == options.limits)
        {
            return Ok(found.runtime.clone());
        }
        let limits = options.limits;
        let runtime = PluginRuntime::load(plugin, options).await?;
        loaded.push(Loaded {
            plugin: plugin.to_path_buf(),
            limits,
            runtime: runtime.clone(),
        });
        Ok(runtime)
    }

    /// How many runtimes are loaded (one per plugin and limits).
    pub async fn len(&self) -> usize {
        self.loaded.lock().await.len()
    }

    /// Whether none is loaded yet.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }
}
