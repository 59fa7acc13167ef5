//! A custom-issuer (`oidc`) publisher on the wire: CreatePublisher takes its claims as a
//! string map and answers with the lookup claim trustmint filled in; MintToken names
//! it, with the token's provenance.

use serde_json::json;
use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::TestServer;

#[tokio::test]
async fn a_created_oidc_publisher_reports_its_lookup_claim_and_mints() {
    let issuer = TestIssuer::start().await;
    let url = issuer.url();
    let builder = ExchangeBuilder::new(issuer)
        .issuers(vec![json!({
            "url": url, "kind": "oidc",
            "required_claims": ["tenant_id"], "pattern_claims": ["ref", "sub"],
        })])
        .publishers(vec![]);
    let server = TestServer::with(builder, None).await;
    let clients = server.anonymous();
    let (mut publishers, mut tokens) = (clients.publishers, clients.tokens);

    let claims = [
        ("tenant_id", "beta"),
        ("repository_id", "7"),
        ("sub", "repo:beta/*"),
    ];
    let created = publishers
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(pb::Publisher {
                projects: vec!["other-project".to_owned()],
                kind: Some(pb::publisher::Kind::Oidc(pb::OidcPublisher {
                    issuer: url.clone(),
                    claims: claims
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                    lookup_claim: String::new(),
                })),
                ..pb::Publisher::default()
            }),
        })
        .await
        .expect("created")
        .into_inner();
    match &created.kind {
        Some(pb::publisher::Kind::Oidc(p)) => {
            assert_eq!(p.lookup_claim, "tenant_id");
            assert_eq!(p.claims.get("repository_id").map(String::as_str), Some("7"));
        }
        other => panic!("an oidc publisher, got {other:?}"),
    }

    let t = server.fx.clock.now();
    let jwt = server.fx.jwt_for(json!({
        "iss": url, "aud": "pypi", "iat": t, "nbf": t, "exp": t + 300,
        "jti": "beta-tool-1", "sub": "repo:beta/tool:ref:refs/heads/main",
        "tenant_id": "beta", "repository_id": "7", "ref": "refs/heads/main",
    }));
    let minted = tokens
        .mint_token(pb::MintTokenRequest {
            oidc_token: jwt,
            client_ip: String::new(),
        })
        .await
        .expect("beta's publisher is found by its tenant")
        .into_inner();
    assert_eq!(minted.publisher.map(|p| p.id), Some(created.id));
    assert_eq!(minted.projects, vec!["other-project".to_owned()]);
    assert_eq!(
        minted.claims.get("tenant_id").map(String::as_str),
        Some("beta")
    );
}
