//! Redis failing under a running service, end to end: the app runs on a `redis-server`
//! this test owns (on a free port), with `store.timeout_ms = 300`, and Redis is stopped,
//! killed (SIGKILL) and restarted with its fsynced AOF, frozen (SIGSTOP), paused
//! (`CLIENT PAUSE`: commands held server-side and run late) or absent at startup. The
//! service fails closed — 503 `unavailable` in PyPI's body, gRPC UNAVAILABLE, `/readyz`
//! 503 — within the timeout, never a 500, a hang or a panic; it serves again by itself
//! within 2 s of Redis answering; a JWT whose exchange failed is not burnt; and every
//! token handed out verifies once Redis is back (where Redis kept its data).

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::redis_setup::{FAULT_TIMEOUT_MS, OwnedRedis, use_redis};
use support::service_panics::{count_service_panics, service_panics};
use support::trustmint_process::{grpc_verify, token_client};
use support::{PROJECT, TestApp, assert_token_error, spawn_app_with};
use tokio::task::block_in_place;
use trustmint_exchange::{REVOKED_OR_EXPIRED, Verification, VerifyRequest};
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;

/// What a client is told when the store is down.
const UNAVAILABLE: &str = "a backend trustmint depends on is unavailable; retry later";
/// Scheduling slack on a loaded 2-core machine running debug builds; less than one
/// more timeout, so a request that waited on Redis twice shows.
const MARGIN: Duration = Duration::from_millis(250);
/// How soon after Redis answers again the service must mint again.
const RECOVERY: Duration = Duration::from_secs(2);
/// Client-side cap, far above every bound: a request that needs it has hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

fn timeout() -> Duration {
    Duration::from_millis(FAULT_TIMEOUT_MS)
}

/// The longest a failed mint may take: the first Redis call that fails ends it (a
/// refusal for `unavailable` is not appended to the audit stream of the failed store).
fn mint_bound() -> Duration {
    timeout() + MARGIN
}

// === the app under test and its clients ===

/// An app on `redis` (standalone) with the fault-test timeout, rate limiting on (as in
/// production: the limiter's Redis call is the first of a mint) with a limit these tests
/// never reach.
async fn spawn_on(redis: &OwnedRedis) -> TestApp {
    let url = redis.server.url();
    spawn_app_with(|settings, _| {
        use_redis(settings, &url);
        settings.store.timeout_ms = FAULT_TIMEOUT_MS;
        settings.rate_limit.enabled = true;
        settings.rate_limit.requests_per_second = 1_000.0;
        settings.rate_limit.burst = 1_000;
    })
    .await
}

/// One mint-token exchange as a client sees it.
#[derive(Debug, Clone)]
struct Exchange {
    jwt: String,
    started: Instant,
    took: Duration,
    /// `None`: no HTTP answer within [`CLIENT_TIMEOUT`] (or the connection broke).
    status: Option<u16>,
    body: Value,
    retry_after: Option<String>,
}

impl Exchange {
    fn finished(&self) -> Instant {
        self.started + self.took
    }
}

/// POSTs `jwt` to mint-token, keeping status, body, `Retry-After` and time taken.
async fn exchange(app: &TestApp, jwt: String) -> Exchange {
    let started = Instant::now();
    let response = app
        .client
        .post(format!("{}/_/oidc/mint-token", app.http))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .timeout(CLIENT_TIMEOUT)
        .send()
        .await;
    let (status, retry_after, body) = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let text = response.text().await.unwrap_or_default();
            (
                Some(status),
                retry_after,
                serde_json::from_str(&text).unwrap_or(Value::Null),
            )
        }
        Err(_) => (None, None, Value::Null),
    };
    Exchange {
        jwt,
        started,
        took: started.elapsed(),
        status,
        body,
        retry_after,
    }
}

async fn fresh_exchange(app: &TestApp) -> Exchange {
    exchange(app, app.github_jwt(GitHubClaims::new())).await
}

/// Asserts a fail-closed answer: 503, PyPI's body with `unavailable`, `Retry-After: 1`,
/// within the bound.
#[track_caller]
fn assert_unavailable(exchange: &Exchange, when: &str) {
    let response = (exchange.status.unwrap_or(0), exchange.body.clone());
    assert_token_error(&response, 503, "unavailable", UNAVAILABLE);
    assert_eq!(exchange.retry_after.as_deref(), Some("1"), "{when}");
    assert!(
        exchange.took <= mint_bound(),
        "{when}: took {:?} (bound {:?})",
        exchange.took,
        mint_bound()
    );
}

/// `GET /readyz`, timed.
async fn readyz(app: &TestApp) -> ((u16, String), Duration) {
    let started = Instant::now();
    let answer = app.get("/readyz").await;
    (answer, started.elapsed())
}

/// Asserts `/readyz` reports the store down, within the timeout (+ margin).
async fn assert_not_ready(app: &TestApp, when: &str) {
    let (answer, took) = readyz(app).await;
    assert_eq!(
        answer,
        (
            503,
            r#"{"status":"unavailable","code":"unavailable"}"#.to_owned()
        ),
        "{when}"
    );
    assert!(took <= timeout() + MARGIN, "{when}: /readyz took {took:?}");
}

async fn assert_ready(app: &TestApp, when: &str) {
    assert_eq!(
        readyz(app).await.0,
        (200, r#"{"status":"ready"}"#.to_owned()),
        "{when}"
    );
}

/// Asserts gRPC answers UNAVAILABLE with the wire code for VerifyToken and MintToken.
async fn assert_grpc_unavailable(app: &TestApp, token: &str, when: &str) {
    let started = Instant::now();
    let status = grpc_verify(app.grpc_addr, token, PROJECT)
        .await
        .expect_err("VerifyToken must fail while the store is down");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{when}: {status}");
    assert_eq!(status.message(), format!("unavailable: {UNAVAILABLE}"));
    assert!(
        started.elapsed() <= timeout() + MARGIN,
        "{when}: VerifyToken took {:?}",
        started.elapsed()
    );
    let status = token_client(app.grpc_addr)
        .await
        .mint_token(pb::MintTokenRequest {
            oidc_token: app.github_jwt(GitHubClaims::new()),
            client_ip: String::new(),
        })
        .await
        .expect_err("MintToken must fail while the store is down");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{when}: {status}");
}

/// Mints fresh JWTs until one succeeds; returns how long that took after `since`.
async fn wait_for_recovery(app: &TestApp, since: Instant, when: &str) -> Duration {
    loop {
        let attempt = fresh_exchange(app).await;
        match attempt.status {
            Some(200) => return since.elapsed(),
            Some(503) => assert_unavailable(&attempt, when),
            other => panic!("{when}: unexpected answer {other:?}: {}", attempt.body),
        }
        assert!(
            since.elapsed() <= RECOVERY,
            "{when}: still 503 {:?} after Redis answered again",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts every JWT in `jwts` mints now: a failed exchange did not burn it.
async fn assert_not_burnt(app: &TestApp, jwts: &[String]) {
    for jwt in jwts {
        let retried = exchange(app, jwt.clone()).await;
        assert_eq!(
            retried.status,
            Some(200),
            "a JWT whose exchange failed while Redis was down was burnt: {}",
            retried.body
        );
    }
}

fn verify(app: &TestApp, token: &str) -> impl Future<Output = Verification> {
    let request = VerifyRequest {
        token: token.into(),
        project: PROJECT.to_owned(),
    };
    let exchange = app.app.clone();
    async move { exchange.verify(request).await.expect("verify runs") }
}

/// The sum of every series whose line starts with `prefix` in a Prometheus exposition.
fn counter_sum(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Checks the background traffic of an outage from `down_at` to `up_at` (the last instant
/// Redis surely did not answer): every exchange was answered in time with 200 or a proper
/// 503 (never a 500 or a hang), each one that ran entirely inside the outage with 503, each
/// one that started after `recovered_at` with 200. Returns how many ran inside the outage
/// (at least 3).
#[track_caller]
fn assert_outage_seen_right(
    log: &[Exchange],
    down_at: Instant,
    up_at: Instant,
    recovered_at: Instant,
) -> usize {
    for e in log {
        match e.status {
            Some(200) => {}
            Some(503) => assert_unavailable(e, "background traffic"),
            other => panic!("background exchange answered {other:?}: {}", e.body),
        }
    }
    let while_down: Vec<&Exchange> = log
        .iter()
        .filter(|e| e.started > down_at && e.finished() < up_at)
        .collect();
    assert!(
        while_down.len() >= 3,
        "{} exchanges inside the outage",
        while_down.len()
    );
    for e in &while_down {
        assert_eq!(e.status, Some(503), "an exchange inside the outage");
    }
    for e in log.iter().filter(|e| e.started > recovered_at) {
        assert_eq!(e.status, Some(200), "after recovery: {}", e.body);
    }
    while_down.len()
}

/// The JWTs of every refused exchange in `log`, and `also`'s.
fn refused_jwts(log: &[Exchange], also: &Exchange) -> Vec<String> {
    log.iter()
        .filter(|e| e.status == Some(503))
        .chain([also])
        .map(|e| e.jwt.clone())
        .collect()
}

/// The upload tokens of every successful exchange in `log`.
fn minted_tokens(log: &[Exchange]) -> Vec<String> {
    log.iter()
        .filter(|e| e.status == Some(200))
        .map(|e| {
            e.body["token"]
                .as_str()
                .expect("a 200 carries a token")
                .to_owned()
        })
        .collect()
}

/// Asserts every token in `tokens` verifies: its record was stored before it was handed out.
async fn assert_all_verify(app: &TestApp, tokens: &[String], when: &str) {
    for token in tokens {
        let verification = verify(app, token).await;
        assert!(
            matches!(verification, Verification::Allowed(_)),
            "{when}: a minted token does not verify ({verification:?}); its record was lost"
        );
    }
}

// === background traffic ===

/// CI jobs exchanging fresh JWTs back to back until told to stop.
struct Traffic {
    log: Arc<Mutex<Vec<Exchange>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Traffic {
    fn start(app: &Arc<TestApp>, clients: usize) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..clients)
            .map(|_| {
                let (app, log, stop) = (app.clone(), log.clone(), stop.clone());
                tokio::spawn(async move {
                    while !stop.load(Ordering::SeqCst) {
                        let outcome = fresh_exchange(&app).await;
                        log.lock().expect("log").push(outcome);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                })
            })
            .collect();
        Self { log, stop, tasks }
    }

    fn count(&self, matching: impl Fn(&Exchange) -> bool) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|e| matching(e))
            .count()
    }

    /// Waits until `n` exchanges match (at most 20 s).
    async fn wait_for(&self, n: usize, what: &str, matching: impl Fn(&Exchange) -> bool) {
        let started = Instant::now();
        while self.count(&matching) < n {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "background traffic: fewer than {n} {what}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finish(self) -> Vec<Exchange> {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("traffic task");
        }
        self.log.lock().expect("log").clone()
    }
}

/// An app on `redis` serving background traffic, observed through one outage.
struct UnderLoad {
    app: Arc<TestApp>,
    /// A token minted before the outage.
    early_token: String,
    traffic: Traffic,
}

/// What the traffic saw, once the service minted again after an outage.
struct Recovered {
    log: Vec<Exchange>,
    /// From Redis answering again (`up_at`) to the first successful mint.
    after: Duration,
    at: Instant,
}

impl UnderLoad {
    /// Starts the app on the running `redis`, mints one token, and starts two clients
    /// exchanging back to back; returns once they have minted three tokens.
    async fn start(redis: &OwnedRedis) -> Self {
        let app = Arc::new(spawn_on(redis).await);
        let before = fresh_exchange(&app).await;
        assert_eq!(before.status, Some(200), "{}", before.body);
        let early_token = minted_tokens(std::slice::from_ref(&before)).remove(0);
        assert_ready(&app, "before the outage").await;
        let traffic = Traffic::start(&app, 2);
        traffic
            .wait_for(3, "successes", |e| e.status == Some(200))
            .await;
        Self {
            app,
            early_token,
            traffic,
        }
    }

    /// The first exchange, `/readyz` and gRPC right after the outage began at `down_at`
    /// all fail closed; the traffic sees `during` exchanges begin inside the outage.
    /// Returns the refused exchange.
    async fn assert_fails_closed(&self, down_at: Instant, during: usize, when: &str) -> Exchange {
        let refused = fresh_exchange(&self.app).await;
        assert_unavailable(&refused, when);
        assert_not_ready(&self.app, when).await;
        assert_grpc_unavailable(&self.app, &self.early_token, when).await;
        self.traffic
            .wait_for(during, "exchanges inside the outage", |e| {
                e.started > down_at
            })
            .await;
        refused
    }

    /// Waits for the service to mint again after Redis answered at `up_at` (within
    /// [`RECOVERY`]) and for three more successes, then stops the traffic.
    async fn recover(self, up_at: Instant, when: &str) -> (Arc<TestApp>, String, Recovered) {
        let after = wait_for_recovery(&self.app, up_at, when).await;
        let at = Instant::now();
        assert_ready(&self.app, when).await;
        self.traffic
            .wait_for(3, "successes after recovery", |e| {
                e.started > at && e.status == Some(200)
            })
            .await;
        let log = self.traffic.finish().await;
        (self.app, self.early_token, Recovered { log, after, at })
    }
}

// === the tests ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopping_mid_traffic_fails_closed_and_service_resumes_without_restart() {
    count_service_panics();
    let redis = OwnedRedis::on_free_port();
    block_in_place(|| redis.server.start());
    let load = UnderLoad::start(&redis).await;

    block_in_place(|| redis.server.stop());
    let down_at = Instant::now();
    let down = load
        .assert_fails_closed(down_at, 6, "while Redis is down")
        .await;
    assert_eq!(
        load.app.get("/healthz").await.0,
        200,
        "the process itself is fine"
    );
    let revoke = load
        .app
        .post(
            "/_/oidc/revoke-token",
            json!({ "token": load.early_token }).to_string(),
        )
        .await;
    assert_token_error(&revoke, 503, "unavailable", UNAVAILABLE);

    // Redis may answer before `start` returns: the outage ends when the restart begins.
    let restarting_at = Instant::now();
    block_in_place(|| redis.server.start());
    let up_at = Instant::now();
    let (app, early_token, recovered) = load.recover(up_at, "after Redis restarted").await;
    let log = recovered.log;
    let while_down = assert_outage_seen_right(&log, down_at, restarting_at, recovered.at);
    assert!(
        while_down >= 6,
        "{while_down} exchanges while Redis was down"
    );

    // Nothing was half-written: every JWT refused with 503 exchanges now.
    assert_not_burnt(&app, &refused_jwts(&log, &down)).await;
    // This Redis keeps nothing on disk: the restart lost the token records, so the token
    // minted before the outage is gone (operations.md says so).
    assert_eq!(
        verify(&app, &early_token).await,
        Verification::Denied {
            reason: REVOKED_OR_EXPIRED.to_owned()
        }
    );
    // Operators see it: every refusal counted under `unavailable`, the failed readiness
    // pings under their operation.
    let metrics = app.get("/metrics").await.1;
    let refusals_seen = log.iter().filter(|e| e.status == Some(503)).count() + 2;
    assert!(
        counter_sum(&metrics, "trustmint_exchanges_total{code=\"unavailable\"")
            >= refusals_seen as f64,
        "{metrics}"
    );
    assert!(counter_sum(&metrics, "trustmint_store_errors_total{op=\"ping\"}") >= 1.0);
    assert_eq!(service_panics(), 0, "the service panicked");
    let slowest_failure = log
        .iter()
        .filter(|e| e.status == Some(503))
        .map(|e| e.took)
        .max();
    println!(
        "{} background exchanges ({while_down} while down, slowest 503 {slowest_failure:?}); minting again {:?} after Redis restarted",
        log.len(),
        recovered.after
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_costs_a_request_at_most_the_timeout() {
    // A frozen server keeps connections open and never answers: only the timeouts stand
    // between callers and an unbounded wait. Unlike a restart, the data survives, so a
    // JWT that was burnt by a failed exchange would show.
    count_service_panics();
    let redis = OwnedRedis::on_free_port();
    block_in_place(|| redis.server.start());
    let app = spawn_on(&redis).await;
    let before = fresh_exchange(&app).await;
    assert_eq!(before.status, Some(200), "{}", before.body);
    let token = before.body["token"].as_str().expect("token").to_owned();

    redis.server.signal("STOP");
    let mut failed = Vec::new();
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        let frozen = fresh_exchange(&app).await;
        assert_unavailable(&frozen, "while Redis is frozen");
        slowest = slowest.max(frozen.took);
        failed.push(frozen.jwt);
    }
    assert_not_ready(&app, "while Redis is frozen").await;
    assert_grpc_unavailable(&app, &token, "while Redis is frozen").await;

    redis.server.signal("CONT");
    let recovered_after = wait_for_recovery(&app, Instant::now(), "after Redis thawed").await;
    assert_ready(&app, "after Redis thawed").await;
    assert_not_burnt(&app, &failed).await;
    assert!(matches!(
        verify(&app, &token).await,
        Verification::Allowed(_)
    ));
    assert_eq!(service_panics(), 0, "the service panicked");
    println!(
        "frozen: slowest 503 {slowest:?}; minting again {recovered_after:?} after Redis thawed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_starts_without_redis_and_serves_once_redis_is_up() {
    count_service_panics();
    let redis = OwnedRedis::on_free_port();
    let app = spawn_on(&redis).await;
    assert_eq!(app.get("/healthz").await.0, 200);
    assert_not_ready(&app, "before Redis ever started").await;
    let refused = fresh_exchange(&app).await;
    assert_unavailable(&refused, "before Redis ever started");

    block_in_place(|| redis.server.start());
    let up_at = Instant::now();
    let recovered_after = wait_for_recovery(&app, up_at, "after Redis started").await;
    assert_ready(&app, "after Redis started").await;
    assert_not_burnt(&app, &[refused.jwt]).await;
    assert_eq!(service_panics(), 0, "the service panicked");
    println!("minting {recovered_after:?} after Redis first started");
}

/// `redis-server` arguments for a server whose acknowledged writes survive SIGKILL: the
/// append-only file, fsynced before every reply.
const DURABLE: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_traffic_and_restarted_keeps_every_minted_token_and_burns_no_jwt() {
    // SIGKILL gives Redis no chance to answer or flush: connections break mid-command.
    // The server keeps an fsynced AOF, so whatever it acknowledged survives the restart
    // on the same port — every token handed out must still verify afterwards.
    count_service_panics();
    let redis = OwnedRedis::on_free_port();
    block_in_place(|| redis.server.start_with(DURABLE));
    let load = UnderLoad::start(&redis).await;

    let killed_at = Instant::now();
    block_in_place(|| redis.server.kill());
    let down_at = Instant::now();
    let down = load
        .assert_fails_closed(down_at, 4, "while Redis is dead")
        .await;

    let restarting_at = Instant::now();
    block_in_place(|| redis.server.start_with(DURABLE));
    let up_at = Instant::now();
    let (app, early_token, recovered) = load.recover(up_at, "after Redis restarted").await;
    let log = recovered.log;
    let while_down = assert_outage_seen_right(&log, down_at, restarting_at, recovered.at);

    let mut minted = minted_tokens(&log);
    minted.push(early_token);
    assert_all_verify(&app, &minted, "after the restart").await;
    // An exchange caught by the kill may have had its commit applied and fsynced with the
    // answer lost: its claim cannot be undone and survives the restart (operations.md,
    // "Nothing is half-written"). Every exchange that started once Redis was dead burnt
    // nothing.
    let (in_flight, after_kill): (Vec<Exchange>, Vec<Exchange>) = log
        .iter()
        .filter(|e| e.status == Some(503))
        .chain([&down])
        .cloned()
        .partition(|e| e.started < killed_at);
    let after_kill: Vec<String> = after_kill.into_iter().map(|e| e.jwt).collect();
    assert_not_burnt(&app, &after_kill).await;
    let mut claimed_by_the_crash = 0;
    for caught in &in_flight {
        let retried = exchange(&app, caught.jwt.clone()).await;
        if retried.status != Some(200) {
            let answer = (retried.status.unwrap_or(0), retried.body.clone());
            assert_token_error(
                &answer,
                422,
                "invalid-reuse-token",
                "invalid token: already used",
            );
            claimed_by_the_crash += 1;
        }
    }
    assert_eq!(service_panics(), 0, "the service panicked");
    println!(
        "killed: {} background exchanges ({while_down} while dead), {} minted tokens all verify after the restart; {} exchanges caught by the kill, {claimed_by_the_crash} of their JWTs left claimed; minting again {:?} after Redis restarted",
        log.len(),
        minted.len(),
        in_flight.len(),
        recovered.after
    );
}

/// How long `CLIENT PAUSE` holds the service's commands: several timeouts, so requests
/// give up while their commands still wait inside Redis.
const PAUSE: Duration = Duration::from_millis(4_000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_redis_costs_a_request_at_most_the_timeout_and_its_late_commands_burn_nothing() {
    // `CLIENT PAUSE … ALL` holds every command server-side with the connections open, and
    // runs them when the pause ends — after the service gave up on them. Those late
    // commands (replay claims, token writes) must not burn the JWT of a refused exchange.
    count_service_panics();
    let redis = OwnedRedis::on_free_port();
    block_in_place(|| redis.server.start());
    let load = UnderLoad::start(&redis).await;

    let pause_ms = PAUSE.as_millis().to_string();
    // Redis's pause begins between these two instants and lasts PAUSE.
    let pausing_at = Instant::now();
    let paused = block_in_place(|| redis.server.cli(&["client", "pause", &pause_ms, "all"]));
    let paused_at = Instant::now();
    assert_eq!(paused.as_deref().map(str::trim), Some("OK"));
    let during = load
        .assert_fails_closed(paused_at, 3, "while Redis is paused")
        .await;

    let resumes_at = paused_at + PAUSE;
    tokio::time::sleep_until(resumes_at.into()).await;
    let (app, early_token, recovered) = load.recover(resumes_at, "after the pause ended").await;
    let log = recovered.log;
    let inside = assert_outage_seen_right(&log, paused_at, pausing_at + PAUSE, recovered.at);

    let mut minted = minted_tokens(&log);
    minted.push(early_token);
    assert_all_verify(&app, &minted, "after the pause").await;
    assert_not_burnt(&app, &refused_jwts(&log, &during)).await;
    assert_eq!(service_panics(), 0, "the service panicked");
    println!(
        "paused: {} background exchanges ({inside} inside the pause); minting again {:?} after it ended",
        log.len(),
        recovered.after
    );
}
