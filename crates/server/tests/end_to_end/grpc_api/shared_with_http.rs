//! HTTP and gRPC are two adapters in front of one exchange in the running application:
//! the same failure answers the same wire code and description on both, a JWT exchanged
//! on one is burnt on the other, and a token revoked over HTTP is revoked for gRPC. Each
//! adapter's own mapping is tested in its crate (`crates/http/tests/api`,
//! `crates/grpc/tests/api`); what needs both at once is the application's wiring.

use serde_json::json;
use tonic::Code;
use trustmint_testkit::claims::GitHubClaims;

use super::support::{PROJECT, now, spawn_app};
use super::{Grpc, assert_error};

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

const REVOKED: &str = "token is expired or has been revoked";

#[tokio::test]
async fn http_revoke_token_shares_the_use_case() {
    let app = spawn_app().await;
    let grpc = Grpc::connect(&app);
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    let (status, _) = app
        .post(
            "/_/oidc/revoke-token",
            json!({ "token": minted.token }).to_string(),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(grpc.verify(&minted.token, PROJECT).await.reason, REVOKED);
    assert!(
        !grpc.revoke(&minted.token).await,
        "already revoked over HTTP"
    );
}
