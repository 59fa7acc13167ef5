//! The TestIssuer over HTTP: what it serves, and that its tokens verify against its own
//! JWKS with josekit alone.

use std::time::Duration;

use josekit::jwk::JwkSet;
use josekit::jws::JwsVerifier;
use serde_json::{Value, json};
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::{IssuerOptions, KeyAlgorithm, TestIssuer};

async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Verifies `jwt` with the key its `kid` names in `jwks`, using josekit only.
fn verify_with_jwks(jwt: &str, jwks: &Value) -> Result<josekit::jwt::JwtPayload, String> {
    let set =
        JwkSet::from_bytes(serde_json::to_vec(jwks).expect("json")).map_err(|e| e.to_string())?;
    let header = josekit::jwt::decode_header(jwt).map_err(|e| e.to_string())?;
    let kid = header
        .claim("kid")
        .and_then(Value::as_str)
        .ok_or("no kid")?;
    let jwk = set.get(kid).first().copied().ok_or("kid not in JWKS")?;
    let verifier: Box<dyn JwsVerifier> = match jwk.algorithm() {
        Some("RS256") => Box::new(
            josekit::jws::RS256
                .verifier_from_jwk(jwk)
                .map_err(|e| e.to_string())?,
        ),
        Some("PS256") => Box::new(
            josekit::jws::PS256
                .verifier_from_jwk(jwk)
                .map_err(|e| e.to_string())?,
        ),
        Some("ES256") => Box::new(
            josekit::jws::ES256
                .verifier_from_jwk(jwk)
                .map_err(|e| e.to_string())?,
        ),
        Some("EdDSA") => Box::new(
            josekit::jws::EdDSA
                .verifier_from_jwk(jwk)
                .map_err(|e| e.to_string())?,
        ),
        other => return Err(format!("unexpected alg {other:?}")),
    };
    josekit::jwt::decode_with_verifier(jwt, verifier.as_ref())
        .map(|(payload, _)| payload)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn serves_discovery_and_jwks() {
    let issuer = TestIssuer::start().await;
    assert!(issuer.url().starts_with("http://127.0.0.1:"));
    let (status, discovery) = get(&format!(
        "{}/.well-known/openid-configuration",
        issuer.url()
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], issuer.url());
    assert_eq!(discovery["jwks_uri"], issuer.jwks_uri());
    let (status, jwks) = get(&issuer.jwks_uri()).await;
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"][0]["kid"], "key-1");
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0].get("d").is_none());
    assert_eq!(
        (issuer.discovery_fetch_count(), issuer.jwks_fetch_count()),
        (1, 1)
    );
}

#[tokio::test]
async fn signed_tokens_verify_against_the_served_jwks_for_every_algorithm() {
    for algorithm in [
        KeyAlgorithm::RS256,
        KeyAlgorithm::PS256,
        KeyAlgorithm::ES256,
        KeyAlgorithm::EdDSA,
    ] {
        let issuer = TestIssuer::start_with(IssuerOptions {
            algorithm,
            ..IssuerOptions::default()
        })
        .await;
        let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", 1_700_000_000));
        let (_, jwks) = get(&issuer.jwks_uri()).await;
        let payload = verify_with_jwks(&jwt, &jwks).expect("verifies");
        assert_eq!(
            payload.issuer(),
            Some(issuer.url().as_str()),
            "{algorithm:?}"
        );
        assert_eq!(
            payload.claim("repository"),
            Some(&json!("octo-org/sampleproject"))
        );
    }
}

#[tokio::test]
async fn rotation_publishes_new_keys_and_signs_with_them() {
    let issuer = TestIssuer::start().await;
    let old = issuer.sign(&json!({"iss": issuer.url()}));
    assert_eq!(issuer.rotate_key(), "key-2");
    assert_eq!(issuer.current_kid(), "key-2");
    let new = issuer.sign(&json!({"iss": issuer.url()}));
    let (_, jwks) = get(&issuer.jwks_uri()).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids, ["key-1", "key-2"]);
    let issuer_of =
        |jwt: &str| verify_with_jwks(jwt, &jwks).map(|payload| payload.issuer().map(str::to_owned));
    assert_eq!(issuer_of(&old), Ok(Some(issuer.url())));
    assert_eq!(issuer_of(&new), Ok(Some(issuer.url())));

    assert!(issuer.retire_key("key-1"));
    assert!(!issuer.retire_key("key-2"), "the current key stays");
    let (_, jwks) = get(&issuer.jwks_uri()).await;
    assert_eq!(
        verify_with_jwks(&old, &jwks).map(|_| ()),
        Err("kid not in JWKS".to_owned())
    );

    assert_eq!(issuer.rotate_key_dropping_old(), "key-3");
    let (_, jwks) = get(&issuer.jwks_uri()).await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn failure_and_size_injection() {
    let issuer = TestIssuer::start_with(IssuerOptions {
        path: "/_services/token".into(),
        ..IssuerOptions::default()
    })
    .await;
    assert!(issuer.url().ends_with("/_services/token"));
    issuer.set_failing(true);
    assert_eq!(get(&issuer.jwks_uri()).await.0, 500);
    assert_eq!(
        get(&format!(
            "{}/.well-known/openid-configuration",
            issuer.url()
        ))
        .await
        .0,
        500
    );
    issuer.set_failing(false);
    issuer.set_jwks_padding(1000);
    let (status, jwks) = get(&issuer.jwks_uri()).await;
    assert_eq!(
        (status, jwks["padding"].as_str().map(str::len)),
        (200, Some(1000))
    );
    assert_eq!(issuer.jwks_fetch_count(), 2);
}

#[tokio::test]
async fn discovery_can_be_switched_off() {
    let issuer = TestIssuer::start_with(IssuerOptions {
        serve_discovery: false,
        ..IssuerOptions::default()
    })
    .await;
    assert_eq!(
        get(&format!(
            "{}/.well-known/openid-configuration",
            issuer.url()
        ))
        .await
        .0,
        404
    );
    assert_eq!(get(&issuer.jwks_uri()).await.0, 200);
}

#[tokio::test]
async fn response_delay_applies() {
    let issuer = TestIssuer::start().await;
    issuer.set_response_delay(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert_eq!(get(&issuer.jwks_uri()).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}
