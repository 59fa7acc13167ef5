//! crates.io's Trusted Publishing API, as `rust-lang/crates-io-auth-action` calls it:
//! `POST /api/v1/trusted_publishing/tokens {"jwt": "<JWT>"}` → `{"token": "cio_tp_…"}`,
//! and in the action's post step `DELETE` the same path with `Authorization: Bearer
//! <token>`. Errors are crates.io's `{"errors": [{"detail": "…"}]}` with PyPI's door's
//! diagnostics as the detail.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use trustmint_exchange::{Door, Ecosystem, ExchangeError, MintRequest};

use super::{bearer_token, no_store, read_body, with_retry_after};
use crate::HttpState;
use crate::client_ip::client_ip;

/// Where crates.io serves token exchange and revocation.
pub(crate) const TOKENS_PATH: &str = "/api/v1/trusted_publishing/tokens";

/// crates.io's error body.
fn error(status: StatusCode, detail: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "errors": [{ "detail": detail.into() }] }))
}

/// crates.io's statuses: 400 for a malformed request, 401 for a token that does not
/// verify, 403 for a valid token no publisher accepts (or a switched-off door), 429,
/// 503.
fn refusal(failure: &ExchangeError) -> HttpResponse {
    let status = match failure {
        ExchangeError::InvalidPayload(_) | ExchangeError::InvalidArgument { .. } => {
            StatusCode::BAD_REQUEST
        }
        ExchangeError::InvalidToken { .. } => StatusCode::UNAUTHORIZED,
        ExchangeError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ExchangeError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::FORBIDDEN,
    };
    with_retry_after(error(status, failure.description()), failure)
}

/// `{"jwt": "<string>"}`, as crates.io reads it.
fn jwt_from_body(body: &[u8]) -> Result<String, ExchangeError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        ExchangeError::InvalidPayload(format!("body is not valid JSON: {error}"))
    })?;
    match value.get("jwt") {
        Some(serde_json::Value::String(jwt)) => Ok(jwt.clone()),
        Some(_) => Err(ExchangeError::InvalidPayload(
            "`jwt` must be a string".to_owned(),
        )),
        None => Err(ExchangeError::InvalidPayload(
            "body must be a JSON object with a string field `jwt`".to_owned(),
        )),
    }
}

/// `POST /api/v1/trusted_publishing/tokens`.
pub(crate) async fn exchange_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if !state.exchange.door_enabled(Door::Crates) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let body = match read_body(payload, &state).await {
        Ok(body) => body,
        Err((status, text)) => return error(status, text),
    };
    let oidc_token = match jwt_from_body(&body) {
        Ok(jwt) => jwt,
        Err(failure) => return refusal(&failure),
    };
    let minted = state
        .exchange
        .mint_through(
            Door::Crates,
            MintRequest {
                oidc_token: oidc_token.into(),
                client_ip: client_ip(&request, &state.trusted_proxies),
            },
            None,
        )
        .await;
    match minted {
        Ok(minted) => {
            no_store(HttpResponse::Ok().json(json!({ "token": minted.token.expose_secret() })))
        }
        Err(failure) => refusal(&failure),
    }
}

/// `DELETE /api/v1/trusted_publishing/tokens` with the token as Bearer credential:
/// 204 for any genuine crates token (live or not, so callers cannot probe), 401 when
/// the header is missing or holds no crates token.
pub(crate) async fn revoke_token(
    request: HttpRequest,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if !state.exchange.door_enabled(Door::Crates) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(token) = bearer_token(&request) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "Missing or invalid `Authorization` header: expected `Bearer <token>`",
        );
    };
    if state.exchange.ecosystem_of_token(token) != Some(Ecosystem::Crates) {
        return error(
            StatusCode::UNAUTHORIZED,
            "Invalid `Authorization` header: not a Trusted Publishing token",
        );
    }
    match state
        .exchange
        .revoke(
            &trustmint_exchange::UploadToken::new(token),
            client_ip(&request, &state.trusted_proxies),
        )
        .await
    {
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(failure) => refusal(&failure),
    }
}
