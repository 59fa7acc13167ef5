//! npm's door: `POST /-/npm/v1/oidc/token/exchange/package/<escaped name>` with the
//! JWT as Bearer credential, as the npm CLI calls it (the CLI itself: tests/interop).

use serde_json::{Value, json};
use trustmint_exchange::Ecosystem;
use trustmint_testkit::claims::GitHubClaims;

use super::{NPM_AUDIENCE, NPM_PACKAGE, spawn_doors};
use crate::support::TestServer;

/// POSTs to the exchange route for `escaped` as the npm CLI does: (status, JSON body or
/// `Null`).
pub async fn exchange(server: &TestServer, escaped: &str, jwt: Option<&str>) -> (u16, Value) {
    let mut request = server
        .client
        .post(format!(
            "{}/-/npm/v1/oidc/token/exchange/package/{escaped}",
            server.url
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

/// npm's error body (the text also in `message`, which the npm CLI logs).
fn npm_error(text: &str) -> Value {
    json!({ "error": text, "message": text })
}

#[tokio::test]
async fn a_scoped_package_gets_a_token_for_exactly_that_package() {
    let server = spawn_doors().await;
    let jwt = server.jwt_for(GitHubClaims::new(), NPM_AUDIENCE);
    let (status, body) = exchange(&server, "@octo-org%2fsampleproject", Some(&jwt)).await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"].as_str().expect("a string").to_owned();
    assert!(token.starts_with("npm_"), "{token}");
    assert_eq!(
        server.verify_in(&token, NPM_PACKAGE, Ecosystem::Npm).await,
        (true, String::new())
    );
    assert_eq!(
        server
            .verify_in(&token, "sampleproject", Ecosystem::Pypi)
            .await,
        (
            false,
            "token was minted for npm packages, not pypi".to_owned()
        )
    );
}

#[tokio::test]
async fn refusals_are_npm_statuses_with_an_error_body() {
    let server = spawn_doors().await;
    let jwt = server.jwt_for(GitHubClaims::new(), NPM_AUDIENCE);
    // The publisher does not list this package.
    assert_eq!(
        exchange(&server, "left-pad", Some(&jwt)).await,
        (
            404,
            npm_error(
                "valid token, but no corresponding publisher (the trusted publisher matching this token is not a publisher of 'left-pad')"
            )
        )
    );
    assert_eq!(
        exchange(&server, "Upper", Some(&jwt)).await,
        (
            400,
            npm_error(
                "npm package name 'Upper' is not valid: npm names use lowercase letters, digits, '-', '.', '_' and '~' (and one '@scope/')"
            )
        )
    );
    assert_eq!(
        exchange(&server, "@octo-org%2fsampleproject", None).await,
        (
            401,
            npm_error("an OIDC ID token is required as `Authorization: Bearer <token>`")
        )
    );
    // PyPI's audience is not npm's.
    let pypi_jwt = server.fx.github_jwt(GitHubClaims::new());
    assert_eq!(
        exchange(&server, "@octo-org%2fsampleproject", Some(&pypi_jwt)).await,
        (401, npm_error("malformed or invalid token"))
    );
    // The refused exchange for left-pad did not burn the JWT.
    assert_eq!(
        exchange(&server, "@octo-org%2Fsampleproject", Some(&jwt))
            .await
            .0,
        201
    );
}
