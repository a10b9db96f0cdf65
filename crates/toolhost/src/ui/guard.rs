//! The checks every request passes before a handler sees it:
//!
//! - `Host` must name this server (a loopback name and our port): a page on another site
//!   cannot reach us through DNS rebinding.
//! - `Origin`, when present, must be this server; `Sec-Fetch-Site` must not be cross-site.
//! - Every `/api/` request needs the session cookie, except the one-time token exchange.
//!   Each mount of the UI (the root, `/t/<tenant>/`) reads its own cookie only, and knows
//!   its own sessions only: one tenant's session is never another's.
//! - Every state-changing request (anything but GET/HEAD) must carry the session's CSRF
//!   token in `X-Toolhost-CSRF`; GET handlers never change state.

use super::sessions::{constant_time_eq, cookie_value, Session, Sessions};
use http::{HeaderMap, Method, StatusCode};

/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-toolhost-csrf";
/// The one request allowed without a session: trading the launch token for one.
pub const SESSION_PATH: &str = "/api/session";

/// The `Host` values this server answers to (`host:port`, lowercase).
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    hosts: Vec<String>,
    /// The operator's own names (`--allow-host`, serve's `--public-host`): pages on them may
    /// also come over `https://`, as they do behind a TLS-terminating proxy or ingress.
    named: Vec<String>,
}

impl AllowedHosts {
    /// `127.0.0.1`, `localhost` and `[::1]` on `port`, plus `extra` (`host:port` each).
    pub fn loopback(port: u16, extra: &[String]) -> AllowedHosts {
        let named: Vec<String> = extra
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let mut hosts: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|h| format!("{h}:{port}"))
            .collect();
        hosts.extend(named.iter().cloned());
        AllowedHosts { hosts, named }
    }

    pub fn contains_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    /// `http://<allowed host>`, or `https://<a name the operator gave>`; `null`, other
    /// schemes and `https://` on a loopback address (nothing of ours serves it) are refused.
    pub fn contains_origin(&self, origin: &str) -> bool {
        let origin = origin.trim();
        if let Some(host) = origin.strip_prefix("http://") {
            return self.contains_host(host);
        }
        origin
            .strip_prefix("https://")
            .is_some_and(|host| self.named.contains(&host.to_ascii_lowercase()))
    }
}

/// Why a request was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: StatusCode,
    pub message: &'static str,
}

fn reject(status: StatusCode, message: &'static str) -> Rejection {
    Rejection { status, message }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Host, Origin and Sec-Fetch-Site: applies to every request, static files included.
pub fn check_origin(headers: &HeaderMap, allowed: &AllowedHosts) -> Result<(), Rejection> {
    let host = header(headers, "host").unwrap_or_default();
    if !allowed.contains_host(host) {
        return Err(reject(StatusCode::FORBIDDEN, "unexpected Host header"));
    }
    if let Some(origin) = headers.get("origin") {
        let origin = origin.to_str().unwrap_or_default();
        if !allowed.contains_origin(origin) {
            return Err(reject(StatusCode::FORBIDDEN, "unexpected Origin header"));
        }
    }
    if let Some(site) = header(headers, "sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Err(reject(StatusCode::FORBIDDEN, "cross-site request"));
        }
    }
    Ok(())
}

/// The request's session, when its cookie `cookie` names a live one; 503 when the session
/// store (the state database) cannot answer (the reason goes to the server's log only).
pub async fn session_of(
    headers: &HeaderMap,
    sessions: &Sessions,
    cookie: &str,
) -> Result<Option<Session>, Rejection> {
    let Some(id) = headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, cookie))
    else {
        return Ok(None);
    };
    sessions.find(id).await.map_err(|err| {
        tracing::warn!("cannot check a UI session: {err}");
        reject(
            StatusCode::SERVICE_UNAVAILABLE,
            "the session store is unreachable: see the server's log",
        )
    })
}

/// Everything but the origin checks: session (from the cookie named `cookie`) and CSRF.
/// `path` is relative to the UI's mount. Returns the session for `/api/` requests (none
/// for static files and the token exchange).
pub async fn check_session(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    sessions: &Sessions,
    cookie: &str,
) -> Result<Option<Session>, Rejection> {
    let changes_state = !matches!(*method, Method::GET | Method::HEAD);
    if path == SESSION_PATH && changes_state {
        // No session yet. A custom header cannot be sent cross-origin without a CORS
        // preflight, which this server never grants.
        if headers.get(CSRF_HEADER).is_none() {
            return Err(reject(
                StatusCode::FORBIDDEN,
                "missing X-Toolhost-CSRF header",
            ));
        }
        return Ok(None);
    }
    if !path.starts_with("/api/") {
        if changes_state {
            return Err(reject(StatusCode::METHOD_NOT_ALLOWED, "read-only path"));
        }
        return Ok(None);
    }
    let session = session_of(headers, sessions, cookie)
        .await?
        .ok_or_else(|| {
            reject(
                StatusCode::UNAUTHORIZED,
                "no session: open the URL `toolhost ui` printed",
            )
        })?;
    if changes_state {
        let sent = header(headers, CSRF_HEADER).unwrap_or_default();
        if !constant_time_eq(sent, &session.csrf) {
            return Err(reject(StatusCode::FORBIDDEN, "missing or wrong CSRF token"));
        }
    }
    Ok(Some(session))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::sessions::SESSION_COOKIE;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, v.parse().unwrap());
        }
        map
    }

    fn allowed() -> AllowedHosts {
        AllowedHosts::loopback(8080, &[])
    }

    #[test]
    fn host_must_be_this_server() {
        let ok = headers(&[("host", "127.0.0.1:8080")]);
        assert!(check_origin(&ok, &allowed()).is_ok());
        assert!(check_origin(&headers(&[("host", "LOCALHOST:8080")]), &allowed()).is_ok());
        for bad in ["evil.example:8080", "127.0.0.1:8081", "127.0.0.1", ""] {
            let err = check_origin(&headers(&[("host", bad)]), &allowed()).unwrap_err();
            assert_eq!(err.status, StatusCode::FORBIDDEN, "{bad}");
        }
        assert!(check_origin(&HeaderMap::new(), &allowed()).is_err());
    }

    #[test]
    fn origin_when_present_must_be_this_server() {
        let same = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check_origin(&same, &allowed()).is_ok());
        for bad in [
            "http://evil.example",
            "null",
            "https://127.0.0.1:8080",
            "http://127.0.0.1:9999",
        ] {
            let h = headers(&[("host", "127.0.0.1:8080"), ("origin", bad)]);
            assert_eq!(
                check_origin(&h, &allowed()).unwrap_err().status,
                StatusCode::FORBIDDEN,
                "{bad}"
            );
        }
        let cross = headers(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")]);
        assert!(check_origin(&cross, &allowed()).is_err());
    }

    #[test]
    fn a_named_host_may_be_reached_over_https_behind_a_proxy() {
        let named = AllowedHosts::loopback(8080, &["toolhost.example.com".to_string()]);
        let proxied = headers(&[
            ("host", "toolhost.example.com"),
            ("origin", "https://Toolhost.example.com"),
        ]);
        assert!(check_origin(&proxied, &named).is_ok());
        for bad in [
            "https://evil.example",
            "https://toolhost.example.com.evil.example",
            "https://localhost:8080",
        ] {
            let h = headers(&[("host", "toolhost.example.com"), ("origin", bad)]);
            assert!(check_origin(&h, &named).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn api_needs_a_session_and_posts_need_its_csrf_token() {
        let sessions = Sessions::with_launch_token("launch");
        let none = HeaderMap::new();
        let err = check_session(
            &Method::GET,
            "/api/status",
            &none,
            &sessions,
            SESSION_COOKIE,
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        // Static files need no session; the page itself holds no data.
        assert_eq!(
            check_session(&Method::GET, "/", &none, &sessions, SESSION_COOKIE).await,
            Ok(None)
        );
        assert!(
            check_session(&Method::POST, "/", &none, &sessions, SESSION_COOKIE)
                .await
                .is_err()
        );

        let session = sessions.exchange("launch").await.unwrap();
        let cookie = format!("{SESSION_COOKIE}={}", session.id);
        let get = headers(&[("cookie", &cookie)]);
        assert_eq!(
            check_session(&Method::GET, "/api/status", &get, &sessions, SESSION_COOKIE).await,
            Ok(Some(session.clone()))
        );
        let err = check_session(
            &Method::POST,
            "/api/policy",
            &get,
            &sessions,
            SESSION_COOKIE,
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, StatusCode::FORBIDDEN);
        let wrong = headers(&[("cookie", &cookie), (CSRF_HEADER, "guess")]);
        assert!(check_session(
            &Method::POST,
            "/api/policy",
            &wrong,
            &sessions,
            SESSION_COOKIE
        )
        .await
        .is_err());
        let right = headers(&[("cookie", &cookie), (CSRF_HEADER, &session.csrf)]);
        assert!(check_session(
            &Method::POST,
            "/api/policy",
            &right,
            &sessions,
            SESSION_COOKIE
        )
        .await
        .is_ok());
        let forged = headers(&[("cookie", "toolhost_session=forged"), (CSRF_HEADER, "x")]);
        assert!(check_session(
            &Method::POST,
            "/api/policy",
            &forged,
            &sessions,
            SESSION_COOKIE
        )
        .await
        .is_err());
    }

    /// Under `toolhost serve` each tenant's UI reads its own cookie and knows its own
    /// sessions: tenant A's session is nobody under B's cookie name or in B's sessions.
    #[tokio::test]
    async fn a_session_counts_only_under_its_own_cookie_and_sessions() {
        let (a, b) = (
            Sessions::with_launch_token("launch-a"),
            Sessions::with_launch_token("launch-b"),
        );
        let session = a.exchange("launch-a").await.unwrap();
        let as_a = headers(&[("cookie", &format!("toolhost_session_a={}", session.id))]);
        let as_b = headers(&[("cookie", &format!("toolhost_session_b={}", session.id))]);
        async fn read(
            h: &HeaderMap,
            sessions: &Sessions,
            cookie: &str,
        ) -> Result<Option<Session>, Rejection> {
            check_session(&Method::GET, "/api/approvals", h, sessions, cookie).await
        }
        assert_eq!(
            read(&as_a, &a, "toolhost_session_a").await,
            Ok(Some(session.clone()))
        );
        for (h, sessions, cookie) in [
            (&as_a, &b, "toolhost_session_b"),
            (&as_b, &b, "toolhost_session_b"),
            (&as_a, &a, "toolhost_session_b"),
            (&as_a, &a, SESSION_COOKIE),
        ] {
            let err = read(h, sessions, cookie).await.unwrap_err();
            assert_eq!(err.status, StatusCode::UNAUTHORIZED, "{cookie}");
        }
    }

    #[tokio::test]
    async fn the_token_exchange_needs_the_custom_header() {
        let sessions = Sessions::with_launch_token("launch");
        let plain = HeaderMap::new();
        assert!(check_session(
            &Method::POST,
            SESSION_PATH,
            &plain,
            &sessions,
            SESSION_COOKIE
        )
        .await
        .is_err());
        let marked = headers(&[(CSRF_HEADER, "launch")]);
        assert_eq!(
            check_session(
                &Method::POST,
                SESSION_PATH,
                &marked,
                &sessions,
                SESSION_COOKIE
            )
            .await,
            Ok(None)
        );
    }
}
