//! The other routes: audience, revoke-token, operator endpoints, and JSON answers for
//! unknown routes and methods.

use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::support::{TestServer, assert_token_error, token_body};

#[tokio::test]
async fn audience_answers_the_configured_audience_or_403_when_disabled() {
    let builder = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.audience = "testpypi".into());
    let server = TestServer::with(builder, |_| {}).await;
    let answer = server.get("/_/oidc/audience").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, serde_json::json!({ "audience": "testpypi" }));

    let builder = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.enabled = false);
    let server = TestServer::with(builder, |_| {}).await;
    let answer = server.get("/_/oidc/audience").await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        answer.body,
        serde_json::json!({ "message": "Trusted publishing functionality not enabled" })
    );
}

#[tokio::test]
async fn revoke_token_is_204_whatever_the_token_and_revokes_a_live_one() {
    let server = TestServer::start().await;
    let minted = server.fx.mint_default().await;
    let token = minted.token.expose_secret();
    for body in [
        token_body(token),
        token_body(token),
        token_body("pypi-garbage"),
        token_body(""),
    ] {
        let answer = server.post("/_/oidc/revoke-token", body).await;
        assert_eq!(answer.status, 204, "{answer:?}");
        assert_eq!(answer.body, serde_json::Value::String(String::new()));
    }
    match server.fx.verify(token, PROJECT).await.expect("verify") {
        trustmint_exchange::Verification::Denied { reason } => {
            assert_eq!(reason, "token is expired or has been revoked");
        }
        allowed => panic!("{allowed:?}"),
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_404s() {
    let server = TestServer::start().await;
    for answer in [
        server.get("/nope").await,
        server.get("/_/oidc/mint-token").await,
        server.post("/_/oidc/audience", "{}").await,
    ] {
        assert_token_error(&answer, 404, "not-found", "no such endpoint");
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start().await;
    let answer = server.get("/healthz").await;
    assert_eq!(
        (answer.status, answer.body),
        (200, serde_json::json!({ "status": "ok" }))
    );
    let answer = server.get("/readyz").await;
    assert_eq!(
        (answer.status, answer.body),
        (200, serde_json::json!({ "status": "ready" }))
    );
    server
        .mint(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let metrics = server.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.body.as_str().expect("the text exposition");
    assert!(
        text.contains(
            r#"trustmint_http_requests_total{route="/_/oidc/mint-token",status="200"} 1"#
        ),
        "{text}"
    );
}
