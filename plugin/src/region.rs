//! Deployment regions of the Asio API and the configuration the plugin reads.

use crate::errors::{ToolError, ToolResult};

pub struct RegionInfo {
    pub id: &'static str,
    pub label: &'static str,
    pub api_host: &'static str,
}

pub const DEFAULT_REGION: &str = "au";
pub const API_PORT: u16 = 443;

/// Regions in the order the host shows them; `au` first because it is the default.
pub const REGIONS: &[RegionInfo] = &[
    RegionInfo {
        id: "au",
        label: "Australia",
        api_host: "openapi.service.auplatform.connectwise.com",
    },
    RegionInfo {
        id: "na",
        label: "North America",
        api_host: "openapi.service.itsupport247.net",
    },
    RegionInfo {
        id: "eu",
        label: "Europe",
        api_host: "openapi.service.euplatform.connectwise.com",
    },
];

pub fn find(id: &str) -> Option<&'static RegionInfo> {
    let id = id.trim();
    REGIONS.iter().find(|r| r.id.eq_ignore_ascii_case(id))
}

/// Where configuration values come from (`wasi:config/store` in the component).
pub trait ConfigSource {
    fn get(&self, key: &str) -> Option<String>;
}

/// A configuration key: name, meaning and default (the single table used by metadata and reads).
pub struct ConfigKeyInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub default: &'static str,
}

pub const KEY_REGION: &str = "region";
pub const KEY_REGULARITY_NOW: &str = "schedule-regularity-now";
pub const KEY_REGULARITY_NEXT_CHECK_IN: &str = "schedule-regularity-next-check-in";
pub const KEY_REGULARITY_ONCE: &str = "schedule-regularity-once";
pub const KEY_REGULARITY_RECURRING: &str = "schedule-regularity-recurring";
pub const KEY_SCHEDULE_TYPE: &str = "schedule-type";
pub const KEY_SCHEDULE_CATEGORY: &str = "schedule-category";

pub const CONFIG_KEYS: &[ConfigKeyInfo] = &[
    ConfigKeyInfo {
        name: KEY_REGION,
        description: "ConnectWise RMM region: au, na or eu.",
        default: DEFAULT_REGION,
    },
    ConfigKeyInfo {
        name: KEY_REGULARITY_NOW,
        description:
            "schedule.regularity sent for a run-now task (unverified enum; Immediate is also seen).",
        default: "RunNow",
    },
    ConfigKeyInfo {
        name: KEY_REGULARITY_NEXT_CHECK_IN,
        description:
            "schedule.regularity sent to run at the next agent check-in (unverified enum).",
        default: "NextAgentCheckIn",
    },
    ConfigKeyInfo {
        name: KEY_REGULARITY_ONCE,
        description:
            "schedule.regularity sent for a one-time run at a given time (unverified enum).",
        default: "OneTime",
    },
    ConfigKeyInfo {
        name: KEY_REGULARITY_RECURRING,
        description: "schedule.regularity sent for recurring runs (unverified enum).",
        default: "Recurrent",
    },
    ConfigKeyInfo {
        name: KEY_SCHEDULE_TYPE,
        description: "schedule.scheduleType sent with every task.",
        default: "TIME",
    },
    ConfigKeyInfo {
        name: KEY_SCHEDULE_CATEGORY,
        description: "schedule.category sent with every task.",
        default: "STZ",
    },
];

/// The configuration values of one call, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub api_host: String,
    pub regularity_now: String,
    pub regularity_next_check_in: String,
    pub regularity_once: String,
    pub regularity_recurring: String,
    pub schedule_type: String,
    pub schedule_category: String,
}

impl Settings {
    pub fn load(config: &dyn ConfigSource) -> ToolResult<Settings> {
        let read = |key: &str| -> String {
            config
                .get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default_of(key).to_string())
        };
        let region_id = read(KEY_REGION);
        let region = find(&region_id).ok_or_else(|| {
            ToolError::Internal(format!(
                "configuration key `region` is `{region_id}`; the operator must set it to au, na or eu"
            ))
        })?;
        Ok(Settings {
            api_host: region.api_host.to_string(),
            regularity_now: read(KEY_REGULARITY_NOW),
            regularity_next_check_in: read(KEY_REGULARITY_NEXT_CHECK_IN),
            regularity_once: read(KEY_REGULARITY_ONCE),
            regularity_recurring: read(KEY_REGULARITY_RECURRING),
            schedule_type: read(KEY_SCHEDULE_TYPE),
            schedule_category: read(KEY_SCHEDULE_CATEGORY),
        })
    }
}

fn default_of(key: &str) -> &'static str {
    CONFIG_KEYS
        .iter()
        .find(|k| k.name == key)
        .map(|k| k.default)
        .unwrap_or("")
}

#[cfg(test)]
pub mod fake {
    use super::ConfigSource;
    use std::collections::BTreeMap;

    #[derive(Default)]
    pub struct MapConfig(pub BTreeMap<String, String>);

    impl MapConfig {
        pub fn with(pairs: &[(&str, &str)]) -> Self {
            MapConfig(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        }
    }

    impl ConfigSource for MapConfig {
        fn get(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::MapConfig;
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let settings = Settings::load(&MapConfig::default()).unwrap();
        assert_eq!(
            settings.api_host,
            "openapi.service.auplatform.connectwise.com"
        );
        assert_eq!(settings.regularity_now, "RunNow");
        assert_eq!(settings.regularity_next_check_in, "NextAgentCheckIn");
        assert_eq!(settings.schedule_category, "STZ");
        let settings = Settings::load(&MapConfig::with(&[
            ("region", " NA "),
            ("schedule-regularity-now", "Immediate"),
        ]))
        .unwrap();
        assert_eq!(settings.api_host, "openapi.service.itsupport247.net");
        assert_eq!(settings.regularity_now, "Immediate");
        assert_eq!(
            Settings::load(&MapConfig::with(&[("region", "eu")]))
                .unwrap()
                .api_host,
            "openapi.service.euplatform.connectwise.com"
        );
        assert!(matches!(
            Settings::load(&MapConfig::with(&[("region", "mars")])),
            Err(ToolError::Internal(_))
        ));
    }
}
