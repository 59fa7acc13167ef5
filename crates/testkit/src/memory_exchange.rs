//! The use cases on the memory backends: a real [`Exchange`] (real JWT verification
//! against a [`TestIssuer`]'s JWKS, real macaroons, the real in-memory stores) wired
//! the way the server wires it, with a clock the test holds.
//!
//! It lives here, behind `fixtures`, because the exchange crate's own tests, the adapter
//! tests (HTTP, gRPC) and the server tests all need the same wiring; testkit depends on
//! the exchange only when that feature is on, which only dev-dependencies turn on.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value, json};
use trustmint_claims::{
    HttpFetcher, IssuerRegistry, IssuerSettings, JwtVerifier, KeyStore, KeyStoreSettings,
    NoopObserver,
};
use trustmint_exchange::{
    Clock, DoorSettings, Exchange, ExchangeBackends, ExchangeError, ExchangeSettings, MintRequest,
    Minted, Revocation, Verification, VerifyRequest, declared_publisher,
};
use trustmint_store::{Backends, PublisherRegistry, RateLimitSettings};
use trustmint_telemetry::Metrics;
use trustmint_tokens::Keyring;

use crate::TestIssuer;
use crate::claims::GitHubClaims;
use crate::publisher_fixtures::now;

/// The project the default declared publisher may upload to.
pub const PROJECT: &str = "sampleproject";

/// The macaroon location of the exchanges built here.
pub const LOCATION: &str = "https://upload.example.org";

/// A clock that stands still until the test moves it.
#[derive(Debug)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock reading `now` (unix seconds).
    pub fn at(now: i64) -> Self {
        Self(AtomicI64::new(now))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the clock `secs` forward (backward if negative).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// An `[[issuers]]` entry of `kind` at `url`.
pub fn issuer_entry(url: &str, kind: &str) -> Value {
    json!({ "url": url, "kind": kind })
}

/// A `[[publishers]]` entry for the testkit's default GitHub repository
/// (`octo-org/sampleproject`, owner id `92345678`, `release.yml`), for `projects`,
/// restricted to `environment` unless it is empty.
pub fn github_declaration(issuer: &str, projects: &[&str], environment: &str) -> Value {
    json!({
        "kind": "github",
        "issuer": issuer,
        "projects": projects,
        "repository_owner": "octo-org",
        "repository_owner_id": "92345678",
        "repository_name": "sampleproject",
        "workflow_filename": "release.yml",
        "environment": environment,
    })
}

/// Builds a [`MemoryExchange`]. Defaults: trusts the issuer as a GitHub issuer, declares
/// [`github_declaration`] for [`PROJECT`], default `[exchange]` settings, no rate limit,
/// the clock at the real now (JWTs the testkit signs are checked against it).
#[derive(Debug)]
pub struct ExchangeBuilder {
    issuer: TestIssuer,
    issuers: Vec<Value>,
    publishers: Vec<Value>,
    settings: ExchangeSettings,
    doors: DoorSettings,
    keystore: KeyStoreSettings,
    rate: RateLimitSettings,
    now: i64,
}

impl ExchangeBuilder {
    /// The defaults, trusting `issuer` (which the built exchange keeps alive).
    pub fn new(issuer: TestIssuer) -> Self {
        let url = issuer.url();
        Self {
            issuers: vec![issuer_entry(&url, "github")],
            publishers: vec![github_declaration(&url, &[PROJECT], "")],
            issuer,
            settings: ExchangeSettings::default(),
            doors: DoorSettings::default(),
            keystore: KeyStoreSettings::default(),
            rate: RateLimitSettings {
                enabled: false,
                ..RateLimitSettings::default()
            },
            now: now(),
        }
    }

    /// Starts a fresh test issuer and trusts it.
    pub async fn start() -> Self {
        Self::new(TestIssuer::start().await)
    }

    /// Trusts exactly `issuers` (`[[issuers]]` entries) instead.
    pub fn issuers(mut self, issuers: Vec<Value>) -> Self {
        self.issuers = issuers;
        self
    }

    /// Declares exactly `publishers` (`[[publishers]]` entries) instead.
    pub fn publishers(mut self, publishers: Vec<Value>) -> Self {
        self.publishers = publishers;
        self
    }

    /// Adjusts the `[exchange]` settings.
    pub fn settings(mut self, adjust: impl FnOnce(&mut ExchangeSettings)) -> Self {
        adjust(&mut self.settings);
        self
    }

    /// Adjusts the other front doors' settings (`[crates]`, `[npm]`, `[token_exchange]`;
    /// all off by default, as in the server).
    pub fn doors(mut self, adjust: impl FnOnce(&mut DoorSettings)) -> Self {
        adjust(&mut self.doors);
        self
    }

    /// Adjusts the JWKS cache's settings (the server sets `refresh_cooldown` from
    /// `[exchange] jwks_refresh_cooldown_secs`).
    pub fn keystore(mut self, adjust: impl FnOnce(&mut KeyStoreSettings)) -> Self {
        adjust(&mut self.keystore);
        self
    }

    /// Rate limits mint requests with `rate`.
    pub fn rate_limit(mut self, rate: RateLimitSettings) -> Self {
        self.rate = rate;
        self
    }

    /// Starts the clock at `now` instead of the real now.
    pub fn clock_at(mut self, now: i64) -> Self {
        self.now = now;
        self
    }

    /// Wires the exchange. Panics on invalid issuers or declarations (a broken fixture).
    pub fn build(self) -> MemoryExchange {
        let issuers: Vec<IssuerSettings> = self
            .issuers
            .iter()
            .map(|entry| serde_json::from_value(entry.clone()).expect("an [[issuers]] entry"))
            .collect();
        let registry = IssuerRegistry::new(&issuers).expect("a valid issuer registry");
        let declared = self
            .publishers
            .iter()
            // As the server declares them: a custom issuer's publisher gets the claim
            // its tokens are looked up by.
            .map(|entry| {
                declared_publisher(&registry, entry)
                    .expect("a valid [[publishers]] entry of a trusted issuer")
            })
            .collect();
        let keystore_settings = self.keystore;
        let keystore = KeyStore::new(
            Arc::new(HttpFetcher::new(&keystore_settings).expect("a JWKS fetcher")),
            keystore_settings,
            Arc::new(NoopObserver),
        );
        let verifier = JwtVerifier::new(registry, keystore, self.settings.audience.clone());
        let backends = Backends::memory(&self.rate);
        let clock = Arc::new(FixedClock::at(self.now));
        let metrics = Arc::new(Metrics::new());
        let exchange = Exchange::new(
            self.settings,
            LOCATION.to_owned(),
            verifier,
            Keyring::ephemeral(),
            ExchangeBackends {
                tokens: backends.tokens,
                replay: backends.replay,
                publishers: Arc::new(PublisherRegistry::new(declared, backends.publishers)),
                rate_limiter: backends.rate_limiter,
                health: backends.health,
                audit: None,
                commit: None,
            },
            metrics.clone(),
            clock.clone(),
        )
        .with_doors(self.doors);
        MemoryExchange {
            exchange: Arc::new(exchange),
            issuer: self.issuer,
            clock,
            metrics,
        }
    }
}

/// A wired exchange, the issuer it trusts and its clock.
#[derive(Debug)]
pub struct MemoryExchange {
    /// The use cases.
    pub exchange: Arc<Exchange>,
    /// The trusted issuer: sign JWTs with it.
    pub issuer: TestIssuer,
    /// The exchange's clock.
    pub clock: Arc<FixedClock>,
    /// The exchange's metrics.
    pub metrics: Arc<Metrics>,
}

impl MemoryExchange {
    /// A JWT for `claims`, issued now (by the exchange's clock) for audience `pypi`.
    pub fn github_jwt(&self, claims: GitHubClaims) -> String {
        self.jwt_for(claims.build(&self.issuer.url(), "pypi", self.clock.now()))
    }

    /// `claims` signed by the issuer.
    pub fn jwt_for(&self, claims: Value) -> String {
        self.issuer.sign(&claims)
    }

    /// Mints with `jwt`, from no particular client address.
    pub async fn mint(&self, jwt: &str) -> Result<Minted, ExchangeError> {
        self.mint_from(jwt, None).await
    }

    /// Mints with `jwt` from `client_ip`.
    // `into()`: the request's token type is the OIDC token's own (a secret newtype).
    #[allow(clippy::useless_conversion)]
    pub async fn mint_from(
        &self,
        jwt: &str,
        client_ip: Option<IpAddr>,
    ) -> Result<Minted, ExchangeError> {
        let request = MintRequest {
            oidc_token: jwt.to_owned().into(),
            client_ip,
        };
        self.exchange.mint(request).await
    }

    /// Mints with the default GitHub claims; panics unless that succeeds.
    pub async fn mint_default(&self) -> Minted {
        let jwt = self.github_jwt(GitHubClaims::new());
        self.mint(&jwt).await.expect("the default claims mint")
    }

    /// Verifies `token` for `project`.
    pub async fn verify(&self, token: &str, project: &str) -> Result<Verification, ExchangeError> {
        self.exchange
            .verify(VerifyRequest {
                token: token.into(),
                project: project.to_owned(),
            })
            .await
    }

    /// Revokes `token` (as presented by a client with no particular address).
    pub async fn revoke(&self, token: &str) -> Result<Revocation, ExchangeError> {
        self.exchange.revoke(&token.into(), None).await
    }
}
