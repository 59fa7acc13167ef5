//! The key-rotation storm: the issuer starts signing with a key id the service has never
//! seen, and many CI jobs exchange at once. Every request misses the key cache; the
//! keystore's single-flight must turn that into exactly one JWKS fetch, and every
//! exchange must still succeed.
//!
//! The service runs with a short refresh cooldown (`JWKS_REFRESH_COOLDOWN_SECS`) and the rotation issuer
//! is used only here and once in the warm-up, so by the time the storm starts its last
//! fetch is older than the cooldown — as in production, where a rotation comes long
//! after the previous fetch.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use trustmint_testkit::claims::GitHubClaims;

use crate::child::JWKS_REFRESH_COOLDOWN_SECS;
use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::sign_batch;
use crate::load;
use crate::run::Bench;
use crate::service_metrics::MetricsSnapshot;
use crate::stats::Latency;

/// Longer than the service's refresh cooldown.
const PAST_COOLDOWN: Duration = Duration::from_millis(JWKS_REFRESH_COOLDOWN_SECS * 1_000 + 200);

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

    // One worker per exchange: all are in flight at once.
    let bodies: Arc<Vec<String>> = Arc::new(batch.jwts.iter().map(|jwt| mint_body(jwt)).collect());
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let mut result = load::run(
        bench.plan_at(exchanges, exchanges),
        &bench.http_clients,
        move |client, n| {
            let (body, url) = (bodies.get(n).cloned().unwrap_or_default(), url.clone());
            async move { clients::mint(&client, &url, body).await.map(|_| ()) }
        },
    )
    .await;

    let jwks_fetches = bench.rotation.jwks_fetch_count() - fetches_before;
    let metrics_after = MetricsSnapshot::fetch(bench.http(), &bench.service.http_url).await?;
    Ok(RotationResult {
        exchanges,
        ok: result.latencies_ns.len(),
        failures: std::mem::take(&mut result.failures),
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
        elapsed_secs: result.elapsed.as_secs_f64(),
        latency: Latency::of(&mut result.latencies_ns),
    })
}
