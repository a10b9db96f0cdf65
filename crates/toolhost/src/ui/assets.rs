//! The front end, compiled into the binary (no CDN, no build step), and the security
//! headers every response carries.

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap, HeaderValue, StatusCode};

/// Only our own files; no inline scripts or styles; never framed; no external requests.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("assets/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("card.js", JS),
    asset!("tools.js", JS),
    asset!("approvals.js", JS),
    asset!("passkeys.js", JS),
    asset!("activity.js", JS),
    asset!("chart.js", JS),
];

fn serve(name: &str) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub async fn index() -> Response {
    serve("index.html")
}

pub async fn asset(Path(name): Path<String>) -> Response {
    if name == "index.html" {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    serve(&name)
}

/// Added to every response, errors and rejections included.
pub fn add_security_headers(headers: &mut HeaderMap) {
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_bundled_and_no_page_has_inline_script_or_remote_urls() {
        for asset in ASSETS {
            assert!(!asset.body.is_empty(), "{} is empty", asset.name);
            assert!(
                !asset.body.contains("https://") && !asset.body.contains("//cdn"),
                "{} refers to the network",
                asset.name
            );
        }
        let index = ASSETS.iter().find(|a| a.name == "index.html").unwrap();
        for tag in index.body.split("<script").skip(1) {
            assert!(tag.contains("src=\"assets/"), "inline script in index.html");
        }
        assert!(!index.body.contains(" style=") && !index.body.contains("onclick"));
    }

    /// The same page serves `toolhost ui` at `/` and each tenant at `/t/<tenant>/` under
    /// `toolhost serve`: every URL of ours is relative to the page, so `/t/b/`'s page
    /// talks to `/t/b/api/...` and never to the root tenant's `/api/...`.
    #[test]
    fn no_asset_names_a_root_absolute_path_of_ours() {
        for asset in ASSETS {
            for absolute in ["'/api", "`/api", "\"/api", "\"/assets", "'/assets"] {
                assert!(
                    !asset.body.contains(absolute),
                    "{} refers to {absolute}...: use a path relative to the page",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn security_headers_forbid_inline_code_and_framing() {
        let mut headers = HeaderMap::new();
        add_security_headers(&mut headers);
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }
}
