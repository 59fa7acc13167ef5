//! The store side of one successful exchange, as one call: count the client's request
//! against its rate limit, claim the JWT's replay key, store the token record and append
//! the audit event. On standalone Redis this is one Lua script, so one round trip
//! (`redis/commit.rs`). The memory backend and Redis Cluster (where one exchange's keys
//! live in different slots) have none: the exchange makes the individual calls
//! (`RateLimiter::check`, `ReplayGuard::claim`, `TokenStore::put`, `AuditLog::append`)
//! one after the other, with the same outcomes.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::{PublisherGeneration, StoreError, TokenRecord};

/// What one exchange writes.
#[derive(Clone, Copy, Debug)]
pub struct ExchangeCommit<'a> {
    /// The rate-limit key (`mint:<client ip>`); `None` when the request is not limited
    /// (no client address, or rate limiting off).
    pub rate_key: Option<&'a str>,
    /// The JWT's replay key (`trustmint_claims::ReplayKey`).
    pub replay_key: &'a str,
    /// A value unique to this exchange (see [`ReplayGuard::claim`]).
    pub replay_owner: &'a str,
    /// Unix seconds until the replay claim must hold.
    pub replay_expires_at: i64,
    /// The minted token's record.
    pub record: &'a TokenRecord,
    /// Its lifetime (at least 1).
    pub ttl_secs: u64,
    /// The success audit event, when the store keeps an audit stream.
    pub audit: Option<&'a [(&'a str, String)]>,
    /// The publisher generation the matched publishers were read at, when they came from
    /// a cache: the commit is refused with [`CommitOutcome::PublishersChanged`] unless it
    /// is still current, so a publisher removed on another replica is never honoured.
    pub publishers_read_at: Option<&'a PublisherGeneration>,
}

/// What a commit did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    /// Everything is stored: the token may be handed out. `audit_appended` is `false`
    /// when no event was given or appending it failed (the log line remains).
    Committed {
        /// Whether the audit event reached the stream.
        audit_appended: bool,
    },
    /// Over the rate limit; nothing was written (the limiter's state is unchanged).
    RateLimited {
        /// Seconds until a retry can succeed (≥ 1).
        retry_after_secs: u64,
    },
    /// The JWT was already used; the request was counted, nothing else written.
    Replayed,
    /// The publishers changed since `publishers_read_at`; nothing was written (the
    /// request was not counted either): read them again and retry.
    PublishersChanged,
}

/// One exchange's writes in one call.
#[async_trait]
pub trait ExchangeStore: Send + Sync + Debug {
    /// Applies `commit`: rate check, replay claim, token put, audit append, in that
    /// order, stopping at the first refusal. A failed token put releases the claim (the
    /// JWT is not burnt). An `Err` means the outcome is unknown: the caller mints nothing
    /// and calls [`Self::abandon`].
    async fn commit(&self, commit: &ExchangeCommit<'_>) -> Result<CommitOutcome, StoreError>;

    /// Gives up on a commit whose outcome is unknown (it timed out, or its reply was
    /// lost): undoes it if it ran (the claim, if `owner` still holds it, and the token
    /// record), and turns it into a no-op if it reaches the store later (a frozen Redis
    /// runs it when it thaws, possibly after this call, which arrived on another
    /// connection). Idempotent: retry it until it succeeds.
    async fn abandon(
        &self,
        replay_key: &str,
        owner: &str,
        token_id: &str,
        replay_expires_at: i64,
    ) -> Result<(), StoreError>;
}
