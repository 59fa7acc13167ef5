//! `POST /_/oidc/burn-token`: 202 with no body whatever the token (live, already burnt,
//! unknown, revoked), as on PyPI, so a caller cannot probe which tokens exist; a body
//! that is not `{"token": "<string>"}` is refused like on the other token routes.

use trustmint_testkit::memory_exchange::PROJECT;

use crate::bodies::{MISSING, NOT_A_STRING, NOT_AN_OBJECT};
use crate::support::{TestServer, assert_token_error, token_body};

/// Asserts PyPI's answer to a burn: 202, empty body.
#[track_caller]
fn assert_accepted(answer: &crate::support::Answer) {
    assert_eq!(answer.status, 202, "{answer:?}");
    assert_eq!(answer.body, serde_json::Value::String(String::new()));
}

#[tokio::test]
async fn burn_token_revokes_and_answers_202_for_any_token() {
    let server = TestServer::start().await;
    let minted = server.fx.mint_default().await;
    let token = minted.token.expose_secret();
    assert_accepted(&server.post("/_/oidc/burn-token", token_body(token)).await);
    match server.fx.verify(token, PROJECT).await.expect("verify") {
        trustmint_exchange::Verification::Denied { reason } => {
            assert_eq!(reason, "token is expired or has been revoked");
        }
        allowed => panic!("{allowed:?}"),
    }
    // Already burnt, unknown, and revoked-then-burnt tokens: 202 all the same.
    assert_accepted(&server.post("/_/oidc/burn-token", token_body(token)).await);
    assert_accepted(
        &server
            .post("/_/oidc/burn-token", token_body("pypi-garbage"))
            .await,
    );
    let second = server.fx.mint_default().await;
    let second = token_body(second.token.expose_secret());
    assert_eq!(
        server
            .post("/_/oidc/revoke-token", second.clone())
            .await
            .status,
        204
    );
    assert_accepted(&server.post("/_/oidc/burn-token", second).await);
}

#[tokio::test]
async fn burn_token_refuses_malformed_bodies_with_invalid_payload() {
    let server = TestServer::start().await;
    for (body, description) in [
        ("[]", NOT_AN_OBJECT),
        ("{}", MISSING),
        (r#"{"token":null}"#, NOT_A_STRING),
        (r#"{"token":3}"#, NOT_A_STRING),
    ] {
        let answer = server.post("/_/oidc/burn-token", body).await;
        assert_token_error(&answer, 422, "invalid-payload", description);
    }
    // An empty body is not JSON at all.
    let answer = server.post("/_/oidc/burn-token", "").await;
    assert_eq!(answer.status, 422, "{answer:?}");
    assert_eq!(answer.body["message"], "Token request failed");
    assert_eq!(answer.body["errors"][0]["code"], "invalid-payload");
    let description = answer.body["errors"][0]["description"]
        .as_str()
        .expect("a description");
    assert!(
        description.starts_with("1 validation error for TokenPayload\nbody is not valid JSON: "),
        "{description}"
    );
}
