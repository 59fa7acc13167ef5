//! Storage for trustmint: minted token records with TTLs, the JWT replay guard, the
//! publisher registry, rate limits and the audit stream — in memory (the default, one
//! process) or in Redis (standalone or Cluster, shared by any number of replicas).
//!
//! Start from [`Backends`]: `Backends::memory` or `Backends::connect(&StoreSettings, …)`
//! gives every store behind its trait; wrap `publishers` in a [`PublisherRegistry`] to
//! add the config-declared publishers.

mod backends;
mod candidates_cache;
mod clock;
mod commit;
mod gcra;
mod generation;
pub mod memory;
pub mod redis;
mod registry;
mod settings;
mod stored_publisher;
mod traits;
mod unlimited;

pub use backends::Backends;
pub use clock::{Clock, FixedClock, SystemClock};
pub use commit::{CommitOutcome, ExchangeCommit, ExchangeStore};
pub use generation::PublisherGeneration;
pub use registry::{Candidates, PublisherRegistry, RegistryError};
pub use settings::{Backend, RateLimitSettings, StoreSettings};
pub use traits::{
    AuditLog, Confirmed, Created, PublisherStore, RateDecision, RateLimiter, ReplayGuard,
    StoreError, StoreHealth, TokenRecord, TokenStore,
};
pub use unlimited::UnlimitedRateLimiter;
