//! The client address that mint requests are rate limited by: the socket peer, unless
//! the peer is a trusted proxy; then the rightmost `X-Forwarded-For` hop that is not a
//! trusted proxy. Observed through the limiter (burst 1): a second request from the
//! same client is `rate-limited`, from another client it is not.

use trustmint_store::RateLimitSettings;
use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::{Answer, TestServer};

async fn limited(trusted_proxies: &[&str]) -> TestServer {
    let builder = ExchangeBuilder::start()
        .await
        .rate_limit(RateLimitSettings {
            enabled: true,
            requests_per_second: 0.1,
            burst: 1,
            trusted_proxies: Vec::new(),
        });
    let proxies = trusted_proxies
        .iter()
        .map(|net| net.parse().expect("a network"))
        .collect();
    TestServer::with(builder, |state| {
        state.trusted_proxies = std::sync::Arc::new(proxies);
    })
    .await
}

/// A mint request (a malformed JWT: the limit runs first) from `forwarded_for`.
async fn from(server: &TestServer, forwarded_for: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = forwarded_for
        .map(|value| ("x-forwarded-for", value))
        .into_iter()
        .collect();
    server
        .post_with("/_/oidc/mint-token", r#"{"token":"x"}"#, &headers)
        .await
}

fn code(answer: &Answer) -> &str {
    answer.body["errors"][0]["code"].as_str().expect("a code")
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let server = limited(&[]).await;
    assert_eq!(
        code(&from(&server, Some("203.0.113.1")).await),
        "invalid-payload"
    );
    // Another claimed client, same peer: the same bucket.
    assert_eq!(
        code(&from(&server, Some("203.0.113.2")).await),
        "rate-limited"
    );
    assert_eq!(code(&from(&server, None).await), "rate-limited");
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_picks_the_client_bucket() {
    let server = limited(&["127.0.0.0/8", "10.0.0.0/8"]).await;
    assert_eq!(
        code(&from(&server, Some("203.0.113.1")).await),
        "invalid-payload"
    );
    assert_eq!(
        code(&from(&server, Some("203.0.113.2")).await),
        "invalid-payload"
    );
    assert_eq!(
        code(&from(&server, Some("203.0.113.1")).await),
        "rate-limited"
    );
    // Trusted hops on the right are skipped; the rightmost untrusted one is the client.
    assert_eq!(
        code(&from(&server, Some("203.0.113.2, 10.1.2.3")).await),
        "rate-limited"
    );
    // A spoofed leftmost hop does not change the client.
    assert_eq!(
        code(&from(&server, Some("198.51.100.9, 203.0.113.1")).await),
        "rate-limited"
    );
    // An unparsable hop ends the trusted chain: the hop to its right is the client.
    assert_eq!(
        code(&from(&server, Some("garbage, 10.9.9.9")).await),
        "invalid-payload",
        "10.9.9.9 is the client"
    );
    // No header: the trusted peer itself.
    assert_eq!(code(&from(&server, None).await), "invalid-payload");
    assert_eq!(code(&from(&server, None).await), "rate-limited");
}
