//! Custom OIDC issuers end to end (`[[issuers]] kind = "oidc"`): a real testkit issuer
//! signing tokens of a made-up CI, a real app on the memory store and on the machine's
//! Redis, exchanges over HTTP and gRPC. Config-declared and gRPC-created publishers;
//! every safety rail refuses at creation with its reason; matching refuses a wrong
//! claim, another tenant and a token without `jti` with the exact reason.

use crate::support;

use serde_json::{Value, json};
use support::redis_setup::use_local_redis;
use support::{TestApp, assert_token_error, base_settings, now, spawn_with_settings};
use tonic::Code;
use tonic::transport::Endpoint;
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;

const PROJECT: &str = "sampleproject";

#[derive(Clone, Copy, Debug)]
enum Store {
    Memory,
    Redis,
}

fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// An app trusting the test issuer as a custom issuer whose tenant claim is
/// `tenant_id`, declaring acme's repository 42 (release tags only).
async fn spawn(store: Store, replay_key: Option<&str>) -> TestApp {
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    let mut entry = json!({
        "url": issuer.url(), "kind": "oidc",
        "required_claims": ["tenant_id"], "pattern_claims": ["ref", "sub"],
    });
    if let Some(replay_key) = replay_key {
        entry["replay_key"] = json!(replay_key);
    }
    settings.issuers = vec![support::issuer_entry(entry)];
    settings.publishers = vec![json!({
        "kind": "oidc",
        "projects": [PROJECT],
        "issuer": issuer.url(),
        "claims": { "tenant_id": "acme", "repository_id": 42, "ref": "refs/tags/v*" },
    })];
    if let Store::Redis = store {
        use_local_redis(&mut settings);
    }
    spawn_with_settings(issuer, &settings).await
}

/// A token of the custom CI: acme's repository 42 at tag v1.0, with `edits` applied
/// (`null` removes a claim).
fn jwt(app: &TestApp, edits: Value) -> String {
    let t = now();
    let mut claims = json!({
        "iss": app.issuer.url(), "aud": "pypi", "iat": t, "nbf": t, "exp": t + 300,
        "jti": uuid_like(), "sub": "repo:acme/app:ref:refs/tags/v1.0",
        "tenant_id": "acme", "repository_id": 42, "ref": "refs/tags/v1.0",
    });
    if let (Some(claims), Value::Object(edits)) = (claims.as_object_mut(), edits) {
        for (name, value) in edits {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
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

fn oidc_publisher(app: &TestApp, claims: &[(&str, &str)]) -> pb::CreatePublisherRequest {
    pb::CreatePublisherRequest {
        publisher: Some(pb::Publisher {
            projects: vec!["other-project".to_owned()],
            kind: Some(pb::publisher::Kind::Oidc(pb::OidcPublisher {
                issuer: app.issuer.url(),
                claims: claims
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                lookup_claim: String::new(),
            })),
            ..pb::Publisher::default()
        }),
    }
}

#[tokio::test]
async fn declared_custom_issuer_publisher_on_every_store() {
    for store in [Store::Memory, Store::Redis] {
        let app = spawn(store, None).await;
        let url = app.issuer.url();

        let response = app.mint(&jwt(&app, json!({}))).await;
        assert_eq!(response.0, 200, "{store:?}: {}", response.1);
        let minted = grpc_mint(&app, &jwt(&app, json!({"ref": "refs/tags/v2"})))
            .await
            .expect("a second release mints over gRPC");
        let publisher = minted.publisher.expect("publisher");
        match publisher.kind {
            Some(pb::publisher::Kind::Oidc(p)) => {
                assert_eq!(p.lookup_claim, "tenant_id", "{store:?}");
                assert_eq!(
                    p.claims.get("repository_id").map(String::as_str),
                    Some("42")
                );
            }
            other => panic!("{store:?}: {other:?}"),
        }
        assert_eq!(
            minted.claims.get("tenant_id").map(String::as_str),
            Some("acme")
        );

        for (context, token, reason) in [
            (
                "another repository of the tenant",
                jwt(&app, json!({"repository_id": 43})),
                "claim repository_id: expected '42', token has '43'".to_owned(),
            ),
            (
                "a branch",
                jwt(&app, json!({"ref": "refs/heads/main"})),
                "claim ref: expected a match of 'refs/tags/v*', token has 'refs/heads/main'"
                    .to_owned(),
            ),
            (
                "the claim absent",
                jwt(&app, json!({"repository_id": null})),
                "claim repository_id: expected '42', the token has none".to_owned(),
            ),
            (
                "another tenant",
                jwt(&app, json!({"tenant_id": "evil"})),
                format!(
                    "Publisher with matching claims was not found; no publisher is registered for tenant_id 'evil' with issuer '{url}'"
                ),
            ),
            (
                "no jti",
                jwt(&app, json!({"jti": null})),
                "Missing claim 'jti'".to_owned(),
            ),
        ] {
            assert_token_error(
                &app.mint(&token).await,
                422,
                "invalid-publisher",
                &no_publisher(&reason),
            );
            let status = grpc_mint(&app, &token).await.expect_err(context);
            assert_eq!(
                status.message(),
                format!("invalid-publisher: {}", no_publisher(&reason)),
                "{store:?}: {context}"
            );
        }
        app.stop().await;
    }
}

/// `replay_key = "sha256"`: a token without `jti` is accepted once, and its replay is
/// refused.
#[tokio::test]
async fn hash_replay_key_accepts_tokens_without_jti_once() {
    let app = spawn(Store::Memory, Some("sha256")).await;
    let token = jwt(&app, json!({"jti": null}));
    assert_eq!(app.mint(&token).await.0, 200);
    let replay = app.mint(&token).await;
    assert_eq!(replay.0, 422, "{}", replay.1);
    assert_eq!(
        replay.1["errors"][0]["code"], "invalid-reuse-token",
        "{}",
        replay.1
    );
    app.stop().await;
}

#[tokio::test]
async fn created_custom_issuer_publishers_obey_the_rails_on_every_store() {
    for store in [Store::Memory, Store::Redis] {
        let app = spawn(store, None).await;
        let mut publishers = PublisherServiceClient::new(channel(&app));
        for (claims, message) in [
            (
                &[("tenant_id", "beta")][..],
                "claims: must bind at least two claims (e.g. the tenant and the repository): a single claim is too easily satisfied by another job of the same issuer",
            ),
            (
                &[("repository_id", "7"), ("ref", "refs/tags/*")],
                "claims: must bind the issuer's required claim tenant_id: it keeps the issuer's tenants apart (required_claims = tenant_id)",
            ),
            (
                &[("tenant_id", "be*"), ("repository_id", "7")],
                "claims.tenant_id: is a required claim of the issuer and must be bound exactly (without '*'): it keeps the issuer's tenants apart",
            ),
            (
                &[("tenant_id", "beta"), ("repository_id", "7*")],
                "claims.repository_id: '*' is allowed only in claims the issuer lists in pattern_claims (ref, sub); bind this claim exactly",
            ),
            (
                &[("tenant_id", "beta"), ("sub", "*:ref:refs/tags/v1")],
                "claims.sub: a sub glob must start with a fixed prefix ('repo:acme/app:*'): a leading '*' matches subjects of any repository",
            ),
        ] {
            let status = publishers
                .create_publisher(oidc_publisher(&app, claims))
                .await
                .expect_err("unsafe publisher refused");
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{store:?}: {status:?}"
            );
            assert_eq!(
                status.message(),
                format!("invalid-argument: {message}"),
                "{store:?}"
            );
        }

        let created = publishers
            .create_publisher(oidc_publisher(
                &app,
                &[
                    ("tenant_id", "beta"),
                    ("repository_id", "7"),
                    ("sub", "repo:beta/*"),
                ],
            ))
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
        assert_eq!(
            minted.publisher.map(|p| p.id),
            Some(created.id),
            "{store:?}"
        );
        assert_eq!(
            minted.projects,
            vec!["other-project".to_owned()],
            "{store:?}"
        );
        app.stop().await;
    }
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
