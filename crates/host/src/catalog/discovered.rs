//! The discovered half of the catalog (the tenant's tools, one per script), kept on disk so
//! listing is instant. It is refreshed on demand and once it is
//! older than its TTL; it belongs to one component build and one connection, and a catalog
//! of another is never used.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use toolhost_base::write_private;
use toolhost_sandbox::{Annotations, PolicyHint, ToolDescriptor, ToolRoute};

const CATALOG_FILE: &str = "catalog.json";

/// What a catalog was discovered for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CatalogKey {
    pub component_sha256: String,
    pub region: String,
    pub client_id: String,
}

/// The discovered half of the catalog (the static half comes from the component itself).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DiscoveredTools {
    pub key: CatalogKey,
    /// Seconds since the Unix epoch.
    pub refreshed_at: u64,
    pub tools: Vec<StoredTool>,
}

/// A descriptor in its stored form (schemas as JSON values).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredTool {
    pub name: String,
    pub title: String,
    pub description: String,
    pub input_schema: serde_json::Value,
    #[serde(default)]
    pub output_schema: Option<serde_json::Value>,
    pub annotations: [bool; 4],
    pub policy_hint: PolicyHint,
    pub permissions: Vec<String>,
    /// A catalog written before tools declared routes has none: such a tool can make no
    /// request until it is discovered again.
    #[serde(default)]
    pub routes: Vec<ToolRoute>,
}

impl From<&ToolDescriptor> for StoredTool {
    fn from(d: &ToolDescriptor) -> StoredTool {
        let a = d.annotations;
        StoredTool {
            name: d.name.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            input_schema: d.input_schema.clone(),
            output_schema: d.output_schema.clone(),
            annotations: [a.read_only, a.destructive, a.idempotent, a.open_world],
            policy_hint: d.policy_hint,
            permissions: d.permissions.clone(),
            routes: d.routes.clone(),
        }
    }
}

impl From<StoredTool> for ToolDescriptor {
    fn from(s: StoredTool) -> ToolDescriptor {
        let [read_only, destructive, idempotent, open_world] = s.annotations;
        ToolDescriptor {
            name: s.name,
            title: s.title,
            description: s.description,
            input_schema: s.input_schema,
            output_schema: s.output_schema,
            annotations: Annotations {
                read_only,
                destructive,
                idempotent,
                open_world,
            },
            policy_hint: s.policy_hint,
            permissions: s.permissions,
            routes: s.routes,
        }
    }
}

impl DiscoveredTools {
    pub(crate) fn new(key: CatalogKey, tools: &[ToolDescriptor]) -> DiscoveredTools {
        DiscoveredTools {
            key,
            refreshed_at: now_secs(),
            tools: tools.iter().map(StoredTool::from).collect(),
        }
    }

    /// The tool named `name`, cloned alone.
    pub(crate) fn find(&self, name: &str) -> Option<StoredTool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    pub(crate) fn descriptors(&self) -> Vec<ToolDescriptor> {
        self.tools
            .iter()
            .cloned()
            .map(ToolDescriptor::from)
            .collect()
    }

    pub(crate) fn age(&self) -> Duration {
        Duration::from_secs(now_secs().saturating_sub(self.refreshed_at))
    }

    /// Usable for `key` without a refresh.
    pub(crate) fn is_fresh_for(&self, key: &CatalogKey, ttl: Duration) -> bool {
        &self.key == key && self.age() < ttl
    }
}

pub(crate) fn catalog_path(home: &Path) -> PathBuf {
    home.join(CATALOG_FILE)
}

/// Reads the stored catalog. A missing or unreadable one is simply absent: the catalog is a
/// cache, and the next refresh rewrites it.
pub(crate) fn load(home: &Path) -> Option<DiscoveredTools> {
    let text = std::fs::read_to_string(catalog_path(home)).ok()?;
    match serde_json::from_str(&text) {
        Ok(catalog) => Some(catalog),
        Err(err) => {
            tracing::warn!("ignoring the damaged tool catalog ({err}); it will be rediscovered");
            None
        }
    }
}

pub(crate) fn save(home: &Path, catalog: &DiscoveredTools) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(catalog).map_err(std::io::Error::other)?;
    write_private(&catalog_path(home), &text)
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(region: &str) -> CatalogKey {
        CatalogKey {
            component_sha256: "abc".into(),
            region: region.into(),
            client_id: "id".into(),
        }
    }

    fn tool() -> ToolDescriptor {
        ToolDescriptor {
            name: "cw-rmm-script-x".into(),
            title: "X".into(),
            description: "d".into(),
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            annotations: Annotations {
                read_only: false,
                destructive: true,
                idempotent: false,
                open_world: true,
            },
            policy_hint: PolicyHint::Approval,
            permissions: vec!["scheduled-task:create".into()],
            routes: Vec::new(),
        }
    }

    #[test]
    fn round_trips_and_respects_key_and_ttl() {
        let home = std::env::temp_dir().join(format!("toolhost-catalog-{}", std::process::id()));
        let catalog = DiscoveredTools::new(key("au"), &[tool()]);
        save(&home, &catalog).unwrap();
        let loaded = load(&home).unwrap();
        assert_eq!(loaded.descriptors(), vec![tool()]);
        assert!(loaded.is_fresh_for(&key("au"), crate::DEFAULT_CATALOG_TTL));
        assert!(!loaded.is_fresh_for(&key("eu"), crate::DEFAULT_CATALOG_TTL));
        assert!(!loaded.is_fresh_for(&key("au"), Duration::ZERO));
        std::fs::write(catalog_path(&home), "garbage").unwrap();
        assert!(load(&home).is_none());
        std::fs::remove_dir_all(&home).unwrap();
    }
}
