//! The front doors of other ecosystems (PyPI's is `oidc.rs`): each speaks its
//! registry's wire — paths, bodies, status codes, error shapes — and hands the OIDC
//! token to the same exchange core through [`trustmint_exchange::Door`].
//!
//! A door that is not enabled answers 404 in its own error shape, as a registry without
//! that API would.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use trustmint_exchange::ExchangeError;

use crate::HttpState;
use crate::body::read_limited;

pub(crate) mod crates_io;
pub(crate) mod npm;
pub(crate) mod secret_scanning;
pub(crate) mod token_exchange;

pub(crate) use secret_scanning::SecretScanning;
pub use secret_scanning::SecretScanningSettings;

/// Registers the doors' fixed routes (the secret-scanning path is configurable: see
/// [`secret_scanning::configure`]).
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route(
            crates_io::TOKENS_PATH,
            web::post().to(crates_io::exchange_token),
        )
        .route(
            crates_io::TOKENS_PATH,
            web::delete().to(crates_io::revoke_token),
        )
        .route(npm::EXCHANGE_ROUTE, web::post().to(npm::exchange_token))
        .route(
            token_exchange::TOKEN_PATH,
            web::post().to(token_exchange::exchange_token),
        );
}

/// The request body, or the status (413 or 400) and text of why it could not be read.
pub(crate) async fn read_body(
    payload: web::Payload,
    state: &HttpState,
) -> Result<web::BytesMut, (actix_web::http::StatusCode, String)> {
    read_limited(payload, state.body_limit)
        .await
        .map_err(|response| {
            let status = response.status();
            let text = if status == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "request body is larger than the limit of {} bytes",
                    state.body_limit
                )
            } else {
                "could not read the request body".to_owned()
            };
            (status, text)
        })
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive,
/// as RFC 7235 says), or `None` when the header is missing or another scheme.
pub(crate) fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Adds what every answer carrying a token needs: never cached.
pub(crate) fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// `Retry-After` for the refusals that have one.
pub(crate) fn retry_after(error: &ExchangeError) -> Option<String> {
    match error {
        ExchangeError::RateLimited { retry_after_secs } => Some(retry_after_secs.to_string()),
        ExchangeError::Unavailable { .. } => Some("1".to_owned()),
        _ => None,
    }
}

/// `response` with the `Retry-After` of `error`, if it has one.
pub(crate) fn with_retry_after(mut response: HttpResponse, error: &ExchangeError) -> HttpResponse {
    if let Some(value) = retry_after(error).and_then(|s| header::HeaderValue::from_str(&s).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
