//! Pending publishers on two replicas sharing one Redis: the index's calls land on
//! either, and the store makes exactly one confirmation win (the single-replica
//! behaviour is tested on the memory store in `crates/grpc/tests/api/pending.rs`).

use tonic::Code;
use trustmint_testkit::claims::GitHubClaims;

use super::support::redis_setup::{replica_settings, spawn_replicas, use_local_redis};
use super::{Grpc, assert_error, github_publisher};

const NEW_PROJECT: &str = "brand-new-project";

fn pending_flag(publisher: &Option<trustmint_grpc::pb::Publisher>) -> Option<bool> {
    publisher.as_ref().map(|p| p.pending)
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
