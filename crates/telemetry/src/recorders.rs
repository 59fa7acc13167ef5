//! Typed recording: one method per thing that happened, so call sites name the event and
//! its typed outcome instead of passing label arrays. The label order of each metric is
//! spelled here and in its registration only (a wrong count would panic in
//! `with_label_values`).

use std::time::Duration;

use crate::{ErrorCode, Metrics};

/// The `issuer_kind` label of mint-token requests refused before routing (unreadable
/// body, malformed JWT, unknown issuer, rate limit): no configured issuer is known.
pub const UNKNOWN_ISSUER_KIND: &str = "unknown";

/// How a mint-token request ended (`outcome` and `code` of `trustmint_exchanges_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeOutcome {
    /// A token was minted.
    Minted,
    /// The request was refused with this wire code.
    Refused(ErrorCode),
}

impl ExchangeOutcome {
    fn labels(self) -> (&'static str, &'static str) {
        match self {
            ExchangeOutcome::Minted => ("success", ""),
            ExchangeOutcome::Refused(code) => ("failure", code.as_str()),
        }
    }
}

/// How a verification ended (`outcome` of `trustmint_verifications_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// The token may upload to the project.
    Allowed,
    /// It may not.
    Denied,
    /// The request was malformed or a backend failed.
    Error,
}

impl VerifyOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOutcome::Allowed => "allowed",
            VerifyOutcome::Denied => "denied",
            VerifyOutcome::Error => "error",
        }
    }
}

/// A change to the publisher registry (`action` of `trustmint_publisher_changes_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublisherChange {
    /// A publisher was created.
    Create,
    /// A publisher was deleted.
    Delete,
    /// A pending publisher was confirmed.
    Confirm,
}

impl PublisherChange {
    fn as_str(self) -> &'static str {
        match self {
            PublisherChange::Create => "create",
            PublisherChange::Delete => "delete",
            PublisherChange::Confirm => "confirm",
        }
    }
}

/// How a JWKS refresh ended (`result` of `trustmint_jwks_fetches_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwksFetchResult {
    /// Keys were fetched.
    Ok,
    /// The fetch failed.
    Error,
    /// The issuer answered with no usable key.
    Empty,
}

impl JwksFetchResult {
    fn as_str(self) -> &'static str {
        match self {
            JwksFetchResult::Ok => "ok",
            JwksFetchResult::Error => "error",
            JwksFetchResult::Empty => "empty",
        }
    }
}

/// A secret-scanning verdict on a reported token (`label` of
/// `trustmint_leaked_tokens_total`, and the answer to the scanner).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeakLabel {
    /// A genuine trustmint token: revoked.
    TruePositive,
    /// Not one of ours.
    FalsePositive,
}

impl LeakLabel {
    /// The label value (GitHub's own words).
    pub fn as_str(self) -> &'static str {
        match self {
            LeakLabel::TruePositive => "true_positive",
            LeakLabel::FalsePositive => "false_positive",
        }
    }
}

impl Metrics {
    /// Creates the `trustmint_door_exchanges_total` series of `door` at zero.
    pub fn preregister_door_exchange(&self, door: &str) {
        let (outcome, code) = ExchangeOutcome::Minted.labels();
        self.door_exchanges
            .with_label_values(&[door, outcome, code]);
    }

    /// Counts one exchange by the front door it came through (`pypi`, `crates`, `npm`,
    /// `token_exchange`); [`Metrics::record_exchange`] counts the same exchange by issuer.
    pub fn record_door_exchange(&self, door: &str, outcome: ExchangeOutcome) {
        let (label, code) = outcome.labels();
        self.door_exchanges
            .with_label_values(&[door, label, code])
            .inc();
    }

    /// Counts one token reported by secret scanning, by whether it was one of ours.
    pub fn record_leaked_token(&self, label: LeakLabel) {
        self.leaked_tokens
            .with_label_values(&[label.as_str()])
            .inc();
    }

    /// Creates the `trustmint_exchanges_total` series for `issuer_kind` and `outcome` at
    /// zero, so dashboards see zeros instead of missing series.
    pub fn preregister_exchange(&self, issuer_kind: &str, outcome: ExchangeOutcome) {
        let (outcome, code) = outcome.labels();
        self.exchanges
            .with_label_values(&[issuer_kind, outcome, code]);
    }

    /// Counts one mint-token outcome, and what follows from it: a minted token, a
    /// rejected replay, a rate-limited client.
    pub fn record_exchange(&self, issuer_kind: &str, outcome: ExchangeOutcome) {
        let (label, code) = outcome.labels();
        self.exchanges
            .with_label_values(&[issuer_kind, label, code])
            .inc();
        match outcome {
            ExchangeOutcome::Minted => self.tokens_minted.inc(),
            ExchangeOutcome::Refused(ErrorCode::InvalidReuseToken) => self.replays_rejected.inc(),
            ExchangeOutcome::Refused(ErrorCode::RateLimited) => {
                self.rate_limited.with_label_values(&["mint"]).inc();
            }
            ExchangeOutcome::Refused(_) => {}
        }
    }

    /// Times one mint-token request.
    pub fn observe_exchange_duration(&self, issuer_kind: &str, elapsed: Duration) {
        self.exchange_duration
            .with_label_values(&[issuer_kind])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts and times one verification.
    pub fn record_verification(&self, outcome: VerifyOutcome, elapsed: Duration) {
        self.verifications
            .with_label_values(&[outcome.as_str()])
            .inc();
        self.verify_duration.observe(elapsed.as_secs_f64());
    }

    /// The lifetime, in seconds, a token had left when it verified.
    pub fn observe_remaining_lifetime(&self, remaining_secs: i64) {
        self.token_remaining_lifetime
            .observe(remaining_secs.max(0) as f64);
    }

    /// Times one store call under its operation name.
    pub fn observe_store_call(&self, op: &str, elapsed: Duration) {
        self.store_duration
            .with_label_values(&[op])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one failed store call under its operation name.
    pub fn count_store_error(&self, op: &str) {
        self.store_errors.with_label_values(&[op]).inc();
    }

    /// Counts one change to the publisher registry.
    pub fn record_publisher_change(&self, change: PublisherChange) {
        self.publisher_changes
            .with_label_values(&[change.as_str()])
            .inc();
    }

    /// Counts one JWKS refresh of the configured issuer `issuer_name`.
    pub fn record_jwks_fetch(&self, issuer_name: &str, result: JwksFetchResult) {
        self.jwks_fetches
            .with_label_values(&[issuer_name, result.as_str()])
            .inc();
    }

    /// Counts one refresh skipped by the cooldown.
    pub fn record_jwks_cooldown_skip(&self, issuer_name: &str) {
        self.jwks_cooldown_skips
            .with_label_values(&[issuer_name])
            .inc();
    }

    /// Sets the JWKS cache gauges of `issuer_name`: keys held and age of the key set.
    pub fn set_jwks_cache(&self, issuer_name: &str, keys: usize, age_secs: f64) {
        self.jwks_keys
            .with_label_values(&[issuer_name])
            .set(i64::try_from(keys).unwrap_or(i64::MAX));
        self.jwks_age
            .with_label_values(&[issuer_name])
            .set(age_secs);
    }

    /// Counts and times one HTTP request by route pattern and status code.
    pub fn record_http_request(&self, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .with_label_values(&[route, status.to_string().as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts and times one upload through the upload gateway by its outcome label
    /// (`uploaded`, `denied`, `too-large`, `upstream-unreachable`, …).
    pub fn record_gateway_upload(&self, outcome: &'static str, elapsed: Duration) {
        self.gateway_uploads.with_label_values(&[outcome]).inc();
        self.gateway_upload_duration.observe(elapsed.as_secs_f64());
    }

    /// Counts and times one gRPC call by method and status code name (`OK`, …).
    pub fn record_grpc_request(&self, method: &str, code: &str, elapsed: Duration) {
        self.grpc_requests.with_label_values(&[method, code]).inc();
        self.grpc_duration
            .with_label_values(&[method])
            .observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_outcomes_count_their_consequences() {
        let metrics = Metrics::new();
        metrics.record_exchange("github", ExchangeOutcome::Minted);
        metrics.record_exchange(
            "github",
            ExchangeOutcome::Refused(ErrorCode::InvalidReuseToken),
        );
        metrics.record_exchange("unknown", ExchangeOutcome::Refused(ErrorCode::RateLimited));
        metrics.preregister_exchange("gitlab", ExchangeOutcome::Refused(ErrorCode::NotEnabled));
        let text = metrics.render();
        for line in [
            "trustmint_exchanges_total{code=\"\",issuer_kind=\"github\",outcome=\"success\"} 1",
            "trustmint_exchanges_total{code=\"invalid-reuse-token\",issuer_kind=\"github\",outcome=\"failure\"} 1",
            "trustmint_exchanges_total{code=\"rate-limited\",issuer_kind=\"unknown\",outcome=\"failure\"} 1",
            "trustmint_exchanges_total{code=\"not-enabled\",issuer_kind=\"gitlab\",outcome=\"failure\"} 0",
            "trustmint_tokens_minted_total 1",
            "trustmint_replays_rejected_total 1",
            "trustmint_rate_limited_total{scope=\"mint\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }

    #[test]
    fn door_recorders_label_the_door_and_the_verdict() {
        let metrics = Metrics::new();
        metrics.preregister_door_exchange("npm");
        metrics.record_door_exchange("crates", ExchangeOutcome::Minted);
        metrics.record_door_exchange(
            "token_exchange",
            ExchangeOutcome::Refused(ErrorCode::InvalidPublisher),
        );
        metrics.record_leaked_token(LeakLabel::TruePositive);
        metrics.record_leaked_token(LeakLabel::FalsePositive);
        metrics.record_leaked_token(LeakLabel::FalsePositive);
        let text = metrics.render();
        for line in [
            "trustmint_door_exchanges_total{code=\"\",door=\"npm\",outcome=\"success\"} 0",
            "trustmint_door_exchanges_total{code=\"\",door=\"crates\",outcome=\"success\"} 1",
            "trustmint_door_exchanges_total{code=\"invalid-publisher\",door=\"token_exchange\",outcome=\"failure\"} 1",
            "trustmint_leaked_tokens_total{label=\"true_positive\"} 1",
            "trustmint_leaked_tokens_total{label=\"false_positive\"} 2",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        // Recording a door exchange leaves the per-issuer series to record_exchange.
        assert!(!text.contains("trustmint_tokens_minted_total 1"), "{text}");
    }

    #[test]
    fn request_recorders_use_their_label_names() {
        let metrics = Metrics::new();
        metrics.record_http_request("/_/oidc/mint-token", 422, Duration::from_millis(3));
        metrics.record_grpc_request("MintToken", "FAILED_PRECONDITION", Duration::ZERO);
        metrics.record_verification(VerifyOutcome::Denied, Duration::ZERO);
        metrics.record_publisher_change(PublisherChange::Confirm);
        metrics.record_jwks_fetch("github", JwksFetchResult::Empty);
        metrics.set_jwks_cache("github", 3, 12.5);
        metrics.count_store_error("token_put");
        let text = metrics.render();
        for line in [
            "trustmint_http_requests_total{route=\"/_/oidc/mint-token\",status=\"422\"} 1",
            "trustmint_grpc_requests_total{code=\"FAILED_PRECONDITION\",method=\"MintToken\"} 1",
            "trustmint_verifications_total{outcome=\"denied\"} 1",
            "trustmint_publisher_changes_total{action=\"confirm\"} 1",
            "trustmint_jwks_fetches_total{issuer=\"github\",result=\"empty\"} 1",
            "trustmint_jwks_keys{issuer=\"github\"} 3",
            "trustmint_jwks_age_seconds{issuer=\"github\"} 12.5",
            "trustmint_store_errors_total{op=\"token_put\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
