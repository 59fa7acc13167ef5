//! Memory: the service's resident set idle and after many exchanges, and — with Redis —
//! what each kind of key costs there. Nothing in the service may grow without bound
//! (with Redis it keeps no tokens; its caches are capped), so RSS must level off.
//!
//! The exchanges run in chunks: each chunk's JWTs are signed just before it (a testkit
//! JWT lives 300 s, and a million of them would not fit in that window) by the ES256
//! issuer (signing a million RS256 JWTs would take ~10 minutes here; which key signed a
//! JWT does not change what the service keeps). RSS is read after every chunk.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use trustmint_testkit::claims::GitHubClaims;

use crate::clients::{self, mint_body};
use crate::error::BenchError;
use crate::jwts::sign_batch;
use crate::load;
use crate::redis_probe::KeySample;
use crate::run::Bench;

/// Exchanges per chunk: at most 20 s of work here, far inside a JWT's lifetime.
const CHUNK: usize = 50_000;

/// Time for the caches' deferred housekeeping before the final reading.
const SETTLE: Duration = Duration::from_secs(1);

/// RSS after some number of exchanges.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Checkpoint {
    /// Exchanges sent so far in this run.
    pub(crate) exchanges: u64,
    /// `VmRSS`, bytes.
    pub(crate) rss_bytes: u64,
}

/// The RSS run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RssResult {
    /// `memory`, `redis` or `redis-cluster`.
    pub(crate) store: String,
    /// `VmRSS` right after start, before any request, bytes.
    pub(crate) idle_rss_bytes: u64,
    /// `VmRSS` when the run began (after the warm-up), bytes.
    pub(crate) start_rss_bytes: u64,
    /// Exchanges sent.
    pub(crate) exchanges: u64,
    /// Exchanges that minted a token.
    pub(crate) ok: u64,
    /// Failures by kind.
    pub(crate) failures: BTreeMap<String, u64>,
    /// Mean exchanges per second over the run (signing excluded).
    pub(crate) per_sec: f64,
    /// `VmRSS` after each chunk.
    pub(crate) checkpoints: Vec<Checkpoint>,
    /// `VmRSS` at the end, bytes.
    pub(crate) final_rss_bytes: u64,
    /// The service's peak RSS from its start through these exchanges: `VmHWM`, or a
    /// higher reading taken during the run, bytes.
    pub(crate) peak_rss_bytes: u64,
    /// (final − start) / exchanges: what each exchange leaves behind in the process.
    pub(crate) rss_bytes_per_exchange: f64,
    /// Redis' side, with a Redis store.
    pub(crate) redis: Option<RedisMemory>,
}

/// What Redis holds per key family.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RedisMemory {
    /// `used_memory` delta over the run / exchanges (token + replay record + audit
    /// entry, minus whatever expired or was trimmed meanwhile).
    pub(crate) used_memory_bytes_per_exchange: f64,
    /// `MEMORY USAGE` of `tok:` keys (the compressed token records).
    pub(crate) token_keys: KeySample,
    /// `MEMORY USAGE` of `jti:` keys (replay records).
    pub(crate) replay_keys: KeySample,
    /// `MEMORY USAGE` of the audit stream (capped by `audit_stream_maxlen`).
    pub(crate) audit_stream_bytes: Option<u64>,
}

/// Sends `exchanges` exchanges in chunks and reads the service's RSS after each.
pub(crate) async fn rss_after_exchanges(
    bench: &Bench,
    exchanges: usize,
    idle_rss_bytes: u64,
    store: &str,
) -> Result<RssResult, BenchError> {
    let start_rss_bytes = bench.service.rss_bytes()?;
    let used_memory_before = match &bench.redis_probe {
        Some(probe) => Some(probe.used_memory().await?),
        None => None,
    };
    let url: Arc<str> = Arc::from(bench.service.http_url.as_str());
    let mut sent = 0_u64;
    let mut ok = 0_u64;
    let mut failures = BTreeMap::new();
    let mut checkpoints = Vec::new();
    let mut loaded = Duration::ZERO;
    let mut remaining = exchanges;
    while remaining > 0 {
        let chunk = remaining.min(CHUNK);
        remaining -= chunk;
        let batch = sign_batch(&bench.es256, &GitHubClaims::new(), chunk);
        let bodies: Arc<Vec<String>> =
            Arc::new(batch.jwts.iter().map(|jwt| mint_body(jwt)).collect());
        drop(batch);
        let url = url.clone();
        let started = Instant::now();
        let result = load::run(bench.plan(chunk), &bench.http_clients, move |client, n| {
            let (body, url) = (bodies.get(n).cloned().unwrap_or_default(), url.clone());
            async move { clients::mint(&client, &url, body).await.map(|_| ()) }
        })
        .await;
        loaded += started.elapsed();
        sent += chunk as u64;
        ok += result.successes();
        for (kind, count) in result.failures {
            *failures.entry(kind).or_insert(0) += count;
        }
        let rss_bytes = bench.service.rss_bytes()?;
        eprintln!(
            "  {sent} exchanges: RSS {:.1} MiB",
            rss_bytes as f64 / (1024.0 * 1024.0)
        );
        checkpoints.push(Checkpoint {
            exchanges: sent,
            rss_bytes,
        });
    }
    tokio::time::sleep(SETTLE).await;
    let final_rss_bytes = bench.service.rss_bytes()?;
    let per_exchange = |delta: f64| if sent > 0 { delta / sent as f64 } else { 0.0 };
    let redis = match (&bench.redis_probe, used_memory_before) {
        (Some(probe), Some(before)) => {
            let after = probe.used_memory().await?;
            Some(RedisMemory {
                used_memory_bytes_per_exchange: per_exchange(after as f64 - before as f64),
                token_keys: probe.sample("tok:*").await?,
                replay_keys: probe.sample("jti:*").await?,
                audit_stream_bytes: probe.key_usage("audit").await?,
            })
        }
        _ => None,
    };
    // The kernel updates VmHWM lazily, so a reading taken during the run can be a
    // little higher; the peak is the largest of them.
    let peak_rss_bytes = checkpoints
        .iter()
        .map(|checkpoint| checkpoint.rss_bytes)
        .chain([
            start_rss_bytes,
            final_rss_bytes,
            bench.service.peak_rss_bytes()?,
        ])
        .max()
        .unwrap_or(final_rss_bytes);
    Ok(RssResult {
        store: store.to_owned(),
        idle_rss_bytes,
        start_rss_bytes,
        exchanges: sent,
        ok,
        failures,
        per_sec: if loaded.is_zero() {
            0.0
        } else {
            ok as f64 / loaded.as_secs_f64()
        },
        checkpoints,
        final_rss_bytes,
        peak_rss_bytes,
        rss_bytes_per_exchange: per_exchange(final_rss_bytes as f64 - start_rss_bytes as f64),
        redis,
    })
}
