//! The verifier against attack tokens, each with its exact error.

use std::sync::Arc;

use serde_json::{Value, json};
use trustmint_testkit::claims::{GitHubClaims, GoogleClaims};
use trustmint_testkit::{KeyAlgorithm, SignOptions, TestKey};

use super::*;
use trustmint_publishers::Provider;

use crate::issuer::IssuerSettings;
use crate::keystore::KeyStoreSettings;
use crate::test_support::{FakeFetcher, jwks};

const NOW: i64 = 1_700_000_000;
const GITHUB: &str = "https://token.actions.githubusercontent.com";
const GITHUB_DISCOVERY: &str =
    "https://token.actions.githubusercontent.com/.well-known/openid-configuration";
const GITHUB_JWKS: &str = "https://token.actions.githubusercontent.com/.well-known/jwks";

struct Fixture {
    key: TestKey,
    fetcher: Arc<FakeFetcher>,
    verifier: JwtVerifier,
}

/// A verifier trusting GitHub (discovery) with `algorithms`, serving `key`.
fn fixture_with(algorithm: KeyAlgorithm, algorithms: &[&str]) -> Fixture {
    let key = TestKey::generate(algorithm, "key-1").expect("key");
    let fetcher = FakeFetcher::new();
    fetcher.serve_json(
        GITHUB_DISCOVERY,
        &json!({"issuer": GITHUB, "jwks_uri": GITHUB_JWKS}),
    );
    fetcher.serve_json(GITHUB_JWKS, &jwks(&[&key]));
    let settings = IssuerSettings {
        algorithms: Some(algorithms.iter().map(|a| (*a).to_owned()).collect()),
        ..IssuerSettings::exact(Provider::GitHub, GITHUB)
    };
    let registry = IssuerRegistry::new(&[settings]).expect("registry");
    let keystore = KeyStore::new(
        fetcher.clone(),
        KeyStoreSettings::default(),
        Arc::new(crate::NoopObserver),
    );
    Fixture {
        key,
        fetcher,
        verifier: JwtVerifier::new(registry, keystore, "pypi".to_owned()),
    }
}

fn fixture() -> Fixture {
    fixture_with(KeyAlgorithm::RS256, &["RS256"])
}

fn github_claims() -> Value {
    GitHubClaims::new().jti("jti-1").build(GITHUB, "pypi", NOW)
}

impl Fixture {
    fn sign(&self, claims: &Value) -> String {
        self.key.sign(claims).expect("sign")
    }

    fn sign_with(&self, options: SignOptions, claims: &Value) -> String {
        self.key.sign_with(&options, claims).expect("sign")
    }

    async fn check(&self, jwt: &str, now: i64) -> Result<VerifiedClaims, ClaimsError> {
        let routed = self.verifier.route(jwt)?;
        self.verifier.verify(&routed, now).await
    }

    async fn error(&self, jwt: &str) -> ClaimsError {
        self.check(jwt, NOW).await.expect_err("must be rejected")
    }
}

fn invalid(detail: &str) -> ClaimsError {
    ClaimsError::InvalidToken(detail.to_owned())
}

#[tokio::test]
async fn valid_github_token_verifies() {
    let f = fixture();
    let verified = f
        .check(&f.sign(&github_claims()), NOW)
        .await
        .expect("valid");
    assert_eq!(verified.issuer.name, "github");
    assert_eq!(verified.iss, GITHUB);
    assert_eq!(verified.jti.as_deref(), Some("jti-1"));
    assert_eq!(
        verified.subject.as_deref(),
        Some("repo:octo-org/sampleproject:ref:refs/heads/main")
    );
    assert_eq!((verified.exp, verified.iat), (NOW + 300, NOW));
    assert_eq!(verified.claims["repository"], "octo-org/sampleproject");
    assert_eq!(
        (
            f.fetcher.calls(GITHUB_DISCOVERY),
            f.fetcher.calls(GITHUB_JWKS)
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn google_token_without_jti_verifies_with_no_jti() {
    let f = fixture();
    // Routed through the GitHub issuer entry only for the test's sake: the claims differ,
    // the verification does not.
    let claims = GoogleClaims::new().build(GITHUB, "pypi", NOW);
    let verified = f.check(&f.sign(&claims), NOW).await.expect("valid");
    assert_eq!(verified.jti, None);
}

#[tokio::test]
async fn attack_table() {
    let f = fixture();
    let claims = github_claims();
    let with = |name: &str, value: Value| {
        let mut claims = claims.clone();
        claims[name] = value;
        claims
    };
    let rows: Vec<(&str, String, ClaimsError)> = vec![
        (
            "alg none",
            f.sign_with(SignOptions::unsigned(), &claims),
            invalid("alg none: unsigned tokens are never accepted"),
        ),
        (
            "HS256 with the RSA public key as HMAC secret",
            f.sign_with(SignOptions::hmac(f.key.public_key_pem()), &claims),
            invalid("alg HS256: symmetric algorithms are never accepted"),
        ),
        (
            "kid not in JWKS",
            f.sign_with(SignOptions::default().with_kid("rotated-away"), &claims),
            invalid(&format!(
                "key id \"rotated-away\" not found for issuer {GITHUB:?}"
            )),
        ),
        (
            "missing kid",
            f.sign_with(SignOptions::default().without_kid(), &claims),
            invalid("no kid header"),
        ),
        (
            "crit header",
            f.sign_with(
                SignOptions::default().with_header("crit", json!(["exp"])),
                &claims,
            ),
            invalid("crit header: no JWS extensions are supported"),
        ),
        (
            "jku header",
            f.sign_with(
                SignOptions::default().with_header("jku", json!("https://evil.example/jwks")),
                &claims,
            ),
            invalid("jku header: keys are only taken from the issuer's JWKS"),
        ),
        (
            "jwk header",
            f.sign_with(
                SignOptions::default().with_header("jwk", f.key.public_jwk()),
                &claims,
            ),
            invalid("jwk header: keys are only taken from the issuer's JWKS"),
        ),
        (
            "x5u header",
            f.sign_with(
                SignOptions::default().with_header("x5u", json!("https://evil.example/c")),
                &claims,
            ),
            invalid("x5u header: keys are only taken from the issuer's JWKS"),
        ),
        (
            "ES256 against an RS256-only issuer",
            f.sign_with(SignOptions::default().with_alg("ES256"), &claims),
            invalid("alg ES256 is not allowed for this issuer"),
        ),
        (
            "PS256 against an RS256-only issuer",
            f.sign_with(SignOptions::default().with_alg("PS256"), &claims),
            invalid("alg PS256 is not allowed for this issuer"),
        ),
        (
            "expired",
            f.sign(&with("exp", json!(NOW - 31))),
            invalid("token has expired"),
        ),
        (
            "nbf beyond leeway",
            f.sign(&with("nbf", json!(NOW + 31))),
            invalid("token is not yet valid (nbf)"),
        ),
        (
            "iat beyond leeway",
            f.sign(&with("iat", json!(NOW + 31))),
            invalid("iat is in the future"),
        ),
        (
            "wrong aud",
            f.sign(&with("aud", json!("notpypi"))),
            invalid("aud is not this service's audience"),
        ),
        (
            "aud list",
            f.sign(&with("aud", json!(["pypi"]))),
            invalid("aud must be a single string, not a list"),
        ),
        (
            "missing exp",
            f.sign(&{
                let mut c = claims.clone();
                c.as_object_mut().map(|m| m.remove("exp"));
                c
            }),
            invalid("no exp claim"),
        ),
        (
            "jti too long",
            f.sign(&with("jti", json!("j".repeat(257)))),
            invalid("jti longer than 256 bytes"),
        ),
        (
            "jti not a string",
            f.sign(&with("jti", json!(42))),
            invalid("jti is not a string"),
        ),
        (
            "unknown iss",
            f.sign(&with("iss", json!("https://evil.example"))),
            ClaimsError::UnknownIssuer,
        ),
        (
            "iss with a slug not configured",
            f.sign(&with("iss", json!(format!("{GITHUB}/slug")))),
            ClaimsError::UnknownIssuer,
        ),
    ];
    for (name, jwt, expected) in rows {
        assert_eq!(f.error(&jwt).await, expected, "{name}");
    }
}

#[tokio::test]
async fn tampered_payload_fails_the_signature() {
    let f = fixture();
    let genuine = f.sign(&github_claims());
    let other = f.sign(
        &GitHubClaims::new()
            .repository("evil/repo")
            .build(GITHUB, "pypi", NOW),
    );
    let (header_and_payload, _) = other.rsplit_once('.').expect("dot");
    let (_, signature) = genuine.rsplit_once('.').expect("dot");
    let forged = format!("{header_and_payload}.{signature}");
    match f.error(&forged).await {
        ClaimsError::InvalidToken(detail) => assert!(detail.starts_with("signature: "), "{detail}"),
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

#[tokio::test]
async fn another_issuers_key_does_not_verify() {
    // Signed by an attacker's key published under the same kid elsewhere.
    let f = fixture();
    let attacker = TestKey::generate(KeyAlgorithm::RS256, "key-1").expect("key");
    let jwt = attacker.sign(&github_claims()).expect("sign");
    match f.error(&jwt).await {
        ClaimsError::InvalidToken(detail) => assert!(detail.starts_with("signature: "), "{detail}"),
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

#[tokio::test]
async fn leeway_edges_are_accepted() {
    let f = fixture();
    let rows = [
        ("exp 29 s ago", json!({"exp": NOW - 29})),
        ("nbf 30 s ahead", json!({"nbf": NOW + 30})),
        ("iat 30 s ahead", json!({"iat": NOW + 30})),
    ];
    for (name, overrides) in rows {
        let mut claims = github_claims();
        for (key, value) in overrides.as_object().expect("object") {
            claims[key] = value.clone();
        }
        let verified = f.check(&f.sign(&claims), NOW).await;
        assert_eq!(
            verified.map(|v| v.jti),
            Ok(Some("jti-1".to_owned())),
            "{name}"
        );
    }
}

#[tokio::test]
async fn each_algorithm_is_accepted_by_an_issuer_that_allows_it() {
    for (algorithm, name) in [
        (KeyAlgorithm::RS256, "RS256"),
        (KeyAlgorithm::PS256, "PS256"),
        (KeyAlgorithm::ES256, "ES256"),
        (KeyAlgorithm::EdDSA, "EdDSA"),
    ] {
        let f = fixture_with(algorithm, &[name]);
        let verified = f.check(&f.sign(&github_claims()), NOW).await;
        assert_eq!(verified.map(|v| v.iss), Ok(GITHUB.to_owned()), "{name}");
    }
}

#[tokio::test]
async fn es256_token_against_rs256_only_issuer_is_rejected_before_any_fetch() {
    let f = fixture_with(KeyAlgorithm::ES256, &["RS256"]);
    assert_eq!(
        f.error(&f.sign(&github_claims())).await,
        invalid("alg ES256 is not allowed for this issuer")
    );
    assert_eq!(f.fetcher.total_calls(), 0);
}

#[tokio::test]
async fn algorithm_must_fit_the_key_type() {
    // The issuer allows RS256 and ES256; the token claims ES256 but names the RSA key.
    let f = fixture_with(KeyAlgorithm::RS256, &["RS256", "ES256"]);
    let jwt = f.sign_with(SignOptions::default().with_alg("ES256"), &github_claims());
    assert_eq!(
        f.error(&jwt).await,
        invalid("alg ES256 does not fit key \"key-1\"")
    );
}

#[tokio::test]
async fn algorithm_must_fit_the_jwk_alg() {
    // RSA key published with alg RS256; a PS256 header must not use it.
    let f = fixture_with(KeyAlgorithm::RS256, &["RS256", "PS256"]);
    let jwt = f.sign_with(SignOptions::default().with_alg("PS256"), &github_claims());
    assert_eq!(
        f.error(&jwt).await,
        invalid("alg PS256 does not fit key \"key-1\"")
    );
}

#[tokio::test]
async fn keys_unavailable_when_the_issuer_is_down_and_nothing_is_cached() {
    let f = fixture();
    f.fetcher
        .respond(GITHUB_DISCOVERY, Err(crate::FetchError::Status(502)));
    assert_eq!(
        f.error(&f.sign(&github_claims())).await,
        ClaimsError::KeysUnavailable(
            "github: fetching discovery document: HTTP status 502".to_owned()
        )
    );
}

#[tokio::test]
async fn disabled_issuer_is_refused_by_verify() {
    let key = TestKey::generate(KeyAlgorithm::RS256, "key-1").expect("key");
    let registry = IssuerRegistry::new(&[IssuerSettings {
        enabled: Some(false),
        ..IssuerSettings::exact(Provider::GitHub, GITHUB)
    }])
    .expect("registry");
    let fetcher = FakeFetcher::new();
    let verifier = JwtVerifier::new(
        registry,
        KeyStore::new(
            fetcher.clone(),
            KeyStoreSettings::default(),
            Arc::new(crate::NoopObserver),
        ),
        "pypi".into(),
    );
    let routed = verifier
        .route(&key.sign(&github_claims()).expect("sign"))
        .expect("routes");
    assert!(!routed.issuer.enabled);
    assert_eq!(
        verifier.verify(&routed, NOW).await.map(|v| v.iss),
        Err(invalid("issuer github is disabled"))
    );
    assert_eq!(fetcher.total_calls(), 0);
}

#[tokio::test]
async fn malformed_and_oversized_tokens_are_malformed() {
    let f = fixture();
    let oversized = f.sign(&json!({"iss": GITHUB, "padding": "x".repeat(20_000)}));
    assert_eq!(
        f.error(&oversized).await,
        ClaimsError::Malformed("longer than 16384 bytes".into())
    );
    assert_eq!(
        f.error("not-a-jwt").await,
        ClaimsError::Malformed("not three dot-separated segments".into())
    );
}

#[test]
fn routed_token_debug_hides_the_jwt() {
    let f = fixture();
    let jwt = f.sign(&github_claims());
    let routed = f.verifier.route(&jwt).expect("routes");
    let debug = format!("{routed:?}");
    assert!(!debug.contains(&jwt), "{debug}");
    assert!(
        !debug.contains(jwt.split('.').nth(1).expect("payload")),
        "{debug}"
    );
    assert!(debug.contains("jwt_sha256"), "{debug}");
    assert_eq!(routed.kid(), Some("key-1"));
    assert_eq!(routed.jwt(), jwt);
    assert_eq!(routed.fingerprint().len(), 16);
}

#[tokio::test]
async fn psychic_ecdsa_signature_is_rejected() {
    // CVE-2022-21449: r = s = 0 must never verify.
    let f = fixture_with(KeyAlgorithm::ES256, &["ES256"]);
    let genuine = f.sign(&github_claims());
    let (signing_input, _) = genuine.rsplit_once('.').expect("dot");
    let zero_signature =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, [0u8; 64]);
    match f.error(&format!("{signing_input}.{zero_signature}")).await {
        ClaimsError::InvalidToken(detail) => assert!(detail.starts_with("signature: "), "{detail}"),
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

#[tokio::test]
async fn truncated_signature_is_rejected() {
    for (algorithm, name) in [
        (KeyAlgorithm::RS256, "RS256"),
        (KeyAlgorithm::ES256, "ES256"),
        (KeyAlgorithm::EdDSA, "EdDSA"),
    ] {
        let f = fixture_with(algorithm, &[name]);
        let genuine = f.sign(&github_claims());
        let (signing_input, signature) = genuine.rsplit_once('.').expect("dot");
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut bytes = base64::Engine::decode(&engine, signature).expect("base64");
        bytes.truncate(bytes.len() - 6);
        let truncated = format!("{signing_input}.{}", base64::Engine::encode(&engine, bytes));
        match f.error(&truncated).await {
            ClaimsError::InvalidToken(detail) => {
                assert!(detail.starts_with("signature: "), "{name}: {detail}")
            }
            other => panic!("{name}: expected InvalidToken, got {other:?}"),
        }
    }
}

/// `[[issuers]] audiences` widens what that issuer's tokens may carry, and nothing more:
/// the service audience still works, an unlisted one is still refused.
#[tokio::test]
async fn issuer_audiences_are_accepted_for_that_issuer_only() {
    let mut f = fixture();
    let settings = IssuerSettings {
        audiences: Some(vec!["pypi-staging".to_owned()]),
        ..IssuerSettings::exact(Provider::GitHub, GITHUB)
    };
    let keystore = KeyStore::new(
        f.fetcher.clone(),
        KeyStoreSettings::default(),
        Arc::new(crate::NoopObserver),
    );
    f.verifier = JwtVerifier::new(
        IssuerRegistry::new(&[settings]).expect("registry"),
        keystore,
        "pypi".to_owned(),
    );
    let with_aud = |aud: &str| {
        let mut claims = github_claims();
        claims["aud"] = json!(aud);
        claims
    };
    for aud in ["pypi", "pypi-staging"] {
        let verified = f.check(&f.sign(&with_aud(aud)), NOW).await;
        assert_eq!(
            verified
                .map(|v| v.claims["aud"].clone())
                .map_err(|e| e.to_string()),
            Ok(json!(aud)),
            "{aud}"
        );
    }
    assert_eq!(
        f.error(&f.sign(&with_aud("pypi-other"))).await,
        ClaimsError::InvalidToken("aud is not this service's audience".to_owned())
    );
    assert_eq!(
        f.error(&f.sign(&with_aud("PYPI-STAGING"))).await,
        ClaimsError::InvalidToken("aud is not this service's audience".to_owned())
    );
}
