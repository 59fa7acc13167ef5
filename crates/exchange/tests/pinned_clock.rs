//! One clock across the store seam: the exchange and the memory backends read the same
//! pinned [`FixedClock`], so the time rules that span both — pending-publisher expiry,
//! the replay window, rate limits — are tested at exact seconds, with no sleeping. The
//! issuer is the real test issuer (signatures and JWKS over HTTP).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use serde_json::json;
use trustmint_claims::{
    HttpFetcher, IssuerRegistry, IssuerSettings, JWT_LEEWAY_SECS, JwtVerifier, KeyStore,
    KeyStoreSettings, NoopObserver, replay_expiry,
};
use trustmint_exchange::{
    Clock, ErrorCode, Exchange, ExchangeBackends, ExchangeError, ExchangeSettings, FixedClock,
    MintRequest, NewPublisher,
};
use trustmint_publishers::{
    GitHubPublisher, PENDING_PUBLISHER_TTL_SECS, PublisherSpec, parse_declaration,
};
use trustmint_store::{Backends, PublisherRegistry, RateDecision, RateLimitSettings};
use trustmint_telemetry::Metrics;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::Keyring;

/// The pinned "now" every test starts at (2023-11-14T22:13:20Z).
const T0: i64 = 1_700_000_000;

/// An exchange trusting `issuer`, on the memory backends, with `clock` on both sides
/// of the store seam. `declared` adds the config publisher for `octo-org/sampleproject`.
fn exchange(
    issuer: &TestIssuer,
    clock: &Arc<FixedClock>,
    rate: &RateLimitSettings,
    declared: bool,
) -> (Exchange, Backends) {
    let registry = IssuerRegistry::new(&[serde_json::from_value::<IssuerSettings>(
        json!({ "url": issuer.url(), "kind": "github" }),
    )
    .expect("an issuer entry")])
    .expect("an issuer registry");
    let settings = KeyStoreSettings::default();
    let keystore = KeyStore::new(
        Arc::new(HttpFetcher::new(&settings).expect("a JWKS fetcher")),
        settings,
        Arc::new(NoopObserver),
    );
    let declared = if declared {
        vec![
            parse_declaration(&json!({
                "kind": "github", "issuer": issuer.url(), "projects": ["sampleproject"],
                "repository_owner": "octo-org", "repository_owner_id": "92345678",
                "repository_name": "sampleproject", "workflow_filename": "release.yml",
            }))
            .expect("a publisher declaration")
            .into_declared_publisher(),
        ]
    } else {
        Vec::new()
    };
    let shared: Arc<dyn Clock> = clock.clone();
    let backends = Backends::memory_with_clock(rate, shared.clone());
    let exchange = Exchange::new(
        ExchangeSettings::default(),
        "https://upload.example.org".into(),
        JwtVerifier::new(registry, keystore, "pypi".into()),
        Keyring::ephemeral(),
        ExchangeBackends {
            tokens: backends.tokens.clone(),
            replay: backends.replay.clone(),
            publishers: Arc::new(PublisherRegistry::new(
                declared,
                backends.publishers.clone(),
            )),
            rate_limiter: backends.rate_limiter.clone(),
            health: backends.health.clone(),
            audit: None,
            commit: None,
        },
        Arc::new(Metrics::new()),
        shared,
    );
    (exchange, backends)
}

fn unlimited() -> RateLimitSettings {
    RateLimitSettings {
        enabled: false,
        ..RateLimitSettings::default()
    }
}

/// A JWT for the default GitHub claims, issued at `now`.
fn jwt(issuer: &TestIssuer, now: i64) -> String {
    issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now))
}

fn request(jwt: &str) -> MintRequest {
    MintRequest {
        oidc_token: jwt.into(),
        client_ip: None,
    }
}

async fn mint_code(exchange: &Exchange, request: MintRequest) -> Result<Vec<String>, ErrorCode> {
    exchange
        .mint(request)
        .await
        .map(|minted| {
            minted
                .projects
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect()
        })
        .map_err(|error| error.code())
}

#[tokio::test]
async fn a_pending_publisher_works_until_its_last_second_then_is_gone() {
    let issuer = TestIssuer::start().await;
    let clock = Arc::new(FixedClock::at(T0));
    let (exchange, _) = exchange(&issuer, &clock, &unlimited(), false);
    let created = exchange
        .create_publisher(NewPublisher {
            spec: PublisherSpec::GitHub(GitHubPublisher {
                repository_owner: "octo-org".into(),
                repository_owner_id: "92345678".into(),
                repository_name: "sampleproject".into(),
                workflow_filename: "release.yml".into(),
                issuer: issuer.url(),
                ..GitHubPublisher::default()
            }),
            projects: vec!["brand-new".into()],
            pending: true,
            policy: Default::default(),
        })
        .await
        .expect("a pending publisher");
    let id = created.publisher.id.to_string();
    assert_eq!(
        created.publisher.expires_at,
        Some(T0 + PENDING_PUBLISHER_TTL_SECS),
        "expiry is set from the pinned clock"
    );

    assert_eq!(
        mint_code(&exchange, request(&jwt(&issuer, T0))).await,
        Ok(vec!["brand-new".to_owned()])
    );

    let last_second = T0 + PENDING_PUBLISHER_TTL_SECS - 1;
    clock.set(last_second);
    assert_eq!(
        mint_code(&exchange, request(&jwt(&issuer, last_second))).await,
        Ok(vec!["brand-new".to_owned()])
    );
    assert_eq!(
        exchange.get_publisher(&id).await.map(|p| p.pending),
        Ok(true)
    );

    let expired = T0 + PENDING_PUBLISHER_TTL_SECS;
    clock.set(expired);
    assert_eq!(
        mint_code(&exchange, request(&jwt(&issuer, expired))).await,
        Err(ErrorCode::InvalidPublisher)
    );
    assert_eq!(
        exchange.get_publisher(&id).await,
        Err(ExchangeError::NotFound(format!(
            "no publisher with id '{id}'"
        )))
    );
    assert_eq!(
        exchange
            .list_publishers("brand-new")
            .await
            .expect("list")
            .len(),
        0
    );
    assert_eq!(
        exchange
            .confirm_publisher(&id)
            .await
            .map(|c| c.publisher.id),
        Err(ExchangeError::NotFound(format!(
            "no pending publisher with id '{id}' (it may have expired)"
        )))
    );
}

#[tokio::test]
async fn a_replayed_jwt_is_refused_for_as_long_as_it_verifies() {
    let issuer = TestIssuer::start().await;
    let clock = Arc::new(FixedClock::at(T0));
    let (exchange, backends) = exchange(&issuer, &clock, &unlimited(), true);
    let claims = GitHubClaims::new().build(&issuer.url(), "pypi", T0);
    let exp = claims["exp"].as_i64().expect("exp");
    let jwt = issuer.sign(&claims);

    assert_eq!(
        mint_code(&exchange, request(&jwt)).await,
        Ok(vec!["sampleproject".to_owned()])
    );
    assert_eq!(
        mint_code(&exchange, request(&jwt)).await,
        Err(ErrorCode::InvalidReuseToken)
    );
    // The last second the JWT still verifies (expired when exp <= now - leeway): the
    // replay record is still there.
    clock.set(exp + JWT_LEEWAY_SECS - 1);
    assert_eq!(
        mint_code(&exchange, request(&jwt)).await,
        Err(ErrorCode::InvalidReuseToken)
    );
    clock.set(exp + JWT_LEEWAY_SECS);
    assert_eq!(
        mint_code(&exchange, request(&jwt)).await,
        Err(ErrorCode::InvalidToken)
    );

    // The guard the exchange wrote to keeps a record until `replay_expiry(exp)` by the
    // same clock, and not a second longer.
    let guard = &backends.replay;
    clock.set(T0);
    assert_eq!(
        guard.claim("k", "first", replay_expiry(exp)).await,
        Ok(true)
    );
    clock.set(replay_expiry(exp) - 1);
    assert_eq!(
        guard.claim("k", "second", replay_expiry(exp)).await,
        Ok(false)
    );
    clock.set(replay_expiry(exp));
    assert_eq!(
        guard.claim("k", "third", replay_expiry(exp) + 60).await,
        Ok(true)
    );
    assert_eq!(
        guard.claim("k", "fourth", replay_expiry(exp) + 60).await,
        Ok(false)
    );
}

#[tokio::test]
async fn rate_limits_refill_by_the_pinned_clock() {
    let issuer = TestIssuer::start().await;
    let clock = Arc::new(FixedClock::at(T0));
    // One request per 1000 s, bursts of 2: nothing refills unless the clock moves.
    let rate = RateLimitSettings {
        enabled: true,
        requests_per_second: 0.001,
        burst: 2,
        ..RateLimitSettings::default()
    };
    let (exchange, backends) = exchange(&issuer, &clock, &rate, true);
    let client = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
    let attempt = |jwt: String| MintRequest {
        oidc_token: jwt.into(),
        client_ip: client,
    };

    for _ in 0..2 {
        assert_eq!(
            mint_code(&exchange, attempt(jwt(&issuer, T0))).await,
            Ok(vec!["sampleproject".to_owned()])
        );
    }
    assert_eq!(
        exchange.mint(attempt(jwt(&issuer, T0))).await.map(|_| ()),
        Err(ExchangeError::RateLimited {
            retry_after_secs: 1000
        })
    );

    clock.advance(999);
    assert_eq!(
        exchange
            .mint(attempt(jwt(&issuer, T0 + 999)))
            .await
            .map(|_| ()),
        Err(ExchangeError::RateLimited {
            retry_after_secs: 1
        })
    );
    clock.advance(1);
    assert_eq!(
        mint_code(&exchange, attempt(jwt(&issuer, T0 + 1000))).await,
        Ok(vec!["sampleproject".to_owned()])
    );
    assert_eq!(
        backends.rate_limiter.check("mint:192.0.2.7").await,
        Ok(RateDecision::Limited {
            retry_after_secs: 1000
        })
    );
}
