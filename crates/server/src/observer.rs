//! Feeds JWKS cache events into the Prometheus metrics.

use std::sync::Arc;

use trustmint_claims::{FetchResult, KeyStoreObserver};
use trustmint_telemetry::Metrics;

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
        let label = match result {
            FetchResult::Ok => "ok",
            FetchResult::Error => "error",
            FetchResult::Empty => "empty",
        };
        self.metrics
            .jwks_fetches
            .with_label_values(&[issuer_name, label])
            .inc();
    }

    fn cooldown_skip(&self, issuer_name: &str) {
        self.metrics
            .jwks_cooldown_skips
            .with_label_values(&[issuer_name])
            .inc();
    }
}
