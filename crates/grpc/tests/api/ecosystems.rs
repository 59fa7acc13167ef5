//! The `ecosystem` fields of the gRPC messages: VerifyToken refuses an ecosystem it
//! does not know, and PublisherService keeps one identity's publishers of different
//! ecosystems apart (their own id, their own names' rules).

use tonic::Code;
use trustmint_grpc::pb;

use crate::support::TestServer;

#[tokio::test]
async fn an_unknown_ecosystem_in_verify_is_invalid_argument() {
    let server = TestServer::start().await;
    let status = server
        .anonymous()
        .tokens
        .verify_token(pb::VerifyTokenRequest {
            token: "pypi-x".into(),
            project: "x".into(),
            ecosystem: "cargo".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "ecosystem: unknown ecosystem 'cargo'; expected one of: pypi, crates, npm"
    );
}

#[tokio::test]
async fn registered_publishers_keep_their_ecosystem_apart() {
    let server = TestServer::start().await;
    let url = server.fx.issuer.url();
    let mut publishers = server.anonymous().publishers;
    let publisher = |ecosystem: &str, projects: &[&str]| pb::Publisher {
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        ecosystem: ecosystem.to_owned(),
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: "octo-org".into(),
            repository_owner_id: "92345678".into(),
            repository_name: "registered".into(),
            workflow_filename: "release.yml".into(),
            issuer: url.clone(),
            ..pb::GitHubPublisher::default()
        })),
        ..pb::Publisher::default()
    };
    let client = publishers.clone();
    let create = |publisher: pb::Publisher| {
        let mut client = client.clone();
        async move {
            client
                .create_publisher(pb::CreatePublisherRequest {
                    publisher: Some(publisher),
                })
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let pypi = create(publisher("", &["registered"])).await.expect("pypi");
    let npm = create(publisher("npm", &["@octo-org/registered"]))
        .await
        .expect("npm");
    assert_eq!(pypi.ecosystem, "pypi");
    assert_eq!(npm.ecosystem, "npm");
    // The same identity in two ecosystems is two publishers: the npm one did not add
    // its package to the PyPI one.
    assert_ne!(pypi.id, npm.id);
    assert_eq!(npm.projects, ["@octo-org/registered"]);
    let listed = publishers
        .list_publishers(pb::ListPublishersRequest {
            project: "registered".into(),
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        listed
            .publishers
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        [pypi.id.as_str()]
    );
    let refused = create(publisher("npm", &["Registered"]))
        .await
        .expect_err("uppercase is not an npm name");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .contains("npm package name 'Registered' is not valid"),
        "{}",
        refused.message()
    );
    let refused = create(publisher("cargo", &["x"]))
        .await
        .expect_err("unknown");
    assert_eq!(
        refused.message(),
        "publisher.ecosystem: unknown ecosystem 'cargo'; expected one of: pypi, crates, npm"
    );
}
