//! The outbound allowlist: the exact origins a plugin may reach. Deny by default.
//!
//! Lessons from prior art: match scheme, host and port (Spin #720); an empty list denies
//! everything (wasmCloud treated empty as allow-all); no wildcards, because a plugin's
//! vendor API has a fixed set of origins per region.

use super::origin::Origin;

/// The exact origins a plugin may address. Empty means nothing, never everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AllowedOrigins {
    origins: Vec<Origin>,
}

impl AllowedOrigins {
    /// An allowlist of exactly these origins (order and duplicates do not matter).
    pub fn new(origins: impl IntoIterator<Item = Origin>) -> AllowedOrigins {
        let mut origins: Vec<Origin> = origins.into_iter().collect();
        origins.sort();
        origins.dedup();
        AllowedOrigins { origins }
    }

    /// Allows nothing: the state of a call that must not use the network.
    pub fn none() -> AllowedOrigins {
        AllowedOrigins::default()
    }

    /// Whether `origin` is on the list: scheme, host and port all equal.
    pub fn allows(&self, origin: &Origin) -> bool {
        self.origins.iter().any(|allowed| allowed == origin)
    }

    /// The origins, sorted.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// For error messages: what would have been allowed.
    pub fn describe(&self) -> String {
        if self.origins.is_empty() {
            "no origin (this call may not use the network)".to_string()
        } else {
            self.origins
                .iter()
                .map(Origin::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    #[test]
    fn empty_list_denies_everything() {
        assert!(!AllowedOrigins::none().allows(&o("https://api.example.com")));
    }

    #[test]
    fn matches_scheme_host_and_port_exactly() {
        let allowed = AllowedOrigins::new([o("https://api.example.com")]);
        assert!(allowed.allows(&o("https://API.example.com:443")));
        assert!(!allowed.allows(&o("http://api.example.com")));
        assert!(!allowed.allows(&o("https://api.example.com:8443")));
        assert!(!allowed.allows(&o("https://evil.api.example.com")));
        assert!(!allowed.allows(&o("https://api.example.com.evil.net")));
        assert!(!allowed.allows(&o("https://127.0.0.1")));
    }

    #[test]
    fn describes_itself_for_errors() {
        assert!(AllowedOrigins::none().describe().contains("no origin"));
        let allowed = AllowedOrigins::new([o("https://b.example"), o("https://a.example")]);
        assert_eq!(
            allowed.describe(),
            "https://a.example:443, https://b.example:443"
        );
    }
}
