//! The JWKS keystore: per key source, the last good key set, refreshed on an unknown
//! `kid` with single-flight, a cooldown and a failure backoff.
//!
//! A *key source* is where an issuer's keys come from: its configured `jwks_uri`, or
//! else the OIDC discovery URL of the token's concrete `iss`
//! (`{iss}/.well-known/openid-configuration` → `jwks_uri` → JWKS). Sources live in a
//! moka cache bounded by `max_key_sources` (LRU, so a flood of new pattern-issuer
//! sources evicts old ones instead of being refused admission).
//!
//! On a `kid` miss:
//! * **single-flight** — a per-source tokio mutex serialises refreshes, and whoever gets
//!   it re-checks the cache first, so any number of concurrent misses cause one fetch;
//! * **cooldown** (60 s after a successful refresh) — misses are answered from the cache
//!   (unknown kid → invalid token) and reported to the observer, so unknown kids cannot
//!   force a fetch storm against the issuer;
//! * **failure backoff** (10 s after a failed refresh) — misses answer "keys
//!   unavailable" without fetching again;
//! * any fetch error, or a set without usable keys, keeps the last good set (an empty
//!   set is never cached); a successful refresh replaces the set, so rotated-out keys
//!   disappear then.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use moka::future::Cache;
use moka::policy::EvictionPolicy;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::fetcher::{FetchError, HttpFetcher, JwksFetcher};
use crate::issuer_url::{parse_remote_url, trim_trailing_slash};
use crate::jwks::{KeySet, VerificationKey};

/// Tuning of the keystore. `Default` gives the production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStoreSettings {
    /// After a successful refresh, unknown kids do not refetch for this long (60 s).
    pub refresh_cooldown: Duration,
    /// After a failed refresh, unknown kids do not refetch for this long (10 s).
    pub failure_backoff: Duration,
    /// Bound on each fetch, on top of the fetcher's own timeout (5 s).
    pub fetch_timeout: Duration,
    /// Largest discovery or JWKS body accepted (256 KiB).
    pub max_response_bytes: usize,
    /// Most key sources cached at once (1000); matters for `url_pattern` issuers, whose
    /// every concrete `iss` is its own source.
    pub max_key_sources: u64,
}

impl Default for KeyStoreSettings {
    fn default() -> Self {
        Self {
            refresh_cooldown: Duration::from_secs(60),
            failure_backoff: Duration::from_secs(10),
            fetch_timeout: HttpFetcher::DEFAULT_TIMEOUT,
            max_response_bytes: HttpFetcher::DEFAULT_MAX_RESPONSE_BYTES,
            max_key_sources: 1000,
        }
    }
}

/// Outcome of one key-set refresh, for metrics (`trustmint_jwks_fetches_total{result}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchResult {
    /// A non-empty key set was loaded.
    Ok,
    /// Discovery or JWKS fetch failed, or a document was invalid.
    Error,
    /// The JWKS had no usable key (not cached).
    Empty,
}

impl FetchResult {
    /// Metric label: `ok`, `error`, `empty`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Empty => "empty",
        }
    }
}

/// Hooks for telemetry. Every method has a no-op default.
pub trait KeyStoreObserver: Send + Sync + std::fmt::Debug {
    /// A refresh of `issuer_name`'s key source finished with `result`.
    fn fetched(&self, issuer_name: &str, result: FetchResult) {
        let _ = (issuer_name, result);
    }
    /// A refresh was skipped because the source is in its cooldown.
    fn cooldown_skip(&self, issuer_name: &str) {
        let _ = issuer_name;
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl KeyStoreObserver for NoopObserver {}

/// A snapshot of one key source, for metrics and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySetStatus {
    /// Name of the issuer that first used this source (a bounded metric label).
    pub issuer_name: String,
    /// The JWKS or discovery URL.
    pub source: String,
    /// Usable keys held (0 before the first successful load).
    pub keys: usize,
    /// Time since the held key set was loaded; `None` if none was.
    pub age: Option<Duration>,
}

/// Where to get one issuer's keys from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum KeySource {
    /// A configured JWKS URL.
    Jwks(String),
    /// An OIDC discovery document URL.
    Discovery(String),
}

/// Why a key lookup failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyLookupError {
    /// The source's current key set has no such kid (after a refresh, or in cooldown).
    NotFound,
    /// The kid is not cached and the key set could not be fetched.
    Unavailable(String),
}

/// Shared JWKS cache. Cheap to share behind the `JwtVerifier`.
#[derive(Debug)]
pub struct KeyStore {
    fetcher: Arc<dyn JwksFetcher>,
    settings: KeyStoreSettings,
    observer: Arc<dyn KeyStoreObserver>,
    sources: Cache<KeySource, Arc<SourceState>>,
}

#[derive(Debug)]
struct SourceState {
    issuer_name: String,
    current: RwLock<Option<LoadedKeySet>>,
    refresh: Mutex<RefreshHistory>,
}

#[derive(Debug, Clone)]
struct LoadedKeySet {
    keys: Arc<KeySet>,
    loaded_at: Instant,
}

#[derive(Debug, Default)]
struct RefreshHistory {
    last_success: Option<Instant>,
    last_failure: Option<Instant>,
}

#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error("fetching {what}: {error}")]
    Fetch {
        what: &'static str,
        error: FetchError,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("JWKS has no usable keys")]
    Empty,
}

// === impl KeySource ===

impl KeySource {
    /// The source for a token whose issuer has `jwks_uri` configured (or not) and whose
    /// `iss` is `iss`.
    pub(crate) fn for_issuer(jwks_uri: Option<&str>, iss: &str) -> Self {
        match jwks_uri {
            Some(uri) => Self::Jwks(uri.to_owned()),
            None => Self::Discovery(format!(
                "{}/.well-known/openid-configuration",
                trim_trailing_slash(iss)
            )),
        }
    }

    fn url(&self) -> &str {
        match self {
            Self::Jwks(url) | Self::Discovery(url) => url,
        }
    }
}

// === impl KeyStore ===

impl KeyStore {
    /// A keystore fetching through `fetcher` and reporting to `observer`.
    pub fn new(
        fetcher: Arc<dyn JwksFetcher>,
        settings: KeyStoreSettings,
        observer: Arc<dyn KeyStoreObserver>,
    ) -> Self {
        let sources = Cache::builder()
            .max_capacity(settings.max_key_sources)
            .eviction_policy(EvictionPolicy::lru())
            .build();
        Self {
            fetcher,
            settings,
            observer,
            sources,
        }
    }

    /// One entry per cached key source.
    pub fn status(&self) -> Vec<KeySetStatus> {
        let mut statuses: Vec<KeySetStatus> = self
            .sources
            .iter()
            .map(|(source, state)| {
                let loaded = state.loaded();
                KeySetStatus {
                    issuer_name: state.issuer_name.clone(),
                    source: source.url().to_owned(),
                    keys: loaded.as_ref().map_or(0, |set| set.keys.len()),
                    age: loaded.map(|set| set.loaded_at.elapsed()),
                }
            })
            .collect();
        statuses.sort_by(|a, b| a.source.cmp(&b.source));
        statuses
    }

    /// The settings in force.
    pub fn settings(&self) -> &KeyStoreSettings {
        &self.settings
    }

    /// The key `kid` of `source`, refreshing the source's key set if needed (see the
    /// module docs for the refresh rules). Traced as `jwks.key` (configured issuer name
    /// only: never the token or its kid).
    #[tracing::instrument(name = "jwks.key", skip_all, fields(issuer = issuer_name))]
    pub(crate) async fn key(
        &self,
        issuer_name: &str,
        source: &KeySource,
        kid: &str,
    ) -> Result<Arc<VerificationKey>, KeyLookupError> {
        let state = self
            .sources
            .get_with_by_ref(source, async {
                Arc::new(SourceState {
                    issuer_name: issuer_name.to_owned(),
                    current: RwLock::new(None),
                    refresh: Mutex::new(RefreshHistory::default()),
                })
            })
            .await;
        if let Some(key) = state.cached_key(kid) {
            return Ok(key);
        }

        // Single flight: one refresher per source; the others wait here, then find
        // either the kid, the cooldown or the backoff set by the one that fetched.
        let mut history = state.refresh.lock().await;
        if let Some(key) = state.cached_key(kid) {
            return Ok(key);
        }
        if history
            .last_success
            .is_some_and(|at| at.elapsed() < self.settings.refresh_cooldown)
        {
            self.observer.cooldown_skip(&state.issuer_name);
            return Err(KeyLookupError::NotFound);
        }
        if history
            .last_failure
            .is_some_and(|at| at.elapsed() < self.settings.failure_backoff)
        {
            return Err(KeyLookupError::Unavailable(format!(
                "key set of {} could not be fetched recently; retrying after the backoff",
                state.issuer_name
            )));
        }

        match self.load(source).await {
            Ok(keys) => {
                let now = Instant::now();
                history.last_success = Some(now);
                history.last_failure = None;
                state.replace(LoadedKeySet {
                    keys: Arc::new(keys),
                    loaded_at: now,
                });
                self.observer.fetched(&state.issuer_name, FetchResult::Ok);
                state.cached_key(kid).ok_or(KeyLookupError::NotFound)
            }
            Err(error) => {
                history.last_failure = Some(Instant::now());
                let result = match error {
                    LoadError::Empty => FetchResult::Empty,
                    LoadError::Fetch { .. } | LoadError::Invalid(_) => FetchResult::Error,
                };
                self.observer.fetched(&state.issuer_name, result);
                tracing::warn!(issuer = %state.issuer_name, source = %source.url(), %error, "JWKS refresh failed; keeping the last good key set");
                Err(KeyLookupError::Unavailable(format!(
                    "{}: {error}",
                    state.issuer_name
                )))
            }
        }
    }

    /// Discovery (if needed) and JWKS fetch; a set without usable keys is an error.
    #[tracing::instrument(name = "jwks.fetch", skip_all, fields(source = source.url()))]
    async fn load(&self, source: &KeySource) -> Result<KeySet, LoadError> {
        let jwks_url = match source {
            KeySource::Jwks(url) => url.clone(),
            KeySource::Discovery(url) => {
                let body = self.fetch(url, "discovery document").await?;
                jwks_uri_of(&body)?
            }
        };
        let body = self.fetch(&jwks_url, "JWKS").await?;
        let keys = KeySet::parse(&body).map_err(|error| LoadError::Invalid(error.to_string()))?;
        if keys.is_empty() {
            return Err(LoadError::Empty);
        }
        Ok(keys)
    }

    async fn fetch(&self, url: &str, what: &'static str) -> Result<Vec<u8>, LoadError> {
        let fetched = tokio::time::timeout(self.settings.fetch_timeout, self.fetcher.fetch(url))
            .await
            .unwrap_or(Err(FetchError::Timeout))
            .map_err(|error| LoadError::Fetch { what, error })?;
        // Checked again here so that any fetcher, not only HttpFetcher, is bounded.
        let limit = self.settings.max_response_bytes;
        if fetched.len() > limit {
            return Err(LoadError::Fetch {
                what,
                error: FetchError::TooLarge { limit },
            });
        }
        Ok(fetched)
    }
}

/// The `jwks_uri` of a discovery document; it must be https (or loopback http).
fn jwks_uri_of(body: &[u8]) -> Result<String, LoadError> {
    let document: Value = serde_json::from_slice(body)
        .map_err(|_| LoadError::Invalid("discovery document is not JSON".to_owned()))?;
    let uri = document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| LoadError::Invalid("discovery document has no jwks_uri".to_owned()))?;
    parse_remote_url(uri)
        .map_err(|message| LoadError::Invalid(format!("discovery jwks_uri {message}")))?;
    Ok(uri.to_owned())
}

// === impl SourceState ===

impl SourceState {
    fn loaded(&self) -> Option<LoadedKeySet> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn cached_key(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|set| set.keys.get(kid))
    }

    fn replace(&self, loaded: LoadedKeySet) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(loaded);
    }
}

#[cfg(test)]
#[path = "keystore_tests.rs"]
mod tests;
