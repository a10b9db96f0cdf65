//! The HTTP seam: a small transport trait (wasip2 in the component, a fake in native tests) and a
//! JSON client that builds Asio URLs, sets headers and maps failures.

use crate::errors::{self, ToolError, ToolResult};
use crate::pruned::{self, Keep};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One outbound request. The origin is fixed by the configured region; only the path varies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// `https` host (with port 443 implied) of the configured region.
    pub authority: String,
    pub path_with_query: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request on its way: calling it waits for the whole answer.
pub type InFlight<'t> = Box<dyn FnOnce() -> ToolResult<Response> + 't>;

/// Sends one request; transport failures (denied, timeout, reset) are already tool errors.
pub trait Transport {
    fn send(&self, request: Request) -> ToolResult<Response>;
    /// Sends `request` and returns before its answer, so the caller can work while it travels
    /// (the next page of a listing while this one is shaped). By default it is sent to the end
    /// first.
    fn start<'t>(&'t self, request: Request) -> InFlight<'t> {
        let answer = self.send(request);
        Box::new(move || answer)
    }
    /// A fresh correlation id for `X-Request-ID` (a UUID).
    fn request_id(&self) -> String;
}

/// `User-Agent` of every request; the v2 device API requires one.
pub const USER_AGENT: &str = concat!("cw-rmm-plugin/", env!("CARGO_PKG_VERSION"));

/// Formats 16 random bytes as a version-4 UUID. Digit by digit from a table: a `format!` per
/// byte was 4% of a small call's instructions.
pub fn uuid_v4(mut bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 15)] as char);
    }
    out
}

/// JSON client on one region's API origin. Never sends `Authorization`: the host injects it.
pub struct Api<'a> {
    transport: &'a dyn Transport,
    authority: String,
}

/// A successful JSON answer together with the headers paging needs.
pub struct JsonResponse {
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

/// A JSON request on its way ([`Api::start_post`]); [`PendingJson::finish`] waits for it.
pub struct PendingJson<'a> {
    in_flight: InFlight<'a>,
    path: String,
}

impl PendingJson<'_> {
    /// The answer, as [`Api::post`] gives it.
    pub fn finish(self) -> ToolResult<JsonResponse> {
        self.finish_keeping(Keep::ALL)
    }

    /// A success's JSON (only the members `keep` names) and headers; any other status as the
    /// tool error it means.
    fn finish_keeping(self, keep: Keep) -> ToolResult<JsonResponse> {
        let response = (self.in_flight)()?;
        if !(200..300).contains(&response.status) {
            return Err(errors::from_status(
                response.status,
                response.header("retry-after"),
                &response.body,
            ));
        }
        let body = decode_json(&response.body, &self.path, keep)?;
        Ok(JsonResponse {
            body,
            headers: response.headers,
        })
    }
}

impl JsonResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl<'a> Api<'a> {
    pub fn new(transport: &'a dyn Transport, authority: impl Into<String>) -> Self {
        Api {
            transport,
            authority: authority.into(),
        }
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> ToolResult<Value> {
        self.send(Method::Get, path, query, None).map(|r| r.body)
    }

    /// [`Api::get`] keeping only the object members named in `keep` (at any depth): for
    /// listings whose rows carry far more than the tool reads.
    pub fn get_keeping(
        &self,
        path: &str,
        query: &[(&str, String)],
        keep: &[&str],
    ) -> ToolResult<Value> {
        self.start(Method::Get, path, query, None)
            .finish_keeping(Keep(Some(keep)))
            .map(|r| r.body)
    }

    pub fn post(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &Value,
    ) -> ToolResult<JsonResponse> {
        self.send(Method::Post, path, query, Some(body))
    }

    pub fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> ToolResult<JsonResponse> {
        self.start(method, path, query, body).finish()
    }

    /// [`Api::post`] without waiting: the answer travels while the caller works.
    pub fn start_post(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &Value,
    ) -> PendingJson<'a> {
        self.start(Method::Post, path, query, Some(body))
    }

    /// Every request goes out here; a transport that cannot wait later sends it to the end.
    fn start(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> PendingJson<'a> {
        PendingJson {
            in_flight: self
                .transport
                .start(self.request(method, path, query, body)),
            path: path.to_string(),
        }
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Request {
        // The v2 device operations declare Origin, User-Agent and X-Request-ID as required
        // (asio-api.md §1.4); sending them everywhere is harmless.
        let mut headers = vec![
            ("Accept".to_string(), "application/json".to_string()),
            ("Origin".to_string(), format!("https://{}", self.authority)),
            ("User-Agent".to_string(), USER_AGENT.to_string()),
            ("X-Request-ID".to_string(), self.transport.request_id()),
        ];
        let body = body.map(|b| {
            headers.push(("Content-Type".to_string(), "application/json".to_string()));
            b.to_string().into_bytes()
        });
        Request {
            method,
            authority: self.authority.clone(),
            path_with_query: with_query(path, query),
            headers,
            body,
        }
    }
}

/// Parses a success body; an empty body is JSON null, anything unparsable is an upstream error.
fn decode_json(body: &[u8], path: &str, keep: Keep) -> ToolResult<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    pruned::parse(body, keep).map_err(|err| ToolError::Upstream {
        status: 200,
        message: format!("the API answered {path} with a body that is not JSON ({err})"),
    })
}

/// Appends percent-encoded query parameters to a path.
pub fn with_query(path: &str, query: &[(&str, String)]) -> String {
    let mut out = path.to_string();
    for (index, (key, value)) in query.iter().enumerate() {
        out.push(if index == 0 { '?' } else { '&' });
        out.push_str(&encode_component(key));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            // From a table, not `format!`: a device lookup encodes dozens of commas.
            out.push('%');
            out.push(HEX_UPPER[usize::from(byte >> 4)] as char);
            out.push(HEX_UPPER[usize::from(byte & 15)] as char);
        }
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes one path segment (ids come from callers and must not alter the path).
pub fn segment(raw: &str) -> String {
    encode_component(raw)
}

/// The `rel="next"` target of a `Link` header, e.g. `<…/endpoints?cursor=500&limit=500>; rel="next"`.
pub fn next_link(header: &str) -> Option<String> {
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim();
            let Some(value) = p.strip_prefix("rel=") else {
                return false;
            };
            value
                .trim_matches('"')
                .split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            let url = target.trim_start_matches('<').trim_end_matches('>').trim();
            if !url.is_empty() {
                return Some(url.to_string());
            }
        }
    }
    None
}

/// Value of one query parameter in a URL (decoded), e.g. `cursor` from a next link.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value))
    })
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
pub mod fake {
    //! A scripted transport for native tests: answers in order and records every request.
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    pub struct FakeTransport {
        pub answers: RefCell<Vec<ToolResult<Response>>>,
        pub requests: RefCell<Vec<Request>>,
    }

    impl FakeTransport {
        pub fn new() -> Self {
            Self::default()
        }

        pub fn reply(&self, status: u16, body: &str) -> &Self {
            self.reply_with_headers(status, &[], body)
        }

        pub fn reply_with_headers(
            &self,
            status: u16,
            headers: &[(&str, &str)],
            body: &str,
        ) -> &Self {
            self.answers.borrow_mut().push(Ok(Response {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: body.as_bytes().to_vec(),
            }));
            self
        }

        pub fn fail(&self, error: ToolError) -> &Self {
            self.answers.borrow_mut().push(Err(error));
            self
        }

        pub fn paths(&self) -> Vec<String> {
            self.requests
                .borrow()
                .iter()
                .map(|r| r.path_with_query.clone())
                .collect()
        }

        pub fn body_of(&self, index: usize) -> Value {
            let requests = self.requests.borrow();
            serde_json::from_slice(requests[index].body.as_deref().unwrap_or(b"null")).unwrap()
        }
    }

    impl Transport for FakeTransport {
        fn send(&self, request: Request) -> ToolResult<Response> {
            self.requests.borrow_mut().push(request);
            let mut answers = self.answers.borrow_mut();
            if answers.is_empty() {
                return Err(ToolError::Internal(
                    "fake transport: no answer scripted".into(),
                ));
            }
            answers.remove(0)
        }

        fn request_id(&self) -> String {
            let n = self.requests.borrow().len() as u8;
            uuid_v4([n; 16])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeTransport;
    use super::*;

    #[test]
    fn parses_link_headers() {
        assert_eq!(
            next_link(
                r#"<https://x/api/platform/v2/device/categories/all/endpoints?cursor=500&limit=500>; rel="next""#
            ),
            Some(
                "https://x/api/platform/v2/device/categories/all/endpoints?cursor=500&limit=500"
                    .into()
            )
        );
        assert_eq!(
            next_link(r#"</a?cursor=1>; rel="prev", </a?cursor=9>; rel=next"#),
            Some("/a?cursor=9".into())
        );
        assert_eq!(next_link(r#"</a?cursor=1>; rel="prev""#), None);
        assert_eq!(next_link(""), None);
        assert_eq!(
            query_param("/a?limit=500&cursor=1000", "cursor"),
            Some("1000".into())
        );
        assert_eq!(query_param("/a?x=%2Fy", "x"), Some("/y".into()));
        assert_eq!(query_param("/a?x=%2", "x"), Some("%2".into()));
        assert_eq!(query_param("/a", "cursor"), None);
    }

    #[test]
    fn formats_version_4_uuids() {
        assert_eq!(uuid_v4([0xab; 16]), "abababab-abab-4bab-abab-abababababab");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn encodes_queries() {
        assert_eq!(
            with_query(
                "/p",
                &[
                    ("filter", "endpointType in (Server,Desktop)".into()),
                    ("limit", "5".into())
                ]
            ),
            "/p?filter=endpointType%20in%20%28Server%2CDesktop%29&limit=5"
        );
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
        assert_eq!(encode_component("é\n"), "%C3%A9%0A");
    }

    #[test]
    fn sends_json_headers_and_never_authorization() {
        let fake = FakeTransport::new();
        fake.reply(200, "[]").reply(201, r#"{"ok":true}"#);
        let api = Api::new(&fake, "openapi.service.auplatform.connectwise.com");
        api.get("/x", &[]).unwrap();
        api.post("/y", &[], &serde_json::json!({"a":1})).unwrap();
        let requests = fake.requests.borrow();
        assert!(requests[0].body.is_none());
        assert!(!requests[0]
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type")));
        assert!(requests[1]
            .headers
            .contains(&("Content-Type".into(), "application/json".into())));
        for request in requests.iter() {
            assert!(!request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("authorization")));
            assert!(request
                .headers
                .contains(&("Accept".into(), "application/json".into())));
            assert!(request.headers.contains(&(
                "Origin".into(),
                "https://openapi.service.auplatform.connectwise.com".into()
            )));
            assert!(request
                .headers
                .iter()
                .any(|(k, v)| k == "X-Request-ID" && crate::args::is_uuid(v)));
            assert!(request
                .headers
                .iter()
                .any(|(k, v)| k == "User-Agent" && v.starts_with("cw-rmm-plugin/")));
        }
    }

    #[test]
    fn garbage_success_bodies_are_upstream_errors() {
        let fake = FakeTransport::new();
        fake.reply(200, "<html>")
            .reply(204, "")
            .reply(500, r#"{"message":"boom","code":"X"}"#);
        let api = Api::new(&fake, "h");
        assert!(matches!(
            api.get("/x", &[]),
            Err(ToolError::Upstream { status: 200, .. })
        ));
        assert_eq!(api.get("/x", &[]).unwrap(), Value::Null);
        assert_eq!(
            api.get("/x", &[]).unwrap_err(),
            ToolError::Upstream {
                status: 500,
                message: "boom (code X)".into()
            }
        );
    }
}
