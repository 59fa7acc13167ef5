//! The front doors of other ecosystems (crates.io, npm, RFC 8693, GitHub secret
//! scanning) switched on by the application's config sections. Each door's wire and
//! rules are the adapters' and the exchange's tests (crates/http/tests/api/doors,
//! crates/exchange/tests/use_cases/doors.rs); here only that `[crates]`, `[npm]`,
//! `[token_exchange]` and `[secret_scanning]` reach them, and the doors on Redis.

use crate::support;

mod config_sections;
mod on_redis;

use serde_json::{Value, json};
use support::{TestApp, github_publisher, now};
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

/// POSTs `body` to crates.io's door as crates-io-auth-action does: (status, JSON body
/// or `Null`).
pub(crate) async fn crates_exchange(app: &TestApp, body: String) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/trusted_publishing/tokens", app.http))
        .header("content-type", "application/json")
        .header("user-agent", "crates-io-auth-action/1.0.1")
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null),
    )
}

/// POSTs to npm's door for `escaped` as the npm CLI does: (status, JSON body or `Null`).
pub(crate) async fn npm_exchange(app: &TestApp, escaped: &str, jwt: Option<&str>) -> (u16, Value) {
    let mut request = app
        .client
        .post(format!(
            "{}/-/npm/v1/oidc/token/exchange/package/{escaped}",
            app.http
        ))
        .header("npm-command", "publish");
    if let Some(jwt) = jwt {
        request = request.header("authorization", format!("Bearer {jwt}"));
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
