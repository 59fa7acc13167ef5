//! PublisherService: create, get, list, delete; validation with the config rules;
//! config-declared publishers are read-only; deleting a publisher stops its tokens.

use tonic::Code;
use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::PROJECT;

use crate::calls::github_publisher;
use crate::declared::without_declared_publishers;
use crate::support::{TestServer, assert_error, assert_invalid_argument};

#[tokio::test]
async fn create_get_list_delete() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let url = server.fx.issuer.url();
    let created = grpc
        .create(github_publisher(
            &url,
            "other-repo",
            &["New_Project"],
            false,
        ))
        .await
        .expect("created");
    assert!(!created.id.is_empty());
    assert_eq!(created.projects, vec!["new-project".to_owned()]);
    assert!(!created.pending);
    assert_eq!(created.origin, "api");
    assert_eq!(created.expires_at, 0);
    assert_eq!(created.created_at, server.fx.clock.now());
    assert_eq!(
        created.kind,
        github_publisher(&url, "other-repo", &[], false).kind
    );

    assert_eq!(grpc.get(&created.id).await.expect("get"), created);
    assert_eq!(grpc.list("new.project").await, vec![created.clone()]);
    // The declared publisher is listed too, read-only.
    let declared = grpc.list(PROJECT).await;
    assert_eq!(declared.len(), 1);
    assert_eq!(declared[0].origin, "config");
    assert_eq!(grpc.list("nobody-publishes-this").await, vec![]);

    assert_eq!(grpc.delete(&created.id).await.ok(), Some(true));
    let status = grpc.get(&created.id).await.expect_err("gone");
    assert_error(
        &status,
        Code::NotFound,
        "not-found",
        &format!("no publisher with id '{}'", created.id),
    );
    assert_eq!(grpc.list("new-project").await, vec![]);
    assert_eq!(
        grpc.delete(&created.id).await.ok(),
        Some(false),
        "idempotent"
    );
}

#[tokio::test]
async fn creating_an_identical_publisher_returns_the_existing_one() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let url = server.fx.issuer.url();
    let first = grpc
        .create(github_publisher(&url, "other-repo", &["alpha"], false))
        .await
        .expect("created");
    let again = grpc
        .create(github_publisher(&url, "other-repo", &["alpha"], false))
        .await
        .expect("again");
    assert_eq!(again, first);
    // Same identity with another project: the same publisher gains it.
    let widened = grpc
        .create(github_publisher(&url, "other-repo", &["beta"], false))
        .await
        .expect("widened");
    assert_eq!(widened.id, first.id);
    assert_eq!(
        widened.projects,
        vec!["alpha".to_owned(), "beta".to_owned()]
    );
    // The declared identity: the declared publisher comes back, nothing is stored.
    let declared = grpc
        .create(github_publisher(&url, "sampleproject", &[PROJECT], false))
        .await
        .expect("declared identity");
    assert_eq!(declared.origin, "config");
    assert_eq!(grpc.list(PROJECT).await, vec![declared]);
}

#[tokio::test]
async fn invalid_input_is_invalid_argument_naming_the_field() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let url = server.fx.issuer.url();
    let with_github = |edit: fn(&mut pb::GitHubPublisher)| {
        let mut publisher = github_publisher(&url, "other-repo", &["alpha"], false);
        if let Some(pb::publisher::Kind::Github(github)) = &mut publisher.kind {
            edit(github);
        }
        publisher
    };
    let cases: Vec<(pb::Publisher, &str, &str)> = vec![
        (
            with_github(|p| p.workflow_filename = "release".into()),
            "workflow_filename",
            "must end in '.yml' or '.yaml', e.g. 'release.yml'",
        ),
        (
            with_github(|p| p.repository_owner.clear()),
            "repository_owner",
            "is required",
        ),
        (
            with_github(|p| p.repository_owner_id = "0123".into()),
            "repository_owner_id",
            "must be a positive whole number without leading zeros, e.g. '647025'",
        ),
        (
            with_github(|p| p.issuer = "http://gitlab.example.com".into()),
            "issuer",
            "must use https (http is accepted only for localhost, 127.0.0.1 and [::1])",
        ),
        (
            with_github(|p| p.issuer = "https://ghe.example.com/_services/token".into()),
            "issuer",
            "no [[issuers]] entry of kind github serves 'https://ghe.example.com/_services/token', so this publisher could never match",
        ),
        (
            pb::Publisher {
                kind: Some(pb::publisher::Kind::Google(pb::GooglePublisher {
                    email: "release@example.iam.gserviceaccount.com".into(),
                    sub: String::new(),
                })),
                ..github_publisher(&url, "other-repo", &["alpha"], false)
            },
            "kind",
            "google publishers trust only 'https://accounts.google.com', but no [[issuers]] entry of kind google serves 'https://accounts.google.com'; add an [[issuers]] entry with url = 'https://accounts.google.com' and kind = 'google'",
        ),
        (
            github_publisher(&url, "other-repo", &["-bad-"], false),
            "projects",
            "project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
        ),
        (
            github_publisher(&url, "other-repo", &[], false),
            "projects",
            "at least one project is required",
        ),
        (
            github_publisher(&url, "other-repo", &["alpha", "beta"], true),
            "projects",
            "a pending publisher names exactly one project (the one it will create)",
        ),
        (
            pb::Publisher {
                kind: None,
                ..github_publisher(&url, "other-repo", &["alpha"], false)
            },
            "publisher.kind",
            "required",
        ),
    ];
    for (publisher, field, message) in cases {
        let status = grpc.create(publisher).await.expect_err(field);
        assert_invalid_argument(&status, field, message);
    }
    let status = grpc
        .publishers
        .clone()
        .create_publisher(pb::CreatePublisherRequest { publisher: None })
        .await
        .expect_err("no publisher");
    assert_invalid_argument(&status, "publisher", "required");
    for status in [
        grpc.get("").await.expect_err("get"),
        grpc.delete("").await.expect_err("delete"),
        grpc.confirm("").await.expect_err("confirm"),
    ] {
        assert_invalid_argument(&status, "id", "required");
    }
    // Nothing was stored by the refused requests.
    assert_eq!(grpc.list("alpha").await, vec![]);
}

#[tokio::test]
async fn a_declared_publisher_cannot_be_deleted() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let declared = grpc.list(PROJECT).await.remove(0);
    let status = grpc.delete(&declared.id).await.expect_err("declared");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "failed-precondition",
        &format!(
            "publisher {} is declared in the configuration file and cannot be changed through the API; edit the [[publishers]] entry instead",
            declared.id
        ),
    );
    assert_eq!(grpc.get(&declared.id).await.expect("still there"), declared);
}

#[tokio::test]
async fn deleting_a_publisher_stops_its_live_tokens_at_once() {
    let server = without_declared_publishers().await;
    let grpc = server.anonymous();
    let created = grpc
        .create(github_publisher(
            &server.fx.issuer.url(),
            "sampleproject",
            &[PROJECT],
            false,
        ))
        .await
        .expect("created");
    let minted = grpc
        .mint_ok(&server.fx.github_jwt(GitHubClaims::new()))
        .await;
    let verified = grpc.verify(&minted.token, PROJECT).await;
    assert!(verified.allowed, "{verified:?}");
    assert_eq!(verified.publisher.map(|p| p.id), Some(created.id.clone()));

    assert_eq!(grpc.delete(&created.id).await.ok(), Some(true));
    let verified = grpc.verify(&minted.token, PROJECT).await;
    assert!(!verified.allowed);
    assert_eq!(
        verified.reason,
        "the trusted publisher this token was minted for no longer exists"
    );
}

#[tokio::test]
async fn a_declared_identity_cannot_gain_projects_through_the_api() {
    let server = TestServer::start().await;
    let grpc = server.anonymous();
    let declared = grpc.list(PROJECT).await.remove(0);
    let status = grpc
        .create(github_publisher(
            &server.fx.issuer.url(),
            "sampleproject",
            &[PROJECT, "extra"],
            false,
        ))
        .await
        .expect_err("declared identity");
    assert_error(
        &status,
        Code::FailedPrecondition,
        "failed-precondition",
        &format!(
            "publisher {} is declared in the configuration file and cannot be changed through the API; edit the [[publishers]] entry instead",
            declared.id
        ),
    );
    assert_eq!(grpc.list("extra").await, vec![]);
}
