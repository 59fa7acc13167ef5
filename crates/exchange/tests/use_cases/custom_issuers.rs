//! Custom OIDC issuers (`[[issuers]] kind = "oidc"`): a real testkit issuer signing
//! tokens of a made-up CI. Config-declared and API-created publishers; every safety
//! rail refuses at creation with its reason; matching refuses a wrong claim, another
//! tenant and a token without `jti` with the exact reason; `replay_key = "sha256"`
//! accepts a token without `jti` once.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use trustmint_exchange::Clock as _;
use trustmint_publishers::PublisherSpec;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, MemoryExchange, PROJECT};

use crate::providers_support::{declare_as_configured, no_publisher};
use crate::support::{assert_error, names, new_publisher_with_spec};

/// An exchange trusting a test issuer as a custom issuer whose tenant claim is
/// `tenant_id`, declaring acme's repository 42 (release tags only).
async fn exchange(replay_key: Option<&str>) -> MemoryExchange {
    let issuer = TestIssuer::start().await;
    let url = issuer.url();
    let mut entry = json!({
        "url": url, "kind": "oidc",
        "required_claims": ["tenant_id"], "pattern_claims": ["ref", "sub"],
    });
    if let Some(replay_key) = replay_key {
        entry["replay_key"] = json!(replay_key);
    }
    let issuers = vec![entry];
    let fx = ExchangeBuilder::new(issuer)
        .issuers(issuers.clone())
        .publishers(vec![])
        .build();
    declare_as_configured(
        &fx,
        &issuers,
        &[json!({
            "kind": "oidc",
            "projects": [PROJECT],
            "issuer": url,
            "claims": { "tenant_id": "acme", "repository_id": 42, "ref": "refs/tags/v*" },
        })],
    );
    fx
}

/// A token of the custom CI: acme's repository 42 at tag v1.0, with `edits` applied
/// (`null` removes a claim), issued at the exchange's now.
fn jwt(fx: &MemoryExchange, edits: Value) -> String {
    let t = fx.clock.now();
    let mut claims = json!({
        "iss": fx.issuer.url(), "aud": "pypi", "iat": t, "nbf": t, "exp": t + 300,
        "jti": unique_jti(), "sub": "repo:acme/app:ref:refs/tags/v1.0",
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
    fx.jwt_for(claims)
}

/// A `jti` no other token of this test binary carries.
fn unique_jti() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[tokio::test]
async fn a_declared_custom_issuer_publisher_matches_its_claims() {
    let fx = exchange(None).await;
    let url = fx.issuer.url();

    fx.mint(&jwt(&fx, json!({})))
        .await
        .expect("a release mints");
    let minted = fx
        .mint(&jwt(&fx, json!({"ref": "refs/tags/v2"})))
        .await
        .expect("a second release mints");
    match minted.publisher().map(|p| &p.spec) {
        Some(PublisherSpec::Oidc(p)) => {
            assert_eq!(p.lookup_claim, "tenant_id");
            assert_eq!(
                p.claims.get("repository_id").map(String::as_str),
                Some("42")
            );
        }
        other => panic!("an oidc publisher, got {other:?}"),
    }
    assert_eq!(
        minted.claims.get("tenant_id").map(String::as_str),
        Some("acme")
    );

    for (context, token, reason) in [
        (
            "another repository of the tenant",
            jwt(&fx, json!({"repository_id": 43})),
            "claim repository_id: expected '42', token has '43'".to_owned(),
        ),
        (
            "a branch",
            jwt(&fx, json!({"ref": "refs/heads/main"})),
            "claim ref: expected a match of 'refs/tags/v*', token has 'refs/heads/main'".to_owned(),
        ),
        (
            "the claim absent",
            jwt(&fx, json!({"repository_id": null})),
            "claim repository_id: expected '42', the token has none".to_owned(),
        ),
        (
            "another tenant",
            jwt(&fx, json!({"tenant_id": "evil"})),
            format!(
                "Publisher with matching claims was not found; no publisher is registered for tenant_id 'evil' with issuer '{url}'"
            ),
        ),
        (
            "no jti",
            jwt(&fx, json!({"jti": null})),
            "Missing claim 'jti'".to_owned(),
        ),
    ] {
        let refused = fx.mint(&token).await;
        assert!(refused.is_err(), "{context}: {refused:?}");
        assert_error(refused, "invalid-publisher", &no_publisher(&reason));
    }
}

/// `replay_key = "sha256"`: a token without `jti` is accepted once, and its replay is
/// refused.
#[tokio::test]
async fn hash_replay_key_accepts_tokens_without_jti_once() {
    let fx = exchange(Some("sha256")).await;
    let token = jwt(&fx, json!({"jti": null}));
    fx.mint(&token).await.expect("the first exchange");
    assert_error(
        fx.mint(&token).await,
        "invalid-reuse-token",
        "invalid token: already used",
    );
}

#[tokio::test]
async fn created_custom_issuer_publishers_obey_the_rails() {
    let fx = exchange(None).await;
    let url = fx.issuer.url();
    let oidc_publisher = |claims: Value| {
        new_publisher_with_spec(
            json!({ "kind": "oidc", "issuer": url, "claims": claims }),
            &["other-project"],
            false,
        )
    };
    for (claims, message) in [
        (
            json!({"tenant_id": "beta"}),
            "claims: must bind at least two claims (e.g. the tenant and the repository): a single claim is too easily satisfied by another job of the same issuer",
        ),
        (
            json!({"repository_id": "7", "ref": "refs/tags/*"}),
            "claims: must bind the issuer's required claim tenant_id: it keeps the issuer's tenants apart (required_claims = tenant_id)",
        ),
        (
            json!({"tenant_id": "be*", "repository_id": "7"}),
            "claims.tenant_id: is a required claim of the issuer and must be bound exactly (without '*'): it keeps the issuer's tenants apart",
        ),
        (
            json!({"tenant_id": "beta", "repository_id": "7*"}),
            "claims.repository_id: '*' is allowed only in claims the issuer lists in pattern_claims (ref, sub); bind this claim exactly",
        ),
        (
            json!({"tenant_id": "beta", "sub": "*:ref:refs/tags/v1"}),
            "claims.sub: a sub glob must start with a fixed prefix ('repo:acme/app:*'): a leading '*' matches subjects of any repository",
        ),
    ] {
        assert_error(
            fx.exchange.create_publisher(oidc_publisher(claims)).await,
            "invalid-argument",
            message,
        );
    }

    let created = fx
        .exchange
        .create_publisher(oidc_publisher(
            json!({"tenant_id": "beta", "repository_id": "7", "sub": "repo:beta/*"}),
        ))
        .await
        .expect("created")
        .publisher;
    let token = jwt(
        &fx,
        json!({"tenant_id": "beta", "repository_id": "7", "sub": "repo:beta/tool:ref:refs/heads/main"}),
    );
    let minted = fx
        .mint(&token)
        .await
        .expect("beta's publisher is found by its tenant");
    assert_eq!(minted.publisher().map(|p| &p.id), Some(&created.id));
    assert_eq!(names(&minted.projects), ["other-project"]);
}
