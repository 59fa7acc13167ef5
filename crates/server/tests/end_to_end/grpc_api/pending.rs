//! Pending publishers: registered for a project the index has not created yet, they
//! mint for it (and say so), the index confirms the one whose upload created the
//! project, and every other pending publisher for that name is stale from then on.

use tonic::Code;
use trustmint_grpc::pb;
use trustmint_publishers::PENDING_PUBLISHER_TTL_SECS;
use trustmint_testkit::claims::GitHubClaims;

use super::support::redis_setup::{replica_settings, spawn_replicas, use_local_redis};
use super::support::{TestApp, now, spawn_app_with};
use super::{Grpc, assert_error, github_publisher};

const NEW_PROJECT: &str = "brand-new-project";

/// An app without declared publishers, so only what the test registers matches.
async fn app_without_publishers() -> TestApp {
    spawn_app_with(|settings, _| settings.publishers.clear()).await
}

fn pending_flag(publisher: &Option<pb::Publisher>) -> Option<bool> {
    publisher.as_ref().map(|p| p.pending)
}

#[tokio::test]
async fn a_pending_publisher_mints_for_its_new_project_until_confirmed() {
    let app = app_without_publishers().await;
    let grpc = Grpc::connect(&app);
    let before = now();
    let pending = grpc
        .create(github_publisher(
            &app,
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("created");
    assert!(pending.pending);
    assert_eq!(pending.projects, vec![NEW_PROJECT.to_owned()]);
    assert!((before..=now()).contains(&pending.created_at));
    assert_eq!(
        pending.expires_at,
        pending.created_at + PENDING_PUBLISHER_TTL_SECS
    );

    // The exchange matches it and says so.
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(minted.projects, vec![NEW_PROJECT.to_owned()]);
    assert_eq!(minted.publisher.as_ref().map(|p| &p.id), Some(&pending.id));
    assert_eq!(pending_flag(&minted.publisher), Some(true));
    let verified = grpc.verify(&minted.token, NEW_PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(pending_flag(&verified.publisher), Some(true));

    // The index created the project on that upload and confirms the publisher.
    let confirmed = grpc.confirm(&pending.id).await.expect("confirmed");
    assert!(!confirmed.already_confirmed);
    let publisher = confirmed.publisher.expect("publisher");
    assert_eq!(publisher.id, pending.id);
    assert!(!publisher.pending);
    assert_eq!(
        publisher.expires_at, 0,
        "a confirmed publisher never expires"
    );
    let again = grpc.confirm(&pending.id).await.expect("again");
    assert!(again.already_confirmed);
    assert_eq!(again.publisher, Some(publisher.clone()));

    // The live token keeps working and now reports a normal publisher.
    let verified = grpc.verify(&minted.token, NEW_PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(pending_flag(&verified.publisher), Some(false));
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(pending_flag(&minted.publisher), Some(false));
}

#[tokio::test]
async fn concurrent_confirmations_have_exactly_one_winner() {
    let app = app_without_publishers().await;
    let grpc = Grpc::connect(&app);
    let pending = grpc
        .create(github_publisher(
            &app,
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("created");
    let calls = (0..8).map(|_| grpc.confirm(&pending.id));
    let results = futures::future::join_all(calls).await;
    let winners = results
        .iter()
        .map(|result| result.as_ref().expect("ConfirmPublisher answers OK"))
        .filter(|response| !response.already_confirmed)
        .count();
    assert_eq!(winners, 1, "{results:?}");
}

#[tokio::test]
async fn a_pending_publisher_whose_project_exists_is_invalid_pending_publisher() {
    let app = app_without_publishers().await;
    let grpc = Grpc::connect(&app);
    // The project exists: the index registered another repository's publisher for it.
    grpc.create(github_publisher(&app, "other-repo", &[NEW_PROJECT], false))
        .await
        .expect("normal publisher");
    grpc.create(github_publisher(
        &app,
        "sampleproject",
        &[NEW_PROJECT],
        true,
    ))
    .await
    .expect("pending publisher");

    let jwt = app.github_jwt(GitHubClaims::new());
    let status = grpc.mint(&jwt).await.expect_err("stale pending publisher");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    // HTTP answers the same code (the JWT was not burnt by the failed exchange).
    let (http_status, body) = app.mint(&jwt).await;
    assert_eq!(http_status, 422, "{body}");
    assert_eq!(body["errors"][0]["code"], "invalid-pending-publisher");
    assert_eq!(
        body["errors"][0]["description"],
        "valid token, but project already exists"
    );
}

#[tokio::test]
async fn when_one_pending_publisher_is_confirmed_the_others_stop() {
    // Two repositories registered pending publishers for the same new name and both
    // exchanged; the index gave the project to the upload that created it (B).
    let app = app_without_publishers().await;
    let grpc = Grpc::connect(&app);
    let a = grpc
        .create(github_publisher(
            &app,
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("pending A");
    let b = grpc
        .create(github_publisher(&app, "other-repo", &[NEW_PROJECT], true))
        .await
        .expect("pending B");
    let token_a = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    let b_claims = || GitHubClaims::new().repository("octo-org/other-repo");
    let token_b = grpc.mint_ok(&app.github_jwt(b_claims())).await;
    assert_eq!(token_a.publisher.map(|p| p.id), Some(a.id.clone()));
    assert_eq!(token_b.publisher.map(|p| p.id), Some(b.id.clone()));
    for token in [&token_a.token, &token_b.token] {
        assert!(grpc.verify(token, NEW_PROJECT).await.allowed);
    }

    let confirmed = grpc.confirm(&b.id).await.expect("confirm B");
    assert!(!confirmed.already_confirmed);

    let verified = grpc.verify(&token_a.token, NEW_PROJECT).await;
    assert!(!verified.allowed);
    assert_eq!(
        verified.reason,
        format!("pending publisher is no longer valid: project '{NEW_PROJECT}' already exists")
    );
    let verified = grpc.verify(&token_b.token, NEW_PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(pending_flag(&verified.publisher), Some(false));
    let status = grpc
        .mint(&app.github_jwt(GitHubClaims::new()))
        .await
        .expect_err("A can no longer exchange");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    grpc.mint_ok(&app.github_jwt(b_claims())).await;
}

#[tokio::test]
async fn confirming_an_unknown_publisher_is_not_found() {
    let app = app_without_publishers().await;
    let status = Grpc::connect(&app)
        .confirm("no-such-publisher")
        .await
        .expect_err("unknown id");
    assert_error(
        &status,
        Code::NotFound,
        "not-found",
        "no pending publisher with id 'no-such-publisher' (it may have expired)",
    );
}

#[tokio::test]
async fn replicas_on_one_redis_agree_on_the_single_confirmation() {
    // Two replicas behind a load balancer: the index's calls land on either.
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    settings.publishers.clear();
    use_local_redis(&mut settings);
    let (a, b) = spawn_replicas(issuer, &settings).await;
    let (grpc_a, grpc_b) = (Grpc::connect(&a), Grpc::connect(&b));

    let pending = grpc_a
        .create(github_publisher(&a, "sampleproject", &[NEW_PROJECT], true))
        .await
        .expect("created on A");
    // A rival pending publisher for the same name, which will lose.
    grpc_b
        .create(github_publisher(&a, "other-repo", &[NEW_PROJECT], true))
        .await
        .expect("rival created on B");
    let rival_claims = || GitHubClaims::new().repository("octo-org/other-repo");
    let rival = grpc_a.mint_ok(&a.github_jwt(rival_claims())).await;
    let minted = grpc_b.mint_ok(&a.github_jwt(GitHubClaims::new())).await;
    assert_eq!(pending_flag(&minted.publisher), Some(true));
    let verified = grpc_a.verify(&minted.token, NEW_PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(pending_flag(&verified.publisher), Some(true));

    let calls = (0..8).map(|i| {
        let grpc = if i % 2 == 0 { &grpc_a } else { &grpc_b };
        grpc.confirm(&pending.id)
    });
    let results = futures::future::join_all(calls).await;
    let winners = results
        .iter()
        .map(|result| result.as_ref().expect("ConfirmPublisher answers OK"))
        .filter(|response| !response.already_confirmed)
        .count();
    assert_eq!(winners, 1, "{results:?}");
    for grpc in [&grpc_a, &grpc_b] {
        let verified = grpc.verify(&minted.token, NEW_PROJECT).await;
        assert_eq!(pending_flag(&verified.publisher), Some(false));
        let verified = grpc.verify(&rival.token, NEW_PROJECT).await;
        assert_eq!(
            verified.reason,
            format!("pending publisher is no longer valid: project '{NEW_PROJECT}' already exists")
        );
        let status = grpc
            .mint(&a.github_jwt(rival_claims()))
            .await
            .expect_err("the rival can no longer exchange");
        assert_error(
            &status,
            Code::FailedPrecondition,
            "invalid-pending-publisher",
            "valid token, but project already exists",
        );
    }
}
