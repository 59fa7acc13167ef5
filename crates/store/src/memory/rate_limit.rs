//! GCRA rate limiting in process memory (one replica's view only).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};

use crate::clock::{Clock, SystemClock};
use crate::gcra::{self, GcraLimit, GcraOutcome};
use crate::settings::RateLimitSettings;
use crate::{RateDecision, RateLimiter, StoreError};

/// Most keys (clients) tracked at once. A key is forgotten as soon as its state is back
/// to "no debt", so only clients active within one burst window count; past the cap the
/// least recently used client starts over with a full burst.
pub const MAX_MEMORY_RATE_KEYS: u64 = 100_000;

/// Forgets a key once its theoretical arrival time (µs since the epoch) has passed: from
/// then on, no state and that state mean the same thing.
struct UntilTat {
    clock: Arc<dyn Clock>,
}

impl UntilTat {
    fn remaining(&self, tat: i64) -> Option<Duration> {
        let micros = tat.saturating_sub(self.clock.now_micros()).max(0);
        Some(Duration::from_micros(u64::try_from(micros).unwrap_or(0)))
    }
}

impl Expiry<String, i64> for UntilTat {
    fn expire_after_create(&self, _: &String, tat: &i64, _: Instant) -> Option<Duration> {
        self.remaining(*tat)
    }

    fn expire_after_update(
        &self,
        _: &String,
        tat: &i64,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.remaining(*tat)
    }
}

/// [`RateLimiter`] in process memory.
#[derive(Clone, Debug)]
pub struct MemoryRateLimiter {
    limit: GcraLimit,
    tats: Cache<String, i64>,
    clock: Arc<dyn Clock>,
}

impl MemoryRateLimiter {
    /// A limiter on the system clock for validated `settings`, tracking at most
    /// `max_keys` clients.
    pub fn new(settings: &RateLimitSettings, max_keys: u64) -> Self {
        Self::with_clock(settings, max_keys, Arc::new(SystemClock))
    }

    /// A limiter for validated `settings` that measures time by `clock`, tracking at most
    /// `max_keys` clients.
    pub fn with_clock(settings: &RateLimitSettings, max_keys: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            limit: GcraLimit::from_settings(settings),
            tats: Cache::builder()
                .max_capacity(max_keys)
                .expire_after(UntilTat {
                    clock: clock.clone(),
                })
                .build(),
            clock,
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(&self, key: &str) -> Result<RateDecision, StoreError> {
        let limit = self.limit;
        let now = self.clock.now_micros();
        let outcome = self
            .tats
            .entry_by_ref(key)
            .and_compute_with(|existing| async move {
                let stored = existing.map(|entry| entry.into_value());
                match gcra::decide(limit, stored, now) {
                    GcraOutcome::Allowed { new_tat } => Op::Put(new_tat),
                    GcraOutcome::Limited { .. } => Op::Nop,
                }
            })
            .await;
        let decision = match outcome {
            CompResult::Inserted(_) | CompResult::ReplacedWith(_) => RateDecision::Allowed,
            // Nop: recompute the wait from the state that refused the request.
            CompResult::Unchanged(entry) => {
                gcra::to_decision(gcra::decide(limit, Some(entry.into_value()), now))
            }
            CompResult::StillNone(_) | CompResult::Removed(_) => RateDecision::Allowed,
        };
        Ok(decision)
    }
}
