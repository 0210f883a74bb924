//! Errors as Flipt's REST gateway returns them, mapped in one place.
//!
//! The body is a `google.rpc.Status`: `{"code": <gRPC code>, "message": "...",
//! "details": []}` and nothing else (the Go SDK parses it strictly). The HTTP
//! status follows grpc-gateway's mapping of the gRPC code (spec §3.2).

use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guidon_core::EvalError;

/// gRPC status codes used by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    /// 3, HTTP 400.
    InvalidArgument = 3,
    /// 4, HTTP 504.
    DeadlineExceeded = 4,
    /// 5, HTTP 404.
    NotFound = 5,
    /// 8, HTTP 429 (413 for an oversized body).
    ResourceExhausted = 8,
    /// 12, HTTP 501 (405 for a wrong method).
    Unimplemented = 12,
    /// 13, HTTP 500.
    Internal = 13,
}

/// An API error: gRPC code, HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The gRPC code in the body.
    pub code: Code,
    /// The message in the body.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 InvalidArgument.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Code::InvalidArgument, message)
    }

    /// 404 NotFound.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::NotFound, message)
    }
}

impl From<EvalError> for ApiError {
    fn from(e: EvalError) -> Self {
        match e {
            EvalError::NamespaceNotFound(_) | EvalError::FlagNotFound { .. } => {
                Self::not_found(e.to_string())
            }
            EvalError::WrongType(_) => Self::invalid(e.to_string()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ResourceExhausted,
                "request body too large",
            )
        } else {
            Self::invalid(format!("reading request body: {}", r.body_text()))
        }
    }
}

/// Writes the `google.rpc.Status` JSON body.
pub(crate) fn status_body(code: Code, message: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(message.len() + 40);
    body.extend_from_slice(b"{\"code\":");
    body.extend_from_slice((code as i32).to_string().as_bytes());
    body.extend_from_slice(b",\"message\":");
    // Serialising a &str cannot fail.
    body.extend_from_slice(&serde_json::to_vec(message).unwrap_or_else(|_| b"\"\"".to_vec()));
    body.extend_from_slice(b",\"details\":[]}");
    body
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, status_body(self.code, &self.message)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_a_google_rpc_status() {
        let body = status_body(Code::NotFound, "flag \"default/foo\" not found");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"code": 5, "message": "flag \"default/foo\" not found", "details": []})
        );
    }

    #[test]
    fn eval_errors_map_to_flipt_statuses() {
        let nf: ApiError = EvalError::FlagNotFound {
            namespace: "default".into(),
            key: "foo".into(),
        }
        .into();
        assert_eq!(
            (nf.status, nf.code),
            (StatusCode::NOT_FOUND, Code::NotFound)
        );
        let wt: ApiError = EvalError::WrongType(guidon_core::FlagType::Boolean).into();
        assert_eq!(
            (wt.status, wt.code),
            (StatusCode::BAD_REQUEST, Code::InvalidArgument)
        );
        assert_eq!(wt.message, "flag type BOOLEAN_FLAG_TYPE invalid");
    }
}
