//! The store contracts. The exchange talks only to these traits; `memory` and `redis`
//! implement all of them, and the server picks one by `[store] backend`.

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use trustmint_publishers::{ProjectName, Publisher, PublisherId};

use crate::PublisherGeneration;

/// A backend could not answer: down, timed out, or returned something unreadable.
/// Callers fail closed (HTTP 503 `unavailable`, gRPC UNAVAILABLE); nothing is retried
/// behind their back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store operation '{op}' failed: {detail}")]
pub struct StoreError {
    /// The logical operation (`token_put`, `replay_claim`, …): also the metric label.
    pub op: &'static str,
    /// What went wrong, for logs. Never contains a token or a key.
    pub detail: String,
}

impl StoreError {
    /// Builds an error for `op`.
    pub fn new(op: &'static str, detail: impl Into<String>) -> Self {
        Self {
            op,
            detail: detail.into(),
        }
    }
}

/// What the store keeps about a minted token: enough to verify it and to tell the index
/// who published, and no key material (a copy of the store cannot forge tokens).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The token id (the UUID part of the macaroon identifier).
    #[serde(rename = "i")]
    pub token_id: String,
    /// Publishers whose match produced the token; the first is the one named in the
    /// token's OIDCPublisher caveat.
    #[serde(rename = "p")]
    pub publisher_ids: Vec<PublisherId>,
    /// Projects the token was minted for (normalised).
    #[serde(rename = "j")]
    pub projects: Vec<ProjectName>,
    /// Claims kept for provenance (ref, sha, repository, workflow, …).
    #[serde(rename = "c")]
    pub claims: BTreeMap<String, String>,
    /// Unix seconds.
    #[serde(rename = "n")]
    pub issued_at: i64,
    /// Unix seconds.
    #[serde(rename = "x")]
    pub expires_at: i64,
}

/// Minted token records, each with a TTL; deleting one revokes the token.
#[async_trait]
pub trait TokenStore: Send + Sync + Debug {
    /// Stores `record` for `ttl_secs` seconds (at least 1; 0 is refused with a
    /// `StoreError`), replacing any record with the same id.
    async fn put(&self, record: &TokenRecord, ttl_secs: u64) -> Result<(), StoreError>;
    /// The record of `token_id`, or `None` when it expired or was revoked.
    async fn get(&self, token_id: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Deletes the record; `true` if it existed.
    async fn delete(&self, token_id: &str) -> Result<bool, StoreError>;
}

/// One-time use of OIDC tokens. Keys come from `trustmint_claims::ReplayKey`.
#[async_trait]
pub trait ReplayGuard: Send + Sync + Debug {
    /// Atomically records `key` for `owner` (a value unique to this exchange) until
    /// `expires_at` (unix seconds). `Ok(true)` when this call recorded it, `Ok(false)`
    /// when it was already there (a replay).
    async fn claim(&self, key: &str, owner: &str, expires_at: i64) -> Result<bool, StoreError>;
    /// Forgets `key` if `owner`'s claim still holds it, so a JWT whose exchange failed
    /// after (or while) claiming can be retried — and a release can never drop another
    /// exchange's claim of the same JWT.
    async fn release(&self, key: &str, owner: &str) -> Result<(), StoreError>;
}

/// The result of creating a publisher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The stored publisher (the existing one when the identity was already known).
    pub publisher: Publisher,
    /// `false` when an identical publisher already existed and nothing new was stored
    /// (or only projects were added to it).
    pub created: bool,
}

/// The result of confirming a pending publisher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// This call turned the pending publisher into a normal one.
    Now(Publisher),
    /// It was already confirmed (another caller won).
    Already(Publisher),
    /// No such publisher (or it expired).
    NotFound,
}

/// Publishers registered over the API. Config-declared publishers never reach the
/// store; [`crate::PublisherRegistry`] layers them on top.
#[async_trait]
pub trait PublisherStore: Send + Sync + Debug {
    /// Publishers whose lookup key (`PublisherSpec::lookup_key`) is `lookup_key`,
    /// including pending ones that have not expired.
    async fn candidates(&self, lookup_key: &str) -> Result<Vec<Publisher>, StoreError>;
    /// [`Self::candidates`] and the generation they were read at, when this store's
    /// [`crate::ExchangeStore`] checks generations (so the caller may cache them);
    /// `None` otherwise (the caller must read them every time).
    async fn candidates_with_generation(
        &self,
        lookup_key: &str,
    ) -> Result<(Vec<Publisher>, Option<PublisherGeneration>), StoreError> {
        Ok((self.candidates(lookup_key).await?, None))
    }
    /// One publisher by id (expired pending publishers are not found).
    async fn get(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError>;
    /// Publishers that list `project`.
    async fn list_by_project(&self, project: &ProjectName) -> Result<Vec<Publisher>, StoreError>;
    /// Atomically stores `publisher`, unless one with the same identity key
    /// (`PublisherSpec::identity_key`) and the same `pending` flag exists: then its
    /// project list gains `publisher.projects` and it is returned with `created = false`.
    /// Pending publishers get a TTL until `expires_at`.
    ///
    /// The stored publisher is normalised: projects sorted without duplicates, a pending
    /// one without `expires_at` expires `PENDING_PUBLISHER_TTL_SECS` after `created_at`,
    /// a normal one never. `Created::publisher` is what was stored.
    async fn create(&self, publisher: Publisher) -> Result<Created, StoreError>;
    /// Deletes a publisher and its index entries; returns it if it existed.
    async fn delete(&self, id: &PublisherId) -> Result<Option<Publisher>, StoreError>;
    /// Atomically turns a pending publisher into a normal one (no TTL); exactly one
    /// concurrent caller gets [`Confirmed::Now`]. It then holds the identity's
    /// "active" slot for later creates, unless another active publisher with the same
    /// identity already does (both stay valid).
    async fn confirm(&self, id: &PublisherId) -> Result<Confirmed, StoreError>;
}

/// The verdict of a rate limiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    /// Go ahead.
    Allowed,
    /// Over the limit.
    Limited {
        /// Seconds until a retry can succeed (≥ 1), for `Retry-After`.
        retry_after_secs: u64,
    },
}

/// A per-key request limiter (GCRA: `rate` per second with `burst`).
#[async_trait]
pub trait RateLimiter: Send + Sync + Debug {
    /// Counts one request for `key` (e.g. `mint:<client ip>`) and says whether it may
    /// proceed.
    async fn check(&self, key: &str) -> Result<RateDecision, StoreError>;

    /// Whether this limiter can ever refuse; `false` lets callers skip the call (and
    /// its metrics) entirely.
    fn limits(&self) -> bool {
        true
    }
}

/// Liveness of the backend, for `/readyz` and gRPC health.
#[async_trait]
pub trait StoreHealth: Send + Sync + Debug {
    /// `Ok` when the backend answers within its timeout.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Where audit events go besides the log: a capped stream an index can consume.
#[async_trait]
pub trait AuditLog: Send + Sync + Debug {
    /// Appends one event (flat string fields).
    async fn append(&self, fields: &[(&str, String)]) -> Result<(), StoreError>;
}
