//! Custom OIDC issuers (`[[issuers]] kind = "oidc"`) in the whole application: the
//! config's checks of the issuer entry, and one scenario on the machine's Redis with a
//! config-declared publisher (bound to its issuer by the server's wiring) and one
//! created over gRPC (stored in Redis, found by its tenant). The matching rules, the
//! safety rails and `replay_key` are the use cases' tests
//! (`crates/exchange/tests/use_cases/custom_issuers.rs`); the wire fields the gRPC
//! adapter's (`crates/grpc/tests/api/custom_issuer_publishers.rs`).

use crate::support;

use serde_json::{Value, json};
use support::redis_setup::use_local_redis;
use support::{TestApp, assert_token_error, base_settings, now, spawn_with_settings};
use tonic::transport::Endpoint;
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;

const PROJECT: &str = "sampleproject";

fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// An app on the machine's Redis trusting the test issuer as a custom issuer whose
/// tenant claim is `tenant_id`, declaring acme's repository 42 (release tags only).
async fn spawn_on_redis() -> TestApp {
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    settings.issuers = vec![support::issuer_entry(json!({
        "url": issuer.url(), "kind": "oidc",
        "required_claims": ["tenant_id"], "pattern_claims": ["ref", "sub"],
    }))];
    settings.publishers = vec![json!({
        "kind": "oidc",
        "projects": [PROJECT],
        "issuer": issuer.url(),
        "claims": { "tenant_id": "acme", "repository_id": 42, "ref": "refs/tags/v*" },
    })];
    use_local_redis(&mut settings);
    spawn_with_settings(issuer, &settings).await
}

/// A token of the custom CI: acme's repository 42 at tag v1.0, with `edits` applied.
fn jwt(app: &TestApp, edits: Value) -> String {
    let t = now();
    let mut claims = json!({
        "iss": app.issuer.url(), "aud": "pypi", "iat": t, "nbf": t, "exp": t + 300,
        "jti": uuid_like(), "sub": "repo:acme/app:ref:refs/tags/v1.0",
        "tenant_id": "acme", "repository_id": 42, "ref": "refs/tags/v1.0",
    });
    if let (Some(claims), Value::Object(edits)) = (claims.as_object_mut(), edits) {
        claims.extend(edits);
    }
    app.issuer.sign(&claims)
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}-{}", now(), NEXT.fetch_add(1, Ordering::Relaxed))
}

fn channel(app: &TestApp) -> tonic::transport::Channel {
    Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .expect("endpoint")
        .connect_lazy()
}

async fn grpc_mint(app: &TestApp, jwt: &str) -> Result<pb::MintTokenResponse, tonic::Status> {
    TokenServiceClient::new(channel(app))
        .mint_token(pb::MintTokenRequest {
            oidc_token: jwt.to_owned(),
            client_ip: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn declared_and_created_custom_issuer_publishers_on_redis() {
    let app = spawn_on_redis().await;
    let url = app.issuer.url();

    // The declared publisher, over HTTP and gRPC; the replay guard is Redis's.
    let response = app.mint(&jwt(&app, json!({}))).await;
    assert_eq!(response.0, 200, "{}", response.1);
    let minted = grpc_mint(&app, &jwt(&app, json!({"ref": "refs/tags/v2"})))
        .await
        .expect("a second release mints over gRPC");
    match minted.publisher.and_then(|p| p.kind) {
        Some(pb::publisher::Kind::Oidc(p)) => {
            assert_eq!(p.lookup_claim, "tenant_id");
            assert_eq!(
                p.claims.get("repository_id").map(String::as_str),
                Some("42")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        minted.claims.get("tenant_id").map(String::as_str),
        Some("acme")
    );
    let reason = format!(
        "Publisher with matching claims was not found; no publisher is registered for tenant_id 'evil' with issuer '{url}'"
    );
    assert_token_error(
        &app.mint(&jwt(&app, json!({"tenant_id": "evil"}))).await,
        422,
        "invalid-publisher",
        &no_publisher(&reason),
    );

    // A publisher created over gRPC is stored in Redis and found by its tenant.
    let created = PublisherServiceClient::new(channel(&app))
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(pb::Publisher {
                projects: vec!["other-project".to_owned()],
                kind: Some(pb::publisher::Kind::Oidc(pb::OidcPublisher {
                    issuer: url.clone(),
                    claims: [
                        ("tenant_id", "beta"),
                        ("repository_id", "7"),
                        ("sub", "repo:beta/*"),
                    ]
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
    let token = jwt(
        &app,
        json!({"tenant_id": "beta", "repository_id": "7", "sub": "repo:beta/tool:ref:refs/heads/main"}),
    );
    let minted = grpc_mint(&app, &token)
        .await
        .expect("beta's publisher is found by its tenant");
    assert_eq!(minted.publisher.map(|p| p.id), Some(created.id));
    assert_eq!(minted.projects, vec!["other-project".to_owned()]);
    app.stop().await;
}

#[tokio::test]
async fn an_oidc_issuer_must_name_its_tenant_claim() {
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    settings.issuers = vec![support::issuer_entry(
        json!({ "url": issuer.url(), "kind": "oidc" }),
    )];
    settings.publishers = Vec::new();
    let error = trustmint::check(&settings)
        .expect_err("refused")
        .to_string();
    assert_eq!(
        error,
        "invalid configuration: issuers[0].required_claims: an oidc issuer lists at least one required claim: the tenant or project claim every publisher binds exactly, whose value indexes its publishers (e.g. [\"project_id\"])"
    );
    settings.issuers = vec![support::issuer_entry(
        json!({ "url": issuer.url(), "kind": "github", "required_claims": ["x"] }),
    )];
    let error = trustmint::check(&settings)
        .expect_err("refused")
        .to_string();
    assert_eq!(
        error,
        "invalid configuration: issuers[0].required_claims: applies only to issuers of kind oidc"
    );
}
