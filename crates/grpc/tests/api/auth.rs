//! Bearer-token authentication: with a token configured, every call of both services
//! must send `authorization: Bearer <token>` (scheme case-insensitive), refused before
//! any method runs and counted; without one, calls need no credentials.

use tonic::Code;
use trustmint_grpc::pb;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::support::{Bearer, TestServer};

const INDEX_TOKEN: &str = "index-s3cret-bearer";

fn verify_request(token: &str) -> pb::VerifyTokenRequest {
    pb::VerifyTokenRequest {
        token: token.to_owned(),
        project: PROJECT.to_owned(),
        ecosystem: String::new(),
    }
}

#[tokio::test]
async fn every_call_needs_the_bearer_token_when_one_is_configured() {
    let server = TestServer::with(ExchangeBuilder::start().await, Some(INDEX_TOKEN)).await;
    let cases = [
        (
            Bearer::none(),
            "missing authorization metadata: send 'authorization: Bearer <token>'",
        ),
        (Bearer::token("wrong-token"), "invalid bearer token"),
        (
            Bearer::token(&format!("{INDEX_TOKEN}x")),
            "invalid bearer token",
        ),
        (Bearer::token(&INDEX_TOKEN[1..]), "invalid bearer token"),
        (
            Bearer::raw(&format!("Basic {INDEX_TOKEN}")),
            "authorization metadata must be 'Bearer <token>'",
        ),
        (
            Bearer::raw("Bearer"),
            "authorization metadata must be 'Bearer <token>'",
        ),
    ];
    let refusals = cases.len() as u64;
    for (bearer, message) in cases {
        let mut clients = server.clients(bearer);
        let token_status = clients
            .tokens
            .verify_token(verify_request("pypi-x"))
            .await
            .expect_err("TokenService refused");
        let publisher_status = clients
            .publishers
            .list_publishers(pb::ListPublishersRequest {
                project: PROJECT.to_owned(),
            })
            .await
            .expect_err("PublisherService refused");
        for status in [token_status, publisher_status] {
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            assert_eq!(status.message(), message);
        }
    }
    assert_eq!(
        server.fx.metrics.grpc_unauthenticated.get(),
        refusals * 2,
        "every refusal counted, both services"
    );

    let mut clients = server.clients(Bearer::token(INDEX_TOKEN));
    let verified = clients
        .tokens
        .verify_token(verify_request("pypi-x"))
        .await
        .expect("authenticated")
        .into_inner();
    assert!(!verified.allowed);
    let mut lower = server.clients(Bearer::raw(&format!("bearer {INDEX_TOKEN}")));
    lower
        .tokens
        .verify_token(verify_request("pypi-x"))
        .await
        .expect("the scheme is case-insensitive");
}

#[tokio::test]
async fn without_a_configured_token_calls_need_no_credentials() {
    let server = TestServer::start().await;
    for bearer in [Bearer::none(), Bearer::token("anything")] {
        let verified = server
            .clients(bearer)
            .tokens
            .verify_token(verify_request("pypi-x"))
            .await
            .expect("no authentication configured")
            .into_inner();
        assert_eq!(verified.reason, "malformed token: not base64");
    }
    assert_eq!(server.fx.metrics.grpc_unauthenticated.get(), 0);
}
