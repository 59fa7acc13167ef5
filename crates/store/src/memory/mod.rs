//! Every store trait in process memory: the default backend, for a single replica (state
//! is lost on restart and not shared). Each structure is bounded or expires its entries,
//! so a long-running process does not grow without limit.

mod publishers;
mod rate_limit;
mod replay;
mod tokens;

use async_trait::async_trait;

pub use publishers::MemoryPublisherStore;
pub use rate_limit::{MAX_MEMORY_RATE_KEYS, MemoryRateLimiter};
pub use replay::{MAX_MEMORY_REPLAY_RECORDS, MemoryReplayGuard};
pub use tokens::{MAX_MEMORY_TOKENS, MemoryTokenStore};

use crate::{StoreError, StoreHealth};

/// [`StoreHealth`] of the in-memory backend: always reachable.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryHealth;

#[async_trait]
impl StoreHealth for MemoryHealth {
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
