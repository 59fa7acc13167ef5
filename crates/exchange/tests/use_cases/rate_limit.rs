//! The mint rate limit: per client address, a burst then a sustained rate; the refusal
//! says honestly when to retry. Requests without a client address are not limited
//! (the adapters always pass one; in-process callers may not).

use std::net::IpAddr;

use trustmint_store::RateLimitSettings;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, MemoryExchange};

use crate::support::assert_error;

const BURST: u32 = 3;
/// One request per 10 s once the burst is spent: no test runs that long.
const REQUESTS_PER_SECOND: f64 = 0.1;

async fn limited() -> MemoryExchange {
    ExchangeBuilder::start()
        .await
        .rate_limit(RateLimitSettings {
            enabled: true,
            requests_per_second: REQUESTS_PER_SECOND,
            burst: BURST,
            trusted_proxies: Vec::new(),
        })
        .build()
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().expect("an IP address"))
}

#[tokio::test]
async fn the_mint_past_the_burst_is_rate_limited_with_an_honest_retry_after() {
    let fx = limited().await;
    for attempt in 0..BURST {
        let jwt = fx.github_jwt(GitHubClaims::new());
        fx.mint_from(&jwt, ip("192.0.2.7"))
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt} is inside the burst: {e:?}"));
    }
    let jwt = fx.github_jwt(GitHubClaims::new());
    let error = fx
        .mint_from(&jwt, ip("192.0.2.7"))
        .await
        .expect_err("past the burst");
    assert_eq!(error.code().to_string(), "rate-limited");
    let retry_after = match &error {
        trustmint_exchange::ExchangeError::RateLimited { retry_after_secs } => *retry_after_secs,
        other => panic!("{other:?}"),
    };
    assert!((1..=10).contains(&retry_after), "retry after {retry_after}");
    assert_eq!(
        error.description(),
        format!("too many token requests from this client; retry in {retry_after} s")
    );
    // The refused request did not burn the JWT: from another address it mints.
    fx.mint_from(&jwt, ip("192.0.2.8"))
        .await
        .expect("another client has its own budget");
}

#[tokio::test]
async fn the_limit_runs_before_the_jwt_is_looked_at() {
    let fx = limited().await;
    for _ in 0..BURST {
        let _ = fx.mint_from("not-a-jwt", ip("198.51.100.1")).await;
    }
    let error = fx
        .mint_from("not-a-jwt", ip("198.51.100.1"))
        .await
        .expect_err("limited");
    assert_eq!(error.code().to_string(), "rate-limited");
}

#[tokio::test]
async fn requests_without_a_client_address_are_not_limited() {
    let fx = limited().await;
    for _ in 0..BURST + 2 {
        assert_error(
            fx.mint("not-a-jwt").await,
            "invalid-payload",
            "malformed JWT",
        );
    }
}
