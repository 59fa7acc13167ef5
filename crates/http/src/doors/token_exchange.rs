//! RFC 8693 OAuth 2.0 Token Exchange at `POST /oauth2/token`: a form-encoded request
//! whose `subject_token` is the CI job's OIDC ID token; the answer is an upload token
//! as an OAuth access token. Errors are RFC 6749 §5.2's `{"error", "error_description"}`
//! with the same diagnostics as PyPI's door.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use trustmint_exchange::{Door, ExchangeError, MintRequest};

use super::{read_body, retry_after};
use crate::HttpState;
use crate::client_ip::client_ip;

/// The endpoint.
pub(crate) const TOKEN_PATH: &str = "/oauth2/token";

/// RFC 8693 §2.1's grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The subject token types accepted: an OIDC ID token, or a JWT.
pub const SUBJECT_TOKEN_TYPES: [&str; 2] = [
    "urn:ietf:params:oauth:token-type:id_token",
    "urn:ietf:params:oauth:token-type:jwt",
];
/// The only token type issued.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// One RFC 6749 §5.2 error.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<String>,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    fn response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"));
        if let Some(seconds) = self
            .retry_after
            .and_then(|s| HeaderValue::from_str(&s).ok())
        {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        response.json(json!({ "error": self.error, "error_description": self.description }))
    }
}

/// The exchange's refusals in RFC 6749's words: anything wrong with the subject token
/// or its publisher is `invalid_grant`; a switched-off door `unauthorized_client`;
/// rate limits and outages `temporarily_unavailable` (429 / 503).
impl From<ExchangeError> for OAuthError {
    fn from(failure: ExchangeError) -> Self {
        let retry = retry_after(&failure);
        let (status, error) = match &failure {
            ExchangeError::InvalidArgument { .. } => (StatusCode::BAD_REQUEST, "invalid_request"),
            ExchangeError::NotEnabled(_) => (StatusCode::BAD_REQUEST, "unauthorized_client"),
            ExchangeError::RateLimited { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable")
            }
            ExchangeError::Unavailable { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            _ => (StatusCode::BAD_REQUEST, "invalid_grant"),
        };
        Self {
            status,
            error,
            description: failure.description(),
            retry_after: retry,
        }
    }
}

/// The parameters, each at most once (RFC 6749 §3.2: "parameters MUST NOT be included
/// more than once").
fn parameters(body: &[u8]) -> Result<BTreeMap<String, String>, OAuthError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|_| {
        OAuthError::new(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        )
    })?;
    let mut parameters = BTreeMap::new();
    for (name, value) in pairs {
        if parameters.contains_key(&name) {
            return Err(OAuthError::new(
                "invalid_request",
                format!("parameter `{name}` is repeated"),
            ));
        }
        parameters.insert(name, value);
    }
    Ok(parameters)
}

/// The projects a `scope` asks for: space-separated `project:<name>` items.
fn scoped_projects(scope: &str) -> Result<Vec<String>, OAuthError> {
    scope
        .split(' ')
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.strip_prefix("project:")
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    OAuthError::new(
                        "invalid_scope",
                        format!(
                            "scope items are `project:<name>`; got '{}'",
                            item.chars().take(64).collect::<String>()
                        ),
                    )
                })
        })
        .collect()
}

/// `POST /oauth2/token`.
pub(crate) async fn exchange_token(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if !state.exchange.door_enabled(Door::TokenExchange) {
        return HttpResponse::NotFound().json(json!({
            "error": "invalid_request",
            "error_description": "token exchange is not enabled on this service",
        }));
    }
    match exchange(&request, payload, &state).await {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

async fn exchange(
    request: &HttpRequest,
    payload: web::Payload,
    state: &HttpState,
) -> Result<HttpResponse, OAuthError> {
    let form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.split(';').next().is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form {
        return Err(OAuthError::new(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let body = read_body(payload, state)
        .await
        .map_err(|(status, text)| OAuthError {
            status,
            ..OAuthError::new("invalid_request", text)
        })?;
    let parameters = parameters(&body)?;
    let get = |name: &str| parameters.get(name).map(String::as_str);
    match get("grant_type") {
        None => {
            return Err(OAuthError::new(
                "invalid_request",
                "`grant_type` is required",
            ));
        }
        Some(GRANT_TYPE) => {}
        Some(_) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                format!("only `{GRANT_TYPE}` is supported"),
            ));
        }
    }
    let Some(subject_token) = get("subject_token").filter(|token| !token.is_empty()) else {
        return Err(OAuthError::new(
            "invalid_request",
            "`subject_token` is required",
        ));
    };
    match get("subject_token_type") {
        None => {
            return Err(OAuthError::new(
                "invalid_request",
                "`subject_token_type` is required",
            ));
        }
        Some(kind) if SUBJECT_TOKEN_TYPES.contains(&kind) => {}
        Some(_) => {
            return Err(OAuthError::new(
                "invalid_request",
                format!(
                    "`subject_token_type` must be one of: {}",
                    SUBJECT_TOKEN_TYPES.join(", ")
                ),
            ));
        }
    }
    if get("requested_token_type").is_some_and(|kind| kind != ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::new(
            "invalid_request",
            format!("`requested_token_type` can only be {ACCESS_TOKEN_TYPE}"),
        ));
    }
    if get("actor_token").is_some() {
        return Err(OAuthError::new(
            "invalid_request",
            "delegation (`actor_token`) is not supported",
        ));
    }
    // `resource` and `audience` name where the token will be used: this service's
    // index, whose name is the macaroon location.
    for name in ["resource", "audience"] {
        if let Some(target) = get(name)
            && target != state.exchange.location()
        {
            return Err(OAuthError::new(
                "invalid_target",
                format!(
                    "`{name}` must be '{}' (the index this service mints for)",
                    state.exchange.location()
                ),
            ));
        }
    }
    let ecosystem = state.exchange.ecosystem_of(Door::TokenExchange);
    let scoped = match get("scope") {
        None => None,
        Some(scope) => {
            let names = scoped_projects(scope)?;
            if names.is_empty() {
                return Err(OAuthError::new("invalid_scope", "`scope` names no project"));
            }
            Some(
                names
                    .iter()
                    .map(|name| {
                        ecosystem.project(name).map_err(|failure| {
                            OAuthError::new("invalid_scope", failure.to_string())
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
    };
    let minted = state
        .exchange
        .mint_through(
            Door::TokenExchange,
            MintRequest {
                oidc_token: subject_token.to_owned().into(),
                client_ip: client_ip(request, &state.trusted_proxies),
            },
            scoped.as_deref(),
        )
        .await?;
    let expires_in = (minted.expires_at - state.exchange.now()).max(0);
    let scope = minted
        .projects
        .iter()
        .map(|project| format!("project:{project}"))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({
            "access_token": minted.token.expose_secret(),
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": scope,
        })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_items_are_project_names() {
        assert_eq!(
            scoped_projects("project:a  project:@s/b").ok(),
            Some(vec!["a".to_owned(), "@s/b".to_owned()])
        );
        for bad in ["upload", "project:", "project:a read"] {
            let error = scoped_projects(bad).expect_err(bad);
            assert_eq!(error.error, "invalid_scope", "{bad}");
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let error = parameters(b"grant_type=a&grant_type=b").expect_err("refused");
        assert_eq!(
            (error.error, error.description.as_str()),
            ("invalid_request", "parameter `grant_type` is repeated")
        );
    }
}
