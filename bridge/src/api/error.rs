//! API errors: always JSON `{"error": "..."}` with a message saying what to fix.

use axum::{
    Json,
    http::{StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// An error answer.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// What was wrong and what to do about it.
    pub(crate) error: String,
}

impl ApiError {
    /// An answer with `message`, any URL in it masked (an RPC error quotes the node's
    /// URL, and a hosted node's URL holds its key).
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = evidence_adapters::redact::scrub(&message).into_owned();
        Self { status, message }
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
    /// A body that could not be read: not delivered within `api.body_timeout_ms` (408),
    /// larger than `api.max_body_bytes` (413), else `status` with axum's reason.
    pub(crate) fn from_body_rejection(
        status: StatusCode,
        text: &str,
        err: &(dyn std::error::Error + 'static),
    ) -> Self {
        let mut source = Some(err);
        let mut timed_out = text.contains("designated timeout");
        while let Some(e) = source {
            timed_out |= e.is::<tower_http::timeout::TimeoutError>();
            source = e.source();
        }
        if timed_out {
            metrics::counter!("bridge_api_body_timeouts_total").increment(1);
            return Self::new(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time (api.body_timeout_ms); send the whole body with the headers",
            );
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(
                status,
                format!("{text}; the body is larger than the server accepts (api.max_body_bytes)"),
            );
        }
        Self::new(status, format!("{text}; the body could not be read"))
    }

    /// A store failure: logged in full, answered briefly.
    pub(crate) fn store(e: impl std::fmt::Display) -> Self {
        tracing::error!(target: "api", error = %e, "store read failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "reading the store failed: {e}; try again, and tell the operator if it persists"
            ),
        )
    }
}

impl From<evidence_schemas::SchemaError> for ApiError {
    fn from(e: evidence_schemas::SchemaError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

/// Unknown paths.
pub(crate) async fn fallback(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no such endpoint {}; see /api/v1/openapi.json for the list",
        uri.path()
    ))
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        let hint = match &r {
            J::MissingJsonContentType(_) => "; send the body with `Content-Type: application/json`",
            J::BytesRejection(_) => {
                return Self::from_body_rejection(r.status(), &r.body_text(), &r);
            }
            _ => "; see /api/v1/openapi.json for the expected body",
        };
        Self::new(r.status(), format!("{}{hint}", r.body_text()))
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        Self::bad_request(format!(
            "{}; see /api/v1/openapi.json for the parameters",
            r.body_text()
        ))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        Self::bad_request(r.body_text())
    }
}

/// `axum::Json` with JSON errors.
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct JsonBody<T>(pub(crate) T);

/// `axum::extract::Query` with JSON errors.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct QueryParams<T>(pub(crate) T);

/// `axum::extract::Path` with JSON errors.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub(crate) struct PathParam<T>(pub(crate) T);
