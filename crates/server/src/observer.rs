//! Feeds JWKS cache events into the Prometheus metrics.

use std::sync::Arc;

use trustmint_claims::{FetchResult, KeyStoreObserver};
use trustmint_telemetry::{JwksFetchResult, Metrics};

/// Counts JWKS refreshes and cooldown skips per configured issuer name.
#[derive(Debug, Clone)]
pub(crate) struct MetricsObserver {
    metrics: Arc<Metrics>,
}

impl MetricsObserver {
    /// An observer writing into `metrics`.
    pub(crate) fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl KeyStoreObserver for MetricsObserver {
    fn fetched(&self, issuer_name: &str, result: FetchResult) {
        let result = match result {
            FetchResult::Ok => JwksFetchResult::Ok,
            FetchResult::Error => JwksFetchResult::Error,
            FetchResult::Empty => JwksFetchResult::Empty,
        };
        self.metrics.record_jwks_fetch(issuer_name, result);
    }

    fn cooldown_skip(&self, issuer_name: &str) {
        self.metrics.record_jwks_cooldown_skip(issuer_name);
    }
}
