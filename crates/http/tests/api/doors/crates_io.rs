//! crates.io's door: `POST`/`DELETE /api/v1/trusted_publishing/tokens`, as
//! crates-io-auth-action calls it.

use serde_json::{Value, json};
use trustmint_exchange::Ecosystem;
use trustmint_testkit::claims::GitHubClaims;

use super::{CRATES_AUDIENCE, spawn_doors};
use crate::support::TestServer;

const PATH: &str = "/api/v1/trusted_publishing/tokens";

/// POSTs `body` as crates-io-auth-action does: (status, JSON body or `Null`).
pub async fn exchange(server: &TestServer, body: String) -> (u16, Value) {
    let response = server
        .client
        .post(format!("{}{PATH}", server.url))
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

/// The action's post step: `DELETE` with `authorization`, (status, body text).
async fn delete(server: &TestServer, authorization: Option<&str>) -> (u16, String) {
    let mut request = server.client.delete(format!("{}{PATH}", server.url));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("sent");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

/// crates.io's error body.
fn detail(text: &str) -> Value {
    json!({ "errors": [{ "detail": text }] })
}

#[tokio::test]
async fn a_matching_jwt_gets_a_crates_token_that_verifies_for_crates_only() {
    let server = spawn_doors().await;
    let jwt = server.jwt_for(GitHubClaims::new(), CRATES_AUDIENCE);
    let (status, body) = exchange(&server, json!({ "jwt": jwt }).to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "only `token`: {body}"
    );
    let token = body["token"].as_str().expect("a string").to_owned();
    assert!(token.starts_with("cio_tp_"), "{token}");

    // `Serde-Json`, `serde_json` and `serde-json` are one crate.
    for spelling in ["serde_json", "Serde-Json", "serde-json"] {
        assert_eq!(
            server.verify_in(&token, spelling, Ecosystem::Crates).await,
            (true, String::new()),
            "{spelling}"
        );
    }
    assert_eq!(
        server
            .verify_in(&token, "serde-json", Ecosystem::Pypi)
            .await,
        (
            false,
            "token was minted for crates packages, not pypi".to_owned()
        )
    );
    assert!(
        !server
            .verify_in(&token, "other_crate", Ecosystem::Crates)
            .await
            .0
    );

    // The action's post step revokes it.
    assert_eq!(
        delete(&server, Some(&format!("Bearer {token}"))).await,
        (204, String::new())
    );
    assert_eq!(
        server
            .verify_in(&token, "serde_json", Ecosystem::Crates)
            .await,
        (false, "token is expired or has been revoked".to_owned())
    );
    // Again: still 204 (nothing to tell a prober).
    assert_eq!(
        delete(&server, Some(&format!("Bearer {token}"))).await.0,
        204
    );
}

#[tokio::test]
async fn refusals_have_crates_io_statuses_and_error_bodies() {
    let server = spawn_doors().await;
    assert_eq!(
        exchange(&server, "not json".into()).await,
        (
            400,
            detail("body is not valid JSON: expected ident at line 1 column 2")
        )
    );
    assert_eq!(
        exchange(&server, "{}".into()).await,
        (
            400,
            detail("body must be a JSON object with a string field `jwt`")
        )
    );
    assert_eq!(
        exchange(&server, r#"{"jwt": 5}"#.into()).await,
        (400, detail("`jwt` must be a string"))
    );
    // A JWT for PyPI's audience is refused at the crates door.
    let pypi_jwt = server.fx.github_jwt(GitHubClaims::new());
    assert_eq!(
        exchange(&server, json!({ "jwt": pypi_jwt }).to_string()).await,
        (401, detail("malformed or invalid token"))
    );
    // A valid token of another repository: no publisher.
    let stranger = server.jwt_for(
        GitHubClaims::new().repository("octo-org/other"),
        CRATES_AUDIENCE,
    );
    let (status, body) = exchange(&server, json!({ "jwt": stranger }).to_string()).await;
    assert_eq!(status, 403, "{body}");
    let text = body["errors"][0]["detail"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("valid token, but no corresponding publisher ("),
        "{text}"
    );
    // The same JWT twice.
    let jwt = server.jwt_for(GitHubClaims::new(), CRATES_AUDIENCE);
    assert_eq!(
        exchange(&server, json!({ "jwt": jwt }).to_string()).await.0,
        200
    );
    assert_eq!(
        exchange(&server, json!({ "jwt": jwt }).to_string()).await,
        (403, detail("invalid token: already used"))
    );

    assert_eq!(
        delete(&server, None).await,
        (
            401,
            detail("Missing or invalid `Authorization` header: expected `Bearer <token>`")
                .to_string()
        )
    );
    let pypi_token = server.mint_pypi().await;
    assert_eq!(
        delete(&server, Some(&format!("Bearer {pypi_token}"))).await,
        (
            401,
            detail("Invalid `Authorization` header: not a Trusted Publishing token").to_string()
        )
    );
    // Not revoked by the refused DELETE.
    assert!(
        server
            .verify_in(&pypi_token, "sampleproject", Ecosystem::Pypi)
            .await
            .0
    );
}

#[tokio::test]
async fn a_disabled_door_is_404() {
    // The default exchange: no door but PyPI's.
    let server = TestServer::start().await;
    let jwt = server.jwt_for(GitHubClaims::new(), "crates.io");
    assert_eq!(
        exchange(&server, json!({ "jwt": jwt }).to_string()).await,
        (404, detail("Not Found"))
    );
}
