//! What every test needs: the store under test (a [`Subject`]) on one of the three
//! targets, a raw connection to inspect Redis, Redis processes, and fixtures.

pub mod raw;

// The fixtures and Redis processes are testkit's (shared with the exchange and server
// tests); re-exported under the names the tests have always used.
pub use trustmint_testkit::publisher_fixtures as fixtures;
pub use trustmint_testkit::redis_processes as processes;

use trustmint_store::{Backend, Backends, RateLimitSettings, StoreSettings};

use processes::SHARED_CLUSTER;
pub use processes::{START_REDIS_HINT, require_local_redis, unique_prefix};
use raw::RawRedis;

pub use processes::LOCAL_REDIS_URL;

/// Where a subject's stores live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Memory,
    Standalone,
    Cluster,
}

/// The stores under test, with what the behaviours need to inspect them.
pub struct Subject {
    pub target: Target,
    pub backends: Backends,
    /// `None` for the memory target.
    pub raw: Option<RawRedis>,
    pub settings: StoreSettings,
    pub rate: RateLimitSettings,
}

/// A unique prefix exactly as long as the default `trustmint:`, for measuring memory
/// per key as production would see it.
pub fn production_length_prefix() -> String {
    let prefix = format!("t{}:", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    debug_assert_eq!(prefix.len(), "trustmint:".len());
    prefix
}

impl Subject {
    /// Default rate limits and store settings on `target`.
    pub async fn new(target: Target) -> Self {
        Self::with(target, RateLimitSettings::default(), |_| {}).await
    }

    /// Custom rate limits and store settings (after the target's own) on `target`.
    pub async fn with(
        target: Target,
        rate: RateLimitSettings,
        tweak: impl FnOnce(&mut StoreSettings),
    ) -> Self {
        let mut settings = StoreSettings {
            key_prefix: unique_prefix(),
            // generous: these tests are about behaviour, the fault tests about time
            timeout_ms: 3_000,
            ..StoreSettings::default()
        };
        let raw = match target {
            Target::Memory => None,
            Target::Standalone => {
                require_local_redis();
                settings.backend = Backend::Redis;
                settings.redis_url = LOCAL_REDIS_URL.to_owned();
                Some(RawRedis::standalone(LOCAL_REDIS_URL).await)
            }
            Target::Cluster => {
                settings.backend = Backend::Redis;
                settings.cluster_urls = SHARED_CLUSTER.urls();
                Some(RawRedis::cluster(&settings.cluster_urls).await)
            }
        };
        tweak(&mut settings);
        let backends = Backends::connect(&settings, &rate).await.expect("connect");
        Self {
            target,
            backends,
            raw,
            settings,
            rate,
        }
    }

    /// Another replica on the same Redis and prefix (a second process, as far as the
    /// stores can tell); `None` for memory, which is not shared.
    pub async fn replica(&self) -> Option<Backends> {
        if self.target == Target::Memory {
            return None;
        }
        Some(
            Backends::connect(&self.settings, &self.rate)
                .await
                .expect("connect replica"),
        )
    }

    /// The full Redis key for `suffix` (e.g. `tok:<id>`).
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.settings.key_prefix)
    }
}
