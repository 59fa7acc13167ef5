//! End-to-end over real HTTP and gRPC: the front doors of other ecosystems (crates.io,
//! npm, RFC 8693, GitHub secret scanning) on one instance next to PyPI's, each with its
//! audience, its wire and its tokens, which verify for their own ecosystem only.

mod support;

#[path = "doors/crates_io.rs"]
mod crates_io;
#[path = "doors/npm.rs"]
mod npm;
#[path = "doors/secret_scanning.rs"]
mod secret_scanning;
#[path = "doors/token_exchange.rs"]
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
