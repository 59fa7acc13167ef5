//! Pending publishers over PublisherService: registered for a project the index has not
//! created yet, they mint for it (and say so), the index confirms the one whose upload
//! created the project, and every other pending publisher for that name is stale from
//! then on.

use tonic::Code;
use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_publishers::PENDING_PUBLISHER_TTL_SECS;
use trustmint_testkit::claims::GitHubClaims;

use crate::calls::github_publisher;
use crate::declared::without_declared_publishers;
use crate::support::assert_error;

const NEW_PROJECT: &str = "brand-new-project";

fn pending_flag(publisher: &Option<pb::Publisher>) -> Option<bool> {
    publisher.as_ref().map(|p| p.pending)
}

#[tokio::test]
async fn a_pending_publisher_mints_for_its_new_project_until_confirmed() {
    let server = without_declared_publishers().await;
    let grpc = server.anonymous();
    let fx = &server.fx;
    let pending = grpc
        .create(github_publisher(
            &fx.issuer.url(),
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("created");
    assert!(pending.pending);
    assert_eq!(pending.projects, vec![NEW_PROJECT.to_owned()]);
    assert_eq!(pending.created_at, fx.clock.now());
    assert_eq!(
        pending.expires_at,
        pending.created_at + PENDING_PUBLISHER_TTL_SECS
    );

    // The exchange matches it and says so.
    let minted = grpc.mint_ok(&fx.github_jwt(GitHubClaims::new())).await;
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
    let minted = grpc.mint_ok(&fx.github_jwt(GitHubClaims::new())).await;
    assert_eq!(pending_flag(&minted.publisher), Some(false));
}

#[tokio::test]
async fn concurrent_confirmations_have_exactly_one_winner() {
    let server = without_declared_publishers().await;
    let grpc = server.anonymous();
    let pending = grpc
        .create(github_publisher(
            &server.fx.issuer.url(),
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
    let server = without_declared_publishers().await;
    let grpc = server.anonymous();
    let url = server.fx.issuer.url();
    // The project exists: the index registered another repository's publisher for it.
    grpc.create(github_publisher(&url, "other-repo", &[NEW_PROJECT], false))
        .await
        .expect("normal publisher");
    grpc.create(github_publisher(
        &url,
        "sampleproject",
        &[NEW_PROJECT],
        true,
    ))
    .await
    .expect("pending publisher");

    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let status = grpc.mint(&jwt).await.expect_err("stale pending publisher");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    // The failed exchange did not burn the JWT: a retry gets the same answer, not
    // invalid-reuse-token.
    let status = grpc.mint(&jwt).await.expect_err("still stale");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
}

#[tokio::test]
async fn when_one_pending_publisher_is_confirmed_the_others_stop() {
    // Two repositories registered pending publishers for the same new name and both
    // exchanged; the index gave the project to the upload that created it (B).
    let server = without_declared_publishers().await;
    let grpc = server.anonymous();
    let fx = &server.fx;
    let url = fx.issuer.url();
    let a = grpc
        .create(github_publisher(
            &url,
            "sampleproject",
            &[NEW_PROJECT],
            true,
        ))
        .await
        .expect("pending A");
    let b = grpc
        .create(github_publisher(&url, "other-repo", &[NEW_PROJECT], true))
        .await
        .expect("pending B");
    let token_a = grpc.mint_ok(&fx.github_jwt(GitHubClaims::new())).await;
    let b_claims = || GitHubClaims::new().repository("octo-org/other-repo");
    let token_b = grpc.mint_ok(&fx.github_jwt(b_claims())).await;
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
        .mint(&fx.github_jwt(GitHubClaims::new()))
        .await
        .expect_err("A can no longer exchange");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    grpc.mint_ok(&fx.github_jwt(b_claims())).await;
}

#[tokio::test]
async fn confirming_an_unknown_publisher_is_not_found() {
    let server = without_declared_publishers().await;
    let status = server
        .anonymous()
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
