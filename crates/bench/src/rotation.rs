//! The key-rotation storm: the issuer starts signing with a key id the service has never
//! seen, and many CI jobs exchange at once. Every request misses the key cache; the
//! keystore's single-flight must turn that into exactly one JWKS fetch, and every
//! exchange must still succeed.
//!
//! The service runs with a 1 s refresh cooldown (see `child.rs`) and the rotation issuer
//! is used only here and once in the warm-up, so by the time the storm starts its last
//! fetch is older than the cooldown — as in production, where a rotation comes long
//! after the previous fetch.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde::Serialize;
use trustmint_testkit::claims::GitHubClaims;

use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::sign_batch;
use crate::run::Bench;
use crate::service_metrics::MetricsSnapshot;
use crate::stats::Latency;

/// Longer than the service's refresh cooldown (1 s).
const PAST_COOLDOWN: Duration = Duration::from_millis(1_200);

/// What the storm did.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RotationResult {
    /// Exchanges sent at once.
    pub(crate) exchanges: usize,
    /// Exchanges that minted a token.
    pub(crate) ok: usize,
    /// Failures by kind.
    pub(crate) failures: std::collections::BTreeMap<String, u64>,
    /// JWKS requests the issuer received during the storm (the target: 1).
    pub(crate) jwks_fetches: usize,
    /// `trustmint_jwks_fetches_total` growth, as the service counts it.
    pub(crate) service_jwks_fetches: f64,
    /// Refreshes the service skipped because one had just been made.
    pub(crate) cooldown_skips: f64,
    /// From the first request to the last answer, seconds.
    pub(crate) elapsed_secs: f64,
    /// Latency of the successful exchanges.
    pub(crate) latency: Latency,
}

/// Rotates the rotation issuer's key and sends `exchanges` exchanges signed with the
/// new kid, all at once.
pub(crate) async fn rotation_storm(
    bench: &Bench,
    exchanges: usize,
) -> Result<RotationResult, BenchError> {
    tokio::time::sleep(PAST_COOLDOWN).await;
    bench.rotation.rotate_key();
    let batch = sign_batch(&bench.rotation, &GitHubClaims::new(), exchanges);
    let metrics_before = MetricsSnapshot::fetch(bench.http(), &bench.service.http_url).await?;
    let fetches_before = bench.rotation.jwks_fetch_count();

    let url = bench.service.http_url.clone();
    let clients = bench.http_clients.clone();
    let started = Instant::now();
    let outcomes: Vec<(Result<String, String>, Duration)> =
        futures::stream::iter(batch.jwts.iter().enumerate().map(|(n, jwt)| {
            let client = clients[n % clients.len()].clone();
            let (url, body) = (url.clone(), mint_body(jwt));
            async move {
                let sent = Instant::now();
                let outcome = clients::mint(&client, &url, body).await;
                (outcome, sent.elapsed())
            }
        }))
        .buffer_unordered(exchanges)
        .collect()
        .await;
    let elapsed_secs = started.elapsed().as_secs_f64();

    let jwks_fetches = bench.rotation.jwks_fetch_count() - fetches_before;
    let metrics_after = MetricsSnapshot::fetch(bench.http(), &bench.service.http_url).await?;
    let mut failures = std::collections::BTreeMap::new();
    let mut latencies_ns = Vec::with_capacity(outcomes.len());
    for (outcome, latency) in outcomes {
        match outcome {
            Ok(_) => latencies_ns.push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX)),
            Err(kind) => *failures.entry(kind).or_insert(0) += 1,
        }
    }
    Ok(RotationResult {
        exchanges,
        ok: latencies_ns.len(),
        failures,
        jwks_fetches,
        service_jwks_fetches: metrics_after.delta_since(
            &metrics_before,
            "trustmint_jwks_fetches_total",
            None,
        ),
        cooldown_skips: metrics_after.delta_since(
            &metrics_before,
            "trustmint_jwks_cooldown_skips_total",
            None,
        ),
        elapsed_secs,
        latency: Latency::of(&mut latencies_ns),
    })
}
