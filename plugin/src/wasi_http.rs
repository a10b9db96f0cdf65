//! The wasip2 transport: one blocking outgoing request per call, no body opened for a GET.

use crate::errors::{ToolError, ToolResult};
use crate::http::{uuid_v4, InFlight, Method, Request, Response, Transport};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, Method as WasiMethod, OutgoingBody,
    OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

/// Largest response body read, so a runaway upstream cannot exhaust the guest's memory.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
const READ_CHUNK: u64 = 64 * 1024;

pub struct WasiTransport;

impl Transport for WasiTransport {
    fn send(&self, request: Request) -> ToolResult<Response> {
        self.start(request)()
    }

    fn start<'t>(&'t self, request: Request) -> InFlight<'t> {
        match begin(request) {
            Ok(future) => Box::new(move || receive(future)),
            Err(error) => Box::new(move || Err(error)),
        }
    }

    fn request_id(&self) -> String {
        let bytes = wasip2::random::insecure::get_insecure_random_bytes(16);
        let mut id = [0u8; 16];
        for (slot, byte) in id.iter_mut().zip(bytes) {
            *slot = byte;
        }
        uuid_v4(id)
    }
}

/// Hands `request` (with its body) to the host, which sends it while the guest goes on.
fn begin(request: Request) -> ToolResult<FutureIncomingResponse> {
    // One host call for all of them, not one per header.
    let entries: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&entries).map_err(|e| {
        let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
        ToolError::Internal(format!(
            "could not set the request headers ({}): {}",
            names.join(", "),
            header_error(&e)
        ))
    })?;
    let outgoing = OutgoingRequest::new(headers);
    // A new request is a GET: setting it again would be a host call for nothing.
    let method = match request.method {
        Method::Get => None,
        Method::Post => Some(WasiMethod::Post),
    };
    let setup = || -> Result<(), ()> {
        if let Some(method) = &method {
            outgoing.set_method(method)?;
        }
        outgoing.set_scheme(Some(&Scheme::Https))?;
        outgoing.set_authority(Some(&request.authority))?;
        outgoing.set_path_with_query(Some(&request.path_with_query))
    };
    setup().map_err(|_| {
        ToolError::Internal(format!(
            "invalid request target {}",
            request.path_with_query
        ))
    })?;

    let body = match &request.body {
        Some(_) => Some(
            outgoing
                .body()
                .map_err(|_| ToolError::Internal("request body unavailable".into()))?,
        ),
        None => None,
    };
    let future = outgoing_handler::handle(outgoing, None).map_err(transport_error)?;
    if let (Some(body), Some(bytes)) = (body, &request.body) {
        write_body(body, bytes)?;
    }
    Ok(future)
}

/// Waits for the answer to a request [`begin`] handed over and reads all of it.
fn receive(future: FutureIncomingResponse) -> ToolResult<Response> {
    // The response cannot be there yet: wait first, then take it (a `get` before the
    // wait is a host call that always answers "not yet").
    let response = loop {
        future.subscribe().block();
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(transport_error(code)),
            Some(Err(())) => return Err(ToolError::Internal("response already taken".into())),
            None => continue,
        }
    };
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name, String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok());
    let incoming = response
        .consume()
        .map_err(|_| ToolError::Internal("response body unavailable".into()))?;
    let body = read_body(incoming, length)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> ToolResult<()> {
    {
        let stream = body
            .write()
            .map_err(|_| ToolError::Internal("request body stream unavailable".into()))?;
        // blocking_write_and_flush accepts at most 4096 bytes per call.
        for chunk in bytes.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|e| {
                ToolError::Internal(format!(
                    "writing the request body failed: {}",
                    stream_error(&e)
                ))
            })?;
        }
    }
    OutgoingBody::finish(body, None).map_err(transport_error)
}

/// Reads the body to its end: `length` bytes when the answer declared them (no further read
/// to learn that the stream is closed), otherwise until the stream says so.
fn read_body(incoming: IncomingBody, length: Option<usize>) -> ToolResult<Vec<u8>> {
    // Sized up front for an ordinary answer; a larger one grows as it arrives.
    let mut out = Vec::with_capacity(length.unwrap_or(0).min(READ_CHUNK as usize));
    {
        let stream = incoming
            .stream()
            .map_err(|_| ToolError::Internal("response body stream unavailable".into()))?;
        while length.is_none_or(|length| out.len() < length) {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => {
                    out.extend_from_slice(&chunk);
                    if out.len() > MAX_BODY_BYTES {
                        return Err(ToolError::Upstream {
                            status: 200,
                            message: format!("the API answer exceeded {MAX_BODY_BYTES} bytes"),
                        });
                    }
                }
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(ToolError::Upstream {
                        status: 0,
                        message: format!("reading the API answer failed: {}", e.to_debug_string()),
                    })
                }
            }
        }
    }
    // Dropped, not finished: the plugin reads no trailers, and `finish` would hand back a
    // future of them to drop as well (two host calls for nothing).
    drop(incoming);
    Ok(out)
}

fn header_error(error: &wasip2::http::types::HeaderError) -> &'static str {
    match error {
        wasip2::http::types::HeaderError::InvalidSyntax => "invalid syntax",
        wasip2::http::types::HeaderError::Forbidden => "forbidden by the host",
        wasip2::http::types::HeaderError::Immutable => "immutable",
    }
}

fn stream_error(error: &StreamError) -> String {
    match error {
        StreamError::Closed => "stream closed".to_string(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}

/// Maps a wasi:http transport failure onto a tool error.
fn transport_error(code: ErrorCode) -> ToolError {
    match code {
        ErrorCode::HttpRequestDenied => ToolError::Forbidden(
            "outbound request denied by the host: the origin is not on the allowlist or policy blocked it".into(),
        ),
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout
        | ErrorCode::DnsTimeout => ToolError::Timeout("the ConnectWise RMM API did not answer in time; retry later".into()),
        ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => ToolError::Internal("HTTP transport failure: the API host could not be resolved".into()),
        ErrorCode::ConnectionRefused | ErrorCode::DestinationUnavailable => ToolError::Internal("HTTP transport failure: the API host refused or is unreachable".into()),
        ErrorCode::ConnectionTerminated | ErrorCode::HttpResponseIncomplete => ToolError::Internal("HTTP transport failure: the connection closed before the answer was complete".into()),
        ErrorCode::TlsProtocolError | ErrorCode::TlsCertificateError | ErrorCode::TlsAlertReceived(_) => ToolError::Internal("HTTP transport failure: TLS error".into()),
        ErrorCode::InternalError(Some(detail)) => ToolError::Internal(format!("HTTP transport failure: {detail}")),
        // Debug-printing the whole ErrorCode enum costs kilobytes of component size; the class is enough.
        _ => ToolError::Internal("HTTP transport failure".into()),
    }
}
