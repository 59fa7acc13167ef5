//! End-to-end over real HTTP and gRPC: the front doors of other ecosystems (crates.io,
//! npm, RFC 8693, GitHub secret scanning) on one instance next to PyPI's, each with its
//! audience, its wire and its tokens, which verify for their own ecosystem only.

use crate::support;

mod crates_io;
mod npm;
mod on_redis;
mod secret_scanning;
mod token_exchange;

use serde_json::{Value, json};
use support::{TestApp, github_publisher, now, spawn_app_with};
use trustmint::Settings;
use trustmint_grpc::pb;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

pub(crate) const CRATES_AUDIENCE: &str = "crates.example.org";
pub(crate) const NPM_AUDIENCE: &str = "npm:registry.example.org";
/// The crate the crates publisher lists, as declared (normalised: `serde_json`).
pub(crate) const CRATE: &str = "Serde-Json";
pub(crate) const NPM_PACKAGE: &str = "@octo-org/sampleproject";

/// A publisher of the testkit's default repository for `ecosystem`.
pub(crate) fn publisher_in(issuer: &TestIssuer, ecosystem: &str, projects: &[&str]) -> Value {
    let mut entry = github_publisher(&issuer.url(), projects, "");
    entry["ecosystem"] = json!(ecosystem);
    entry
}

/// Every door enabled; the one GitHub identity publishes `sampleproject` on PyPI,
/// `Serde-Json` as a crate and `@octo-org/sampleproject` on npm.
pub(crate) fn all_doors(settings: &mut Settings, issuer: &TestIssuer) {
    settings.crates.enabled = true;
    settings.crates.audience = CRATES_AUDIENCE.into();
    settings.npm.enabled = true;
    settings.npm.audience = NPM_AUDIENCE.into();
    settings.token_exchange.enabled = true;
    settings
        .publishers
        .push(publisher_in(issuer, "crates", &[CRATE]));
    settings
        .publishers
        .push(publisher_in(issuer, "npm", &[NPM_PACKAGE]));
}

pub(crate) async fn spawn_doors() -> TestApp {
    spawn_app_with(all_doors).await
}

impl TestApp {
    /// A JWT of the default claims for `audience`.
    pub(crate) fn jwt_for(&self, claims: GitHubClaims, audience: &str) -> String {
        self.issuer
            .sign(&claims.build(&self.issuer.url(), audience, now()))
    }

    /// `TokenService.VerifyToken` for `ecosystem`: (allowed, reason).
    pub(crate) async fn verify_in(
        &self,
        token: &str,
        project: &str,
        ecosystem: &str,
    ) -> (bool, String) {
        let response = support::trustmint_process::token_client(self.grpc_addr)
            .await
            .verify_token(pb::VerifyTokenRequest {
                token: token.to_owned(),
                project: project.to_owned(),
                ecosystem: ecosystem.to_owned(),
            })
            .await
            .expect("VerifyToken answers")
            .into_inner();
        (response.allowed, response.reason)
    }
}

#[tokio::test]
async fn each_door_has_its_audience_and_pypi_is_unchanged() {
    let app = spawn_doors().await;
    // PyPI's door: only PyPI's audience, only the PyPI publisher's project.
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let pypi_token = body["token"].as_str().expect("a string").to_owned();
    assert!(pypi_token.starts_with("pypi-"), "{pypi_token}");
    let (status, body) = app
        .mint(&app.jwt_for(GitHubClaims::new(), CRATES_AUDIENCE))
        .await;
    support::assert_token_error(
        &(status, body),
        422,
        "invalid-token",
        "malformed or invalid token",
    );
    assert_eq!(
        app.verify_in(&pypi_token, "sampleproject", "").await,
        (true, String::new())
    );
    assert_eq!(
        app.verify_in(&pypi_token, NPM_PACKAGE, "npm").await,
        (
            false,
            "token was minted for pypi packages, not npm".to_owned()
        )
    );
}

#[tokio::test]
async fn an_unknown_ecosystem_in_verify_is_invalid_argument() {
    let app = spawn_doors().await;
    let status = support::trustmint_process::token_client(app.grpc_addr)
        .await
        .verify_token(pb::VerifyTokenRequest {
            token: "pypi-x".into(),
            project: "x".into(),
            ecosystem: "cargo".into(),
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        status.message(),
        "ecosystem: unknown ecosystem 'cargo'; expected one of: pypi, crates, npm"
    );
}

#[tokio::test]
async fn registered_publishers_keep_their_ecosystem_apart() {
    let app = spawn_doors().await;
    let mut publishers =
        trustmint_grpc::pb::publisher_service_client::PublisherServiceClient::connect(format!(
            "http://{}",
            app.grpc_addr
        ))
        .await
        .expect("connect");
    let publisher = |ecosystem: &str, projects: &[&str]| pb::Publisher {
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        ecosystem: ecosystem.to_owned(),
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: "octo-org".into(),
            repository_owner_id: "92345678".into(),
            repository_name: "registered".into(),
            workflow_filename: "release.yml".into(),
            issuer: app.issuer.url(),
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
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
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
