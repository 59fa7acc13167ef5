//! Fixed-rate runs: exchanges and verifies offered at a set rate (1,000/s and 5,000/s by
//! default) whatever the service's speed, each timed from when it was due, so the
//! percentiles are what a steady stream of CI jobs or index uploads would see, stalls
//! included (coordinated-omission-aware; see `load::run_at_rate`).

use std::sync::Arc;

use trustmint_testkit::claims::GitHubClaims;

use crate::child::DECLARED_PROJECT;
use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::sign_batch;
use crate::load::{self, RatePlan};
use crate::run::{Bench, MINT_HISTOGRAM, ScenarioResult, VERIFY_HISTOGRAM};

/// Requests in flight at most: far above what a healthy run needs (rate × latency), low
/// enough that a stalled service does not exhaust sockets. Requests over it wait, and
/// the wait counts in their latency.
const MAX_IN_FLIGHT: usize = 512;

fn plan(rate: f64, secs: f64) -> RatePlan {
    RatePlan {
        requests: ((rate * secs).round() as usize).max(1),
        rate,
        max_in_flight: MAX_IN_FLIGHT,
    }
}

/// Exchanges at `rate` per second for `secs` seconds, each with a fresh RS256 JWT.
pub(crate) async fn exchange_at_rate(
    bench: &Bench,
    rate: f64,
    secs: f64,
) -> Result<ScenarioResult, BenchError> {
    let plan = plan(rate, secs);
    let batch = sign_batch(&bench.rs256, &GitHubClaims::new(), plan.requests);
    let bodies: Arc<Vec<String>> = Arc::new(batch.jwts.iter().map(|jwt| mint_body(jwt)).collect());
    drop(batch.jwts);
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let load = load::run_at_rate(plan, &bench.http_clients, move |client, n| {
        let (body, url) = (bodies.get(n).cloned().unwrap_or_default(), url.clone());
        async move { clients::mint(&client, &url, body).await.map(|_| ()) }
    });
    bench
        .measure(
            &format!("exchange_at_{rate:.0}_per_sec"),
            "POST /_/oidc/mint-token offered at a fixed rate (open loop); latency from each request's due time",
            MINT_HISTOGRAM,
            Some(batch.signing_time.as_secs_f64()),
            plan,
            load,
        )
        .await
}

/// Verifies at `rate` per second for `secs` seconds, round-robin over `tokens`.
pub(crate) async fn verify_at_rate(
    bench: &Bench,
    tokens: &Arc<Vec<String>>,
    rate: f64,
    secs: f64,
) -> Result<ScenarioResult, BenchError> {
    let plan = plan(rate, secs);
    let tokens = tokens.clone();
    let load = load::run_at_rate(plan, &bench.token_clients, move |client, n| {
        let token = tokens[n % tokens.len()].clone();
        clients::verify(client, token, DECLARED_PROJECT.to_owned())
    });
    bench
        .measure(
            &format!("verify_at_{rate:.0}_per_sec"),
            "TokenService.VerifyToken offered at a fixed rate (open loop); latency from each request's due time",
            VERIFY_HISTOGRAM,
            None,
            plan,
            load,
        )
        .await
}
