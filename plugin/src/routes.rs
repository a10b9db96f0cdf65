//! The requests each tool may make, declared to the host: the gate refuses anything else, so
//! a tool annotated read-only cannot write, and no tool reaches an endpoint it did not
//! declare. Paths are templates on the region's API origin: `{name}` stands for one segment.

use serde_json::Value;

/// One request a tool may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    /// Creates or changes something upstream.
    pub write: bool,
}

fn read(method: &str, path: &str) -> Route {
    Route {
        method: method.to_string(),
        path: path.to_string(),
        write: false,
    }
}

fn write(method: &str, path: &str) -> Route {
    Route {
        method: method.to_string(),
        path: path.to_string(),
        write: true,
    }
}

fn shell_scripts() -> Route {
    read("GET", "/api/platform/v1/automation/shellScripts")
}

/// The routes of a static tool, as its catalog entry declares them
/// (`"routes": [[method, path, "read" | "write"], ...]` in `catalog.json`).
pub fn from_catalog(tool: &Value) -> Vec<Route> {
    let Some(list) = tool.get("routes").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|r| {
            let part = |i: usize| r.get(i).and_then(Value::as_str);
            Some(Route {
                method: part(0)?.to_string(),
                path: part(1)?.to_string(),
                write: part(2)? == "write",
            })
        })
        .collect()
}

/// Every script tool: find the script behind its name, resolve a company's endpoints,
/// schedule the task.
pub fn script_tool() -> Vec<Route> {
    vec![
        shell_scripts(),
        write(
            "POST",
            "/api/platform/v2/automation/endpoints/schedule-tasks",
        ),
        read("GET", "/api/platform/v1/company/companies"),
        read("POST", "/api/platform/v2/device/categories/all/endpoints"),
        // The preview names each target's site.
        read(
            "GET",
            "/api/platform/v1/company/companies/{companyId}/sites",
        ),
    ]
}

/// What `discover-tools` reads: the tenant's shell scripts.
pub fn discovery() -> Vec<Route> {
    vec![shell_scripts()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_static_tool_declares_routes_and_read_only_tools_only_read() {
        for tool in crate::catalog::static_tools() {
            let routes = &tool.routes;
            assert!(!routes.is_empty(), "{} declares no route", tool.name);
            for r in routes {
                assert!(
                    r.path.starts_with("/api/platform/"),
                    "{}: {}",
                    tool.name,
                    r.path
                );
                assert!(!r.path.contains('?'), "{}: {}", tool.name, r.path);
            }
            if tool.annotations.read_only {
                assert!(
                    routes.iter().all(|r| !r.write),
                    "{} is read-only but declares a write",
                    tool.name
                );
            } else {
                assert!(
                    routes.iter().any(|r| r.write),
                    "{} writes nothing",
                    tool.name
                );
            }
        }
        assert!(script_tool().iter().any(|r| r.write));
        assert!(discovery().iter().all(|r| !r.write));
    }
}
