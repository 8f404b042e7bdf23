//! Serving the web app built by Trunk from the dist directory.
//!
//! What a request gets:
//! - the file under the dist directory, with its content type guessed from the extension
//!   (`application/wasm`, `text/javascript`, `text/html`, ...); a directory gets its
//!   `index.html`;
//! - a precompressed sibling (`app.wasm.br`, `app.wasm.gz`) when the client accepts that
//!   encoding and the sibling exists; otherwise the router's compression layer compresses on
//!   the fly;
//! - the single-page fallback: a GET or HEAD for a path whose last segment has no extension
//!   and that matches no file gets `index.html` with 200, so client-side routes survive a
//!   reload; a missing path with an extension (`/missing.js`) stays a 404;
//! - text types (`text/*`, JSON, SVG) declared as UTF-8, which is what Trunk writes;
//! - cache headers: names carrying a Trunk content hash (`web-app-1a2b3c4d5e6f7a8b.js`,
//!   `web-app-1a2b3c4d5e6f7a8b_bg.wasm`) are `immutable` for a year, everything else,
//!   `index.html` first, is `no-cache` so a new build is picked up at once.
//!
//! - a path longer than [`MAX_PATH_BYTES`] or with a segment longer than
//!   [`MAX_SEGMENT_BYTES`] (no file can have such a name) is a 404 without a look at the disk;
//!   a file that cannot be read for another reason is a 500 logged once, without the path.
//!
//! Invariants: nothing outside the dist directory is ever served (`ServeDir` rejects `..`
//! and absolute paths); the dist directory is read per request, so a rebuild is served
//! without restarting the relay.

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::AppState;
use crate::error::ApiError;

/// Longest path looked up in the dist directory (bytes, as sent).
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest path segment looked up: file systems refuse longer names.
pub const MAX_SEGMENT_BYTES: usize = 255;

/// `Cache-Control` of content-hashed assets: their name changes whenever their content does.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else: the browser revalidates before each use.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// Fallback handler of the router: answers every request no route matched.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let dist_dir = &state.config().dist_dir;
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let accept_encoding = request.headers().get(header::ACCEPT_ENCODING).cloned();
    if path.len() > MAX_PATH_BYTES || path.split('/').any(|s| s.len() > MAX_SEGMENT_BYTES) {
        return ApiError::NotFound("nothing here: the path is longer than any file's".into())
            .into_response();
    }

    let mut response = match ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
        .try_call(request)
        .await
    {
        Ok(response) => response.into_response(),
        Err(err) if is_bad_name(&err) => {
            return ApiError::NotFound("nothing here: no such route or file".into())
                .into_response();
        }
        Err(err) => {
            return ApiError::Internal(format!("reading the web app failed: {err}"))
                .into_response();
        }
    };

    let spa_fallback = response.status() == StatusCode::NOT_FOUND
        && (method == Method::GET || method == Method::HEAD)
        && !has_extension(&path);
    if spa_fallback {
        response = serve_index(dist_dir, method, accept_encoding).await;
    }

    let cache_control = if response.status().is_success() && !spa_fallback && is_hashed_asset(&path)
    {
        CACHE_IMMUTABLE
    } else {
        CACHE_REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if let Some(with_charset) = headers.get(header::CONTENT_TYPE).and_then(utf8_charset) {
        headers.insert(header::CONTENT_TYPE, with_charset);
    }
    // A precompressed sibling may have been chosen by Accept-Encoding; caches must know.
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether a file system error says the name itself cannot exist (too long, invalid).
fn is_bad_name(err: &std::io::Error) -> bool {
    // ENAMETOOLONG is `InvalidFilename`.
    matches!(
        err.kind(),
        std::io::ErrorKind::InvalidFilename | std::io::ErrorKind::InvalidInput
    )
}

/// Serves `index.html` for the single-page fallback, keeping the content negotiation of the
/// original request.
async fn serve_index(
    dist_dir: &Path,
    method: Method,
    accept_encoding: Option<HeaderValue>,
) -> Response {
    let mut request = Request::new(Body::empty());
    *request.method_mut() = method;
    if let Some(value) = accept_encoding {
        request.headers_mut().insert(header::ACCEPT_ENCODING, value);
    }
    ServeFile::new(dist_dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await
        .map(IntoResponse::into_response)
        .unwrap_or_else(|never| match never {})
}

/// The content type with `; charset=utf-8` appended, for text types that lack a charset:
/// Trunk writes UTF-8, and browsers would otherwise guess.
fn utf8_charset(content_type: &HeaderValue) -> Option<HeaderValue> {
    let value = content_type.to_str().ok()?;
    let textual = value.starts_with("text/")
        || value.starts_with("application/json")
        || value.starts_with("image/svg+xml");
    if !textual || value.contains("charset") {
        return None;
    }
    HeaderValue::from_str(&format!("{value}; charset=utf-8")).ok()
}

/// Whether the last segment of a URL path has an extension (`/a/b.js` does, `/a/b` does not).
fn has_extension(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    last.rfind('.')
        .is_some_and(|dot| dot > 0 && dot + 1 < last.len())
}

/// Whether some segment of the path carries a Trunk content hash: a name whose stem ends in
/// `-` and at least 8 hexadecimal digits, optionally followed by `_bg` (the wasm-bindgen
/// module), as in `web-app-1a2b3c4d5e6f7a8b_bg.wasm` or `snippets/web-app-1a2b3c4d5e6f7a8b/`.
pub fn is_hashed_asset(path: &str) -> bool {
    path.split('/').any(|segment| {
        let stem = segment.split('.').next().unwrap_or_default();
        let stem = stem.strip_suffix("_bg").unwrap_or(stem);
        stem.rsplit_once('-').is_some_and(|(name, hash)| {
            !name.is_empty() && hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_seen_only_in_the_last_segment() {
        assert!(has_extension("/missing.js"));
        assert!(has_extension("/a.b/app.wasm"));
        assert!(!has_extension("/"));
        assert!(!has_extension("/some/route"));
        assert!(!has_extension("/v1.2/route"));
        assert!(!has_extension("/.well-known"));
        assert!(!has_extension("/trailing."));
    }

    #[test]
    fn text_types_get_a_utf8_charset() {
        let with = |v: &'static str| utf8_charset(&HeaderValue::from_static(v));
        assert_eq!(with("text/html").unwrap(), "text/html; charset=utf-8");
        assert_eq!(
            with("text/javascript").unwrap(),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(with("text/plain; charset=latin1"), None);
        assert_eq!(with("application/wasm"), None);
        assert_eq!(with("image/png"), None);
    }

    #[test]
    fn trunk_hashed_names_are_recognised() {
        assert!(is_hashed_asset("/web-app-1a2b3c4d.js"));
        assert!(is_hashed_asset("/web-app-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_asset("/index-9f8e7d6c5b4a3f2e.css"));
        assert!(is_hashed_asset(
            "/snippets/web-app-1a2b3c4d5e6f7a8b/inline0.js"
        ));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/web-app.js"));
        assert!(!is_hashed_asset("/favicon.ico"));
        assert!(!is_hashed_asset("/some-route"));
        assert!(!is_hashed_asset("/-1a2b3c4d.js"));
        assert!(!is_hashed_asset("/web-app-1a2b3c.js"));
        assert!(!is_hashed_asset("/world-geography.bin"));
    }
}
