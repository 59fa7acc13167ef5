//! A publisher's policy on the wire: the `PublisherPolicy` message in MintToken,
//! VerifyToken, CreatePublisher, GetPublisher and ListPublishers. An unset
//! `allow_self_hosted_runners` means `true` and is reported as set; a publisher without
//! a policy carries no message at all.

use serde_json::json;
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT, github_declaration};

use crate::support::TestServer;

/// A policy message with `refs` and nothing else set.
fn refs_only(refs: &[&str]) -> pb::PublisherPolicy {
    pb::PublisherPolicy {
        refs: refs.iter().map(|r| (*r).to_owned()).collect(),
        require_protected_ref: false,
        allow_self_hosted_runners: None,
        require_protected_environment: false,
    }
}

#[tokio::test]
async fn a_declared_policy_is_reported_by_mint_and_verify() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let mut declaration = github_declaration(&issuer.url(), &[PROJECT], "");
    if let (Some(declaration), serde_json::Value::Object(policy)) = (
        declaration.as_object_mut(),
        json!({
            "refs": ["refs/tags/v*", "refs/heads/release/**"],
            "require_protected_ref": true,
            "allow_self_hosted_runners": false,
        }),
    ) {
        declaration.extend(policy);
    }
    let builder = ExchangeBuilder::new(issuer).publishers(vec![declaration]);
    let server = TestServer::with(builder, None).await;
    let mut tokens = server.anonymous().tokens;

    let jwt = server.fx.github_jwt(
        GitHubClaims::new()
            .git_ref("refs/tags/v1.2.0")
            .claim("ref_protected", json!("true")),
    );
    let minted = tokens
        .mint_token(pb::MintTokenRequest {
            oidc_token: jwt,
            client_ip: String::new(),
        })
        .await
        .expect("a protected release tag mints")
        .into_inner();
    assert_eq!(
        minted
            .publisher
            .and_then(|p| p.policy)
            .map(|p| p.require_protected_ref),
        Some(true)
    );

    let verified = tokens
        .verify_token(pb::VerifyTokenRequest {
            token: minted.token,
            project: PROJECT.to_owned(),
            ecosystem: String::new(),
        })
        .await
        .expect("VerifyToken answers OK")
        .into_inner();
    assert!(verified.allowed, "{}", verified.reason);
    assert_eq!(
        verified.publisher.and_then(|p| p.policy),
        Some(pb::PublisherPolicy {
            refs: vec!["refs/tags/v*".into(), "refs/heads/release/**".into()],
            require_protected_ref: true,
            allow_self_hosted_runners: Some(false),
            require_protected_environment: false,
        })
    );
    assert_eq!(
        verified.claims.get("ref").map(String::as_str),
        Some("refs/tags/v1.2.0")
    );
}

#[tokio::test]
async fn a_created_policy_is_reported_by_create_get_and_list() {
    let server = TestServer::with(ExchangeBuilder::start().await.publishers(vec![]), None).await;
    let mut publishers = server.anonymous().publishers;
    let kind = pb::publisher::Kind::Github(pb::GitHubPublisher {
        repository_owner: "octo-org".into(),
        repository_owner_id: "92345678".into(),
        repository_name: "sampleproject".into(),
        workflow_filename: "release.yml".into(),
        issuer: server.fx.issuer.url(),
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

    let policy = refs_only(&["refs/tags/v*"]);
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

    // Without a policy the same workflow is another publisher, reported without one.
    let laxer = publishers
        .create_publisher(request(None))
        .await
        .expect("created")
        .into_inner();
    assert_ne!(laxer.id, created.id);
    assert_eq!(laxer.policy, None);
}
