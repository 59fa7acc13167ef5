//! The hardware floor: what this machine allows, measured with the service's own code
//! paths and clients, so every result can be printed as a fraction of it.
//!
//! * **JWT verification**: one thread running `trustmint_claims::JwtVerifier` — the
//!   exact code an exchange runs before any store call (unverified peek, header rules,
//!   cached key, josekit RS256 signature check, registered claims) — on one JWT in a
//!   loop. Times the number of cores, it bounds the exchanges per second any design
//!   could reach with RS256 tokens.
//! * **Redis**: `PING` round trips on one multiplexed connection (the `redis` crate the
//!   service uses), one at a time (latency-bound) and [`PIPELINED`] in flight (what one
//!   connection and the Redis server can carry). Divided by the store calls an exchange
//!   or a verify makes, it bounds those.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde::Serialize;
use trustmint_claims::{
    HttpFetcher, IssuerRegistry, IssuerSettings, JwtVerifier, KeyStore, KeyStoreSettings,
    NoopObserver,
};
use trustmint_publishers::Provider;
use trustmint_testkit::claims::GitHubClaims;

use crate::error::BenchError;
use crate::jwts::{sign_batch, unix_now};
use crate::run::Bench;

/// Redis commands in flight at once for the pipelined figure.
const PIPELINED: usize = 64;

/// The floor figures.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Floor {
    /// Full claims verification of an RS256 JWT, one thread, per second.
    pub(crate) jwt_verifies_per_sec_one_thread: f64,
    /// CPUs available: the verification floor of the machine is this × the above.
    pub(crate) cpus: usize,
    /// Sequential `PING` round trips per second (Redis store only).
    pub(crate) redis_round_trips_per_sec: Option<f64>,
    /// `PING`s per second with [`PIPELINED`] in flight on one connection.
    pub(crate) redis_pipelined_per_sec: Option<f64>,
}

/// Measures the floor, spending about `secs` on each figure.
pub(crate) async fn measure(bench: &Bench, secs: f64) -> Result<Floor, BenchError> {
    let window = Duration::from_secs_f64(secs);
    let jwt_verifies_per_sec_one_thread = jwt_verifies_per_sec(bench, window).await?;
    let (redis_round_trips_per_sec, redis_pipelined_per_sec) = match bench
        .redis_probe
        .as_ref()
        .and_then(|probe| probe.first_node())
    {
        Some(connection) => {
            let sequential = redis_pings_per_sec(connection.clone(), 1, window).await?;
            let pipelined = redis_pings_per_sec(connection, PIPELINED, window).await?;
            (Some(sequential), Some(pipelined))
        }
        None => (None, None),
    };
    Ok(Floor {
        jwt_verifies_per_sec_one_thread,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        redis_round_trips_per_sec,
        redis_pipelined_per_sec,
    })
}

/// One thread verifying one RS256 JWT over and over for `window`.
async fn jwt_verifies_per_sec(bench: &Bench, window: Duration) -> Result<f64, BenchError> {
    let setup = |error: &dyn std::fmt::Display| BenchError::Setup(format!("floor: {error}"));
    let registry =
        IssuerRegistry::new(&[IssuerSettings::exact(Provider::GitHub, bench.rs256.url())])
            .map_err(|error| setup(&error))?;
    let keystore_settings = KeyStoreSettings::default();
    let fetcher = HttpFetcher::new(&keystore_settings).map_err(|error| setup(&error))?;
    let keystore = KeyStore::new(Arc::new(fetcher), keystore_settings, Arc::new(NoopObserver));
    let verifier = JwtVerifier::new(registry, keystore, "pypi".to_owned());
    let jwt = sign_batch(&bench.rs256, &GitHubClaims::new(), 1)
        .jwts
        .pop()
        .ok_or_else(|| BenchError::Setup("floor: no JWT".to_owned()))?;
    // The first verification fetches the keys from the test issuer, which this
    // runtime serves; the timed loop then runs on its own single-threaded runtime.
    let routed = verifier.route(&jwt).map_err(|error| setup(&error))?;
    verifier
        .verify(&routed, unix_now())
        .await
        .map_err(|error| setup(&error))?;
    let timed = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let now = unix_now();
            let started = Instant::now();
            let mut verified = 0_u64;
            while started.elapsed() < window {
                let Ok(routed) = verifier.route(&jwt) else {
                    break;
                };
                if verifier.verify(&routed, now).await.is_err() {
                    break;
                }
                verified += 1;
            }
            Ok::<f64, std::io::Error>(verified as f64 / started.elapsed().as_secs_f64())
        })
    })
    .await
    .map_err(|error| setup(&error))?;
    timed.map_err(BenchError::io("floor runtime"))
}

/// `PING`s per second on `connection` with `in_flight` outstanding, for `window`.
async fn redis_pings_per_sec(
    connection: redis::aio::MultiplexedConnection,
    in_flight: usize,
    window: Duration,
) -> Result<f64, BenchError> {
    let started = Instant::now();
    let pings = futures::stream::iter(0..)
        .take_while(|_| futures::future::ready(started.elapsed() < window))
        .map(|_| {
            let mut connection = connection.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            }
        })
        .buffer_unordered(in_flight)
        .fold(Ok(0_u64), |count, ping| async move {
            match (count, ping) {
                (Ok(count), Ok(_)) => Ok(count + 1),
                (Err(error), _) | (_, Err(error)) => Err(error),
            }
        })
        .await?;
    Ok(pings as f64 / started.elapsed().as_secs_f64())
}
