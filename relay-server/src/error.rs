//! The relay's two error types: [`StartupError`] for what stops the process before or while
//! serving, and [`ApiError`] for what a handler answers to a client.
//!
//! Invariants: every `StartupError` displays as one sentence that says what to do, because
//! `main` prints it as `error: <sentence>` and exits non-zero, with no backtrace. Every
//! `ApiError` names its HTTP status and becomes a small JSON body `{"error": "..."}`; internal
//! details are logged, never sent to the client.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why the relay could not start or stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The dist directory has no `index.html`, and `--allow-missing-dist` was not given.
    #[error(
        "no built web app in {} (index.html missing); run `cargo xtask serve` or \
         `trunk build --release` first, or pass --dist-dir with the build's directory",
        dir.display()
    )]
    MissingDist {
        /// The configured dist directory.
        dir: PathBuf,
    },

    /// NATS or the database could not be set up (bad URL, failed migration).
    #[error("{0}")]
    Service(String),

    /// Another process already listens on the address.
    #[error("port {port} on {bind} is already in use; stop the other process or pass --port N")]
    PortInUse {
        /// The configured bind address.
        bind: IpAddr,
        /// The configured port.
        port: u16,
    },

    /// The operating system refused the port, typically a port below 1024 without privileges.
    #[error(
        "not allowed to listen on {addr}; pass a --port above 1023 or run with the needed \
         privileges"
    )]
    PortDenied {
        /// The address that was refused.
        addr: SocketAddr,
    },

    /// The bind address belongs to no interface of this machine.
    #[error(
        "{bind} is not an address of this machine; pass --bind 127.0.0.1 or another local address"
    )]
    AddressUnavailable {
        /// The configured bind address.
        bind: IpAddr,
    },

    /// Any other failure to listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that failed.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },

    /// The logging subscriber could not be installed.
    #[error("cannot set up logging: {0}")]
    Logging(String),
}

impl StartupError {
    /// Classifies a failure to bind `addr` into the variant that tells the user what to do.
    pub fn from_bind(addr: SocketAddr, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::AddrInUse => Self::PortInUse {
                bind: addr.ip(),
                port: addr.port(),
            },
            io::ErrorKind::PermissionDenied => Self::PortDenied { addr },
            io::ErrorKind::AddrNotAvailable => Self::AddressUnavailable { bind: addr.ip() },
            _ => Self::Bind { addr, source },
        }
    }
}

/// An error a handler answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a value is missing or out of bounds. `details` (a JSON
    /// object) adds fields to the body, such as the list of valid values.
    #[error("{message}")]
    BadRequest {
        /// One sentence.
        message: String,
        /// Extra fields of the body.
        details: Option<serde_json::Value>,
    },

    /// 403: not allowed (wrong or missing room token, foreign origin).
    #[error("{0}")]
    Forbidden(String),

    /// 404: the thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),

    /// 409: well-formed, but the target's state refuses it now, such as a launch into a paused
    /// room. `details` adds fields to the body (a `reason`).
    #[error("{message}")]
    Conflict {
        /// One sentence.
        message: String,
        /// Extra fields of the body.
        details: Option<serde_json::Value>,
    },

    /// 422: well-formed but impossible, such as a target beyond the missile's range.
    #[error("{message}")]
    Unprocessable {
        /// One sentence.
        message: String,
        /// Extra fields of the body.
        details: Option<serde_json::Value>,
    },

    /// 503: the relay runs but cannot do its job yet; the reason is safe to show.
    #[error("{0}")]
    NotReady(String),

    /// 503 with `Retry-After`: the relay is at one of its limits (a room's capacity, the
    /// solver's waiting line, the database queue) and refuses at once rather than queue.
    #[error("{message}")]
    Busy {
        /// One sentence.
        message: String,
        /// Seconds after which a retry is worth it (the `Retry-After` header).
        retry_after_s: u32,
    },

    /// 500: something failed inside; the detail is logged, the client sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with only a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            details: None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotReady(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::Busy { retry_after_s, .. } => Some(*retry_after_s),
            _ => None,
        };
        let (message, details) = match self {
            Self::BadRequest { message, details }
            | Self::Conflict { message, details }
            | Self::Unprocessable { message, details } => (message, details),
            Self::Forbidden(message) | Self::NotFound(message) | Self::NotReady(message) => {
                (message, None)
            }
            Self::Busy {
                message,
                retry_after_s,
            } => (
                message,
                Some(serde_json::json!({ "retry_after_s": retry_after_s })),
            ),
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ("internal error".to_owned(), None)
            }
        };
        let mut body = serde_json::Map::new();
        body.insert("error".into(), message.into());
        if let Some(serde_json::Value::Object(extra)) = details {
            for (key, value) in extra {
                body.entry(key).or_insert(value);
            }
        }
        let mut response = (status, Json(serde_json::Value::Object(body))).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_in_use_is_one_actionable_sentence() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let err = StartupError::from_bind(addr, io::Error::from(io::ErrorKind::AddrInUse));
        assert_eq!(
            err.to_string(),
            "port 8080 on 127.0.0.1 is already in use; stop the other process or pass --port N"
        );
    }

    #[test]
    fn bind_errors_are_classified() {
        let addr: SocketAddr = "10.9.8.7:80".parse().unwrap();
        let denied = StartupError::from_bind(addr, io::ErrorKind::PermissionDenied.into());
        assert!(matches!(denied, StartupError::PortDenied { .. }));
        let absent = StartupError::from_bind(addr, io::ErrorKind::AddrNotAvailable.into());
        assert!(absent.to_string().starts_with("10.9.8.7 is not an address"));
        let other = StartupError::from_bind(addr, io::Error::other("boom"));
        assert_eq!(other.to_string(), "cannot listen on 10.9.8.7:80: boom");
    }

    #[test]
    fn missing_dist_names_the_directory_and_the_fix() {
        let err = StartupError::MissingDist {
            dir: PathBuf::from("/srv/dist"),
        };
        let text = err.to_string();
        assert!(text.starts_with("no built web app in /srv/dist (index.html missing)"));
        assert!(text.contains("trunk build --release"));
        assert!(!text.contains('\n'));
    }

    #[test]
    fn internal_errors_hide_details() {
        let response = ApiError::Internal("secret path /etc".into()).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let response = ApiError::NotReady("not yet".into()).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn busy_answers_503_with_retry_after() {
        let response = ApiError::Busy {
            message: "full".into(),
            retry_after_s: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
