//! Every wire code's HTTP status, headers and PyPI body: first through the running
//! server for each code a request can provoke, then the one mapping itself for every
//! code (management codes included, which no HTTP route produces today).

use actix_web::ResponseError as _;
use serde_json::{Value, json};
use trustmint_exchange::ExchangeError;
use trustmint_http::ApiError;
use trustmint_store::RateLimitSettings;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT, github_declaration};

use crate::support::{TestServer, assert_token_error, token_body};

#[tokio::test]
async fn a_minted_token_is_200_with_pypis_body_and_no_store() {
    let server = TestServer::start().await;
    let answer = server
        .mint(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    let object = answer.body.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["expires", "success", "token"]);
    assert_eq!(answer.body["success"], true);
    let token = answer.body["token"].as_str().expect("a token");
    assert!(token.starts_with("pypi-"));
    let allowed = server.fx.verify(token, PROJECT).await.expect("verifies");
    match allowed {
        trustmint_exchange::Verification::Allowed(allowed) => {
            assert_eq!(answer.body["expires"], json!(allowed.expires_at));
        }
        denied => panic!("{denied:?}"),
    }
}

#[tokio::test]
async fn the_legacy_github_route_mints_the_same_way() {
    let server = TestServer::start().await;
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let answer = server
        .post("/_/oidc/github/mint-token", token_body(&jwt))
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let token = answer.body["token"].as_str().expect("a token");
    assert!(token.starts_with("pypi-"), "{token}");
    // One exchange per JWT across both routes.
    assert_token_error(
        &server.mint(&jwt).await,
        422,
        "invalid-reuse-token",
        "invalid token: already used",
    );
}

#[tokio::test]
async fn token_refusals_are_422_as_on_pypi() {
    let server = TestServer::start().await;
    let fx = &server.fx;
    assert_token_error(
        &server.mint("not-a-jwt").await,
        422,
        "invalid-payload",
        "malformed JWT",
    );
    let expired_long_ago = fx.jwt_for(GitHubClaims::new().build(&fx.issuer.url(), "pypi", 0));
    assert_token_error(
        &server.mint(&expired_long_ago).await,
        422,
        "invalid-token",
        "malformed or invalid token",
    );
    let other = fx.github_jwt(GitHubClaims::new().workflow("ci.yml"));
    assert_token_error(
        &server.mint(&other).await,
        422,
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with matching claims was not found; the publisher for repository 'octo-org/sampleproject' expects workflow_filename 'release.yml' but the token's job_workflow_ref names 'ci.yml')",
    );
}

#[tokio::test]
async fn not_enabled_is_422() {
    let builder = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.enabled = false);
    let server = TestServer::with(builder, |_| {}).await;
    assert_token_error(
        &server
            .mint(&server.fx.github_jwt(GitHubClaims::new()))
            .await,
        422,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn invalid_pending_publisher_is_422() {
    let builder = ExchangeBuilder::start().await.publishers(vec![]);
    let server = TestServer::with(builder, |_| {}).await;
    let url = server.fx.issuer.url();
    for (repository, pending) in [("other-repo", false), ("sampleproject", true)] {
        let mut declaration = github_declaration(&url, &["new-project"], "");
        declaration["repository_name"] = json!(repository);
        let spec = trustmint_publishers::parse_declaration(&declaration)
            .expect("a declaration")
            .spec;
        server
            .fx
            .exchange
            .create_publisher(trustmint_exchange::NewPublisher {
                spec,
                projects: vec!["new-project".to_owned()],
                pending,
                policy: Default::default(),
            })
            .await
            .expect("registered");
    }
    assert_token_error(
        &server
            .mint(&server.fx.github_jwt(GitHubClaims::new()))
            .await,
        422,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
}

#[tokio::test]
async fn rate_limited_is_429_with_a_retry_after_that_matches_the_text() {
    let builder = ExchangeBuilder::start()
        .await
        .rate_limit(RateLimitSettings {
            enabled: true,
            requests_per_second: 0.1,
            burst: 1,
            trusted_proxies: Vec::new(),
        });
    let server = TestServer::with(builder, |_| {}).await;
    assert_eq!(server.mint("not-a-jwt").await.status, 422);
    let answer = server.mint("not-a-jwt").await;
    let retry_after = answer.retry_after.clone().expect("a Retry-After header");
    let secs: u64 = retry_after.parse().expect("whole seconds");
    assert!((1..=10).contains(&secs), "{secs}");
    assert_token_error(
        &answer,
        429,
        "rate-limited",
        &format!("too many token requests from this client; retry in {secs} s"),
    );
}

#[tokio::test]
async fn unavailable_is_503_with_retry_after_one_second() {
    let server = TestServer::start().await;
    server.fx.issuer.set_failing(true);
    let answer = server
        .mint(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    assert_eq!(answer.retry_after.as_deref(), Some("1"));
    assert_token_error(
        &answer,
        503,
        "unavailable",
        "the token issuer's signing keys could not be fetched; retry later",
    );
}

/// The status, `Retry-After` and body the mapping gives `error`.
async fn mapped(error: ExchangeError) -> (u16, Option<String>, Value) {
    let response = ApiError(error).error_response();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ASCII").to_owned());
    let bytes = actix_web::body::to_bytes(response.into_body())
        .await
        .expect("a body");
    let body = serde_json::from_slice(&bytes).expect("a JSON body");
    (status, retry_after, body)
}

#[tokio::test]
async fn every_code_has_one_status_and_pypis_body() {
    let cases: Vec<(ExchangeError, u16, Option<&str>, &str, &str)> = vec![
        (
            ExchangeError::InvalidPayload("malformed JWT".into()),
            422,
            None,
            "invalid-payload",
            "malformed JWT",
        ),
        (
            ExchangeError::NotEnabled("github trusted publishing functionality not enabled".into()),
            422,
            None,
            "not-enabled",
            "github trusted publishing functionality not enabled",
        ),
        (
            ExchangeError::InvalidToken {
                detail: "kid not found in JWKS".into(),
            },
            422,
            None,
            "invalid-token",
            "malformed or invalid token",
        ),
        (
            ExchangeError::InvalidPublisher("Publisher with matching claims was not found".into()),
            422,
            None,
            "invalid-publisher",
            "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
        ),
        (
            ExchangeError::InvalidReuseToken,
            422,
            None,
            "invalid-reuse-token",
            "invalid token: already used",
        ),
        (
            ExchangeError::InvalidPendingPublisher(
                "valid token, but project already exists".into(),
            ),
            422,
            None,
            "invalid-pending-publisher",
            "valid token, but project already exists",
        ),
        (
            ExchangeError::RateLimited {
                retry_after_secs: 7,
            },
            429,
            Some("7"),
            "rate-limited",
            "too many token requests from this client; retry in 7 s",
        ),
        (
            ExchangeError::unavailable("redis: connection refused (10.0.0.3:6379)"),
            503,
            Some("1"),
            "unavailable",
            "a backend trustmint depends on is unavailable; retry later",
        ),
        (
            ExchangeError::InvalidArgument {
                field: "project".into(),
                message: "project name is empty".into(),
            },
            422,
            None,
            "invalid-argument",
            "project: project name is empty",
        ),
        (
            ExchangeError::NotFound("no publisher with id 'x'".into()),
            404,
            None,
            "not-found",
            "no publisher with id 'x'",
        ),
        (
            ExchangeError::FailedPrecondition("declared in the configuration file".into()),
            409,
            None,
            "failed-precondition",
            "declared in the configuration file",
        ),
    ];
    for (error, status, retry_after, code, description) in cases {
        let (actual_status, actual_retry_after, body) = mapped(error).await;
        assert_eq!(actual_status, status, "{code}");
        assert_eq!(actual_retry_after.as_deref(), retry_after, "{code}");
        assert_eq!(
            body,
            json!({
                "message": "Token request failed",
                "errors": [{ "code": code, "description": description }],
            }),
            "{code}"
        );
    }
}
