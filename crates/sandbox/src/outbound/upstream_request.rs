//! What a plugin request carries when it leaves: the guest's method, URI, headers and body,
//! without any credential the guest tried to supply, plus the headers only the host sets.
//! The URI keeps the real origin; the transport swaps in the route's target when it
//! connects (see [`transport::send`](super::transport::send)).

use super::origin::Origin;
use crate::credentials::oauth2::{AccessToken, TokenProvider};
use bytes::Bytes;
use http::header::{HeaderName, AUTHORIZATION, ORIGIN, USER_AGENT};
use std::sync::Arc;

/// Headers a plugin may never set: wasi-http's defaults plus credentials of any kind.
const PLUGIN_FORBIDDEN_HEADERS: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
];

/// Whether wasi-http must refuse `name` when the guest sets it. This stops credential
/// headers at the guest's own `fields.set`, before a request ever reaches the gate; the
/// gate still drops `Authorization` itself in case this filter is ever bypassed.
pub(crate) fn is_forbidden_header(name: &http::HeaderName) -> bool {
    wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS.contains(name)
        || PLUGIN_FORBIDDEN_HEADERS.contains(&name.as_str())
}

/// The token provider whose bearer token may go to `origin`: only the credential's own
/// audience ever sees it, never another allowed origin (a CDN, a login page).
pub(crate) fn token_provider_for<'a>(
    credentials: &'a Option<(Arc<TokenProvider>, Vec<Origin>)>,
    origin: &Origin,
) -> Option<&'a TokenProvider> {
    let (provider, audience) = credentials.as_ref()?;
    audience.contains(origin).then_some(provider.as_ref())
}

/// The correlation id the host sets on every request (the guest's is replaced).
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request to send upstream for one attempt. Built afresh per attempt so each one has
/// its own `X-Request-ID` and, after a 401, the new token.
pub(crate) fn upstream_request(
    parts: &http::request::Parts,
    body: &Bytes,
    origin: &Origin,
    user_agent: &str,
    token: Option<&AccessToken>,
) -> http::Request<Bytes> {
    let mut request = http::Request::new(body.clone());
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    let headers = request.headers_mut();
    *headers = parts.headers.clone();
    headers.remove(AUTHORIZATION);
    // Names as constants: a `&str` name is parsed and checked again on every insert.
    let mut set = |name: HeaderName, value: &str| {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    if let Some(token) = token {
        set(AUTHORIZATION, &format!("Bearer {}", token.value.expose()));
    }
    set(ORIGIN, &origin.url());
    set(USER_AGENT, user_agent);
    set(X_REQUEST_ID, &uuid::Uuid::new_v4().to_string());
    // Keeps the token out of hyper's and our own debug output.
    if let Some(auth) = headers.get_mut(AUTHORIZATION) {
        auth.set_sensitive(true);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{BodyEncoding, ClientCredentials, TokenEndpoint};
    use crate::outbound::{Timeouts, UpstreamRoutes};
    use toolhost_base::SecretString;

    fn o(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    fn guest_request(headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = http::Request::builder()
            .method(http::Method::POST)
            .uri("https://api.example.com/v1/tasks?x=1");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn build(parts: &http::request::Parts, token: Option<&AccessToken>) -> http::Request<Bytes> {
        let body = Bytes::from_static(b"{\"a\":1}");
        upstream_request(
            parts,
            &body,
            &o("https://api.example.com"),
            "toolhost/1.0",
            token,
        )
    }

    fn values(request: &http::Request<Bytes>, name: &str) -> Vec<String> {
        request
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_guests_authorization_never_survives() {
        let parts = guest_request(&[
            ("authorization", "Bearer guest-forged"),
            ("authorization", "Basic Z3Vlc3Q6cGFzcw=="),
        ]);
        let without = build(&parts, None);
        assert!(without.headers().get("authorization").is_none());
        let token = AccessToken::for_tests("minted");
        let with = build(&parts, Some(&token));
        assert_eq!(values(&with, "authorization"), vec!["Bearer minted"]);
        assert!(with.headers()["authorization"].is_sensitive());
    }

    #[test]
    fn the_host_sets_origin_user_agent_and_request_id_over_the_guests() {
        let parts = guest_request(&[
            ("origin", "https://evil.example.net"),
            ("user-agent", "guest/6.6.6"),
            ("x-request-id", "guest-chosen"),
        ]);
        let request = build(&parts, None);
        assert_eq!(values(&request, "origin"), vec!["https://api.example.com"]);
        assert_eq!(values(&request, "user-agent"), vec!["toolhost/1.0"]);
        let ids = values(&request, "x-request-id");
        assert_eq!(ids.len(), 1);
        let id = uuid::Uuid::parse_str(&ids[0]).expect("a UUID");
        assert_eq!(id.get_version_num(), 4);
    }

    #[test]
    fn each_attempt_gets_a_fresh_request_id() {
        let parts = guest_request(&[]);
        let a = build(&parts, None);
        let b = build(&parts, None);
        assert_ne!(a.headers()["x-request-id"], b.headers()["x-request-id"]);
    }

    #[test]
    fn the_origin_header_names_a_non_default_port() {
        let parts = guest_request(&[]);
        let origin = o("http://127.0.0.1:4000");
        let request = upstream_request(&parts, &Bytes::new(), &origin, "ua", None);
        assert_eq!(values(&request, "origin"), vec!["http://127.0.0.1:4000"]);
    }

    #[test]
    fn keeps_the_guests_method_uri_body_and_plain_headers() {
        let parts = guest_request(&[("content-type", "application/json"), ("accept", "*/*")]);
        let request = build(&parts, None);
        assert_eq!(request.method(), http::Method::POST);
        // Still the real origin: routing happens in the transport, which keeps path and query.
        assert_eq!(request.uri(), "https://api.example.com/v1/tasks?x=1");
        assert_eq!(&request.body()[..], b"{\"a\":1}");
        assert_eq!(values(&request, "content-type"), vec!["application/json"]);
        assert_eq!(values(&request, "accept"), vec!["*/*"]);
    }

    #[test]
    fn the_guest_may_not_set_credential_or_hop_by_hop_headers() {
        for name in [
            "authorization",
            "Authorization",
            "cookie",
            "proxy-authorization",
            "x-api-key",
            "X-Api-Key",
            "host",
            "connection",
            "transfer-encoding",
        ] {
            let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert!(is_forbidden_header(&name), "{name}");
        }
        for name in [
            "content-type",
            "accept",
            "x-request-id",
            "user-agent",
            "x-api",
        ] {
            let name = http::HeaderName::from_static(name);
            assert!(!is_forbidden_header(&name), "{name}");
        }
    }

    #[test]
    fn the_bearer_token_goes_only_to_credentialed_origins() {
        let api = o("https://api.example.com");
        let provider = Arc::new(TokenProvider::new(
            TokenEndpoint {
                origin: api.clone(),
                path: "/v1/token".into(),
                encoding: BodyEncoding::Json,
                scopes: vec![],
                user_agent: "ua".into(),
            },
            ClientCredentials {
                client_id: "id".into(),
                client_secret: SecretString::new("secret"),
            },
            UpstreamRoutes::new(),
            Timeouts::default(),
        ));
        let credentials = Some((provider, vec![api.clone()]));
        assert!(token_provider_for(&credentials, &api).is_some());
        for other in [
            "https://cdn.example.com",
            "http://api.example.com",
            "https://api.example.com:8443",
        ] {
            assert!(
                token_provider_for(&credentials, &o(other)).is_none(),
                "{other}"
            );
        }
        assert!(token_provider_for(&None, &api).is_none());
    }
}
