//! TokenService.RevokeToken: idempotent, no probing, and any genuine copy of a token
//! (attenuated ones included) revokes it.

use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::PROJECT;

use crate::support::TestServer;
use trustmint_testkit::token_surgery::{attenuate, tamper};

const REVOKED: &str = "token is expired or has been revoked";

#[tokio::test]
async fn revoke_is_idempotent_and_stops_verification() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    assert!(grpc.verify(&minted.token, PROJECT).await.allowed);

    assert!(grpc.revoke(&minted.token).await, "first call revokes");
    let verified = grpc.verify(&minted.token, PROJECT).await;
    assert!(!verified.allowed);
    assert_eq!(verified.reason, REVOKED);
    assert!(
        !grpc.revoke(&minted.token).await,
        "second call: nothing left"
    );
    // Unknown and malformed tokens answer the same way (no probing).
    assert!(!grpc.revoke("pypi-garbage").await);
    assert!(!grpc.revoke("").await);
}

#[tokio::test]
async fn an_attenuated_copy_revokes_the_token_but_a_forged_one_does_not() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    // Knowing the token id is not enough: the signature must verify.
    let forged = tamper(&minted.token, |m| m.signature = [0; 32]);
    assert!(!grpc.revoke(&forged).await);
    assert!(grpc.verify(&minted.token, PROJECT).await.allowed);
    // The holder of any genuine copy may revoke, attenuated copies included; the
    // original dies with it (one record per token id).
    let narrowed = attenuate(&minted.token, &[r#"[1,["sampleproject"]]"#]);
    assert!(grpc.revoke(&narrowed).await);
    assert_eq!(grpc.verify(&minted.token, PROJECT).await.reason, REVOKED);
}
