//! A JWT whose exchange fails *after* the replay claim is released, not burnt: the CI
//! job can retry with the same JWT. Failure is injected by a token store that refuses
//! writes, or by a replay guard whose claim lands but whose answer is lost (as when
//! Redis applies a `SET` and the reply times out); the claims themselves are the real
//! in-memory guard's.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use serde_json::json;
use trustmint_claims::{
    HttpFetcher, IssuerRegistry, IssuerSettings, JwtVerifier, KeyStore, KeyStoreSettings,
    NoopObserver,
};
use trustmint_exchange::{Exchange, ExchangeBackends, ExchangeSettings, MintRequest, SystemClock};
use trustmint_publishers::parse_declaration;
use trustmint_store::{
    Backends, PublisherRegistry, RateLimitSettings, ReplayGuard, StoreError, TokenRecord,
    TokenStore,
};
use trustmint_telemetry::Metrics;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::Keyring;

/// The memory token store, with writes that fail while `failing` is set.
#[derive(Debug)]
struct FlakyTokens {
    inner: Arc<dyn TokenStore>,
    failing: AtomicBool,
}

#[async_trait]
impl TokenStore for FlakyTokens {
    async fn put(&self, record: &TokenRecord, ttl_secs: u64) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                "token_put",
                "injected: store refuses writes",
            ));
        }
        self.inner.put(record, ttl_secs).await
    }
    async fn get(&self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        self.inner.get(token_id).await
    }
    async fn delete(&self, token_id: &str) -> Result<bool, StoreError> {
        self.inner.delete(token_id).await
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The real in-memory guard, whose claims land but answer with an error while
/// `losing_replies` is set.
#[derive(Debug)]
struct LostReplies {
    inner: Arc<dyn ReplayGuard>,
    losing_replies: AtomicBool,
}

#[async_trait]
impl ReplayGuard for LostReplies {
    async fn claim(&self, key: &str, owner: &str, expires_at: i64) -> Result<bool, StoreError> {
        let claimed = self.inner.claim(key, owner, expires_at).await?;
        if self.losing_replies.load(Ordering::SeqCst) {
            return Err(StoreError::new(
                "replay_claim",
                "injected: the claim landed, its reply was lost",
            ));
        }
        Ok(claimed)
    }
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.inner.release(key, owner).await
    }
}

/// An exchange trusting `issuer` for `octo-org/sampleproject`, on the memory backends
/// with `tokens` and `replay` in place of theirs (when given).
fn exchange_with(
    issuer: &TestIssuer,
    tokens: Option<Arc<dyn TokenStore>>,
    replay: Option<Arc<dyn ReplayGuard>>,
) -> Exchange {
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
    let declaration = parse_declaration(&json!({
        "kind": "github", "issuer": issuer.url(), "projects": ["sampleproject"],
        "repository_owner": "octo-org", "repository_owner_id": "92345678",
        "repository_name": "sampleproject", "workflow_filename": "release.yml",
    }))
    .expect("a publisher declaration");
    let publisher = declaration.into_declared_publisher();
    let backends = Backends::memory(&RateLimitSettings::default());
    Exchange::new(
        ExchangeSettings::default(),
        "https://upload.example.org".into(),
        JwtVerifier::new(registry, keystore, "pypi".into()),
        Keyring::ephemeral(),
        ExchangeBackends {
            tokens: tokens.unwrap_or(backends.tokens),
            replay: replay.unwrap_or(backends.replay),
            publishers: Arc::new(PublisherRegistry::new(vec![publisher], backends.publishers)),
            rate_limiter: backends.rate_limiter,
            health: backends.health,
            audit: None,
            commit: None,
        },
        Arc::new(Metrics::new()),
        Arc::new(SystemClock),
    )
}

#[tokio::test]
async fn replay_claim_is_released_when_minting_fails() {
    let issuer = TestIssuer::start().await;
    let backends = Backends::memory(&RateLimitSettings::default());
    let tokens = Arc::new(FlakyTokens {
        inner: backends.tokens.clone(),
        failing: AtomicBool::new(true),
    });
    let exchange = exchange_with(&issuer, Some(tokens.clone()), None);
    let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now()));
    let request = MintRequest {
        oidc_token: jwt.into(),
        client_ip: None,
    };

    // The store refuses the token record: the exchange fails closed…
    let error = exchange.mint(request.clone()).await.unwrap_err();
    assert_eq!(error.code(), "unavailable");
    // …and the JWT is not burnt: a retry is not a replay.
    let error = exchange.mint(request.clone()).await.unwrap_err();
    assert_eq!(
        error.code(),
        "unavailable",
        "retry must not be invalid-reuse-token"
    );

    // Once the store works again, the same JWT mints exactly once.
    tokens.failing.store(false, Ordering::SeqCst);
    let minted = exchange.mint(request.clone()).await.unwrap();
    assert!(minted.token.expose_secret().starts_with("pypi-"));
    assert_eq!(
        exchange.mint(request).await.unwrap_err().code(),
        "invalid-reuse-token"
    );
}

#[tokio::test]
async fn a_claim_whose_reply_was_lost_is_released() {
    let issuer = TestIssuer::start().await;
    let backends = Backends::memory(&RateLimitSettings::default());
    let replay = Arc::new(LostReplies {
        inner: backends.replay.clone(),
        losing_replies: AtomicBool::new(true),
    });
    let exchange = exchange_with(&issuer, None, Some(replay.clone()));
    let request = MintRequest {
        oidc_token: issuer
            .sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now()))
            .into(),
        client_ip: None,
    };

    // The claim landed but the exchange could not know: it fails closed…
    assert_eq!(
        exchange.mint(request.clone()).await.unwrap_err().code(),
        "unavailable"
    );
    // …and undid its own claim, so the retry is not refused as a replay.
    replay.losing_replies.store(false, Ordering::SeqCst);
    let minted = exchange.mint(request.clone()).await.unwrap();
    assert!(minted.token.expose_secret().starts_with("pypi-"));
    assert_eq!(
        exchange.mint(request).await.unwrap_err().code(),
        "invalid-reuse-token"
    );
}
