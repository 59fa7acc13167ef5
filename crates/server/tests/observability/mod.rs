//! Helpers of the observability tests (metrics, traces, audit trail, logs): a
//! Prometheus text parser, an in-process OTLP/gRPC collector, the config of a `trustmint
//! serve` process (the process itself is `support::trustmint_process`), and a reader of
//! the Redis audit stream.
//!
//! Kept apart from `support/` (the app spawner shared by every end-to-end test) so the
//! two can change independently; the tests use both.

#![allow(dead_code, unreachable_pub)]

pub mod audit_stream;
pub mod collector;
pub mod metrics_text;
pub mod scrape;

use sha2::{Digest as _, Sha256};

/// SHA-256 (hex) of `text`: how audit events name a token.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A random W3C `traceparent` (sampled) and its trace id and parent span id in hex.
pub fn new_traceparent() -> (String, String, String) {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let span_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (format!("00-{trace_id}-{span_id}-01"), trace_id, span_id)
}

/// The TOML of one `[[issuers]]` entry for `issuer_url` (GitHub kind) and the
/// `[[publishers]]` entry the testkit's default GitHub claims match
/// (`octo-org/sampleproject`, `release.yml`, project `sampleproject`), with rate
/// limiting off.
pub fn github_issuer_config(issuer_url: &str) -> String {
    format!(
        r#"[rate_limit]
enabled = false

[[issuers]]
url = "{issuer_url}"
kind = "github"

[[publishers]]
kind = "github"
issuer = "{issuer_url}"
projects = ["sampleproject"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "sampleproject"
workflow_filename = "release.yml"
"#
    )
}
