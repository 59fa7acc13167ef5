//! The `[exchange]` and `[server]` settings reach the exchange the application wires:
//! the switch, the audience (both the one the audience endpoint answers and the one JWTs
//! are checked against) and the token location. What minting does with them is the
//! exchange's use-case tests (`crates/exchange/tests/use_cases`), how HTTP answers is
//! the adapter's (`crates/http/tests/api`).

use crate::support;

use support::{PROJECT, assert_token_error, now, spawn_app_with};
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::parse_token;

#[tokio::test]
async fn trusted_publishing_switched_off_in_the_settings_refuses_audience_and_mint() {
    let app = spawn_app_with(|settings, _| settings.exchange.enabled = false).await;
    assert_eq!(
        app.get("/_/oidc/audience").await,
        (
            403,
            r#"{"message":"Trusted publishing functionality not enabled"}"#.to_owned()
        )
    );
    assert_token_error(
        &app.mint(&app.github_jwt(GitHubClaims::new())).await,
        422,
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

#[tokio::test]
async fn the_configured_audience_and_location_reach_the_exchange() {
    let app = spawn_app_with(|settings, _| {
        settings.exchange.audience = "testpypi".into();
        settings.server.location = "https://upload.test.example.org".into();
    })
    .await;
    assert_eq!(
        app.get("/_/oidc/audience").await,
        (200, r#"{"audience":"testpypi"}"#.to_owned())
    );
    // The verifier checks JWTs against the configured audience, not PyPI's default.
    let for_testpypi =
        app.issuer
            .sign(&GitHubClaims::new().build(&app.issuer.url(), "testpypi", now()));
    let response = app.mint(&for_testpypi).await;
    app.assert_minted_for(&response, PROJECT).await;
    let token = response.1["token"].as_str().expect("a token");
    let parsed = parse_token(token, "pypi-").expect("a pypi- token");
    assert_eq!(parsed.macaroon.location, b"https://upload.test.example.org");
}
