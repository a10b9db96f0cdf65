//! Whether a plugin request targets the credential's token endpoint, which no plugin may
//! reach: the host mints, the plugin only ever gets the token injected. A plugin posting
//! garbage there gets a 401, and without this rule each such 401 would cost a mint.
//!
//! Servers disagree on what a path means (case, `//`, a trailing `/`, `%74`, `.` and `..`
//! segments, `;params`), so the comparison is made on a canonical form that folds all of
//! them: anything a lenient server could route to the token endpoint is refused.

use super::origin::Origin;
use super::routes::UpstreamRoutes;
use crate::credentials::mint::TokenEndpoint;

/// Whether `path` on `origin` is (or could be routed as) `endpoint`'s token path: the same
/// origin, or one whose upstream route reaches the same target.
pub(crate) fn is_token_endpoint(
    endpoint: &TokenEndpoint,
    routes: &UpstreamRoutes,
    origin: &Origin,
    path: &str,
) -> bool {
    let same_server =
        origin == &endpoint.origin || routes.resolve(origin) == routes.resolve(&endpoint.origin);
    same_server && canonical(path) == canonical(&endpoint.path)
}

/// The path with percent-escapes decoded, ASCII lowercased, `;parameters` cut from each
/// segment, empty and `.` segments dropped and `..` applied.
fn canonical(path: &str) -> Vec<String> {
    let decoded = percent_decode(path).to_ascii_lowercase();
    let mut segments: Vec<String> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        let segment = segment.split(';').next().unwrap_or_default();
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other.to_string()),
        }
    }
    segments
}

/// Decodes `%XX` escapes (repeatedly, so `%2574` cannot hide a `t`); malformed escapes
/// are kept as they are.
fn percent_decode(text: &str) -> String {
    let mut current = text.to_string();
    // Each round removes at least one `%`, so this ends; the cap is only a guard.
    for _ in 0..8 {
        let bytes = current.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
                (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        let next = String::from_utf8_lossy(&out).into_owned();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::mint::BodyEncoding;

    fn o(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    fn endpoint() -> TokenEndpoint {
        TokenEndpoint {
            origin: o("https://api.example.com"),
            path: "/v1/token".into(),
            encoding: BodyEncoding::Json,
            scopes: vec![],
            user_agent: "ua".into(),
        }
    }

    fn hits(origin: &str, path: &str) -> bool {
        is_token_endpoint(&endpoint(), &UpstreamRoutes::new(), &o(origin), path)
    }

    #[test]
    fn every_spelling_of_the_token_path_is_the_token_endpoint() {
        for path in [
            "/v1/token",
            "/v1/token/",
            "/V1/TOKEN",
            "//v1//token",
            "/v1/./token",
            "/v1/x/../token",
            "/v1/%74oken",
            "/v1/%2574oken",
            "/v1%2ftoken",
            "/v1/token;jsessionid=1",
            "/v1\\token",
        ] {
            assert!(hits("https://api.example.com", path), "{path}");
        }
    }

    #[test]
    fn other_paths_and_origins_are_not() {
        for path in ["/v1/tokens", "/v1/token/x", "/v2/token", "/token", "/", ""] {
            assert!(!hits("https://api.example.com", path), "{path}");
        }
        assert!(!hits("https://cdn.example.com", "/v1/token"));
    }

    #[test]
    fn an_origin_routed_to_the_token_server_counts_as_it() {
        let mut routes = UpstreamRoutes::new();
        let sim = o("http://127.0.0.1:4000");
        routes.insert(o("https://api.example.com"), sim.clone());
        routes.insert(o("https://alias.example.com"), sim);
        let alias = o("https://alias.example.com");
        assert!(is_token_endpoint(&endpoint(), &routes, &alias, "/v1/token"));
        let other = o("https://other.example.com");
        assert!(!is_token_endpoint(
            &endpoint(),
            &routes,
            &other,
            "/v1/token"
        ));
    }

    #[test]
    fn malformed_escapes_stay_as_they_are() {
        assert_eq!(percent_decode("/a%zz%4"), "/a%zz%4");
        assert_eq!(percent_decode("%41%2541"), "AA");
    }
}
