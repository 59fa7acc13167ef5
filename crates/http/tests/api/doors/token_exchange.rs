//! RFC 8693's door: `POST /oauth2/token`, errors per RFC 6749 §5.2.

use serde_json::{Value, json};
use trustmint_exchange::Ecosystem;
use trustmint_testkit::claims::GitHubClaims;

use super::{all_doors, spawn_doors};
use crate::support::TestServer;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";

/// POSTs `form` to `/oauth2/token`; asserts every answer is `Cache-Control: no-store`.
async fn token(server: &TestServer, form: &[(&str, &str)]) -> (u16, Value) {
    let response = server
        .client
        .post(format!("{}/oauth2/token", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).expect("form"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or(Value::Null),
    )
}

/// Form fields, in order.
type Form<'a> = Vec<(&'a str, &'a str)>;

fn oauth_error(error: &str, description: &str) -> Value {
    json!({ "error": error, "error_description": description })
}

#[tokio::test]
async fn an_id_token_is_exchanged_for_an_access_token() {
    let server = spawn_doors().await;
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let (status, body) = token(
        &server,
        &[
            ("grant_type", GRANT),
            ("subject_token", &jwt),
            ("subject_token_type", ID_TOKEN),
            ("resource", "https://upload.example.org"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access_token = body["access_token"].as_str().expect("a string").to_owned();
    assert!(access_token.starts_with("pypi-"), "{access_token}");
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "project:sampleproject");
    // The exchange's clock stands still: the whole `token_ttl_secs` is left.
    assert_eq!(body["expires_in"].as_i64(), Some(900), "{body}");
    assert_eq!(
        server
            .verify_in(&access_token, "sampleproject", Ecosystem::Pypi)
            .await,
        (true, String::new())
    );
}

#[tokio::test]
async fn scope_narrows_the_projects() {
    let server = TestServer::with(all_doors(&["sampleproject", "other"]).await, |_| {}).await;
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let (status, body) = token(
        &server,
        &[
            ("grant_type", GRANT),
            ("subject_token", &jwt),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ("scope", "project:Other"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "project:other");
    let access_token = body["access_token"].as_str().expect("a string");
    assert!(
        server
            .verify_in(access_token, "other", Ecosystem::Pypi)
            .await
            .0
    );
    assert_eq!(
        server
            .verify_in(access_token, "sampleproject", Ecosystem::Pypi)
            .await,
        (
            false,
            "project-scoped token is not valid for project: 'sampleproject'".to_owned()
        )
    );
    // A scope naming no project of the publisher refuses the grant.
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    assert_eq!(
        token(
            &server,
            &[
                ("grant_type", GRANT),
                ("subject_token", &jwt),
                ("subject_token_type", ID_TOKEN),
                ("scope", "project:nope"),
            ],
        )
        .await,
        (
            400,
            oauth_error(
                "invalid_grant",
                "valid token, but no corresponding publisher (the trusted publisher matching this token is not a publisher of 'nope')"
            )
        )
    );
}

#[tokio::test]
async fn refusals_are_rfc_6749_errors() {
    let server = spawn_doors().await;
    let jwt = server.fx.github_jwt(GitHubClaims::new());
    let cases: Vec<(Form<'_>, u16, Value)> = vec![
        (
            vec![("subject_token", &jwt), ("subject_token_type", ID_TOKEN)],
            400,
            oauth_error("invalid_request", "`grant_type` is required"),
        ),
        (
            vec![("grant_type", "client_credentials")],
            400,
            oauth_error(
                "unsupported_grant_type",
                "only `urn:ietf:params:oauth:grant-type:token-exchange` is supported",
            ),
        ),
        (
            vec![("grant_type", GRANT), ("subject_token_type", ID_TOKEN)],
            400,
            oauth_error("invalid_request", "`subject_token` is required"),
        ),
        (
            vec![
                ("grant_type", GRANT),
                ("subject_token", &jwt),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
            ],
            400,
            oauth_error(
                "invalid_request",
                "`subject_token_type` must be one of: urn:ietf:params:oauth:token-type:id_token, urn:ietf:params:oauth:token-type:jwt",
            ),
        ),
        (
            vec![
                ("grant_type", GRANT),
                ("subject_token", &jwt),
                ("subject_token_type", ID_TOKEN),
                ("scope", "upload"),
            ],
            400,
            oauth_error(
                "invalid_scope",
                "scope items are `project:<name>`; got 'upload'",
            ),
        ),
        (
            vec![
                ("grant_type", GRANT),
                ("subject_token", &jwt),
                ("subject_token_type", ID_TOKEN),
                ("audience", "https://elsewhere.example"),
            ],
            400,
            oauth_error(
                "invalid_target",
                "`audience` must be 'https://upload.example.org' (the index this service mints for)",
            ),
        ),
        (
            vec![
                ("grant_type", GRANT),
                ("subject_token", "not-a-jwt"),
                ("subject_token_type", ID_TOKEN),
            ],
            400,
            oauth_error("invalid_grant", "malformed JWT"),
        ),
    ];
    for (form, status, body) in cases {
        assert_eq!(token(&server, &form).await, (status, body), "{form:?}");
    }
    // The JWT was never burnt by the refusals above; it works once, then is a replay.
    let form = [
        ("grant_type", GRANT),
        ("subject_token", jwt.as_str()),
        ("subject_token_type", ID_TOKEN),
    ];
    assert_eq!(token(&server, &form).await.0, 200);
    assert_eq!(
        token(&server, &form).await,
        (
            400,
            oauth_error("invalid_grant", "invalid token: already used")
        )
    );
    // JSON instead of a form.
    let response = server
        .client
        .post(format!("{}/oauth2/token", server.url))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        serde_json::from_str::<Value>(&response.text().await.unwrap_or_default())
            .unwrap_or(Value::Null),
        oauth_error(
            "invalid_request",
            "Content-Type must be application/x-www-form-urlencoded"
        )
    );
}
