//! The exchange's cache of stored publisher candidates, per lookup key, each with the
//! publisher generation it was read at. Serving a hit is safe because the exchange's
//! commit (`ExchangeStore::commit`) refuses to mint unless that generation is still
//! current, and a refusal for lack of a match is only given on fresh data (the exchange
//! asks again with `fresh`). Only stores that hand out generations (standalone Redis)
//! fill it.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use trustmint_publishers::{LookupKey, Publisher};

use crate::PublisherGeneration;

/// Lookup keys kept at once. A lookup key comes from a verified token (any repository
/// can get one), so the cache must be bounded; past this, least recently used go first.
const MAX_CACHED_LOOKUP_KEYS: u64 = 10_000;

/// How long an entry may serve. Correctness never depends on it (generations do); it
/// only lets entries nobody reads any more go.
const CACHED_CANDIDATES_TTL: Duration = Duration::from_secs(300);

/// Stored candidates as read at one generation.
#[derive(Debug)]
pub(crate) struct CachedCandidates {
    pub(crate) generation: PublisherGeneration,
    pub(crate) stored: Vec<Publisher>,
}

/// Bounded, shared by every clone of the registry.
#[derive(Clone, Debug)]
pub(crate) struct CandidatesCache {
    entries: Cache<String, Arc<CachedCandidates>>,
}

impl CandidatesCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(MAX_CACHED_LOOKUP_KEYS)
                .time_to_live(CACHED_CANDIDATES_TTL)
                .build(),
        }
    }

    pub(crate) async fn get(&self, lookup_key: &LookupKey) -> Option<Arc<CachedCandidates>> {
        self.entries.get(lookup_key.as_str()).await
    }

    pub(crate) async fn put(
        &self,
        lookup_key: &LookupKey,
        generation: PublisherGeneration,
        stored: Vec<Publisher>,
    ) {
        self.entries
            .insert(
                lookup_key.as_str().to_owned(),
                Arc::new(CachedCandidates { generation, stored }),
            )
            .await;
    }

    /// Forgets everything (after a write through this registry).
    pub(crate) fn clear(&self) {
        self.entries.invalidate_all();
    }
}
