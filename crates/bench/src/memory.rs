//! Scenario 5: what a live token costs in memory. Mints many tokens and compares the
//! service's resident set size before and after; with Redis, also asks Redis what the
//! token records (`tok:`), replay records (`jti:`) and the audit stream take.
//!
//! The JWTs come from the ES256 issuer: signing 100,000 RS256 JWTs would take about
//! 100 s here (≈ 1 ms each, one at a time), ES256 takes a few seconds, and which key
//! signed the JWT does not change what the service stores.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use trustmint_testkit::claims::GitHubClaims;

use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::sign_batch;
use crate::load;
use crate::redis_probe::KeySample;
use crate::run::{Bench, MINT_HISTOGRAM, ScenarioResult};

/// Mints before the baseline: the ES256 issuer's JWKS fetch and first allocations.
const WARM_UP: usize = 100;

/// Time for the caches' deferred housekeeping before the second RSS reading.
const SETTLE: Duration = Duration::from_secs(2);

/// Memory cost of live tokens.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct MemoryResult {
    /// `memory`, `redis` or `redis-cluster`.
    pub(crate) store: String,
    /// Tokens minted between the two readings.
    pub(crate) tokens: u64,
    /// Service RSS before, bytes.
    pub(crate) rss_before_bytes: u64,
    /// Service RSS after, bytes.
    pub(crate) rss_after_bytes: u64,
    /// (after − before) / tokens: everything a mint leaves behind in the process (token
    /// record, replay record, cache bookkeeping, allocator slack).
    pub(crate) rss_bytes_per_token: f64,
    /// Redis' side, with a Redis store.
    pub(crate) redis: Option<RedisMemory>,
    /// The fill run itself (ES256 mints), for reference.
    pub(crate) fill: ScenarioResult,
}

/// What Redis holds per token.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RedisMemory {
    /// `used_memory` delta / tokens (token + replay record + audit stream entry).
    pub(crate) used_memory_bytes_per_token: f64,
    /// `MEMORY USAGE` of `tok:` keys (the compressed token records).
    pub(crate) token_keys: KeySample,
    /// `MEMORY USAGE` of `jti:` keys (replay records).
    pub(crate) replay_keys: KeySample,
    /// `MEMORY USAGE` of the audit stream (capped by `audit_stream_maxlen`).
    pub(crate) audit_stream_bytes: Option<u64>,
}

/// Mints `tokens` tokens and measures what they occupy.
pub(crate) async fn memory_per_token(
    bench: &Bench,
    tokens: usize,
    store: &str,
) -> Result<MemoryResult, BenchError> {
    let claims = GitHubClaims::new();
    let warm = sign_batch(&bench.es256, &claims, WARM_UP);
    for jwt in &warm.jwts {
        let _ = clients::mint(bench.http(), &bench.service.http_url, mint_body(jwt)).await;
    }
    eprintln!("  signing {tokens} ES256 JWTs for the memory scenario…");
    let batch = sign_batch(&bench.es256, &claims, tokens);
    let bodies: Arc<Vec<String>> = Arc::new(batch.jwts.iter().map(|jwt| mint_body(jwt)).collect());
    drop(batch.jwts);

    let rss_before_bytes = bench.service.rss_bytes()?;
    let used_memory_before = match &bench.redis_probe {
        Some(probe) => Some(probe.used_memory().await?),
        None => None,
    };
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let plan = load::LoadPlan {
        duration: None,
        ..bench.plan(bodies.len())
    };
    let load = load::run(plan, &bench.http_clients, move |client, n| {
        let (bodies, url) = (bodies.clone(), url.clone());
        async move {
            let body = bodies.get(n).cloned().unwrap_or_default();
            clients::mint(&client, &url, body).await.map(|_| ())
        }
    });
    let fill = bench
        .measure(
            "http_mint_es256_fill",
            "the memory scenario's fill: mint with fresh ES256 JWTs (ES256 verify costs ~3x RS256)",
            MINT_HISTOGRAM,
            Some(batch.signing_time.as_secs_f64()),
            plan,
            load,
        )
        .await?;
    tokio::time::sleep(SETTLE).await;
    let rss_after_bytes = bench.service.rss_bytes()?;
    let minted = fill.throughput.ok;
    let per_token = |delta: f64| {
        if minted > 0 {
            delta / minted as f64
        } else {
            0.0
        }
    };

    let redis = match (&bench.redis_probe, used_memory_before) {
        (Some(probe), Some(before)) => {
            let after = probe.used_memory().await?;
            Some(RedisMemory {
                used_memory_bytes_per_token: per_token(after as f64 - before as f64),
                token_keys: probe.sample("tok:*").await?,
                replay_keys: probe.sample("jti:*").await?,
                audit_stream_bytes: probe.key_usage("audit").await?,
            })
        }
        _ => None,
    };
    Ok(MemoryResult {
        store: store.to_owned(),
        tokens: minted,
        rss_before_bytes,
        rss_after_bytes,
        rss_bytes_per_token: per_token(rss_after_bytes as f64 - rss_before_bytes as f64),
        redis,
        fill,
    })
}
