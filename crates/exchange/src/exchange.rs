//! The `Exchange` handle: everything the use cases need, wired once by the server.

use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use tracing::Instrument as _;
use trustmint_claims::{IssuerRegistry, JwtVerifier};
use trustmint_publishers::Publisher;
use trustmint_store::{
    AuditLog, ExchangeStore, PublisherRegistry, RateLimiter, ReplayGuard, StoreError, StoreHealth,
    TokenStore,
};
use trustmint_telemetry::{AuditCode, AuditEvent, ExchangeOutcome, Metrics, UNKNOWN_ISSUER_KIND};
use trustmint_tokens::Keyring;

use crate::commit::PendingAbandons;
use crate::draining::Draining;
use crate::replay_release::PendingReleases;
use crate::{Clock, ErrorCode, ExchangeError, ExchangeSettings};

/// The I/O the use cases reach through traits.
#[derive(Debug, Clone)]
pub struct ExchangeBackends {
    /// Minted token records.
    pub tokens: Arc<dyn TokenStore>,
    /// One-time use of OIDC tokens.
    pub replay: Arc<dyn ReplayGuard>,
    /// Config-declared and API-registered publishers.
    pub publishers: Arc<PublisherRegistry>,
    /// mint-token rate limits.
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Store liveness for readiness.
    pub health: Arc<dyn StoreHealth>,
    /// The audit stream, when the store keeps one.
    pub audit: Option<Arc<dyn AuditLog>>,
    /// A mint's writes in one call, when the store offers it (standalone Redis); `None`
    /// makes them one by one through the stores above.
    pub commit: Option<Arc<dyn ExchangeStore>>,
}

/// Pre-registers one series per issuer kind of `issuers` and outcome so dashboards and
/// alerts see zeros instead of missing series. `unknown` is the kind of requests refused
/// before routing (malformed JWT, unknown issuer, rate limit).
fn preregister_exchange_series(metrics: &Metrics, issuers: &IssuerRegistry) {
    let mut kinds: Vec<&'static str> = issuers
        .issuers()
        .iter()
        .map(|issuer| issuer.kind.as_str())
        .collect();
    kinds.push(UNKNOWN_ISSUER_KIND);
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        if kind != UNKNOWN_ISSUER_KIND {
            metrics.preregister_exchange(kind, ExchangeOutcome::Minted);
        }
        for code in ErrorCode::MINT {
            metrics.preregister_exchange(kind, ExchangeOutcome::Refused(code));
        }
    }
}

/// The use cases: mint, verify, revoke, publisher management. Cheap to share behind an
/// `Arc`; every method takes `&self`.
#[derive(Debug)]
pub struct Exchange {
    pub(crate) settings: ExchangeSettings,
    pub(crate) location: String,
    pub(crate) verifier: JwtVerifier,
    /// Swapped whole by [`Exchange::replace_keyring`] (SIGHUP); each use case reads it
    /// once, so a request never mixes two keyrings.
    pub(crate) keyring: RwLock<Arc<Keyring>>,
    pub(crate) backends: ExchangeBackends,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) doors: crate::DoorSettings,
    /// Commits whose outcome was unknown and whose abandon has not reached the store yet.
    pub(crate) pending_abandons: PendingAbandons,
    /// Replay claims of failed exchanges whose release has not reached the store yet.
    pub(crate) pending_releases: PendingReleases,
    pub(crate) draining: Draining,
}

impl Exchange {
    /// Wires the use cases. `location` is the macaroon location (`[server] location`).
    pub fn new(
        settings: ExchangeSettings,
        location: String,
        verifier: JwtVerifier,
        keyring: Keyring,
        backends: ExchangeBackends,
        metrics: Arc<Metrics>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        preregister_exchange_series(&metrics, &verifier.registry());
        Self {
            settings,
            location,
            verifier,
            keyring: RwLock::new(Arc::new(keyring)),
            backends,
            metrics,
            clock,
            doors: crate::DoorSettings::default(),
            pending_abandons: PendingAbandons::default(),
            pending_releases: PendingReleases::default(),
            draining: Draining::new(),
        }
    }

    /// The `aud` CI runners must request.
    pub fn audience(&self) -> &str {
        &self.settings.audience
    }

    /// The macaroon location (`[server] location`): the index this service mints for.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Unix seconds, by the exchange's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Whether trusted publishing is switched on globally.
    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// The settings in force.
    pub fn settings(&self) -> &ExchangeSettings {
        &self.settings
    }

    /// The metrics handles.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The JWT verifier (issuer registry and key cache).
    pub fn verifier(&self) -> &JwtVerifier {
        &self.verifier
    }

    /// `Ok` when the store answers and the service is not draining (for `/readyz` and
    /// gRPC health).
    pub async fn ready(&self) -> Result<(), ExchangeError> {
        if self.draining.is_draining() {
            return Err(ExchangeError::Unavailable {
                public: "this replica is shutting down; retry on another".to_owned(),
                detail: "draining after SIGTERM".to_owned(),
            });
        }
        self.store_call("ping", self.backends.health.ping()).await
    }

    /// The minting keyring in force.
    pub(crate) fn keyring(&self) -> Arc<Keyring> {
        self.keyring
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `keyring` in force for every request that starts from now on (a config
    /// reload); requests in flight finish with the one they read.
    pub fn replace_keyring(&self, keyring: Keyring) {
        *self.keyring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keyring);
    }

    /// Puts `issuers` in force for every token routed from now on (a config reload): a
    /// removed issuer's tokens get the unknown-issuer refusal, an added one's are
    /// verified. Issuers whose key source stays keep their cached JWKS.
    pub fn replace_issuers(&self, issuers: IssuerRegistry) {
        preregister_exchange_series(&self.metrics, &issuers);
        self.verifier.replace_registry(issuers);
    }

    /// Puts `declared` in force as the config-declared publishers (a config reload);
    /// publishers registered through the API are not affected.
    pub fn replace_declared_publishers(&self, declared: Vec<Publisher>) {
        self.backends.publishers.replace_declared(declared);
    }

    /// Key id new tokens are minted with, and every key id that verifies.
    pub fn key_ids(&self) -> (String, Vec<String>) {
        let keyring = self.keyring();
        (keyring.current_key_id().to_owned(), keyring.key_ids())
    }

    /// Starts the shutdown drain: [`Exchange::ready`] fails from now on, while every
    /// use case keeps working for the requests still arriving and in flight.
    pub fn start_draining(&self) {
        self.draining.start();
    }

    /// Changes to `true` when the drain starts (gRPC health watches it).
    pub fn draining(&self) -> tokio::sync::watch::Receiver<bool> {
        self.draining.subscribe()
    }

    /// The Prometheus exposition, with the JWKS cache gauges brought up to date.
    pub fn render_metrics(&self) -> String {
        // A `url_pattern` issuer has one key source per concrete `iss`: report the keys
        // of all its sources and the age of its oldest key set under its one name.
        let mut per_issuer: std::collections::BTreeMap<String, (usize, f64)> =
            std::collections::BTreeMap::new();
        for status in self.verifier.keystore().status() {
            let entry = per_issuer.entry(status.issuer_name).or_default();
            entry.0 += status.keys;
            entry.1 = entry.1.max(status.age.map_or(0.0, |age| age.as_secs_f64()));
        }
        for (issuer_name, (keys, age)) in per_issuer {
            self.metrics.set_jwks_cache(&issuer_name, keys, age);
        }
        self.metrics.render()
    }

    /// Runs one store call in a `store.<op>` span, timing it and counting failures
    /// under `op`.
    pub(crate) async fn store_call<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ExchangeError> {
        // Span names are static in `tracing`; `otel.name` gives the exported span its
        // per-operation name. Only the operation is recorded, never keys or values.
        let span = tracing::info_span!(
            "store.call",
            otel.name = format!("store.{op}").as_str(),
            store.op = op
        );
        let started = Instant::now();
        let result = call.instrument(span).await;
        self.metrics.observe_store_call(op, started.elapsed());
        result.map_err(|error| {
            self.metrics.count_store_error(op);
            tracing::warn!(op, %error, "store call failed");
            ExchangeError::from(error)
        })
    }

    /// Logs an audit event and appends it to the audit stream if there is one. Losing
    /// the stream entry never fails the request: the log line is the record of truth.
    /// An `unavailable` refusal is only logged: it decided nothing on the merits, and
    /// when the store is what failed, appending to that store would keep the client
    /// waiting a second `timeout_ms` for a write that most likely fails too.
    pub(crate) async fn audit(&self, event: AuditEvent) {
        event.log();
        if event.code == Some(AuditCode::Error(ErrorCode::Unavailable)) {
            return;
        }
        if let Some(stream) = &self.backends.audit {
            let fields = event.fields();
            if let Err(error) = self
                .store_call("audit_append", stream.append(&fields))
                .await
            {
                tracing::warn!(
                    code = error.code().as_str(),
                    "audit event not appended to the stream"
                );
            }
        }
    }
}
