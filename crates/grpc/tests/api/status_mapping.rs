//! Every wire code's gRPC status: first over the wire for each code a MintToken call can
//! provoke, then the one mapping (`status_from`) for every code.

use std::time::Duration;

use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt as _;
use trustmint_exchange::ExchangeError;
use trustmint_grpc::pb;
use trustmint_grpc::status_from;
use trustmint_store::RateLimitSettings;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::{TestServer, assert_error};

fn mint_request(jwt: &str, client_ip: &str) -> pb::MintTokenRequest {
    pb::MintTokenRequest {
        oidc_token: jwt.to_owned(),
        client_ip: client_ip.to_owned(),
    }
}

#[tokio::test]
async fn mint_refusals_over_the_wire() {
    let server = TestServer::start().await;
    let mut tokens = server.anonymous().tokens;
    let fx = &server.fx;
    let url = fx.issuer.url();
    let jwt = fx.github_jwt(GitHubClaims::new());
    tokens
        .mint_token(mint_request(&jwt, ""))
        .await
        .expect("the first exchange");
    let cases = [
        (
            "not a JWT".to_owned(),
            Code::InvalidArgument,
            "invalid-payload",
            "malformed JWT".to_owned(),
        ),
        (
            String::new(),
            Code::InvalidArgument,
            "invalid-payload",
            "malformed JWT".to_owned(),
        ),
        (
            fx.jwt_for(GitHubClaims::new().build("https://issuer.invalid", "pypi", 0)),
            Code::InvalidArgument,
            "invalid-payload",
            "unknown trusted publishing issuer".to_owned(),
        ),
        (
            fx.jwt_for(GitHubClaims::new().build(&url, "testpypi", 0)),
            Code::FailedPrecondition,
            "invalid-token",
            "malformed or invalid token".to_owned(),
        ),
        (
            fx.github_jwt(GitHubClaims::new().repository("someone/else")),
            Code::FailedPrecondition,
            "invalid-publisher",
            format!(
                "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'someone/else' with issuer '{url}')"
            ),
        ),
        (
            jwt,
            Code::FailedPrecondition,
            "invalid-reuse-token",
            "invalid token: already used".to_owned(),
        ),
    ];
    for (jwt, code, wire_code, description) in cases {
        let status = tokens
            .mint_token(mint_request(&jwt, ""))
            .await
            .expect_err(wire_code);
        assert_error(&status, code, wire_code, &description);
    }
}

#[tokio::test]
async fn not_enabled_is_permission_denied() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let url = issuer.url();
    let builder = ExchangeBuilder::new(issuer).issuers(vec![
        json!({ "url": url, "kind": "github", "enabled": false }),
    ]);
    let server = TestServer::with(builder, None).await;
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let status = server
        .anonymous()
        .tokens
        .mint_token(mint_request(&jwt, ""))
        .await
        .expect_err("disabled issuer");
    assert_error(
        &status,
        Code::PermissionDenied,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn rate_limited_is_resource_exhausted_with_retry_info_for_the_client_ip() {
    let builder = ExchangeBuilder::start()
        .await
        .rate_limit(RateLimitSettings {
            enabled: true,
            requests_per_second: 0.1,
            burst: 1,
            trusted_proxies: Vec::new(),
        });
    let server = TestServer::with(builder, None).await;
    let mut tokens = server.anonymous().tokens;
    let mint = |ip: &str| mint_request("not-a-jwt", ip);
    let first = tokens
        .mint_token(mint("192.0.2.1"))
        .await
        .expect_err("bad JWT");
    assert_eq!(first.code(), Code::InvalidArgument);
    let limited = tokens
        .mint_token(mint("192.0.2.1"))
        .await
        .expect_err("limited");
    let retry = limited
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
        .expect("a RetryInfo detail");
    let secs = retry.as_secs();
    assert!((1..=10).contains(&secs), "{secs}");
    assert_eq!(retry, Duration::from_secs(secs), "whole seconds");
    assert_error(
        &limited,
        Code::ResourceExhausted,
        "rate-limited",
        &format!("too many token requests from this client; retry in {secs} s"),
    );
    // Another client address has its own budget; no address is not limited.
    let other = tokens
        .mint_token(mint("192.0.2.2"))
        .await
        .expect_err("bad JWT");
    assert_eq!(other.code(), Code::InvalidArgument);
    for _ in 0..3 {
        let unknown = tokens.mint_token(mint("")).await.expect_err("bad JWT");
        assert_eq!(unknown.code(), Code::InvalidArgument);
    }
}

#[tokio::test]
async fn unreachable_issuer_keys_are_unavailable() {
    let server = TestServer::start().await;
    server.fx.issuer.set_failing(true);
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let status = server
        .anonymous()
        .tokens
        .mint_token(mint_request(&jwt, ""))
        .await
        .expect_err("JWKS down");
    assert_error(
        &status,
        Code::Unavailable,
        "unavailable",
        "the token issuer's signing keys could not be fetched; retry later",
    );
}

#[test]
fn every_code_has_one_status() {
    let cases: Vec<(ExchangeError, Code, &str, &str)> = vec![
        (
            ExchangeError::InvalidPayload("malformed JWT".into()),
            Code::InvalidArgument,
            "invalid-payload",
            "malformed JWT",
        ),
        (
            ExchangeError::NotEnabled("github trusted publishing functionality not enabled".into()),
            Code::PermissionDenied,
            "not-enabled",
            "github trusted publishing functionality not enabled",
        ),
        (
            ExchangeError::InvalidToken {
                detail: "kid not found".into(),
            },
            Code::FailedPrecondition,
            "invalid-token",
            "malformed or invalid token",
        ),
        (
            ExchangeError::InvalidPublisher("Publisher with matching claims was not found".into()),
            Code::FailedPrecondition,
            "invalid-publisher",
            "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
        ),
        (
            ExchangeError::InvalidReuseToken,
            Code::FailedPrecondition,
            "invalid-reuse-token",
            "invalid token: already used",
        ),
        (
            ExchangeError::InvalidPendingPublisher(
                "valid token, but project already exists".into(),
            ),
            Code::FailedPrecondition,
            "invalid-pending-publisher",
            "valid token, but project already exists",
        ),
        (
            ExchangeError::RateLimited {
                retry_after_secs: 7,
            },
            Code::ResourceExhausted,
            "rate-limited",
            "too many token requests from this client; retry in 7 s",
        ),
        (
            ExchangeError::unavailable("redis: connection refused (10.0.0.3:6379)"),
            Code::Unavailable,
            "unavailable",
            "a backend trustmint depends on is unavailable; retry later",
        ),
        (
            ExchangeError::InvalidArgument {
                field: "project".into(),
                message: "project name is empty".into(),
            },
            Code::InvalidArgument,
            "invalid-argument",
            "project: project name is empty",
        ),
        (
            ExchangeError::NotFound("no publisher with id 'x'".into()),
            Code::NotFound,
            "not-found",
            "no publisher with id 'x'",
        ),
        (
            ExchangeError::FailedPrecondition("declared in the configuration file".into()),
            Code::FailedPrecondition,
            "failed-precondition",
            "declared in the configuration file",
        ),
    ];
    for (error, code, wire_code, description) in cases {
        let status = status_from(&error);
        assert_error(&status, code, wire_code, description);
        let details = status.get_error_details();
        assert_eq!(
            details.retry_info().and_then(|info| info.retry_delay),
            (wire_code == "rate-limited").then(|| Duration::from_secs(7)),
            "{wire_code}"
        );
        assert_eq!(
            details.bad_request().is_some(),
            wire_code == "invalid-argument",
            "{wire_code}"
        );
        // The detail of an unavailable backend stays in the logs.
        assert!(!status.message().contains("10.0.0.3"), "{wire_code}");
    }
}
