//! The replay guard in process memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};

use crate::clock::{Clock, SystemClock};
use crate::{ReplayGuard, StoreError};

/// Most replay records kept at once. Only JWTs that passed signature verification reach
/// the guard, so filling it takes that many *valid* tokens within their lifetime; past
/// it the oldest records go first (a replay of such an old token would still need an
/// unexpired JWT).
pub const MAX_MEMORY_REPLAY_RECORDS: u64 = 1_000_000;

/// One claim: who made it and until when.
#[derive(Clone, Debug)]
struct Claim {
    owner: String,
    expires_at: i64,
}

/// Evicts a record once its unix second has passed. Eviction only bounds memory: the
/// claim itself checks `expires_at` against the clock, so a pinned clock decides.
struct UntilExpiresAt {
    clock: Arc<dyn Clock>,
}

impl Expiry<String, Claim> for UntilExpiresAt {
    fn expire_after_create(&self, _: &String, claim: &Claim, _: Instant) -> Option<Duration> {
        let remaining = claim.expires_at.saturating_sub(self.clock.now()).max(0);
        Some(Duration::from_secs(u64::try_from(remaining).unwrap_or(0)))
    }
}

/// [`ReplayGuard`] in process memory.
#[derive(Clone, Debug)]
pub struct MemoryReplayGuard {
    claimed: Cache<String, Claim>,
    clock: Arc<dyn Clock>,
}

impl MemoryReplayGuard {
    /// An empty guard on the system clock holding at most `max_records` records.
    pub fn new(max_records: u64) -> Self {
        Self::with_clock(max_records, Arc::new(SystemClock))
    }

    /// An empty guard holding at most `max_records` records, expiring them by `clock`.
    pub fn with_clock(max_records: u64, clock: Arc<dyn Clock>) -> Self {
        Self {
            claimed: Cache::builder()
                .max_capacity(max_records)
                .expire_after(UntilExpiresAt {
                    clock: clock.clone(),
                })
                .build(),
            clock,
        }
    }
}

impl Default for MemoryReplayGuard {
    fn default() -> Self {
        Self::new(MAX_MEMORY_REPLAY_RECORDS)
    }
}

#[async_trait]
impl ReplayGuard for MemoryReplayGuard {
    async fn claim(&self, key: &str, owner: &str, expires_at: i64) -> Result<bool, StoreError> {
        // `and_compute_with` runs one closure at a time per key: of two concurrent
        // claims exactly one sees no live entry and puts its own. A record whose second
        // has come is gone, as its Redis key would be, even before eviction runs.
        let now = self.clock.now();
        let outcome = self
            .claimed
            .entry_by_ref(key)
            .and_compute_with(|existing| async move {
                match existing {
                    Some(entry) if entry.value().expires_at > now => Op::Nop,
                    _ => Op::Put(Claim {
                        owner: owner.to_owned(),
                        expires_at,
                    }),
                }
            })
            .await;
        Ok(matches!(
            outcome,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        ))
    }

    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError> {
        self.claimed
            .entry_by_ref(key)
            .and_compute_with(|existing| async move {
                match existing {
                    Some(claim) if claim.value().owner == owner => Op::Remove,
                    _ => Op::Nop,
                }
            })
            .await;
        Ok(())
    }
}
