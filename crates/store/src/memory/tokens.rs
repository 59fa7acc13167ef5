//! Token records in process memory, each expiring after its own TTL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::Expiry;
use moka::future::Cache;

use crate::{StoreError, TokenRecord, TokenStore};

/// Most token records kept at once. A token pushed out early by a flood fails
/// verification like a revoked one (fail closed). A live token costs the process about
/// 4 KiB in all (record, replay record, cache overhead; measured by `trustmint-bench`),
/// so this bounds the memory to about 4 GiB. A deployment minting more than this per
/// token lifetime (~1,100 mints/s sustained for 15 min) wants Redis.
pub const MAX_MEMORY_TOKENS: u64 = 1_000_000;

/// A record and the TTL it was stored with.
#[derive(Clone, Debug)]
struct StoredToken {
    record: Arc<TokenRecord>,
    ttl: Duration,
}

/// Expires each entry after the TTL it was put with (re-putting restarts it).
struct TtlOfEntry;

impl Expiry<String, StoredToken> for TtlOfEntry {
    fn expire_after_create(&self, _: &String, value: &StoredToken, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &StoredToken,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// [`TokenStore`] in process memory.
#[derive(Clone, Debug)]
pub struct MemoryTokenStore {
    records: Cache<String, StoredToken>,
}

impl MemoryTokenStore {
    /// An empty store holding at most `max_tokens` records.
    pub fn new(max_tokens: u64) -> Self {
        Self {
            records: Cache::builder()
                .max_capacity(max_tokens)
                .expire_after(TtlOfEntry)
                .build(),
        }
    }
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::new(MAX_MEMORY_TOKENS)
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn put(&self, record: &TokenRecord, ttl_secs: u64) -> Result<(), StoreError> {
        if ttl_secs == 0 {
            return Err(StoreError::new(
                "token_put",
                "ttl must be at least 1 second",
            ));
        }
        let stored = StoredToken {
            record: Arc::new(record.clone()),
            ttl: Duration::from_secs(ttl_secs),
        };
        self.records.insert(record.token_id.clone(), stored).await;
        Ok(())
    }

    async fn get(&self, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .records
            .get(token_id)
            .await
            .map(|stored| stored.record.as_ref().clone()))
    }

    async fn delete(&self, token_id: &str) -> Result<bool, StoreError> {
        Ok(self.records.remove(token_id).await.is_some())
    }
}
