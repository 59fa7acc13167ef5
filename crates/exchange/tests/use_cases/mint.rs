//! Mint: which OIDC tokens become upload tokens, and the exact refusal for each that
//! does not (PyPI's codes and texts).

use serde_json::json;
use trustmint_exchange::Clock as _;
use trustmint_testkit::SignOptions;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT, github_declaration};

use crate::support::{INVALID_TOKEN, assert_error, code_of, new_publisher};

#[tokio::test]
async fn matching_claims_mint_a_pypi_token_scoped_to_the_publishers_projects() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    assert!(minted.token.expose_secret().starts_with("pypi-"));
    assert_eq!(crate::support::names(&minted.projects), [PROJECT]);
    assert_eq!(minted.expires_at, fx.clock.now() + 900);
    assert_eq!(minted.publishers.len(), 1);
    assert_eq!(
        minted.claims.get("repository").map(String::as_str),
        Some("octo-org/sampleproject")
    );
    assert_eq!(
        minted.claims.get("workflow").map(String::as_str),
        Some("release.yml")
    );
}

#[tokio::test]
async fn the_token_lifetime_follows_the_settings_and_the_clock() {
    let fx = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.token_ttl_secs = 120)
        .clock_at(1_900_000_000)
        .build();
    let minted = fx.mint_default().await;
    assert_eq!(minted.expires_at, 1_900_000_120);
}

#[tokio::test]
async fn a_custom_token_prefix_is_used() {
    let fx = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.token_prefix = "testpypi-".into())
        .build();
    let minted = fx.mint_default().await;
    assert!(minted.token.expose_secret().starts_with("testpypi-"));
}

#[tokio::test]
async fn a_jwt_is_exchanged_once() {
    let fx = ExchangeBuilder::start().await.build();
    let jwt = fx.github_jwt(GitHubClaims::new());
    fx.mint(&jwt).await.expect("first exchange");
    assert_error(
        fx.mint(&jwt).await,
        "invalid-reuse-token",
        "invalid token: already used",
    );
}

#[tokio::test]
async fn concurrent_replays_mint_exactly_once() {
    let fx = ExchangeBuilder::start().await.build();
    let jwt = fx.github_jwt(GitHubClaims::new());
    let mut tasks = tokio::task::JoinSet::new();
    let exchange = std::sync::Arc::new(fx);
    for _ in 0..8 {
        let (fx, jwt) = (exchange.clone(), jwt.clone());
        tasks.spawn(async move { fx.mint(&jwt).await.map(|_| ()) });
    }
    let results = tasks.join_all().await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for refused in results.into_iter().filter(Result::is_err) {
        assert_error(
            refused,
            "invalid-reuse-token",
            "invalid token: already used",
        );
    }
}

#[tokio::test]
async fn a_jwt_whose_exchange_failed_is_not_burnt() {
    // PyPI burns it; trustmint does not: register the missing publisher and retry.
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let jwt = fx.github_jwt(GitHubClaims::new());
    assert_eq!(code_of(fx.mint(&jwt).await), "invalid-publisher");
    let declaration = github_declaration(&fx.issuer.url(), &[PROJECT], "");
    fx.exchange
        .create_publisher(new_publisher(&declaration, &[PROJECT], false))
        .await
        .expect("registered");
    fx.mint(&jwt).await.expect("the same JWT mints now");
}

#[tokio::test]
async fn malformed_jwts_are_invalid_payload() {
    let fx = ExchangeBuilder::start().await.build();
    for token in [
        "not-a-jwt",
        "a.b.c",
        "!!!.###.$$$",
        "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", // payload "not json"
        "eyJhbGciOiJSUzI1NiJ9..",
        "",
    ] {
        assert_error(fx.mint(token).await, "invalid-payload", "malformed JWT");
    }
    // A well-formed HS256 JWT without `iss`.
    let now = fx.clock.now();
    let no_iss = fx.issuer.sign_with(
        SignOptions::hmac(b"0123456789abcdef0123456789abcdef".to_vec()),
        &json!({ "aud": "pypi", "exp": now + 60, "iat": now }),
    );
    assert_error(fx.mint(&no_iss).await, "invalid-payload", "malformed JWT");
}

#[tokio::test]
async fn an_unknown_issuer_is_invalid_payload() {
    let fx = ExchangeBuilder::start().await.build();
    let now = fx.clock.now();
    let claims = GitHubClaims::new().build("nonexistent-issuer", "pypi", now);
    assert_error(
        fx.mint(&fx.jwt_for(claims)).await,
        "invalid-payload",
        "unknown trusted publishing issuer",
    );
    // An `iss` that is not a string is malformed, not unknown.
    let claims = GitHubClaims::new()
        .claim(
            "iss",
            json!(["https://token.actions.githubusercontent.com"]),
        )
        .build("x", "pypi", now);
    assert_error(
        fx.mint(&fx.jwt_for(claims)).await,
        "invalid-payload",
        "malformed JWT",
    );
}

#[tokio::test]
async fn a_disabled_issuer_is_not_enabled() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let url = issuer.url();
    let fx = ExchangeBuilder::new(issuer)
        .issuers(vec![
            json!({ "url": url, "kind": "github", "enabled": false }),
        ])
        .build();
    assert_error(
        fx.mint(&fx.github_jwt(GitHubClaims::new())).await,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn the_global_switch_off_is_not_enabled() {
    let fx = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.enabled = false)
        .build();
    assert!(!fx.exchange.enabled());
    assert_error(
        fx.mint(&fx.github_jwt(GitHubClaims::new())).await,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn no_matching_publisher_is_invalid_publisher_naming_the_repository() {
    let fx = ExchangeBuilder::start().await.build();
    let jwt = fx.github_jwt(GitHubClaims::new().repository("someone/else"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        &format!(
            "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'someone/else' with issuer '{}')",
            fx.issuer.url()
        ),
    );
}

#[tokio::test]
async fn invalid_publisher_says_which_field_differed() {
    let fx = ExchangeBuilder::start().await.build();
    let jwt = fx.github_jwt(GitHubClaims::new().workflow("ci.yml"));
    assert_error(
        fx.mint(&jwt).await,
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with matching claims was not found; the publisher for repository 'octo-org/sampleproject' expects workflow_filename 'release.yml' but the token's job_workflow_ref names 'ci.yml')",
    );
}

#[tokio::test]
async fn an_environment_restricted_publisher_needs_that_environment() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let url = issuer.url();
    let fx = ExchangeBuilder::new(issuer)
        .publishers(vec![github_declaration(&url, &[PROJECT], "pypi")])
        .build();
    assert_eq!(
        code_of(fx.mint(&fx.github_jwt(GitHubClaims::new())).await),
        "invalid-publisher"
    );
    let minted = fx
        .mint(&fx.github_jwt(GitHubClaims::new().environment("pypi")))
        .await
        .expect("the environment matches");
    assert_eq!(
        minted.claims.get("environment").map(String::as_str),
        Some("pypi")
    );
}

#[tokio::test]
async fn the_audience_is_the_configured_one() {
    let fx = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.audience = "testpypi".into())
        .build();
    assert_eq!(fx.exchange.audience(), "testpypi");
    let now = fx.clock.now();
    let for_pypi = fx.jwt_for(GitHubClaims::new().build(&fx.issuer.url(), "pypi", now));
    assert_error(fx.mint(&for_pypi).await, "invalid-token", INVALID_TOKEN);
    let for_testpypi = fx.jwt_for(GitHubClaims::new().build(&fx.issuer.url(), "testpypi", now));
    fx.mint(&for_testpypi)
        .await
        .expect("the configured audience");
}

#[tokio::test]
async fn expiry_is_judged_by_the_exchange_clock_with_30_s_leeway() {
    let fx = ExchangeBuilder::start().await.build();
    // The testkit's GitHub claims live 300 s; as in PyJWT, a token is expired once
    // `exp <= now - leeway`.
    let jwt = fx.github_jwt(GitHubClaims::new());
    let second = fx.github_jwt(GitHubClaims::new());
    fx.clock.advance(300 + 29);
    fx.mint(&jwt)
        .await
        .expect("a second before exp + leeway it is still good");
    fx.clock.advance(1);
    assert_error(fx.mint(&second).await, "invalid-token", INVALID_TOKEN);
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused_past_the_leeway() {
    let fx = ExchangeBuilder::start().await.build();
    let now = fx.clock.now();
    let url = fx.issuer.url();
    let inside = fx.jwt_for(
        GitHubClaims::new()
            .claim("nbf", json!(now + 20))
            .build(&url, "pypi", now),
    );
    fx.mint(&inside).await.expect("nbf inside the 30 s leeway");
    for (name, claims) in [
        ("nbf", GitHubClaims::new().claim("nbf", json!(now + 120))),
        ("iat", GitHubClaims::new().claim("iat", json!(now + 120))),
    ] {
        let jwt = fx.jwt_for(claims.build(&url, "pypi", now));
        let error = fx.mint(&jwt).await.expect_err(name);
        assert_eq!(error.code().to_string(), "invalid-token", "{name}");
        assert_eq!(error.description(), INVALID_TOKEN, "{name}");
    }
}

#[tokio::test]
async fn signature_and_claim_attacks_are_invalid_token() {
    let fx = ExchangeBuilder::start().await.build();
    let url = fx.issuer.url();
    let now = fx.clock.now();
    let default = || GitHubClaims::new().build(&url, "pypi", now);
    let attack = |options: SignOptions| fx.issuer.sign_with(options, &default());
    let cases: Vec<(&str, String)> = vec![
        ("alg none", attack(SignOptions::unsigned())),
        (
            "HS256 signed with the RSA public key",
            attack(SignOptions::hmac(fx.issuer.public_key_pem())),
        ),
        (
            "kid not in JWKS",
            attack(SignOptions::default().with_kid("no-such-kid")),
        ),
        ("missing kid", attack(SignOptions::default().without_kid())),
        (
            "alg header swapped to PS256",
            attack(SignOptions::default().with_alg("PS256")),
        ),
        (
            "crit header",
            attack(SignOptions::default().with_header("crit", json!(["exp"]))),
        ),
        (
            "jku header",
            attack(
                SignOptions::default().with_header("jku", json!("https://attacker.example/jwks")),
            ),
        ),
        (
            "expired",
            fx.jwt_for(GitHubClaims::new().claim("exp", json!(now - 60)).build(
                &url,
                "pypi",
                now - 400,
            )),
        ),
        (
            "wrong aud",
            fx.jwt_for(GitHubClaims::new().build(&url, "notpypi", now)),
        ),
        (
            "aud as a list",
            fx.jwt_for(
                GitHubClaims::new()
                    .claim("aud", json!(["pypi"]))
                    .build(&url, "pypi", now),
            ),
        ),
        (
            "missing exp",
            fx.jwt_for(GitHubClaims::new().without("exp").build(&url, "pypi", now)),
        ),
        ("tampered payload", {
            let jwt = fx.github_jwt(GitHubClaims::new());
            let other = fx.github_jwt(GitHubClaims::new().repository("evil/repo"));
            let mut parts: Vec<&str> = jwt.split('.').collect();
            parts[1] = other.split('.').nth(1).expect("a payload");
            parts.join(".")
        }),
    ];
    for (name, jwt) in cases {
        let error = fx.mint(&jwt).await.expect_err(name);
        assert_eq!(error.code().to_string(), "invalid-token", "{name}");
        assert_eq!(error.description(), INVALID_TOKEN, "{name}");
    }
}

#[tokio::test]
async fn unreachable_issuer_keys_are_unavailable() {
    let fx = ExchangeBuilder::start().await.build();
    fx.issuer.set_failing(true);
    let jwt = fx.github_jwt(GitHubClaims::new());
    assert_error(
        fx.mint(&jwt).await,
        "unavailable",
        "the token issuer's signing keys could not be fetched; retry later",
    );
}
