//! Storage for trustmint: minted token records with TTLs, the JWT replay guard, the
//! publisher registry, rate limits and the audit stream — in memory (the default, one
//! process) or in Redis (standalone or Cluster, shared by any number of replicas).

mod traits;

pub use traits::{
    AuditLog, Confirmed, Created, PublisherStore, RateDecision, RateLimiter, ReplayGuard,
    StoreError, StoreHealth, TokenRecord, TokenStore,
};
