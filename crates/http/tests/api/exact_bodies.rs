//! The fixed JSON bodies byte for byte, as PyPI and its clients see them (compact, no
//! whitespace): the audience, its 403 when trusted publishing is off, and the health
//! and readiness answers probes match on.

use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::TestServer;

/// GETs `path` and returns the status and the body text, unparsed.
async fn text_of(server: &TestServer, path: &str) -> (u16, String) {
    let response = server
        .client
        .get(format!("{}{path}", server.url))
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

#[tokio::test]
async fn the_audience_body_is_pypis_byte_for_byte() {
    let server = TestServer::start().await;
    assert_eq!(
        text_of(&server, "/_/oidc/audience").await,
        (200, r#"{"audience":"pypi"}"#.to_owned())
    );
    let builder = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.audience = "testpypi".into());
    let testpypi = TestServer::with(builder, |_| {}).await;
    assert_eq!(
        text_of(&testpypi, "/_/oidc/audience").await,
        (200, r#"{"audience":"testpypi"}"#.to_owned())
    );
    let builder = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.enabled = false);
    let disabled = TestServer::with(builder, |_| {}).await;
    assert_eq!(
        text_of(&disabled, "/_/oidc/audience").await,
        (
            403,
            r#"{"message":"Trusted publishing functionality not enabled"}"#.to_owned()
        )
    );
}

#[tokio::test]
async fn health_and_readiness_bodies_are_exact() {
    let server = TestServer::start().await;
    assert_eq!(
        text_of(&server, "/healthz").await,
        (200, r#"{"status":"ok"}"#.to_owned())
    );
    assert_eq!(
        text_of(&server, "/readyz").await,
        (200, r#"{"status":"ready"}"#.to_owned())
    );
}
