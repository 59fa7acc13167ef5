//! End-to-end over real HTTP: PyPI's mint-token behaviours (reference §7.1) and the
//! attack cases of the core-exchange issue. Every failure is a specific 4xx with PyPI's
//! body and code; nothing answers 500.

use crate::support;

use serde_json::{Value, json};
use support::{PROJECT, assert_token_error, now, spawn_app, spawn_app_with};
use trustmint_testkit::SignOptions;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::{Caveat, parse_token};

const INVALID_TOKEN: &str = "malformed or invalid token";

#[tokio::test]
async fn audience_answers_the_configured_audience() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/_/oidc/audience").await,
        (200, r#"{"audience":"pypi"}"#.to_owned())
    );
    let testpypi =
        spawn_app_with(|settings, _| settings.exchange.audience = "testpypi".into()).await;
    assert_eq!(
        testpypi.get("/_/oidc/audience").await,
        (200, r#"{"audience":"testpypi"}"#.to_owned())
    );
}

#[tokio::test]
async fn audience_is_403_when_trusted_publishing_is_disabled() {
    let app = spawn_app_with(|settings, _| settings.exchange.enabled = false).await;
    assert_eq!(
        app.get("/_/oidc/audience").await,
        (
            403,
            r#"{"message":"Trusted publishing functionality not enabled"}"#.to_owned()
        )
    );
}

#[tokio::test]
async fn matching_publisher_gets_a_scoped_pypi_token() {
    let app = spawn_app().await;
    let before = now();
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(
        body.as_object().unwrap().len(),
        3,
        "exactly success, token, expires: {body}"
    );
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("pypi-"), "{token}");
    let expires = body["expires"].as_i64().unwrap();
    assert!(
        (before + 900..=now() + 900).contains(&expires),
        "expires {expires}"
    );

    // The caveats are exactly Expiration, ProjectName, OIDCPublisher (DESIGN §3).
    let parsed = parse_token(token, "pypi-").unwrap();
    let caveats: Vec<Caveat> = parsed
        .macaroon
        .caveats
        .iter()
        .map(|raw| Caveat::parse(&raw.identifier).unwrap())
        .collect();
    let publisher_id = app.app.list_publishers(PROJECT).await.unwrap()[0]
        .id
        .to_string();
    assert_eq!(
        caveats,
        vec![
            Caveat::Expiration {
                expires_at: expires,
                not_before: expires - 900
            },
            Caveat::ProjectName(vec![PROJECT.to_owned()]),
            Caveat::OidcPublisher {
                publisher_id: publisher_id.clone()
            },
        ]
    );
    assert_eq!(parsed.macaroon.location, b"https://upload.example.org");
}

#[tokio::test]
async fn legacy_github_alias_mints_the_same_way() {
    let app = spawn_app().await;
    let jwt = app.github_jwt(GitHubClaims::new());
    let (status, body) = app
        .post(
            "/_/oidc/github/mint-token",
            json!({ "token": jwt }).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].as_str().unwrap().starts_with("pypi-"));
}

#[tokio::test]
async fn invalid_payloads_are_422_invalid_payload() {
    let app = spawn_app().await;
    // reference §7.1 item 3
    for body in [
        "",
        "[]",
        "\"a string\"",
        "12345",
        "3.14",
        "null",
        "{}",
        r#"{"token":null}"#,
        r#"{"wrongkey":""}"#,
        r#"{"token":3.14}"#,
        r#"{"token":0}"#,
        r#"{"token":[""]}"#,
        r#"{"token":[]}"#,
        r#"{"token":{}}"#,
        "{not json",
    ] {
        let (status, response) = app.post("/_/oidc/mint-token", body).await;
        assert_eq!(status, 422, "{body} → {response}");
        assert_eq!(response["message"], "Token request failed");
        assert_eq!(response["errors"][0]["code"], "invalid-payload", "{body}");
    }
}

#[tokio::test]
async fn malformed_jwts_are_malformed_jwt() {
    let app = spawn_app().await;
    // §7.1 item 4 and the malformed base64/JSON attack cases.
    for token in [
        "not-a-jwt",
        "a.b.c",
        "!!!.###.$$$",
        "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", // payload "not json"
        "eyJhbGciOiJSUzI1NiJ9..",
        "",
    ] {
        assert_token_error(
            &app.mint(token).await,
            422,
            "invalid-payload",
            "malformed JWT",
        );
    }
    // §7.1 item 5: a well-formed HS256 JWT without `iss`.
    let no_iss = app.issuer.sign_with(
        SignOptions::hmac(b"0123456789abcdef0123456789abcdef".to_vec()),
        &json!({ "aud": "pypi", "exp": now() + 60, "iat": now() }),
    );
    assert_token_error(
        &app.mint(&no_iss).await,
        422,
        "invalid-payload",
        "malformed JWT",
    );
}

#[tokio::test]
async fn unknown_issuer_is_invalid_payload() {
    let app = spawn_app().await;
    let claims = GitHubClaims::new().build("nonexistent-issuer", "pypi", now());
    assert_token_error(
        &app.mint(&app.issuer.sign(&claims)).await,
        422,
        "invalid-payload",
        "unknown trusted publishing issuer",
    );
    // An iss that is not a string (PyPI would 500 on a list).
    let claims = GitHubClaims::new()
        .claim(
            "iss",
            json!(["https://token.actions.githubusercontent.com"]),
        )
        .build("x", "pypi", now());
    assert_token_error(
        &app.mint(&app.issuer.sign(&claims)).await,
        422,
        "invalid-payload",
        "malformed JWT",
    );
}

#[tokio::test]
async fn disabled_issuer_and_global_switch_are_not_enabled() {
    let app = spawn_app_with(|settings, issuer| {
        settings.issuers = vec![
            serde_json::from_value(
                json!({ "url": issuer.url(), "kind": "github", "enabled": false }),
            )
            .unwrap(),
        ];
    })
    .await;
    assert_token_error(
        &app.mint(&app.github_jwt(GitHubClaims::new())).await,
        422,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );

    let app = spawn_app_with(|settings, _| settings.exchange.enabled = false).await;
    assert_token_error(
        &app.mint(&app.github_jwt(GitHubClaims::new())).await,
        422,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn no_matching_publisher_is_invalid_publisher() {
    let app = spawn_app().await;
    let jwt = app.github_jwt(GitHubClaims::new().repository("someone/else"));
    assert_token_error(
        &app.mint(&jwt).await,
        422,
        "invalid-publisher",
        &format!(
            "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'someone/else' with issuer '{}')",
            app.issuer.url()
        ),
    );
}

#[tokio::test]
async fn invalid_publisher_says_which_field_differed() {
    let app = spawn_app().await;
    let jwt = app.github_jwt(GitHubClaims::new().workflow("ci.yml"));
    assert_token_error(
        &app.mint(&jwt).await,
        422,
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publisher with matching claims was not found; the publisher for repository 'octo-org/sampleproject' expects workflow_filename 'release.yml' but the token's job_workflow_ref names 'ci.yml')",
    );
}

#[tokio::test]
async fn a_jwt_is_exchanged_once() {
    let app = spawn_app().await;
    let jwt = app.github_jwt(GitHubClaims::new());
    assert_eq!(app.mint(&jwt).await.0, 200);
    assert_token_error(
        &app.mint(&jwt).await,
        422,
        "invalid-reuse-token",
        "invalid token: already used",
    );
}

#[tokio::test]
async fn concurrent_replays_mint_exactly_once() {
    // §7.1 item 22: the atomic claim runs before minting; racing requests lose.
    let app = spawn_app().await;
    let jwt = app.github_jwt(GitHubClaims::new());
    let results = futures::future::join_all((0..8).map(|_| app.mint(&jwt))).await;
    let successes = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(successes, 1, "{results:?}");
    for result in results.iter().filter(|(status, _)| *status != 200) {
        assert_token_error(
            result,
            422,
            "invalid-reuse-token",
            "invalid token: already used",
        );
    }
}

#[tokio::test]
async fn a_jwt_whose_exchange_failed_is_not_burnt() {
    // PyPI burns it; we do not: register the missing publisher and retry the same JWT.
    let app = spawn_app_with(|settings, _| settings.publishers.clear()).await;
    let jwt = app.github_jwt(GitHubClaims::new());
    assert_eq!(
        app.mint(&jwt).await.1["errors"][0]["code"],
        "invalid-publisher"
    );
    let spec = trustmint_publishers::parse_declaration(&support::github_publisher(
        &app.issuer.url(),
        &[PROJECT],
        "",
    ))
    .unwrap()
    .spec;
    app.app
        .create_publisher(trustmint_exchange::NewPublisher {
            spec,
            projects: vec![PROJECT.to_owned()],
            pending: false,
            policy: Default::default(),
        })
        .await
        .unwrap();
    let (status, body) = app.mint(&jwt).await;
    assert_eq!(status, 200, "{body}");
}

/// Signs `claims` (default GitHub claims unless given) with options.
fn attack(app: &support::TestApp, options: SignOptions, claims: Option<Value>) -> String {
    let claims =
        claims.unwrap_or_else(|| GitHubClaims::new().build(&app.issuer.url(), "pypi", now()));
    app.issuer.sign_with(options, &claims)
}

#[tokio::test]
async fn signature_and_claim_attacks_are_invalid_token() {
    let app = spawn_app().await;
    let url = app.issuer.url();
    let t = now();
    let cases: Vec<(&str, String)> = vec![
        ("alg none", attack(&app, SignOptions::unsigned(), None)),
        (
            "HS256 signed with the RSA public key",
            attack(&app, SignOptions::hmac(app.issuer.public_key_pem()), None),
        ),
        (
            "kid not in JWKS",
            attack(&app, SignOptions::default().with_kid("no-such-kid"), None),
        ),
        (
            "missing kid",
            attack(&app, SignOptions::default().without_kid(), None),
        ),
        (
            "alg header swapped to PS256",
            attack(&app, SignOptions::default().with_alg("PS256"), None),
        ),
        (
            "crit header",
            attack(
                &app,
                SignOptions::default().with_header("crit", json!(["exp"])),
                None,
            ),
        ),
        (
            "jku header",
            attack(
                &app,
                SignOptions::default().with_header("jku", json!("https://attacker.example/jwks")),
                None,
            ),
        ),
        (
            "expired",
            app.issuer
                .sign(&GitHubClaims::new().claim("exp", json!(t - 60)).build(
                    &url,
                    "pypi",
                    t - 400,
                )),
        ),
        (
            "nbf in the future",
            app.issuer.sign(
                &GitHubClaims::new()
                    .claim("nbf", json!(t + 120))
                    .build(&url, "pypi", t),
            ),
        ),
        (
            "iat in the future",
            app.issuer.sign(
                &GitHubClaims::new()
                    .claim("iat", json!(t + 120))
                    .build(&url, "pypi", t),
            ),
        ),
        (
            "wrong aud",
            app.issuer
                .sign(&GitHubClaims::new().build(&url, "notpypi", t)),
        ),
        (
            "aud as a list",
            app.issuer.sign(
                &GitHubClaims::new()
                    .claim("aud", json!(["pypi"]))
                    .build(&url, "pypi", t),
            ),
        ),
        (
            "missing exp",
            app.issuer
                .sign(&GitHubClaims::new().without("exp").build(&url, "pypi", t)),
        ),
        ("tampered payload", {
            let jwt = app.github_jwt(GitHubClaims::new());
            let mut parts: Vec<&str> = jwt.split('.').collect();
            let other = app.github_jwt(GitHubClaims::new().repository("evil/repo"));
            let other_payload = other.split('.').nth(1).unwrap().to_owned();
            parts[1] = &other_payload;
            parts.join(".")
        }),
    ];
    for (name, jwt) in cases {
        let response = app.mint(&jwt).await;
        assert_eq!(response.0, 422, "{name}: {}", response.1);
        assert_eq!(
            response.1["errors"][0]["code"], "invalid-token",
            "{name}: {}",
            response.1
        );
        assert_eq!(
            response.1["errors"][0]["description"], INVALID_TOKEN,
            "{name}"
        );
    }
    // Inside the 30 s leeway is accepted.
    let jwt = app.issuer.sign(
        &GitHubClaims::new()
            .claim("nbf", json!(t + 20))
            .build(&url, "pypi", t),
    );
    assert_eq!(app.mint(&jwt).await.0, 200);
}

#[tokio::test]
async fn a_one_mebibyte_body_is_a_json_413() {
    let app = spawn_app().await;
    let big = format!(r#"{{"token":"{}"}}"#, "a".repeat(1024 * 1024));
    assert_token_error(
        &app.post("/_/oidc/mint-token", big).await,
        413,
        "invalid-payload",
        "request body is larger than the limit of 65536 bytes",
    );
    // The connection stays usable: the next request on the same client works.
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let app = spawn_app().await;
    let (status, body) = app.get("/_/oidc/mint-token").await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = app.get("/nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    assert_eq!(
        app.get("/healthz").await,
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert_eq!(
        app.get("/readyz").await,
        (200, r#"{"status":"ready"}"#.to_owned())
    );
}

#[tokio::test]
async fn revoked_tokens_stop_verifying_and_revoke_is_idempotent() {
    let app = spawn_app().await;
    let (_, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let verify = || {
        app.app.verify(trustmint_exchange::VerifyRequest {
            token: token.clone().into(),
            project: PROJECT.to_owned(),
        })
    };
    assert!(matches!(
        verify().await.unwrap(),
        trustmint_exchange::Verification::Allowed(_)
    ));
    let revoke = json!({ "token": token }).to_string();
    assert_eq!(
        app.post("/_/oidc/revoke-token", revoke.clone()).await.0,
        204
    );
    assert_eq!(
        verify().await.unwrap(),
        trustmint_exchange::Verification::Denied {
            reason: "token is expired or has been revoked".to_owned()
        }
    );
    assert_eq!(app.post("/_/oidc/revoke-token", revoke).await.0, 204);
    assert_eq!(
        app.post("/_/oidc/revoke-token", r#"{"token":"pypi-garbage"}"#)
            .await
            .0,
        204
    );
    assert_eq!(app.post("/_/oidc/revoke-token", "[]").await.0, 422);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_the_configured_refresh_cooldown_has_passed() {
    let app = spawn_app_with(|settings, _| settings.exchange.jwks_refresh_cooldown_secs = 1).await;
    let (status, _) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200);
    assert_eq!(app.issuer.jwks_fetch_count(), 1);

    app.issuer.rotate_key();
    // Within the cooldown the unknown kid is refused without a fetch…
    assert_token_error(
        &app.mint(&app.github_jwt(GitHubClaims::new())).await,
        422,
        "invalid-token",
        INVALID_TOKEN,
    );
    assert_eq!(app.issuer.jwks_fetch_count(), 1);
    // …and once it has passed, the next token with that kid fetches the new key set.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.issuer.jwks_fetch_count(), 2);
}

#[tokio::test]
async fn burn_token_revokes_and_answers_202_for_any_token() {
    let app = spawn_app().await;
    let (_, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let burn = json!({ "token": token }).to_string();
    assert_eq!(app.post("/_/oidc/burn-token", burn.clone()).await.0, 202);
    assert_eq!(
        app.app
            .verify(trustmint_exchange::VerifyRequest {
                token: token.clone().into(),
                project: PROJECT.to_owned(),
            })
            .await
            .unwrap(),
        trustmint_exchange::Verification::Denied {
            reason: "token is expired or has been revoked".to_owned()
        }
    );
    // Already burned, unknown, and revoked-then-burned tokens: 202 all the same, so a
    // caller cannot probe which tokens exist.
    assert_eq!(app.post("/_/oidc/burn-token", burn).await.0, 202);
    assert_eq!(
        app.post("/_/oidc/burn-token", r#"{"token":"pypi-garbage"}"#)
            .await
            .0,
        202
    );
    let (_, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    let second = json!({ "token": body["token"].as_str().unwrap() }).to_string();
    assert_eq!(
        app.post("/_/oidc/revoke-token", second.clone()).await.0,
        204
    );
    assert_eq!(app.post("/_/oidc/burn-token", second).await.0, 202);
}

#[tokio::test]
async fn burn_token_refuses_malformed_bodies_with_invalid_payload() {
    let app = spawn_app().await;
    for body in ["", "[]", "{}", r#"{"token":null}"#, r#"{"token":3}"#] {
        let response = app.post("/_/oidc/burn-token", body).await;
        assert_eq!(response.0, 422, "{body}");
        assert_eq!(response.1["errors"][0]["code"], "invalid-payload", "{body}");
    }
}
