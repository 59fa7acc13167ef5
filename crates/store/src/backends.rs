//! The set of stores a process runs with, chosen by `[store] backend`.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::memory::{
    MAX_MEMORY_RATE_KEYS, MAX_MEMORY_REPLAY_RECORDS, MemoryHealth, MemoryPublisherStore,
    MemoryRateLimiter, MemoryReplayGuard, MemoryTokenStore,
};
use crate::redis::{
    KeyLayout, RedisAuditLog, RedisExchangeStore, RedisHandle, RedisHealth, RedisPublisherStore,
    RedisRateLimiter, RedisReplayGuard, RedisTokenStore,
};
use crate::settings::{Backend, RateLimitSettings, StoreSettings};
use crate::unlimited::UnlimitedRateLimiter;
use crate::{
    AuditLog, ExchangeStore, PublisherStore, RateLimiter, ReplayGuard, StoreError, StoreHealth,
    TokenStore,
};

/// Every store the exchange and the adapters use, behind their traits.
#[derive(Clone, Debug)]
pub struct Backends {
    /// Minted token records.
    pub tokens: Arc<dyn TokenStore>,
    /// One-time use of OIDC tokens.
    pub replay: Arc<dyn ReplayGuard>,
    /// API-registered publishers (wrap in [`crate::PublisherRegistry`] to add the
    /// config-declared ones).
    pub publishers: Arc<dyn PublisherStore>,
    /// Per-client request limits (always allows when rate limiting is disabled).
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Reachability, for `/readyz` and gRPC health.
    pub health: Arc<dyn StoreHealth>,
    /// The audit stream; `None` for the in-memory backend or `audit_stream_maxlen = 0`.
    pub audit: Option<Arc<dyn AuditLog>>,
    /// One exchange's writes in one call (standalone Redis); `None` where the exchange
    /// makes the individual calls (memory, Redis Cluster).
    pub commit: Option<Arc<dyn ExchangeStore>>,
}

impl Backends {
    /// Everything in process memory, on the system clock.
    pub fn memory(rate: &RateLimitSettings) -> Backends {
        Self::memory_with_clock(rate, Arc::new(SystemClock))
    }

    /// Everything in process memory; expiry of pending publishers and replay records,
    /// and rate limits, follow `clock` (pass the exchange's).
    pub fn memory_with_clock(rate: &RateLimitSettings, clock: Arc<dyn Clock>) -> Backends {
        let rate_limiter: Arc<dyn RateLimiter> = if rate.enabled {
            Arc::new(MemoryRateLimiter::with_clock(
                rate,
                MAX_MEMORY_RATE_KEYS,
                clock.clone(),
            ))
        } else {
            Arc::new(UnlimitedRateLimiter)
        };
        Backends {
            tokens: Arc::new(MemoryTokenStore::default()),
            replay: Arc::new(MemoryReplayGuard::with_clock(
                MAX_MEMORY_REPLAY_RECORDS,
                clock.clone(),
            )),
            publishers: Arc::new(MemoryPublisherStore::with_clock(clock)),
            rate_limiter,
            health: Arc::new(MemoryHealth),
            audit: None,
            commit: None,
        }
    }

    /// The backend `settings` select. For Redis this does not wait for Redis: it fails
    /// only on invalid settings, and a Redis that is down makes calls (and `ping`) fail
    /// with [`StoreError`] until it is back. Must run inside a Tokio runtime.
    pub async fn connect(
        settings: &StoreSettings,
        rate: &RateLimitSettings,
    ) -> Result<Backends, StoreError> {
        Self::connect_with_clock(settings, rate, Arc::new(SystemClock)).await
    }

    /// [`Backends::connect`] with the clock the stores read (pass the exchange's): see
    /// [`Backends::memory_with_clock`]; Redis enforces its own key expiry and rate-limit
    /// time, the clock filters expired pending publishers on read.
    pub async fn connect_with_clock(
        settings: &StoreSettings,
        rate: &RateLimitSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Backends, StoreError> {
        settings
            .validate()
            .map_err(|message| StoreError::new("connect", message))?;
        rate.validate()
            .map_err(|message| StoreError::new("connect", message))?;
        match settings.backend {
            Backend::Memory => Ok(Self::memory_with_clock(rate, clock)),
            Backend::Redis => Ok(Self::redis(settings, rate, clock)?),
        }
    }

    fn redis(
        settings: &StoreSettings,
        rate: &RateLimitSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Backends, StoreError> {
        let handle = RedisHandle::open(settings)?;
        let keys = KeyLayout::new(&settings.key_prefix);
        let rate_limiter: Arc<dyn RateLimiter> = if rate.enabled {
            Arc::new(RedisRateLimiter::new(handle.clone(), keys.clone(), rate))
        } else {
            Arc::new(UnlimitedRateLimiter)
        };
        let audit: Option<Arc<dyn AuditLog>> = (settings.audit_stream_maxlen > 0).then(|| {
            Arc::new(RedisAuditLog::new(
                handle.clone(),
                &keys,
                settings.audit_stream_maxlen,
            )) as Arc<dyn AuditLog>
        });
        let commit: Option<Arc<dyn ExchangeStore>> = handle.is_standalone().then(|| {
            Arc::new(RedisExchangeStore::new(
                handle.clone(),
                keys.clone(),
                rate,
                settings.audit_stream_maxlen,
            )) as Arc<dyn ExchangeStore>
        });
        Ok(Backends {
            tokens: Arc::new(RedisTokenStore::new(handle.clone(), keys.clone())),
            replay: Arc::new(RedisReplayGuard::new(handle.clone(), keys.clone())),
            publishers: Arc::new(RedisPublisherStore::new(handle.clone(), keys, clock)),
            rate_limiter,
            health: Arc::new(RedisHealth::new(handle)),
            audit,
            commit,
        })
    }
}
