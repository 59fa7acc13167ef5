//! npm's OIDC token exchange, as the npm CLI (11.x) calls it before `npm publish`:
//! `POST /-/npm/v1/oidc/token/exchange/package/<url-escaped name>` with
//! `Authorization: Bearer <JWT>` and an empty body → `{"token": "npm_…"}`, then
//! `PUT /<name>` with that token. The token covers exactly that package, and only when
//! a publisher of that package matches. Errors are npm's `{"error": "…"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use percent_encoding::percent_decode_str;
use serde_json::json;
use trustmint_exchange::{Door, Ecosystem, ExchangeError, MintRequest};

use super::{bearer_token, no_store, with_retry_after};
use crate::HttpState;
use crate::client_ip::client_ip;

/// The route; the package name is the rest of the path, still escaped.
pub(crate) const EXCHANGE_ROUTE: &str = "/-/npm/v1/oidc/token/exchange/package/{name:.+}";

/// What comes before the escaped package name in the raw path.
const EXCHANGE_PREFIX: &str = "/-/npm/v1/oidc/token/exchange/package/";

/// npm's registry error body, `{"error": …}`; the same text is in `message`, which is
/// what the npm CLI logs when an exchange fails ("Failed token exchange request with
/// body message: …"), so the job's log shows the diagnostics.
fn error(status: StatusCode, text: impl Into<String>) -> HttpResponse {
    let text = text.into();
    HttpResponse::build(status).json(json!({ "error": text, "message": text }))
}

/// npm registry statuses: 400 malformed, 401 a token that does not verify, 404 no
/// trusted publisher of this package matches (what the registry answers for a package
/// without that trusted publisher), 403 otherwise refused, 429, 503.
fn refusal(failure: &ExchangeError) -> HttpResponse {
    let status = match failure {
        ExchangeError::InvalidPayload(_) | ExchangeError::InvalidArgument { .. } => {
            StatusCode::BAD_REQUEST
        }
        ExchangeError::InvalidToken { .. } => StatusCode::UNAUTHORIZED,
        ExchangeError::InvalidPublisher(_) => StatusCode::NOT_FOUND,
        ExchangeError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ExchangeError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::FORBIDDEN,
    };
    with_retry_after(error(status, failure.description()), failure)
}

/// The package name of the raw (still escaped) path: npm sends `@scope%2fname`.
fn package_name(request: &HttpRequest) -> Result<String, ExchangeError> {
    let escaped = request
        .uri()
        .path()
        .strip_prefix(EXCHANGE_PREFIX)
        .unwrap_or_default();
    percent_decode_str(escaped)
        .decode_utf8()
        .map(|name| name.into_owned())
        .map_err(|_| ExchangeError::InvalidPayload("package name is not UTF-8".to_owned()))
}

/// `POST /-/npm/v1/oidc/token/exchange/package/{name}`.
pub(crate) async fn exchange_token(
    request: HttpRequest,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if !state.exchange.door_enabled(Door::Npm) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let project = match package_name(&request).and_then(|package| {
        Ecosystem::Npm
            .project(&package)
            .map_err(|failure| ExchangeError::InvalidPayload(failure.to_string()))
    }) {
        Ok(project) => project,
        Err(failure) => return refusal(&failure),
    };
    let Some(oidc_token) = bearer_token(&request) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "an OIDC ID token is required as `Authorization: Bearer <token>`",
        );
    };
    let minted = state
        .exchange
        .mint_through(
            Door::Npm,
            MintRequest {
                oidc_token: oidc_token.to_owned().into(),
                client_ip: client_ip(&request, &state.trusted_proxies),
            },
            Some(std::slice::from_ref(&project)),
        )
        .await;
    match minted {
        Ok(minted) => {
            no_store(HttpResponse::Created().json(json!({ "token": minted.token.expose_secret() })))
        }
        Err(failure) => refusal(&failure),
    }
}
