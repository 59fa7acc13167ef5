//! TokenService.MintToken: the same use case and wire codes as HTTP mint-token, with
//! the code in the Status message, the `trustmint-error-code` metadata and ErrorInfo.

use std::collections::HashMap;

use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt as _;
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::parse_token;

use super::support::{PROJECT, now, spawn_app, spawn_app_with};
use super::{Grpc, OWNER, OWNER_ID, REPOSITORY, SHA, WORKFLOW, assert_error};

#[tokio::test]
async fn mint_token_returns_token_projects_publisher_and_claims() {
    let app = spawn_app().await;
    let grpc = Grpc::connect(&app);
    let before = now();
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;

    assert!(minted.token.starts_with("pypi-"), "{:.12}…", minted.token);
    assert!(
        (before + 900..=now() + 900).contains(&minted.expires_at),
        "expires_at {}",
        minted.expires_at
    );
    assert_eq!(minted.projects, vec![PROJECT.to_owned()]);
    let parsed = parse_token(&minted.token, "pypi-").expect("a well-formed token");
    assert_eq!(minted.token_id, parsed.identifier.token_id);

    let declared_id = app.app.list_publishers(PROJECT).await.expect("list")[0]
        .id
        .to_string();
    let expected_publisher = pb::Publisher {
        id: declared_id,
        projects: vec![PROJECT.to_owned()],
        pending: false,
        expires_at: 0,
        created_at: 0,
        origin: "config".to_owned(),
        ecosystem: "pypi".to_owned(),
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: OWNER.to_owned(),
            repository_owner_id: OWNER_ID.to_owned(),
            repository_name: REPOSITORY.to_owned(),
            workflow_filename: WORKFLOW.to_owned(),
            environment: String::new(),
            issuer: app.issuer.url(),
            workflow_repository: String::new(),
        })),
        policy: None,
    };
    assert_eq!(minted.publisher, Some(expected_publisher.clone()));
    assert_eq!(minted.publishers, vec![expected_publisher]);

    let repository = format!("{OWNER}/{REPOSITORY}");
    let workflow_ref = format!("{repository}/.github/workflows/{WORKFLOW}@refs/heads/main");
    let expected_claims: HashMap<String, String> = [
        ("issuer", app.issuer.url()),
        ("subject", format!("repo:{repository}:ref:refs/heads/main")),
        ("repository", repository.clone()),
        ("repository_owner", OWNER.to_owned()),
        ("repository_owner_id", OWNER_ID.to_owned()),
        ("workflow", WORKFLOW.to_owned()),
        ("job_workflow_ref", workflow_ref.clone()),
        ("workflow_ref", workflow_ref),
        ("ref", "refs/heads/main".to_owned()),
        ("sha", SHA.to_owned()),
        ("event_name", "push".to_owned()),
        ("run_id", "9876543210".to_owned()),
        ("run_attempt", "1".to_owned()),
        (
            "publisher_url",
            format!("{}/{repository}/commit/{SHA}", app.issuer.url()),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    assert_eq!(minted.claims, expected_claims);
}

/// One failing exchange, asserted through gRPC and (for parity) through HTTP.
struct Case {
    name: &'static str,
    jwt: String,
    code: Code,
    wire_code: &'static str,
    description: String,
}

#[tokio::test]
async fn mint_errors_carry_pypis_codes_exactly_as_http_does() {
    let app = spawn_app().await;
    let grpc = Grpc::connect(&app);
    let t = now();
    let url = app.issuer.url();
    let cases = vec![
        Case {
            name: "not a JWT",
            jwt: "not-a-jwt".to_owned(),
            code: Code::InvalidArgument,
            wire_code: "invalid-payload",
            description: "malformed JWT".to_owned(),
        },
        Case {
            name: "empty oidc_token (HTTP: {\"token\": \"\"})",
            jwt: String::new(),
            code: Code::InvalidArgument,
            wire_code: "invalid-payload",
            description: "malformed JWT".to_owned(),
        },
        Case {
            name: "unknown issuer",
            jwt: app
                .issuer
                .sign(&GitHubClaims::new().build("https://issuer.invalid", "pypi", t)),
            code: Code::InvalidArgument,
            wire_code: "invalid-payload",
            description: "unknown trusted publishing issuer".to_owned(),
        },
        Case {
            name: "wrong audience",
            jwt: app
                .issuer
                .sign(&GitHubClaims::new().build(&url, "testpypi", t)),
            code: Code::FailedPrecondition,
            wire_code: "invalid-token",
            description: "malformed or invalid token".to_owned(),
        },
        Case {
            name: "expired JWT",
            jwt: app
                .issuer
                .sign(&GitHubClaims::new().claim("exp", json!(t - 60)).build(
                    &url,
                    "pypi",
                    t - 400,
                )),
            code: Code::FailedPrecondition,
            wire_code: "invalid-token",
            description: "malformed or invalid token".to_owned(),
        },
        Case {
            name: "no publisher for the repository",
            jwt: app.github_jwt(GitHubClaims::new().repository("someone/else")),
            code: Code::FailedPrecondition,
            wire_code: "invalid-publisher",
            description: format!(
                "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'someone/else' with issuer '{url}')"
            ),
        },
    ];
    for case in cases {
        let status = grpc.mint(&case.jwt).await.expect_err(case.name);
        assert_error(&status, case.code, case.wire_code, &case.description);

        let (http_status, body) = app.mint(&case.jwt).await;
        assert_eq!(http_status, 422, "{}: {body}", case.name);
        assert_eq!(body["errors"][0]["code"], case.wire_code, "{}", case.name);
        assert_eq!(
            body["errors"][0]["description"], case.description,
            "{}",
            case.name
        );
    }
}

#[tokio::test]
async fn a_jwt_is_exchanged_once_across_http_and_grpc() {
    let app = spawn_app().await;
    let grpc = Grpc::connect(&app);
    let jwt = app.github_jwt(GitHubClaims::new());
    grpc.mint_ok(&jwt).await;
    let status = grpc.mint(&jwt).await.expect_err("replayed over gRPC");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "invalid-reuse-token",
        "invalid token: already used",
    );
    // The replay record is shared with HTTP: the same JWT is burnt there too.
    let (http_status, body) = app.mint(&jwt).await;
    assert_eq!(http_status, 422, "{body}");
    assert_eq!(body["errors"][0]["code"], "invalid-reuse-token");
}

#[tokio::test]
async fn disabled_issuer_is_not_enabled_permission_denied() {
    let app = spawn_app_with(|settings, issuer| {
        settings.issuers = vec![
            serde_json::from_value(
                json!({ "url": issuer.url(), "kind": "github", "enabled": false }),
            )
            .expect("issuer settings"),
        ];
    })
    .await;
    let status = Grpc::connect(&app)
        .mint(&app.github_jwt(GitHubClaims::new()))
        .await
        .expect_err("disabled issuer");
    assert_error(
        &status,
        Code::PermissionDenied,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn client_ip_is_rate_limited_with_retry_info() {
    let app = spawn_app_with(|settings, _| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.burst = 1;
        settings.rate_limit.requests_per_second = 0.01;
    })
    .await;
    let grpc = Grpc::connect(&app);
    let mint_from = |ip: &str, jwt: String| {
        let mut tokens = grpc.tokens.clone();
        let client_ip = ip.to_owned();
        async move {
            tokens
                .mint_token(pb::MintTokenRequest {
                    oidc_token: jwt,
                    client_ip,
                })
                .await
        }
    };
    mint_from("203.0.113.7", app.github_jwt(GitHubClaims::new()))
        .await
        .expect("the burst allows one");
    let status = mint_from("203.0.113.7", app.github_jwt(GitHubClaims::new()))
        .await
        .expect_err("over the limit");
    assert_error(
        &status,
        Code::ResourceExhausted,
        "rate-limited",
        "too many token requests from this client; retry in 100 s",
    );
    let retry = status.get_error_details();
    assert_eq!(
        retry.retry_info().and_then(|info| info.retry_delay),
        Some(std::time::Duration::from_secs(100))
    );
    // Another client is not affected; an unparsable client_ip is INVALID_ARGUMENT.
    mint_from("203.0.113.8", app.github_jwt(GitHubClaims::new()))
        .await
        .expect("another client");
    let status = mint_from("not-an-ip", app.github_jwt(GitHubClaims::new()))
        .await
        .expect_err("bad client_ip");
    super::assert_invalid_argument(&status, "client_ip", "'not-an-ip' is not an IP address");
}

#[tokio::test]
async fn unreachable_issuer_keys_are_unavailable() {
    let app = spawn_app().await;
    app.issuer.set_failing(true);
    let status = Grpc::connect(&app)
        .mint(&app.github_jwt(GitHubClaims::new()))
        .await
        .expect_err("JWKS down");
    assert_error(
        &status,
        Code::Unavailable,
        "unavailable",
        "the token issuer's signing keys could not be fetched; retry later",
    );
}
