//! The soak's traffic. One *round* is what a CI job and the index do for one upload:
//! exchange a fresh JWT over HTTP, verify the minted token over gRPC, and verify one
//! token minted under an earlier minting key (so a key rotation that broke old tokens
//! shows at once). Rounds run closed-loop for the capacity probe, then open-loop at a
//! fixed rate, each exchange timed from its due time (no coordinated omission).
//!
//! JWTs are single-use (the replay guard burns each `jti`) and live 300 s, so a signer
//! thread makes them during the run, ES256 (≈ 20 k/s on one core, far above the rate),
//! into a bounded channel the rounds take from.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

use crate::child::DECLARED_PROJECT;
use crate::clients::{self, TokenClient, mint_body};
use crate::jwts::unix_now;
use crate::load::Outcome;

/// Signed JWTs kept ready: several seconds of traffic at the soak's rates.
const JWT_BUFFER: usize = 20_000;

/// Rounds in flight at most; later ones wait, and the wait counts in their latency.
const MAX_IN_FLIGHT: usize = 512;

/// Tokens kept per minting key for the older-key verifies.
const HELD_PER_KEY: usize = 16;

/// Key epochs whose tokens are still verified: tokens live 900 s, so ten minutes of
/// epochs stay well inside their lifetime.
const HELD_FOR: Duration = Duration::from_secs(600);

/// What a round's request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RequestKind {
    /// `POST /_/oidc/mint-token`, timed from the round's due time.
    Exchange,
    /// `VerifyToken` of the token just minted.
    Verify,
    /// `VerifyToken` of a token minted under an earlier minting key.
    VerifyOlderKey,
}

/// One answered request.
#[derive(Debug)]
pub(crate) struct Observation {
    /// What it was.
    pub(crate) kind: RequestKind,
    /// Seconds from the start of the run to the round's due time.
    pub(crate) at_secs: f64,
    /// Latency, nanoseconds.
    pub(crate) latency_ns: u64,
    /// Success, or the failure kind.
    pub(crate) outcome: Outcome,
}

/// Starts the signer thread: JWTs for the testkit's default GitHub claims, as mint
/// bodies, until the receiver is dropped.
pub(crate) fn start_signer(issuer: Arc<TestIssuer>) -> tokio::sync::mpsc::Receiver<String> {
    let (tx, rx) = tokio::sync::mpsc::channel(JWT_BUFFER);
    std::thread::spawn(move || {
        let claims = GitHubClaims::new();
        let iss = issuer.url();
        loop {
            let jwt = issuer.sign(&claims.build(&iss, "pypi", unix_now()));
            if tx.blocking_send(mint_body(&jwt)).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits until the signer has filled its buffer (the probe must not measure the signer).
pub(crate) async fn wait_for_full_buffer(jwts: &tokio::sync::mpsc::Receiver<String>) {
    while jwts.capacity() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Tokens of earlier minting keys, by key epoch.
#[derive(Debug, Default)]
struct HeldTokens {
    /// (epoch, when it began, tokens), oldest first.
    epochs: VecDeque<(usize, Instant, Vec<String>)>,
}

/// What every round shares.
#[derive(Debug)]
pub(crate) struct Rounds {
    http_url: String,
    http_clients: Vec<reqwest::Client>,
    token_clients: Vec<TokenClient>,
    /// The minting key's epoch (1 = the first key), bumped after each reload.
    epoch: AtomicUsize,
    held: Mutex<HeldTokens>,
}

impl Rounds {
    /// Rounds against `http_url` (mint) and the gRPC `token_clients` (verify).
    pub(crate) fn new(
        http_url: String,
        http_clients: Vec<reqwest::Client>,
        token_clients: Vec<TokenClient>,
    ) -> Arc<Self> {
        Arc::new(Self {
            http_url,
            http_clients,
            token_clients,
            epoch: AtomicUsize::new(1),
            held: Mutex::default(),
        })
    }

    /// Called once a key rotation is in force: tokens minted from now on are the new
    /// epoch's.
    pub(crate) fn next_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn held(&self) -> std::sync::MutexGuard<'_, HeldTokens> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps `token` (minted in `epoch`) if that epoch has room.
    fn offer(&self, epoch: usize, token: &str) {
        let mut held = self.held();
        if held.epochs.back().is_none_or(|(last, _, _)| *last < epoch) {
            held.epochs.push_back((epoch, Instant::now(), Vec::new()));
        }
        while held
            .epochs
            .front()
            .is_some_and(|(_, began, _)| began.elapsed() > HELD_FOR)
        {
            held.epochs.pop_front();
        }
        if let Some((_, _, tokens)) = held.epochs.iter_mut().find(|(e, _, _)| *e == epoch)
            && tokens.len() < HELD_PER_KEY
        {
            tokens.push(token.to_owned());
        }
    }

    /// A held token of an epoch before `epoch`, chosen by `n`; none before the first
    /// rotation.
    fn older_token(&self, epoch: usize, n: usize) -> Option<String> {
        let held = self.held();
        let older: Vec<&String> = held
            .epochs
            .iter()
            .filter(|(e, _, _)| *e < epoch)
            .flat_map(|(_, _, tokens)| tokens)
            .collect();
        (!older.is_empty()).then(|| older[n % older.len()].clone())
    }

    /// Round `n` with JWT `body`, due at `due`; its observations go to `done`.
    async fn round(
        self: Arc<Self>,
        n: usize,
        body: String,
        due: Instant,
        run_start: Instant,
        done: tokio::sync::mpsc::UnboundedSender<Observation>,
    ) {
        let at_secs = due.saturating_duration_since(run_start).as_secs_f64();
        let observe = |kind, started: Instant, outcome: Outcome| {
            let latency_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let _ = done.send(Observation {
                kind,
                at_secs,
                latency_ns,
                outcome,
            });
        };
        let http = &self.http_clients[n % self.http_clients.len()];
        let grpc = &self.token_clients[n % self.token_clients.len()];
        let epoch = self.epoch.load(Ordering::SeqCst);
        let minted = clients::mint(http, &self.http_url, body).await;
        let token = match minted {
            Ok(token) => {
                observe(RequestKind::Exchange, due, Ok(()));
                token
            }
            Err(kind) => {
                observe(RequestKind::Exchange, due, Err(kind));
                return;
            }
        };
        let started = Instant::now();
        let verified =
            clients::verify(grpc.clone(), token.clone(), DECLARED_PROJECT.to_owned()).await;
        observe(RequestKind::Verify, started, verified);
        if let Some(older) = self.older_token(epoch, n) {
            let started = Instant::now();
            let verified = clients::verify(grpc.clone(), older, DECLARED_PROJECT.to_owned()).await;
            observe(RequestKind::VerifyOlderKey, started, verified);
        }
        self.offer(epoch, &token);
    }
}

/// What the capacity probe measured.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Capacity {
    /// Rounds completed per second, closed loop.
    pub(crate) rounds_per_sec: f64,
    /// Clients in the closed loop.
    pub(crate) concurrency: usize,
    /// Length of the probe, seconds.
    pub(crate) secs: f64,
    /// Failed requests during the probe, by kind.
    pub(crate) failures: BTreeMap<String, u64>,
}

/// Closed loop: `concurrency` workers run rounds back to back for `length`.
pub(crate) async fn probe_capacity(
    rounds: &Arc<Rounds>,
    jwts: &mut tokio::sync::mpsc::Receiver<String>,
    concurrency: usize,
    length: Duration,
) -> Capacity {
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let shared_jwts = Arc::new(tokio::sync::Mutex::new(std::mem::replace(
        jwts,
        tokio::sync::mpsc::channel(1).1,
    )));
    let started = Instant::now();
    let deadline = started + length;
    let completed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|worker| {
            let (rounds, jwts, done, completed) = (
                rounds.clone(),
                shared_jwts.clone(),
                done_tx.clone(),
                completed.clone(),
            );
            tokio::spawn(async move {
                let mut n = worker;
                while Instant::now() < deadline {
                    let Some(body) = jwts.lock().await.recv().await else {
                        break;
                    };
                    let due = Instant::now();
                    rounds
                        .clone()
                        .round(n, body, due, started, done.clone())
                        .await;
                    completed.fetch_add(1, Ordering::Relaxed);
                    n += concurrency;
                }
            })
        })
        .collect();
    drop(done_tx);
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut failures = BTreeMap::new();
    while let Some(observation) = done_rx.recv().await {
        if let Err(kind) = observation.outcome {
            *failures.entry(kind).or_insert(0) += 1;
        }
    }
    if let Ok(mutex) = Arc::try_unwrap(shared_jwts) {
        *jwts = mutex.into_inner();
    }
    Capacity {
        rounds_per_sec: completed.load(Ordering::Relaxed) as f64 / elapsed.max(1e-9),
        concurrency,
        secs: elapsed,
        failures,
    }
}

/// Open loop: round `n` is due at `start + n / rate` until `length` has passed, kept by
/// a dedicated thread (tokio's timer is too coarse for thousands a second). Returns the
/// receiver of every observation; it closes once the last round has answered.
pub(crate) fn run_at_rate(
    rounds: Arc<Rounds>,
    mut jwts: tokio::sync::mpsc::Receiver<String>,
    rate: f64,
    start: Instant,
    length: Duration,
) -> tokio::sync::mpsc::UnboundedReceiver<Observation> {
    let (done_tx, done_rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = tokio::runtime::Handle::current();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let interval = Duration::from_secs_f64(1.0 / rate.max(f64::MIN_POSITIVE));
    std::thread::spawn(move || {
        for n in 0.. {
            let due = start + interval.mul_f64(n as f64);
            if due >= start + length {
                break;
            }
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            // Blocks only if the signer fell behind; the delay then shows in latency.
            let Some(body) = jwts.blocking_recv() else {
                break;
            };
            let (rounds, in_flight, done) = (rounds.clone(), in_flight.clone(), done_tx.clone());
            runtime.spawn(async move {
                let _permit = in_flight.acquire_owned().await;
                rounds.round(n, body, due, start, done).await;
            });
        }
    });
    done_rx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds() -> Arc<Rounds> {
        Rounds::new("http://127.0.0.1:1".to_owned(), Vec::new(), Vec::new())
    }

    #[test]
    fn older_tokens_come_only_from_earlier_keys() {
        let rounds = rounds();
        rounds.offer(1, "a1");
        rounds.offer(1, "b1");
        assert_eq!(rounds.older_token(1, 0), None, "no rotation yet");
        rounds.offer(2, "a2");
        assert_eq!(rounds.older_token(2, 0).as_deref(), Some("a1"));
        assert_eq!(rounds.older_token(2, 1).as_deref(), Some("b1"));
        assert_eq!(rounds.older_token(3, 2).as_deref(), Some("a2"));
    }

    #[test]
    fn keeps_a_bounded_number_of_tokens_per_key() {
        let rounds = rounds();
        for n in 0..100 {
            rounds.offer(1, &format!("t{n}"));
        }
        let held = rounds.held();
        assert_eq!(held.epochs.len(), 1);
        assert_eq!(held.epochs[0].2.len(), HELD_PER_KEY);
    }
}
