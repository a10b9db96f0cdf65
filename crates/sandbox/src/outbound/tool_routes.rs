//! The requests a tool may make ([`ToolRoutes`]): declared by the plugin per tool, checked by
//! the gate on every request of a call to that tool. A request matches a route when the method
//! is the same and the path (without its query) matches the template segment by segment: a
//! literal segment exactly, a `{name}` placeholder any one non-empty segment except `.` and
//! `..` (so a placeholder can never climb out of the declared path).

use std::fmt;

/// What a request does upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Reads only.
    Read,
    /// Creates, changes or deletes something.
    Write,
}

/// One request a tool may make: a method and a path template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ToolRoute {
    /// Uppercase HTTP method.
    pub method: String,
    /// `/literal/{placeholder}/...`, no query.
    pub path: String,
    /// Read or write.
    pub access: Access,
}

/// Why a declared route is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// Not one of the methods a route may name.
    #[error("method `{0}` is not GET, HEAD, POST, PUT, PATCH or DELETE")]
    Method(String),
    /// The path is not an absolute template.
    #[error("path `{path}`: {reason}")]
    Path {
        /// As declared.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

impl ToolRoute {
    /// A route, checked: a known method, an absolute path of non-empty segments, placeholders
    /// that are whole segments, no query or fragment.
    pub fn new(method: &str, path: &str, access: Access) -> Result<ToolRoute, RouteError> {
        if !METHODS.contains(&method) {
            return Err(RouteError::Method(method.to_string()));
        }
        let bad = |reason| RouteError::Path {
            path: path.to_string(),
            reason,
        };
        let Some(rest) = path.strip_prefix('/') else {
            return Err(bad("must start with `/`"));
        };
        if path.contains(['?', '#', '%', ' ']) {
            return Err(bad(
                "must be a plain path without query, fragment or escapes",
            ));
        }
        // `/` itself is a path; every other segment must be real.
        for segment in rest.split('/').filter(|_| !rest.is_empty()) {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(bad("has an empty, `.` or `..` segment"));
            }
            let opens = segment.matches('{').count();
            let closes = segment.matches('}').count();
            let whole = segment.starts_with('{') && segment.ends_with('}') && segment.len() > 2;
            if (opens, closes) != (0, 0) && !(opens == 1 && closes == 1 && whole) {
                return Err(bad(
                    "a placeholder must be a whole segment such as `{companyId}`",
                ));
            }
        }
        Ok(ToolRoute {
            method: method.to_string(),
            path: path.to_string(),
            access,
        })
    }

    /// Whether a read is sent with a method other than GET or HEAD (the operator is told).
    pub fn is_unusual_read(&self) -> bool {
        self.access == Access::Read && !matches!(self.method.as_str(), "GET" | "HEAD")
    }

    /// Whether `method` and `path` (query allowed, ignored) match this route.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if method != self.method {
            return false;
        }
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let Some(path) = path.strip_prefix('/') else {
            return false;
        };
        let mut wanted = self.path[1..].split('/');
        let mut given = path.split('/');
        loop {
            match (wanted.next(), given.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w.starts_with('{') => {
                    if !is_one_segment(g) {
                        return false;
                    }
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// A placeholder's value: one real segment, never one that moves up or stays put once decoded.
fn is_one_segment(segment: &str) -> bool {
    let decoded = segment.replace("%2e", ".").replace("%2E", ".");
    !segment.is_empty()
        && decoded != "."
        && decoded != ".."
        && !segment.to_ascii_lowercase().contains("%2f")
        && !segment.to_ascii_lowercase().contains("%5c")
}

impl fmt::Display for ToolRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let access = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        write!(f, "{} {} ({access})", self.method, self.path)
    }
}

/// The routes of one tool: a request is allowed when any route matches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolRoutes {
    /// `plugin:tool`, for messages.
    pub tool: String,
    /// As declared.
    pub routes: Vec<ToolRoute>,
}

impl ToolRoutes {
    /// The route a request matches, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<&ToolRoute> {
        self.routes.iter().find(|r| r.matches(method, path))
    }

    /// Only the read routes: what a preview may use.
    pub fn reads_only(&self) -> ToolRoutes {
        ToolRoutes {
            tool: self.tool.clone(),
            routes: self
                .routes
                .iter()
                .filter(|r| r.access == Access::Read)
                .cloned()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> ToolRoute {
        ToolRoute::new(method, path, Access::Read).unwrap()
    }

    #[test]
    fn matches_method_and_path_segment_by_segment() {
        let r = route("GET", "/api/v1/companies/{companyId}/sites");
        assert!(r.matches("GET", "/api/v1/companies/c1/sites"));
        assert!(r.matches("GET", "/api/v1/companies/c1/sites?page=2"));
        assert!(!r.matches("POST", "/api/v1/companies/c1/sites"));
        assert!(!r.matches("GET", "/api/v1/companies/c1/sites/s1"));
        assert!(!r.matches("GET", "/api/v1/companies/sites"));
        assert!(!r.matches("GET", "/api/v1/companies//sites"));
        assert!(!r.matches("GET", "api/v1/companies/c1/sites"));
    }

    #[test]
    fn a_placeholder_never_climbs_out() {
        let r = route("GET", "/api/v1/companies/{companyId}");
        for sneaky in ["..", ".", "%2e%2e", "%2E.", "a%2Fb", "a%5cb"] {
            assert!(
                !r.matches("GET", &format!("/api/v1/companies/{sneaky}")),
                "{sneaky}"
            );
        }
    }

    #[test]
    fn declarations_are_checked() {
        assert!(matches!(
            ToolRoute::new("FETCH", "/a", Access::Read),
            Err(RouteError::Method(_))
        ));
        for bad in [
            "a/b", "/a//b", "/a/../b", "/a?x=1", "/a/{b", "/a/x{b}", "/a/{}", "/a/%2e",
        ] {
            assert!(
                ToolRoute::new("GET", bad, Access::Read).is_err(),
                "{bad} was accepted"
            );
        }
        assert!(ToolRoute::new("POST", "/v2/tickets", Access::Write).is_ok());
    }

    #[test]
    fn unusual_reads_and_read_only_views() {
        let listing = route("POST", "/v2/devices/list");
        assert!(listing.is_unusual_read());
        assert!(!route("GET", "/v2/devices").is_unusual_read());
        let routes = ToolRoutes {
            tool: "p:t".into(),
            routes: vec![
                listing.clone(),
                ToolRoute::new("POST", "/v2/tickets", Access::Write).unwrap(),
            ],
        };
        assert_eq!(routes.reads_only().routes, vec![listing]);
        assert!(routes.find("POST", "/v2/tickets").is_some());
        assert!(routes.find("DELETE", "/v2/tickets").is_none());
    }
}
