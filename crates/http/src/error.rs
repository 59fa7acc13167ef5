//! The one mapping from use-case errors to HTTP responses.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use trustmint_exchange::{ErrorCode, ExchangeError};

/// PyPI's top-level message of every failed token request.
pub const TOKEN_REQUEST_FAILED: &str = "Token request failed";

/// An error answered in PyPI's body shape:
/// `{"message": "Token request failed", "errors": [{"code": …, "description": …}]}`.
#[derive(Debug)]
pub struct ApiError(pub ExchangeError);

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    errors: [ErrorItem; 1],
}

#[derive(Serialize)]
struct ErrorItem {
    code: ErrorCode,
    description: String,
}

impl From<ExchangeError> for ApiError {
    fn from(error: ExchangeError) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.0.code(), self.0.description())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match &self.0 {
            ExchangeError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ExchangeError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ExchangeError::NotFound(_) => StatusCode::NOT_FOUND,
            ExchangeError::FailedPrecondition(_) => StatusCode::CONFLICT,
            // Every token-request failure is 422, as on PyPI, so clients that branch on
            // it (gh-action-pypi-publish, uv, twine) behave the same here.
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let ExchangeError::RateLimited { retry_after_secs } = &self.0 {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        if let ExchangeError::Unavailable { .. } = &self.0 {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        }
        response.json(ErrorBody {
            message: TOKEN_REQUEST_FAILED,
            errors: [ErrorItem {
                code: self.0.code(),
                description: self.0.description(),
            }],
        })
    }
}

/// A 4xx/5xx with PyPI's body and an explicit status (for body-size and routing
/// errors that never reach a use case).
pub(crate) fn error_with_status(
    status: StatusCode,
    code: ErrorCode,
    description: String,
) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody {
        message: TOKEN_REQUEST_FAILED,
        errors: [ErrorItem { code, description }],
    })
}
