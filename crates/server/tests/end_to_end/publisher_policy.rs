//! Publisher policies in the whole application, on the machine's Redis: a pending
//! publisher created over gRPC with a policy is stored with it, read back by Get and
//! List, and enforced over HTTP and gRPC. Each rule's acceptance and exact refusal, the
//! unsafe policies CreatePublisher refuses and config-declared policies are the use
//! cases' tests (`crates/exchange/tests/use_cases/publisher_policy.rs`); the policy
//! message on the wire the gRPC adapter's (`crates/grpc/tests/api/publisher_policy.rs`).

use crate::support;

use support::redis_setup::use_local_redis;
use support::{TestApp, assert_token_error, base_settings, spawn_with_settings};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

const PROJECT: &str = "sampleproject";

fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// An app on the machine's Redis declaring no publisher, trusting the test issuer as
/// GitHub.
async fn spawn_on_redis() -> TestApp {
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    settings.publishers = Vec::new();
    use_local_redis(&mut settings);
    spawn_with_settings(issuer, &settings).await
}

fn channel(app: &TestApp) -> Channel {
    Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .expect("endpoint")
        .connect_lazy()
}

/// A GitHub JWT of the testkit's repository at `git_ref`.
fn github_jwt(app: &TestApp, git_ref: &str) -> String {
    app.github_jwt(GitHubClaims::new().git_ref(git_ref))
}

async fn grpc_mint(app: &TestApp, jwt: &str) -> Result<pb::MintTokenResponse, tonic::Status> {
    TokenServiceClient::new(channel(app))
        .mint_token(pb::MintTokenRequest {
            oidc_token: jwt.to_owned(),
            client_ip: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The refusal over both transports: HTTP 422 `invalid-publisher` and gRPC
/// FAILED_PRECONDITION `invalid-publisher`, with `reason` in the description.
async fn assert_refused(app: &TestApp, jwt: &str, reason: &str) {
    let description = no_publisher(reason);
    assert_token_error(&app.mint(jwt).await, 422, "invalid-publisher", &description);
    let status = grpc_mint(app, jwt).await.expect_err(reason);
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        status.message(),
        format!("invalid-publisher: {description}")
    );
}

/// A pending publisher created over gRPC with a policy: stored with it in Redis,
/// reported by Get and List, and enforced at exchange time.
#[tokio::test]
async fn pending_publisher_policy_over_grpc_on_redis() {
    let app = spawn_on_redis().await;
    let mut publishers = PublisherServiceClient::new(channel(&app));
    let kind = pb::publisher::Kind::Github(pb::GitHubPublisher {
        repository_owner: "octo-org".into(),
        repository_owner_id: "92345678".into(),
        repository_name: "sampleproject".into(),
        workflow_filename: "release.yml".into(),
        issuer: app.issuer.url(),
        ..pb::GitHubPublisher::default()
    });
    let request = |policy: Option<pb::PublisherPolicy>| pb::CreatePublisherRequest {
        publisher: Some(pb::Publisher {
            projects: vec![PROJECT.to_owned()],
            pending: true,
            kind: Some(kind.clone()),
            policy,
            ..pb::Publisher::default()
        }),
    };

    let policy = pb::PublisherPolicy {
        refs: vec!["refs/tags/v*".to_owned()],
        require_protected_ref: false,
        allow_self_hosted_runners: None,
        require_protected_environment: false,
    };
    let created = publishers
        .create_publisher(request(Some(policy.clone())))
        .await
        .expect("created")
        .into_inner();
    let reported = pb::PublisherPolicy {
        allow_self_hosted_runners: Some(true),
        ..policy
    };
    assert_eq!(created.policy.as_ref(), Some(&reported));
    let fetched = publishers
        .get_publisher(pb::GetPublisherRequest {
            id: created.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched.policy.as_ref(), Some(&reported));
    let listed = publishers
        .list_publishers(pb::ListPublishersRequest {
            project: PROJECT.to_owned(),
        })
        .await
        .expect("list")
        .into_inner()
        .publishers;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].policy.as_ref(), Some(&reported));

    // Without a policy the same workflow is another publisher, not this one again.
    let laxer = publishers
        .create_publisher(request(None))
        .await
        .expect("created")
        .into_inner();
    assert_ne!(laxer.id, created.id);
    assert_eq!(laxer.policy, None);
    publishers
        .delete_publisher(pb::DeletePublisherRequest { id: laxer.id })
        .await
        .expect("deleted");

    assert_refused(
        &app,
        &github_jwt(&app, "refs/heads/main"),
        "ref 'refs/heads/main' matches none of refs/tags/v*",
    )
    .await;
    let minted = grpc_mint(&app, &github_jwt(&app, "refs/tags/v0.1"))
        .await
        .expect("a tag mints for the pending publisher");
    assert_eq!(minted.publisher.map(|p| p.id), Some(created.id));
    app.stop().await;
}
