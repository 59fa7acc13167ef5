//! Redis for the end-to-end tests: the machine's Redis at 127.0.0.1:6379 (every test
//! under its own key prefix), `redis-server` processes and 3-master Clusters a test owns,
//! and replicas — several `Application`s sharing one Redis and one keyring.
//!
//! The process helpers are testkit's (`redis_processes`, shared with the store tests):
//! servers on free ports below the ephemeral range, stopped by their pid in `Drop`, and
//! by a watchdog should the test process die without unwinding.

use trustmint::Settings;
use trustmint_store::Backend;
use trustmint_testkit::TestIssuer;

use super::{TestApp, base_settings, spawn_with_settings};

pub use trustmint_testkit::redis_processes as processes;

// Each test binary uses a different subset.
#[allow(unused_imports)]
pub use processes::{
    OwnedRedis, START_REDIS_HINT, TestCluster, free_port, require_local_redis, unique_prefix,
};

pub use processes::LOCAL_REDIS_URL;

/// Key id of the keyring replicas share.
pub const SHARED_KEY_ID: &str = "k1";
/// A fixed 32-byte master secret (base64 of `trustmint-replica-test-secret-32`): every
/// replica must mint and verify with the same keyring.
pub const SHARED_KEY_SECRET: &str = "dHJ1c3RtaW50LXJlcGxpY2EtdGVzdC1zZWNyZXQtMzI=";

/// `store.timeout_ms` of the fault tests: small, so outages show quickly.
pub const FAULT_TIMEOUT_MS: u64 = 300;

/// Switches `settings` to the standalone Redis at `redis_url`, under a fresh key prefix.
pub fn use_redis(settings: &mut Settings, redis_url: &str) {
    settings.store.backend = Backend::Redis;
    settings.store.redis_url = redis_url.to_owned();
    settings.store.cluster_urls = Vec::new();
    settings.store.key_prefix = unique_prefix();
}

/// Switches `settings` to the machine's Redis (failing with a hint if it is not running).
pub fn use_local_redis(settings: &mut Settings) {
    require_local_redis();
    use_redis(settings, LOCAL_REDIS_URL);
}

/// Switches `settings` to the Redis Cluster with seed nodes `urls`, under a fresh prefix.
pub fn use_cluster(settings: &mut Settings, urls: Vec<String>) {
    settings.store.backend = Backend::Redis;
    settings.store.cluster_urls = urls;
    settings.store.key_prefix = unique_prefix();
}

/// Gives `settings` the fixed keyring replicas share (instead of an ephemeral key).
pub fn share_keyring(settings: &mut Settings) {
    settings.keys.current = SHARED_KEY_ID.to_owned();
    settings.keys.secrets = [(SHARED_KEY_ID.to_owned(), SHARED_KEY_SECRET.to_owned())].into();
}

/// Settings for one replica of a shared deployment: the defaults of [`base_settings`]
/// (trusting `issuer`) with the shared keyring; the caller picks the store.
pub fn replica_settings(issuer: &TestIssuer) -> Settings {
    let mut settings = base_settings(issuer);
    share_keyring(&mut settings);
    settings
}

/// Two replicas from the same `settings` (same store, prefix and keyring). Both trust
/// `issuer`, which the first one owns: sign JWTs with `a.github_jwt(…)` and send them to
/// either. The second one's own `issuer` is an idle one nobody trusts.
pub async fn spawn_replicas(issuer: TestIssuer, settings: &Settings) -> (TestApp, TestApp) {
    let a = spawn_with_settings(issuer, settings).await;
    let b = spawn_with_settings(TestIssuer::start().await, settings).await;
    (a, b)
}
