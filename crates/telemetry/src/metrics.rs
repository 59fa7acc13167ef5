//! Prometheus metrics: one registry per process, handles named after what they count.
//!
//! Label values are always bounded: issuer kinds and configured issuer names, error
//! codes, store operation names, route patterns, gRPC method names. Never a raw `iss`
//! from an untrusted token, a repository, a project or a token id.

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Buckets for request latencies: 0.5 ms … 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets for a token's remaining lifetime at verification: 0 s … 15 min and beyond.
const REMAINING_LIFETIME_BUCKETS: &[f64] = &[
    0.0, 30.0, 60.0, 120.0, 300.0, 450.0, 600.0, 750.0, 900.0, 1800.0, 3600.0,
];

/// Buckets for gateway uploads, which stream whole files: 10 ms … 10 min.
const UPLOAD_BUCKETS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Every metric trustmint exports. Cheap to clone handles out of; share it in an `Arc`.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// `trustmint_exchanges_total{issuer_kind,outcome,code}`: every mint-token outcome.
    pub exchanges: IntCounterVec,
    /// `trustmint_door_exchanges_total{door,outcome,code}`: every exchange by the front
    /// door it came through (`pypi`, `crates`, `npm`, `token_exchange`).
    pub door_exchanges: IntCounterVec,
    /// `trustmint_leaked_tokens_total{label}`: tokens reported by secret scanning
    /// (`true_positive` ones were revoked).
    pub leaked_tokens: IntCounterVec,
    /// `trustmint_exchange_duration_seconds{issuer_kind}`.
    pub exchange_duration: HistogramVec,
    /// `trustmint_verifications_total{outcome}` (`allowed`, `denied`, `error`).
    pub verifications: IntCounterVec,
    /// `trustmint_verify_duration_seconds`.
    pub verify_duration: Histogram,
    /// `trustmint_token_remaining_lifetime_seconds`: lifetime left when a token verifies.
    pub token_remaining_lifetime: Histogram,
    /// `trustmint_jwks_fetches_total{issuer,result}` (`ok`, `error`, `empty`).
    pub jwks_fetches: IntCounterVec,
    /// `trustmint_jwks_cooldown_skips_total{issuer}`: refreshes skipped by the cooldown.
    pub jwks_cooldown_skips: IntCounterVec,
    /// `trustmint_jwks_keys{issuer}`: keys held per issuer.
    pub jwks_keys: IntGaugeVec,
    /// `trustmint_jwks_age_seconds{issuer}`: age of the cached key set.
    pub jwks_age: GaugeVec,
    /// `trustmint_replays_rejected_total`.
    pub replays_rejected: IntCounter,
    /// `trustmint_store_errors_total{op}`.
    pub store_errors: IntCounterVec,
    /// `trustmint_store_duration_seconds{op}`: latency of store calls.
    pub store_duration: HistogramVec,
    /// `trustmint_tokens_minted_total`.
    pub tokens_minted: IntCounter,
    /// `trustmint_tokens_revoked_total`.
    pub tokens_revoked: IntCounter,
    /// `trustmint_rate_limited_total{scope}`.
    pub rate_limited: IntCounterVec,
    /// `trustmint_http_requests_total{route,status}`.
    pub http_requests: IntCounterVec,
    /// `trustmint_http_request_duration_seconds{route}`.
    pub http_duration: HistogramVec,
    /// `trustmint_grpc_requests_total{method,code}`.
    pub grpc_requests: IntCounterVec,
    /// `trustmint_grpc_request_duration_seconds{method}`.
    pub grpc_duration: HistogramVec,
    /// `trustmint_grpc_unauthenticated_total`: calls refused for a missing or wrong
    /// bearer token (refused before any method runs).
    pub grpc_unauthenticated: IntCounter,
    /// `trustmint_publisher_changes_total{action}`.
    pub publisher_changes: IntCounterVec,
    /// `trustmint_config_reloads_total{result}` (`ok`, `error`): SIGHUP reloads.
    pub config_reloads: IntCounterVec,
    /// `trustmint_build_info{version}` = 1.
    pub build_info: IntGaugeVec,
    /// `trustmint_up` = 1 while the process serves.
    pub up: Gauge,
    /// `trustmint_gateway_uploads_total{outcome}`: uploads through the upload gateway.
    pub gateway_uploads: IntCounterVec,
    /// `trustmint_gateway_upload_duration_seconds`: an upload from request to relayed answer.
    pub gateway_upload_duration: Histogram,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    ///
    /// # Panics
    /// Never in practice: names and labels are static and distinct, which is what
    /// registration checks; a clash would be a programming error caught by the tests.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let histogram_vec = |name: &str, help: &str, labels: &[&str], buckets: &[f64]| {
            let metric = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets.to_vec()),
                labels,
            )
            .expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let histogram = |name: &str, help: &str, buckets: &[f64]| {
            let metric =
                Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
                    .expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };
        let counter = |name: &str, help: &str| {
            let metric = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("unique metric");
            metric
        };

        let exchanges = counter_vec(
            "trustmint_exchanges_total",
            "OIDC token exchanges by issuer kind, outcome (success|failure) and error code",
            &["issuer_kind", "outcome", "code"],
        );
        let door_exchanges = counter_vec(
            "trustmint_door_exchanges_total",
            "OIDC token exchanges by front door, outcome (success|failure) and error code",
            &["door", "outcome", "code"],
        );
        let leaked_tokens = counter_vec(
            "trustmint_leaked_tokens_total",
            "Tokens reported leaked by secret scanning, by label (true_positive|false_positive)",
            &["label"],
        );
        let exchange_duration = histogram_vec(
            "trustmint_exchange_duration_seconds",
            "Time to answer a mint-token request",
            &["issuer_kind"],
            LATENCY_BUCKETS,
        );
        let verifications = counter_vec(
            "trustmint_verifications_total",
            "Token verifications by outcome (allowed|denied|error)",
            &["outcome"],
        );
        let verify_duration = histogram(
            "trustmint_verify_duration_seconds",
            "Time to verify an upload token",
            LATENCY_BUCKETS,
        );
        let token_remaining_lifetime = histogram(
            "trustmint_token_remaining_lifetime_seconds",
            "Lifetime a token had left when it verified",
            REMAINING_LIFETIME_BUCKETS,
        );
        let jwks_fetches = counter_vec(
            "trustmint_jwks_fetches_total",
            "JWKS refreshes by configured issuer and result (ok|error|empty)",
            &["issuer", "result"],
        );
        let jwks_cooldown_skips = counter_vec(
            "trustmint_jwks_cooldown_skips_total",
            "Unknown-kid refreshes skipped because the issuer's key set was refreshed recently",
            &["issuer"],
        );
        let jwks_keys = IntGaugeVec::new(
            Opts::new(
                "trustmint_jwks_keys",
                "Keys held in the JWKS cache per issuer",
            ),
            &["issuer"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(jwks_keys.clone()))
            .expect("unique metric");
        let jwks_age = GaugeVec::new(
            Opts::new(
                "trustmint_jwks_age_seconds",
                "Age of the cached key set per issuer",
            ),
            &["issuer"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(jwks_age.clone()))
            .expect("unique metric");
        let replays_rejected = counter(
            "trustmint_replays_rejected_total",
            "OIDC tokens refused because they were already exchanged",
        );
        let store_errors = counter_vec(
            "trustmint_store_errors_total",
            "Store (Redis or memory) calls that failed, by operation",
            &["op"],
        );
        let store_duration = histogram_vec(
            "trustmint_store_duration_seconds",
            "Latency of store calls by operation",
            &["op"],
            LATENCY_BUCKETS,
        );
        let tokens_minted = counter("trustmint_tokens_minted_total", "Upload tokens minted");
        let tokens_revoked = counter(
            "trustmint_tokens_revoked_total",
            "Upload tokens revoked before they expired",
        );
        let rate_limited = counter_vec(
            "trustmint_rate_limited_total",
            "Requests refused by the rate limiter, by scope",
            &["scope"],
        );
        let http_requests = counter_vec(
            "trustmint_http_requests_total",
            "HTTP requests by route pattern and status code",
            &["route", "status"],
        );
        let http_duration = histogram_vec(
            "trustmint_http_request_duration_seconds",
            "HTTP request latency by route pattern",
            &["route"],
            LATENCY_BUCKETS,
        );
        let grpc_requests = counter_vec(
            "trustmint_grpc_requests_total",
            "gRPC requests by method and status code",
            &["method", "code"],
        );
        let grpc_duration = histogram_vec(
            "trustmint_grpc_request_duration_seconds",
            "gRPC request latency by method",
            &["method"],
            LATENCY_BUCKETS,
        );
        let grpc_unauthenticated = counter(
            "trustmint_grpc_unauthenticated_total",
            "gRPC calls refused for a missing or wrong bearer token",
        );
        let publisher_changes = counter_vec(
            "trustmint_publisher_changes_total",
            "Publisher registry changes by action (create|delete|confirm)",
            &["action"],
        );
        let config_reloads = counter_vec(
            "trustmint_config_reloads_total",
            "Configuration reloads (SIGHUP) by result (ok|error)",
            &["result"],
        );
        for result in ["ok", "error"] {
            config_reloads.with_label_values(&[result]);
        }
        let build_info = IntGaugeVec::new(
            Opts::new(
                "trustmint_build_info",
                "Build information; the value is always 1",
            ),
            &["version"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(build_info.clone()))
            .expect("unique metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let up =
            Gauge::new("trustmint_up", "1 while the process is serving").expect("valid metric");
        registry
            .register(Box::new(up.clone()))
            .expect("unique metric");
        up.set(1.0);
        let gateway_uploads = counter_vec(
            "trustmint_gateway_uploads_total",
            "Uploads through the upload gateway by outcome (forwarded|denied|unauthenticated|invalid|too-large|upstream-unreachable|upstream-timeout|error)",
            &["outcome"],
        );
        let gateway_upload_duration = histogram(
            "trustmint_gateway_upload_duration_seconds",
            "Time from an upload request to the answer relayed from the index",
            UPLOAD_BUCKETS,
        );

        Self {
            registry,
            exchanges,
            door_exchanges,
            leaked_tokens,
            exchange_duration,
            verifications,
            verify_duration,
            token_remaining_lifetime,
            jwks_fetches,
            jwks_cooldown_skips,
            jwks_keys,
            jwks_age,
            replays_rejected,
            store_errors,
            store_duration,
            tokens_minted,
            tokens_revoked,
            rate_limited,
            http_requests,
            http_duration,
            grpc_requests,
            grpc_duration,
            grpc_unauthenticated,
            publisher_changes,
            config_reloads,
            build_info,
            up,
            gateway_uploads,
            gateway_upload_duration,
        }
    }

    /// The registry, for adding process-specific collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for the text format except on invalid metric
        // families, which registration already rules out.
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_design_metric_names() {
        let metrics = Metrics::new();
        metrics
            .exchanges
            .with_label_values(&["github", "failure", "invalid-token"])
            .inc();
        metrics.verifications.with_label_values(&["allowed"]).inc();
        metrics
            .jwks_fetches
            .with_label_values(&["github", "ok"])
            .inc();
        metrics.store_errors.with_label_values(&["token_put"]).inc();
        metrics
            .exchange_duration
            .with_label_values(&["github"])
            .observe(0.01);
        metrics.verify_duration.observe(0.001);
        let text = metrics.render();
        for line in [
            "trustmint_exchanges_total{code=\"invalid-token\",issuer_kind=\"github\",outcome=\"failure\"} 1",
            "trustmint_verifications_total{outcome=\"allowed\"} 1",
            "trustmint_jwks_fetches_total{issuer=\"github\",result=\"ok\"} 1",
            "trustmint_store_errors_total{op=\"token_put\"} 1",
            "trustmint_replays_rejected_total 0",
            "trustmint_tokens_revoked_total 0",
            "trustmint_exchange_duration_seconds_count{issuer_kind=\"github\"} 1",
            "trustmint_verify_duration_seconds_count 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(text.contains(&format!(
            "trustmint_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
    }
}
