//! Sending one request upstream with the host's timeouts and a response-size cap.
//!
//! Every request goes through the process's connection [`pool`](super::pool), so the host's
//! own requests (token minting) and the plugin's requests share kept-alive connections, one
//! TLS configuration and the same timeouts.

use super::body_hooks::{BodyHooks, HookedBody};
use super::origin::Origin;
use super::pool::{process_pool, Head};
use super::response_body::ResponseBody;
use bytes::Bytes;
use http_body_util::BodyExt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

/// Network timeouts for one upstream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeouts {
    /// To establish the connection (TCP and TLS).
    pub connect: Duration,
    /// From sending the request to the first byte of the response.
    pub first_byte: Duration,
    /// The longest silence while the response body streams.
    pub between_bytes: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// The stricter of the host's timeouts and whatever the guest asked for.
    pub fn tightened_by(self, guest: Option<RequestOptions>) -> RequestOptions {
        let pick =
            |host: Duration, guest: Option<Duration>| Some(guest.map_or(host, |g| g.min(host)));
        let guest = guest.unwrap_or_default();
        RequestOptions {
            connect_timeout: pick(self.connect, guest.connect_timeout),
            first_byte_timeout: pick(self.first_byte, guest.first_byte_timeout),
            between_bytes_timeout: pick(self.between_bytes, guest.between_bytes_timeout),
        }
    }
}

/// The future wasi-http runs beside a response. The pool drives its connections in tasks
/// of their own (they outlive one response), so this one has nothing left to do.
pub type ConnectionDriver = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// Without a timeout from the host or the guest, a request still ends eventually.
const UNSET_TIMEOUT: Duration = Duration::from_secs(600);

/// Sends `request` (its URI may name any origin) to `target`, keeping the request's path,
/// query and headers. The caller sets the `Host` header it wants upstream to see. The
/// connection is one the pool holds for exactly `target`, or a new one to it.
pub async fn send(
    request: http::Request<Bytes>,
    target: &Origin,
    options: RequestOptions,
    max_response_bytes: u64,
) -> Result<(http::Response<WasiBody>, ConnectionDriver), HttpError> {
    let (parts, body) = request.into_parts();
    let head = Head {
        method: parts.method,
        uri: retarget(&parts.uri, target)?,
        headers: parts.headers,
    };
    let (response, checkin) = process_pool()
        .send(
            &head,
            &body,
            target,
            options.connect_timeout.unwrap_or(UNSET_TIMEOUT),
            options.first_byte_timeout.unwrap_or(UNSET_TIMEOUT),
        )
        .await?;
    let between_bytes = options.between_bytes_timeout.unwrap_or(UNSET_TIMEOUT);
    let response = response.map(|incoming| {
        let body = ResponseBody::new(incoming, between_bytes, checkin);
        CappedBody::new(body, max_response_bytes).boxed_unsync()
    });
    Ok((response, Box::new(async { Ok(()) })))
}

/// `uri`'s path and query on `target`'s scheme and authority: where a routed request
/// really connects.
fn retarget(uri: &http::Uri, target: &Origin) -> Result<http::Uri, HttpError> {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    http::Uri::builder()
        .scheme(target.scheme().as_str())
        .authority(target.authority())
        .path_and_query(path)
        .build()
        .map_err(|_| HttpError::HttpRequestUriInvalid)
}

/// A fully read response, for the host's own small requests.
#[derive(Debug)]
pub struct BufferedResponse {
    /// The response status.
    pub status: http::StatusCode,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The whole body (within the cap the caller gave).
    pub body: Bytes,
}

/// Sends and reads the whole response body (capped).
pub async fn fetch(
    request: http::Request<Bytes>,
    target: &Origin,
    options: RequestOptions,
    max_response_bytes: u64,
) -> Result<BufferedResponse, HttpError> {
    let (response, driver) = send(request, target, options, max_response_bytes).await?;
    let driver = tokio::spawn(Pin::from(driver));
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes());
    driver.abort();
    Ok(BufferedResponse {
        status: parts.status,
        headers: parts.headers,
        body: body?,
    })
}

/// A response body that fails once more than `limit` bytes have arrived, so a hostile or
/// broken upstream cannot exhaust the host's (or the guest's) memory.
pub(crate) type CappedBody<B> = HookedBody<B, ByteCap>;

/// The hooks of a [`CappedBody`]: the bytes still allowed.
pub(crate) struct ByteCap {
    remaining: u64,
    limit: u64,
}

impl<B> HookedBody<B, ByteCap> {
    pub(crate) fn new(inner: B, limit: u64) -> CappedBody<B> {
        let cap = ByteCap {
            remaining: limit,
            limit,
        };
        HookedBody::with_hooks(inner, cap)
    }
}

impl BodyHooks for ByteCap {
    fn on_frame(
        &mut self,
        frame: &http_body::Frame<Bytes>,
        _inner_ended: bool,
    ) -> Result<(), HttpError> {
        if let Some(data) = frame.data_ref() {
            let len = data.len() as u64;
            if len > self.remaining {
                return Err(HttpError::HttpResponseBodySize(Some(self.limit)));
            }
            self.remaining -= len;
        }
        Ok(())
    }

    /// No hint: the upstream's `Content-Length` is its claim, not a size the cap allows.
    fn size_hint(&self, _inner: http_body::SizeHint) -> http_body::SizeHint {
        http_body::SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[tokio::test]
    async fn capped_body_fails_past_the_limit() {
        let body = Full::new(Bytes::from(vec![0u8; 10])).map_err(|never| match never {});
        let err = CappedBody::new(body, 9).collect().await.unwrap_err();
        assert!(matches!(err, HttpError::HttpResponseBodySize(Some(9))));
        let body = Full::new(Bytes::from(vec![0u8; 10])).map_err(|never| match never {});
        assert_eq!(
            CappedBody::new(body, 10)
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .len(),
            10
        );
    }

    #[test]
    fn a_capped_body_does_not_pass_on_the_upstreams_size_claim() {
        let body = Full::new(Bytes::from(vec![0u8; 10])).map_err(|never| match never {});
        let hint = http_body::Body::size_hint(&CappedBody::new(body, 9));
        assert_eq!((hint.lower(), hint.upper()), (0, None));
    }

    #[test]
    fn a_routed_request_keeps_its_path_and_query() {
        let real = Origin::parse("https://api.example.com").unwrap();
        let sim = Origin::parse("http://127.0.0.1:4000").unwrap();
        let mut routes = crate::outbound::UpstreamRoutes::new();
        routes.insert(real.clone(), sim);
        let uri: http::Uri = "https://api.example.com/v1/devices?name=dc01"
            .parse()
            .unwrap();
        let routed = retarget(&uri, routes.resolve(&real)).unwrap();
        assert_eq!(routed, "http://127.0.0.1:4000/v1/devices?name=dc01");
        let other = Origin::parse("https://other.example.com:8443").unwrap();
        let unrouted = retarget(&uri, routes.resolve(&other)).unwrap();
        assert_eq!(
            unrouted,
            "https://other.example.com:8443/v1/devices?name=dc01"
        );
        let bare: http::Uri = "https://api.example.com".parse().unwrap();
        assert_eq!(
            retarget(&bare, &real).unwrap(),
            "https://api.example.com:443/"
        );
        let v6 = Origin::parse("http://[::1]:4000").unwrap();
        assert_eq!(
            retarget(&uri, &v6).unwrap(),
            "http://[::1]:4000/v1/devices?name=dc01"
        );
    }

    #[test]
    fn guest_timeouts_can_only_tighten() {
        let host = Timeouts::default();
        let guest = RequestOptions {
            connect_timeout: Some(Duration::from_secs(1)),
            first_byte_timeout: Some(Duration::from_secs(3600)),
            between_bytes_timeout: None,
        };
        let got = host.tightened_by(Some(guest));
        assert_eq!(got.connect_timeout, Some(Duration::from_secs(1)));
        assert_eq!(got.first_byte_timeout, Some(host.first_byte));
        assert_eq!(got.between_bytes_timeout, Some(host.between_bytes));
    }
}
