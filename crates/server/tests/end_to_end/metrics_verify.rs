//! `GET /metrics` end to end, the index's side: VerifyToken allowed/denied/invalid,
//! RevokeToken and MintToken over gRPC move exactly their series (verifications,
//! remaining lifetime, gRPC requests by method and code, store calls); store failures
//! are counted per operation.

use crate::observability;
use crate::support;

use observability::scrape::{EXCHANGES, exchange_labels, grpc, scrape};
use support::{PROJECT, spawn_app, spawn_app_with};
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;

#[tokio::test]
async fn verify_revoke_and_grpc_calls_move_their_series() {
    let app = spawn_app().await;
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let mut client = grpc(&app).await;
    let verify = |project: &str| pb::VerifyTokenRequest {
        ecosystem: String::new(),
        token: token.clone(),
        project: project.to_owned(),
    };

    let before = scrape(&app).await;
    let allowed = client.verify_token(verify(PROJECT)).await.expect("verify");
    assert!(allowed.get_ref().allowed, "{:?}", allowed.get_ref());
    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| after.delta(&before, name, labels);
    assert_eq!(
        moved("trustmint_verifications_total", &[("outcome", "allowed")]),
        1.0
    );
    assert_eq!(moved("trustmint_verify_duration_seconds_count", &[]), 1.0);
    assert_eq!(
        moved("trustmint_token_remaining_lifetime_seconds_count", &[]),
        1.0
    );
    let remaining = moved("trustmint_token_remaining_lifetime_seconds_sum", &[]);
    assert!(
        (880.0..=900.0).contains(&remaining),
        "remaining {remaining}"
    );
    assert_eq!(
        moved(
            "trustmint_grpc_requests_total",
            &[("method", "VerifyToken"), ("code", "OK")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "trustmint_grpc_request_duration_seconds_count",
            &[("method", "VerifyToken")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "trustmint_store_duration_seconds_count",
            &[("op", "token_get")]
        ),
        1.0
    );

    // A denial: counted, but no remaining lifetime is observed.
    let before = after;
    let denied = client
        .verify_token(verify("another-project"))
        .await
        .expect("verify");
    assert!(!denied.get_ref().allowed);
    let after = scrape(&app).await;
    assert_eq!(
        after.delta(
            &before,
            "trustmint_verifications_total",
            &[("outcome", "denied")]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_token_remaining_lifetime_seconds_count",
            &[]
        ),
        0.0
    );

    // A malformed request is a gRPC status, counted by its code.
    let before = after;
    let status = client.verify_token(verify("")).await.expect_err("invalid");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let bad_mint = client
        .mint_token(pb::MintTokenRequest {
            oidc_token: "not-a-jwt".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let after = scrape(&app).await;
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "VerifyToken"), ("code", "INVALID_ARGUMENT")]
        ),
        1.0
    );
    let mint_code = grpc_code_label(bad_mint.code());
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "MintToken"), ("code", mint_code)]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            EXCHANGES,
            &exchange_labels("unknown", "failure", "invalid-payload")
        ),
        1.0,
        "gRPC mint refusals count as exchanges too"
    );

    // Revocation.
    let before = after;
    let revoked = client
        .revoke_token(pb::RevokeTokenRequest {
            token: token.clone(),
            client_ip: String::new(),
        })
        .await
        .expect("revoke");
    assert!(revoked.get_ref().revoked);
    let after = scrape(&app).await;
    assert_eq!(
        after.delta(&before, "trustmint_tokens_revoked_total", &[]),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "RevokeToken"), ("code", "OK")]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_store_duration_seconds_count",
            &[("op", "token_delete")]
        ),
        1.0
    );
}

/// The label `trustmint_grpc_requests_total` uses for a status code.
fn grpc_code_label(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
        tonic::Code::Unavailable => "UNAVAILABLE",
        other => panic!("unexpected code {other:?}"),
    }
}

#[tokio::test]
async fn store_errors_are_counted_per_operation() {
    // A Redis backend whose server is not there: every store call fails fast.
    let closed_port = support::redis_setup::free_port();
    let app = spawn_app_with(|settings, _| {
        settings.store.backend = trustmint_store::Backend::Redis;
        settings.store.redis_url = format!("redis://127.0.0.1:{closed_port}");
        settings.store.timeout_ms = 200;
    })
    .await;
    let before = scrape(&app).await;

    let response = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(response.0, 503, "{}", response.1);
    let (status, _) = app.get("/readyz").await;
    assert_eq!(status, 503);
    // A well-formed token from elsewhere: verification needs its record, which the
    // store cannot read.
    let foreign = spawn_app().await;
    let (_, minted) = foreign.mint(&foreign.github_jwt(GitHubClaims::new())).await;
    let unavailable = grpc(&app)
        .await
        .verify_token(pb::VerifyTokenRequest {
            ecosystem: String::new(),
            token: minted["token"].as_str().expect("token").to_owned(),
            project: PROJECT.to_owned(),
        })
        .await
        .expect_err("store down");
    assert_eq!(unavailable.code(), tonic::Code::Unavailable);

    let after = scrape(&app).await;
    // The gRPC health service pings the store every 5 s besides `/readyz`.
    assert!(
        after.delta(&before, "trustmint_store_errors_total", &[("op", "ping")]) >= 1.0,
        "{}",
        after.describe("trustmint_store_errors_total")
    );
    for op in ["publisher_candidates", "token_get"] {
        assert_eq!(
            after.delta(&before, "trustmint_store_errors_total", &[("op", op)]),
            1.0,
            "{op}"
        );
        assert_eq!(
            after.delta(
                &before,
                "trustmint_store_duration_seconds_count",
                &[("op", op)]
            ),
            1.0,
            "{op}"
        );
    }
    assert_eq!(
        after.delta(
            &before,
            EXCHANGES,
            &exchange_labels("github", "failure", "unavailable")
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_verifications_total",
            &[("outcome", "error")]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "VerifyToken"), ("code", "UNAVAILABLE")]
        ),
        1.0
    );
}
