//! PyPI's OIDC endpoints: audience, mint-token (and its legacy alias), revoke-token,
//! burn-token.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::json;
use trustmint_exchange::{ErrorCode, MintRequest, NOT_ENABLED_DESCRIPTION, UploadToken};
use trustmint_telemetry::{ExchangeOutcome, UNKNOWN_ISSUER_KIND};

use crate::HttpState;
use crate::body::{read_limited, token_from_body};
use crate::client_ip::client_ip;
use crate::error::ApiError;

#[derive(Serialize)]
struct MintTokenResponse<'a> {
    success: bool,
    token: &'a str,
    expires: i64,
}

/// `GET /_/oidc/audience`: the `aud` CI runners must request.
pub(crate) async fn audience(state: web::Data<HttpState>) -> HttpResponse {
    if !state.exchange.enabled() {
        return HttpResponse::Forbidden().json(json!({ "message": NOT_ENABLED_DESCRIPTION }));
    }
    HttpResponse::Ok().json(json!({ "audience": state.exchange.audience() }))
}

/// `POST /_/oidc/mint-token` (and `/_/oidc/github/mint-token`): `{"token": "<JWT>"}` in,
/// `{"success": true, "token": "pypi-…", "expires": <unix>}` out.
pub(crate) async fn mint_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> Result<HttpResponse, ApiError> {
    let body = match read_limited(payload, state.body_limit).await {
        Ok(body) => body,
        Err(response) => {
            count_refused_payload(&state);
            return Ok(response);
        }
    };
    let oidc_token = token_from_body(&body).inspect_err(|_| count_refused_payload(&state))?;
    let minted = state
        .exchange
        .mint(MintRequest {
            oidc_token: oidc_token.into(),
            client_ip: client_ip(&request, &state.trusted_proxies),
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(MintTokenResponse {
            success: true,
            token: minted.token.expose_secret(),
            expires: minted.expires_at,
        }))
}

/// Counts a mint-token request refused before it reached the exchange (unreadable,
/// oversized or non-`{"token": "…"}` body), so every refusal shows up in
/// `trustmint_exchanges_total` (issuer kind `unknown`: no token was read).
fn count_refused_payload(state: &HttpState) {
    state.exchange.metrics().record_exchange(
        UNKNOWN_ISSUER_KIND,
        ExchangeOutcome::Refused(ErrorCode::InvalidPayload),
    );
}

/// `POST /_/oidc/revoke-token {"token": "pypi-…"}`: 204 whether or not the token was
/// live, so callers cannot probe for tokens.
pub(crate) async fn revoke_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> Result<HttpResponse, ApiError> {
    let token = match presented_token(payload, &state).await? {
        Ok(token) => token,
        Err(refusal) => return Ok(refusal),
    };
    let client = client_ip(&request, &state.trusted_proxies);
    state.exchange.revoke(&token, client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /_/oidc/burn-token {"token": "pypi-…"}`: PyPI's endpoint for a client to
/// invalidate its token after use (uv calls it after `uv publish`). 202 whether or not
/// the token was live, as on PyPI; the same revocation as revoke-token.
pub(crate) async fn burn_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> Result<HttpResponse, ApiError> {
    let token = match presented_token(payload, &state).await? {
        Ok(token) => token,
        Err(refusal) => return Ok(refusal),
    };
    let client = client_ip(&request, &state.trusted_proxies);
    state.exchange.burn(&token, client).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// The token of a `{"token": "…"}` body; `Ok(Err(response))` when the body is over the
/// limit or unreadable (the response says so), `Err` when it is not such a body.
async fn presented_token(
    payload: web::Payload,
    state: &HttpState,
) -> Result<Result<UploadToken, HttpResponse>, ApiError> {
    let body = match read_limited(payload, state.body_limit).await {
        Ok(body) => body,
        Err(response) => return Ok(Err(response)),
    };
    Ok(Ok(token_from_body(&body)?.into()))
}
