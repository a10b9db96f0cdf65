//! Upstream routes: where the host actually connects for an allowed origin.
//!
//! The plugin always addresses the vendor's real origin, and the allowlist holds only real
//! origins. A route lets the host send an allowed origin's traffic somewhere else (the
//! loopback simulator in the demo and tests, or a corporate egress proxy), keeping the
//! `Host` header of the real origin. This is the one place where redirection happens.

use super::origin::Origin;
use std::collections::BTreeMap;

/// Where the host connects for an allowed origin, when not to the origin itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UpstreamRoutes {
    routes: BTreeMap<Origin, Origin>,
}

impl UpstreamRoutes {
    /// No routes: every origin is reached directly.
    pub fn new() -> UpstreamRoutes {
        UpstreamRoutes::default()
    }

    /// Sends `from`'s traffic to `to` from now on (replacing an earlier route for `from`).
    pub fn insert(&mut self, from: Origin, to: Origin) -> &mut Self {
        self.routes.insert(from, to);
        self
    }

    /// The origin to connect to for `origin`: its route, or itself.
    pub fn resolve<'a>(&'a self, origin: &'a Origin) -> &'a Origin {
        self.routes.get(origin).unwrap_or(origin)
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The routes as (origin, target) pairs, ordered by origin.
    pub fn iter(&self) -> impl Iterator<Item = (&Origin, &Origin)> {
        self.routes.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_only_the_named_origin() {
        let real = Origin::parse("https://api.example.com").unwrap();
        let other = Origin::parse("https://other.example.com").unwrap();
        let sim = Origin::parse("http://127.0.0.1:4000").unwrap();
        let mut routes = UpstreamRoutes::new();
        routes.insert(real.clone(), sim.clone());
        assert_eq!(routes.resolve(&real), &sim);
        assert_eq!(routes.resolve(&other), &other);
    }
}
