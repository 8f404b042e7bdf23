//! Limits on what a request may be, and the one error shape for every answer, the
//! framework's own included.
//!
//! - [`check_request`] (a middleware): a URI longer than [`MAX_URI_BYTES`] is answered 414; a
//!   query string whose percent-decoded names or values are not UTF-8 is answered 400 (no
//!   handler ever sees replacement characters); the body must arrive whole within
//!   `--body-timeout` of the middleware seeing the head, else the request is answered 408 and
//!   the connection closed. (tower-http's `RequestBodyTimeoutLayer` restarts its clock at
//!   every frame, so a body trickled a byte at a time never times out, and the extractor
//!   would turn its error into a 400; the deadline here is for the whole body.)
//! - [`json_errors`] (a middleware): an error answer (4xx or 5xx) that is not JSON already,
//!   such as axum's own 405 (wrong method), 413 (body over a route's limit), 400 (a path or
//!   body the extractors refused), 415, or a websocket upgrade refused, or the static files'
//!   404, becomes `{"error": "<one sentence>"}` with the same status and headers.
//! - The request head (its read timeout, `--header-timeout`, which also closes kept-alive
//!   connections that stay idle) and the number of connections (`--max-connections`) are
//!   limited where connections are served, in [`crate::server`].
//!
//! What cannot be JSON: requests hyper cannot parse at all (a malformed head, a URI over
//! 64 KiB, a head over hyper's buffer of about 400 KiB) get hyper's bare status line before
//! any of this runs, and the connection is closed.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};

use crate::AppState;
use crate::error::ApiError;

/// Longest request URI (path and query) answered other than 414: browsers and proxies keep
/// to 8 KiB, and no route of the relay needs more.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Longest text of a framework error kept as the JSON error's sentence.
const MAX_MESSAGE_CHARS: usize = 300;

/// The middleware of the request limits: URI length, UTF-8 query, body deadline.
pub async fn check_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return uri_too_long();
    }
    if let Some(query) = request.uri().query()
        && let Err(name) = query_is_utf8(query)
    {
        return ApiError::bad_request(format!(
            "the query string has invalid UTF-8 in {name}; percent-encode text as UTF-8"
        ))
        .into_response();
    }
    let late = Arc::new(AtomicBool::new(false));
    let timeout = state.config().body_timeout();
    let request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            late: late.clone(),
        })
    });
    let response = next.run(request).await;
    if late.load(Ordering::Acquire) {
        return body_too_slow(timeout);
    }
    response
}

fn uri_too_long() -> Response {
    error_response(
        StatusCode::URI_TOO_LONG,
        format!("the request URI is longer than {MAX_URI_BYTES} bytes"),
    )
}

fn body_too_slow(timeout: Duration) -> Response {
    let mut response = error_response(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body did not arrive within {} s; send it whole and promptly",
            timeout.as_secs()
        ),
    );
    // The rest of the body may still come: the connection cannot be reused.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `Err(name)` for the first query parameter (`name` or `the value of name`) whose
/// percent-decoded bytes are not UTF-8.
fn query_is_utf8(query: &str) -> Result<(), String> {
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|d| d.into_owned())
        };
        let Ok(name) = decode(name) else {
            return Err("a parameter name".into());
        };
        if decode(value).is_err() {
            let name: String = name.chars().take(40).collect();
            return Err(format!("the value of {name:?}"));
        }
    }
    Ok(())
}

/// A request body that fails once its deadline passed, and says so through `late`.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    late: Arc<AtomicBool>,
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimeout;

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.late.store(true, Ordering::Release);
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `{"error": message}` with `status`.
fn error_response(status: StatusCode, message: String) -> Response {
    let body = serde_json::json!({ "error": message });
    (status, axum::Json(body)).into_response()
}

/// The middleware that turns every error answer that is not JSON into the documented JSON
/// error, keeping its status and headers (`Allow`, `Retry-After`, ...).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The framework's texts are short; anything long or odd is replaced by the sentence.
    let text = axum::body::to_bytes(body, 4 * MAX_MESSAGE_CHARS)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !t.contains('\n') && t.chars().count() <= MAX_MESSAGE_CHARS);
    let allow = parts
        .headers
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let message = sentence(status, &method, allow.as_deref(), text);
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ETAG,
        header::LAST_MODIFIED,
    ] {
        parts.headers.remove(name);
    }
    let json = error_response(status, message);
    let (json_parts, body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, body)
}

/// The JSON error's sentence for a framework answer of `status` whose body said `text`.
fn sentence(
    status: StatusCode,
    method: &Method,
    allow: Option<&str>,
    text: Option<String>,
) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => match allow.filter(|a| !a.is_empty()) {
            Some(allow) => format!("method {method} is not allowed here; allowed: {allow}"),
            None => format!("method {method} is not allowed here"),
        },
        StatusCode::PAYLOAD_TOO_LARGE => {
            "the request body is larger than this endpoint accepts".into()
        }
        StatusCode::NOT_FOUND => text
            .filter(|t| !t.eq_ignore_ascii_case("not found"))
            .unwrap_or_else(|| "nothing here: no such route or file".into()),
        StatusCode::URI_TOO_LONG => format!("the request URI is longer than {MAX_URI_BYTES} bytes"),
        // Details of a failure inside stay in the log.
        s if s.is_server_error() => s
            .canonical_reason()
            .unwrap_or("internal error")
            .to_lowercase(),
        s => text.unwrap_or_else(|| {
            s.canonical_reason()
                .map_or_else(|| format!("error {}", s.as_u16()), str::to_lowercase)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_must_decode_to_utf8() {
        assert!(query_is_utf8("a=1&b=caf%C3%A9&c=x+y&flag").is_ok());
        assert!(query_is_utf8("label=%e2%9c%88").is_ok());
        assert_eq!(
            query_is_utf8("lat=1&label=%ff%fe"),
            Err("the value of \"label\"".into())
        );
        assert_eq!(query_is_utf8("%ff=1"), Err("a parameter name".into()));
        // A lone % is not an escape; it stays as it is.
        assert!(query_is_utf8("a=100%").is_ok());
    }

    #[test]
    fn sentences_name_the_method_and_hide_internal_details() {
        let get = Method::GET;
        assert_eq!(
            sentence(
                StatusCode::METHOD_NOT_ALLOWED,
                &Method::DELETE,
                Some("GET,HEAD"),
                None
            ),
            "method DELETE is not allowed here; allowed: GET,HEAD"
        );
        assert_eq!(
            sentence(
                StatusCode::INTERNAL_SERVER_ERROR,
                &get,
                None,
                Some("/etc/x".into())
            ),
            "internal server error"
        );
        assert_eq!(
            sentence(
                StatusCode::BAD_REQUEST,
                &get,
                None,
                Some("Invalid URL".into())
            ),
            "Invalid URL"
        );
        assert_eq!(
            sentence(StatusCode::UPGRADE_REQUIRED, &get, None, None),
            "upgrade required"
        );
    }
}
