//! The front doors of other ecosystems (crates.io, npm, RFC 8693, GitHub secret
//! scanning) on one adapter next to PyPI's: each door's routes, statuses and exact
//! bodies, and the tokens each returns, which verify for their own ecosystem only.

mod audiences;
mod crates_io;
mod npm;
mod secret_scanning;
mod token_exchange;

use serde_json::{Value, json};
use trustmint_exchange::{Clock as _, Ecosystem, Verification, VerifyRequest};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT, github_declaration};

use crate::support::TestServer;

pub const CRATES_AUDIENCE: &str = "crates.example.org";
pub const NPM_AUDIENCE: &str = "npm:registry.example.org";
/// The crate the crates publisher lists, as declared (normalised: `serde_json`).
pub const CRATE: &str = "Serde-Json";
pub const NPM_PACKAGE: &str = "@octo-org/sampleproject";

/// A publisher of the testkit's default repository for `ecosystem`.
pub fn publisher_in(issuer: &str, ecosystem: &str, projects: &[&str]) -> Value {
    let mut entry = github_declaration(issuer, projects, "");
    entry["ecosystem"] = json!(ecosystem);
    entry
}

/// Every door enabled (as the server's `[crates]`, `[npm]` and `[token_exchange]`
/// would); the one GitHub identity publishes `pypi_projects` on PyPI, `Serde-Json` as
/// a crate and `@octo-org/sampleproject` on npm.
pub async fn all_doors(pypi_projects: &[&str]) -> ExchangeBuilder {
    let issuer = TestIssuer::start().await;
    let url = issuer.url();
    ExchangeBuilder::new(issuer)
        .doors(|doors| {
            doors.crates.enabled = true;
            doors.crates.audience = CRATES_AUDIENCE.into();
            doors.npm.enabled = true;
            doors.npm.audience = NPM_AUDIENCE.into();
            doors.token_exchange.enabled = true;
        })
        .publishers(vec![
            publisher_in(&url, "pypi", pypi_projects),
            publisher_in(&url, "crates", &[CRATE]),
            publisher_in(&url, "npm", &[NPM_PACKAGE]),
        ])
}

/// The adapter over [`all_doors`] with PyPI's default project.
pub async fn spawn_doors() -> TestServer {
    TestServer::with(all_doors(&[PROJECT]).await, |_| {}).await
}

impl TestServer {
    /// A JWT of `claims`, issued now by the exchange's clock, for `audience`.
    pub fn jwt_for(&self, claims: GitHubClaims, audience: &str) -> String {
        self.fx
            .jwt_for(claims.build(&self.fx.issuer.url(), audience, self.fx.clock.now()))
    }

    /// Verifies `token` for `project` in an index of `ecosystem`: (allowed, reason),
    /// as gRPC `VerifyToken` answers it.
    pub async fn verify_in(
        &self,
        token: &str,
        project: &str,
        ecosystem: Ecosystem,
    ) -> (bool, String) {
        let request = VerifyRequest {
            token: token.into(),
            project: project.to_owned(),
        };
        match self.fx.exchange.verify_in(request, ecosystem).await {
            Ok(Verification::Allowed(_)) => (true, String::new()),
            Ok(Verification::Denied { reason }) => (false, reason),
            Err(error) => panic!("verify answers: {error:?}"),
        }
    }

    /// Mints through PyPI's door over HTTP; panics unless that succeeds.
    pub async fn mint_pypi(&self) -> String {
        let answer = self.mint(&self.fx.github_jwt(GitHubClaims::new())).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        answer.body["token"].as_str().expect("a string").to_owned()
    }
}
