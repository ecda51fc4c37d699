//! HTTP errors: every failure answers `{"error": {"code", "message"}}` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::actions::ActionError;
use crate::platform::PlatformError;
use crate::protocol::{ErrorBody, ErrorInfo};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a Retry-After header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorInfo {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        }
    }
}

impl From<PlatformError> for ApiError {
    fn from(err: PlatformError) -> Self {
        let (status, code) = match &err {
            PlatformError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            PlatformError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            PlatformError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            PlatformError::Unsupported(_) => (StatusCode::NOT_IMPLEMENTED, "unsupported"),
            PlatformError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        ApiError::new(status, code, err.to_string())
    }
}

impl From<ActionError> for ApiError {
    fn from(err: ActionError) -> Self {
        let message = err.to_string();
        match err {
            ActionError::Invalid(_) | ActionError::KeyReused { .. } => {
                ApiError::validation(message)
            }
            ActionError::NotFound(_) => ApiError::not_found(message),
            ActionError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            ActionError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            ActionError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message).retry_after(1)
            }
            ActionError::RateLimited {
                retry_after_secs, ..
            } => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
                .retry_after(retry_after_secs),
            ActionError::TooManyRuns { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_runs", message)
            }
            ActionError::Platform(err) => err.into(),
            ActionError::Internal => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
            }
            ActionError::Unaudited => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                message,
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
