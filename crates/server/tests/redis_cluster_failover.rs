//! Redis Cluster failover under load (issue 17 §3): the app runs on a Cluster of three
//! masters with one replica each (`cluster-node-timeout` 1 s, `store.timeout_ms` 500)
//! while CI jobs exchange JWTs and an index verifies the new tokens over gRPC. Then
//!
//! 1. a replica takes over with `CLUSTER FAILOVER` (coordinated: the master hands over
//!    once the replica has every write): the service keeps minting without a restart,
//!    and every token minted before still verifies;
//! 2. a master is killed with SIGKILL and its replica is promoted once the others flag
//!    the master failing: the service mints again by itself; tokens minted well before
//!    the kill still verify, and the acknowledged writes the replica never received
//!    (async replication) are counted and printed.
//!
//! While a shard is down every request fails closed — 503 `unavailable`, gRPC
//! UNAVAILABLE — within the store timeout plus slack; never a 500, a hang or a panic.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::redis_setup::{TestCluster, use_cluster};
use support::service_panics::{count_service_panics, service_panics};
use support::trustmint_process::token_client;
use support::{PROJECT, TestApp, base_settings, spawn_with_settings};
use tokio::task::block_in_place;
use trustmint_exchange::{REVOKED_OR_EXPIRED, Verification, VerifyRequest};
use trustmint_grpc::pb;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::parse_token;

/// What a client is told when the store is down.
const UNAVAILABLE: &str = "a backend trustmint depends on is unavailable; retry later";
/// `store.timeout_ms` of this test (the default).
const STORE_TIMEOUT_MS: u64 = 500;
/// `cluster-node-timeout`: how long a master may be unreachable before a replica takes
/// over.
const NODE_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Scheduling slack on a loaded 2-core machine (debug build, six Redis processes, the
/// load itself) on top of the store timeout, for a request that fails.
const SLACK: Duration = Duration::from_millis(750);
/// Exchanges must mint again within this long of the failover being started (manual) or
/// the master being killed, without a restart of trustmint.
const RESUME_BOUND: Duration = Duration::from_secs(10);
/// Client-side cap, far above every bound: a request that needs it has hung.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Concurrent CI jobs of the background load.
const CLIENTS: usize = 4;
/// Tokens minted before the load starts, checked after each failover.
const EARLY_TOKENS: usize = 24;
/// A write acknowledged this long before the kill has reached the replica (on one
/// machine replication lags by well under a millisecond).
const REPLICATED_AFTER: Duration = Duration::from_secs(1);

/// The longest a failed request may take: it stops at its first failed Redis call (a
/// mint whose replay claim's outcome is unknown releases it in the background, not
/// while the client waits).
fn failure_bound() -> Duration {
    Duration::from_millis(STORE_TIMEOUT_MS) + SLACK
}

// === one request as a client sees it ===

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Mint,
    Verify,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// 503 `unavailable` / gRPC UNAVAILABLE with the documented message.
    Unavailable,
    /// Anything else: a failure of the test.
    Other(String),
}

#[derive(Clone, Debug)]
struct Op {
    kind: Kind,
    started: Instant,
    took: Duration,
    outcome: Outcome,
}

impl Op {
    fn finished(&self) -> Instant {
        self.started + self.took
    }
}

/// A token the service acknowledged (200), with when.
#[derive(Clone, Debug)]
struct Minted {
    token: String,
    token_id: String,
    acked_at: Instant,
}

fn token_id_of(token: &str) -> String {
    parse_token(token, "pypi-")
        .expect("a pypi- token")
        .identifier
        .token_id
}

/// One mint-token exchange of a fresh JWT.
async fn mint(app: &TestApp) -> (Op, Option<Minted>) {
    let jwt = app.github_jwt(GitHubClaims::new());
    let started = Instant::now();
    let response = app
        .client
        .post(format!("{}/_/oidc/mint-token", app.http))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .timeout(CLIENT_TIMEOUT)
        .send()
        .await;
    let (status, body) = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            (
                Some(status),
                serde_json::from_str(&text).unwrap_or(Value::Null),
            )
        }
        Err(e) => (None, Value::String(e.to_string())),
    };
    let took = started.elapsed();
    let (outcome, minted) = match status {
        Some(200) => {
            let token = body["token"].as_str().expect("token").to_owned();
            let minted = Minted {
                token_id: token_id_of(&token),
                token,
                acked_at: Instant::now(),
            };
            (Outcome::Ok, Some(minted))
        }
        Some(503)
            if body["errors"][0]["code"] == "unavailable"
                && body["errors"][0]["description"] == UNAVAILABLE =>
        {
            (Outcome::Unavailable, None)
        }
        other => (Outcome::Other(format!("mint: {other:?} {body}")), None),
    };
    let op = Op {
        kind: Kind::Mint,
        started,
        took,
        outcome,
    };
    (op, minted)
}

/// `VerifyToken` over gRPC, as the index asks.
async fn grpc_verify(
    client: &mut pb::token_service_client::TokenServiceClient<tonic::transport::Channel>,
    token: &str,
) -> Op {
    let started = Instant::now();
    let answer = tokio::time::timeout(
        CLIENT_TIMEOUT,
        client.verify_token(pb::VerifyTokenRequest {
            ecosystem: String::new(),
            token: token.to_owned(),
            project: PROJECT.to_owned(),
        }),
    )
    .await;
    let took = started.elapsed();
    let outcome = match answer {
        Ok(Ok(response)) if response.get_ref().allowed => Outcome::Ok,
        Ok(Ok(response)) => Outcome::Other(format!("denied: {}", response.get_ref().reason)),
        Ok(Err(status))
            if status.code() == tonic::Code::Unavailable
                && status.message() == format!("unavailable: {UNAVAILABLE}") =>
        {
            Outcome::Unavailable
        }
        Ok(Err(status)) => Outcome::Other(format!("verify: {status}")),
        Err(_) => Outcome::Other(format!("verify: no answer within {CLIENT_TIMEOUT:?}")),
    };
    Op {
        kind: Kind::Verify,
        started,
        took,
        outcome,
    }
}

/// Verifies `token` through the use case (as gRPC does, without the transport).
async fn verify(app: &TestApp, token: &str) -> Verification {
    app.app
        .verify(VerifyRequest {
            token: token.into(),
            project: PROJECT.to_owned(),
        })
        .await
        .expect("verify runs")
}

// === background load ===

/// CI jobs exchanging fresh JWTs back to back, and an index verifying over gRPC each new
/// token and one of the tokens minted before the load (in turn, so every shard is read).
struct Load {
    ops: Arc<Mutex<Vec<Op>>>,
    minted: Arc<Mutex<Vec<Minted>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    async fn start(app: &Arc<TestApp>, clients: usize, early: &[Minted]) -> Self {
        let early: Arc<Vec<String>> = Arc::new(early.iter().map(|t| t.token.clone()).collect());
        let ops = Arc::new(Mutex::new(Vec::new()));
        let minted = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for client in 0..clients {
            let (app, ops, minted, stop, early) = (
                app.clone(),
                ops.clone(),
                minted.clone(),
                stop.clone(),
                early.clone(),
            );
            let mut grpc = token_client(app.grpc_addr).await;
            tasks.push(tokio::spawn(async move {
                let mut turn = client;
                while !stop.load(Ordering::SeqCst) {
                    turn += 1;
                    let op = grpc_verify(&mut grpc, &early[turn % early.len()]).await;
                    ops.lock().expect("ops").push(op);
                    let (op, token) = mint(&app).await;
                    ops.lock().expect("ops").push(op);
                    if let Some(token) = token {
                        let op = grpc_verify(&mut grpc, &token.token).await;
                        ops.lock().expect("ops").push(op);
                        minted.lock().expect("minted").push(token);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }));
        }
        Self {
            ops,
            minted,
            stop,
            tasks,
        }
    }

    fn ops(&self) -> Vec<Op> {
        self.ops.lock().expect("ops").clone()
    }

    fn minted(&self) -> Vec<Minted> {
        self.minted.lock().expect("minted").clone()
    }

    /// Waits until `n` mints that started after `since` succeeded (at most 30 s).
    async fn wait_for_mints(&self, n: usize, since: Instant, what: &str) {
        let started = Instant::now();
        loop {
            let ok = self
                .ops()
                .iter()
                .filter(|op| op.kind == Kind::Mint && op.started > since)
                .filter(|op| op.outcome == Outcome::Ok)
                .count();
            if ok >= n {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{what}: only {ok} of {n} mints succeeded; last ops: {:?}",
                self.ops().iter().rev().take(8).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finish(mut self) -> (Vec<Op>, Vec<Minted>) {
        self.stop.store(true, Ordering::SeqCst);
        for task in std::mem::take(&mut self.tasks) {
            task.await.expect("load task");
        }
        (self.ops(), self.minted())
    }
}

/// What the load saw around one failover.
#[derive(Debug)]
struct Window {
    failed_mints: usize,
    failed_verifies: usize,
    slowest_failed_mint: Duration,
    slowest_failed_verify: Duration,
    slowest_success: Duration,
    /// From the event to the end of the last failed request (zero: none failed).
    last_failure_after: Duration,
    /// Requests that started after the last failure (all succeeded).
    after_recovery: usize,
}

/// Checks every request that started after `event` (and before `until`, if given):
/// each succeeded or failed closed within the bound, failures stop within
/// [`RESUME_BOUND`], and the load ran on successfully afterwards.
#[track_caller]
fn check_window(ops: &[Op], event: Instant, until: Option<Instant>, when: &str) -> Window {
    let window: Vec<&Op> = ops
        .iter()
        .filter(|op| op.started >= event && until.is_none_or(|until| op.started < until))
        .collect();
    for op in &window {
        match &op.outcome {
            Outcome::Ok => {}
            Outcome::Unavailable => assert!(
                op.took <= failure_bound(),
                "{when}: a {:?} failed after {:?} (bound {:?})",
                op.kind,
                op.took,
                failure_bound()
            ),
            Outcome::Other(what) => panic!("{when}: {what} after {:?}", op.took),
        }
    }
    let failures: Vec<&&Op> = window
        .iter()
        .filter(|op| op.outcome == Outcome::Unavailable)
        .collect();
    let last_failure = failures.iter().map(|op| op.finished()).max();
    let last_failure_after = last_failure.map_or(Duration::ZERO, |at| at - event);
    assert!(
        last_failure_after <= RESUME_BOUND,
        "{when}: requests still failing {last_failure_after:?} after the event"
    );
    let after_recovery = window
        .iter()
        .filter(|op| last_failure.is_none_or(|at| op.started > at))
        .count();
    assert!(
        after_recovery >= 20,
        "{when}: only {after_recovery} requests after the last failure"
    );
    let slowest = |kind: Kind| {
        failures
            .iter()
            .filter(|op| op.kind == kind)
            .map(|op| op.took)
            .max()
            .unwrap_or_default()
    };
    Window {
        failed_mints: failures.iter().filter(|op| op.kind == Kind::Mint).count(),
        failed_verifies: failures.iter().filter(|op| op.kind == Kind::Verify).count(),
        slowest_failed_mint: slowest(Kind::Mint),
        slowest_failed_verify: slowest(Kind::Verify),
        slowest_success: window
            .iter()
            .filter(|op| op.outcome == Outcome::Ok)
            .map(|op| op.took)
            .max()
            .unwrap_or_default(),
        last_failure_after,
        after_recovery,
    }
}

// === the test ===

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchanges_survive_a_manual_failover_and_a_killed_master() {
    count_service_panics();
    let cluster = block_in_place(|| {
        let cluster = TestCluster::start_with_replicas(3, 1);
        cluster.set_node_timeout(NODE_TIMEOUT);
        cluster
    });
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    use_cluster(&mut settings, cluster.urls());
    settings.store.timeout_ms = STORE_TIMEOUT_MS;
    // as in production: the limiter's Redis call is part of every mint
    settings.rate_limit.enabled = true;
    settings.rate_limit.requests_per_second = 10_000.0;
    settings.rate_limit.burst = 10_000;
    let prefix = settings.store.key_prefix.clone();
    let token_key = |token_id: &str| format!("{prefix}tok:{token_id}");
    let app = Arc::new(spawn_with_settings(issuer, &settings).await);

    // Tokens minted before anything happens, spread over the three shards.
    let mut early = Vec::new();
    while early.len() < EARLY_TOKENS {
        let (op, minted) = mint(&app).await;
        assert_eq!(op.outcome, Outcome::Ok, "before the load");
        early.push(minted.expect("a token"));
    }
    for token in &early {
        assert!(matches!(
            verify(&app, &token.token).await,
            Verification::Allowed(_)
        ));
    }
    let load = Load::start(&app, CLIENTS, &early).await;
    load.wait_for_mints(10, Instant::now(), "before the failovers")
        .await;

    // (1) CLUSTER FAILOVER on the replica of the shard holding the first early token.
    let (old_master, replica) = block_in_place(|| {
        let master = cluster.master_of_key(&token_key(&early[0].token_id));
        (master.port(), cluster.replica_of(master).port())
    });
    let failover_at = Instant::now();
    let promoted_in = block_in_place(|| cluster.manual_failover(cluster.node_on(replica)));
    assert_eq!(
        block_in_place(|| cluster.node_on(old_master).role()).as_deref(),
        Some("slave"),
        "the old master follows the promoted replica"
    );
    load.wait_for_mints(20, Instant::now(), "after the manual failover")
        .await;
    let kill_at_earliest = Instant::now();
    let manual = check_window(
        &load.ops(),
        failover_at,
        Some(kill_at_earliest),
        "manual failover",
    );
    // Coordinated failover: nothing acknowledged is lost.
    let acked: Vec<Minted> = early.iter().cloned().chain(load.minted()).collect();
    for token in &acked {
        match verify(&app, &token.token).await {
            Verification::Allowed(_) => {}
            denied => panic!("after the manual failover, a token minted before: {denied:?}"),
        }
    }

    // (2) SIGKILL the master of another shard (one holding an early token).
    let (victim, victim_slots, heir) = block_in_place(|| {
        let victim = early
            .iter()
            .map(|token| cluster.master_of_key(&token_key(&token.token_id)))
            .find(|master| master.port() != replica)
            .expect("an early token on another shard");
        (
            victim.port(),
            cluster.slots_of(victim),
            cluster.replica_of(victim).port(),
        )
    });
    let probe = early
        .iter()
        .find(|token| {
            block_in_place(|| cluster.master_of_key(&token_key(&token.token_id)).port() == victim)
        })
        .expect("an early token on the victim")
        .clone();
    let mut grpc = token_client(app.grpc_addr).await;
    let kill_at = Instant::now();
    block_in_place(|| cluster.node_on(victim).kill());
    // The shard is down and nobody has taken over yet (that takes more than the node
    // timeout): reading a record it holds fails closed.
    let probed = grpc_verify(&mut grpc, &probe.token).await;
    assert!(
        probed.started.duration_since(kill_at) < NODE_TIMEOUT,
        "the probe started {:?} after the kill: too late to see the outage",
        probed.started.duration_since(kill_at)
    );
    assert_eq!(
        probed.outcome,
        Outcome::Unavailable,
        "VerifyToken of a record on the killed shard, after {:?}",
        probed.took
    );
    assert!(probed.took <= failure_bound(), "{probed:?}");
    block_in_place(|| cluster.wait_promoted(cluster.node_on(heir)));
    let promoted_after_kill = kill_at.elapsed();
    load.wait_for_mints(
        20,
        Instant::now(),
        "after the killed master's replica took over",
    )
    .await;
    let (ops, minted) = load.finish().await;
    let killed = check_window(&ops, kill_at, None, "killed master");
    assert!(
        killed.failed_mints + killed.failed_verifies > 0,
        "a killed master must cost some requests: {killed:?}"
    );

    // Every token acknowledged (before the kill, during the outage or after) still
    // verifies, unless its write never reached the replica: then it is gone (never
    // something else), it lived on the killed shard, and it was acknowledged just before
    // the kill (or at it), not once the replica had taken over.
    let promoted_at = kill_at + promoted_after_kill;
    let on_victim = |token: &Minted| {
        let slot = cluster.slot_of(&token_key(&token.token_id));
        victim_slots
            .iter()
            .any(|(from, to)| (*from..=*to).contains(&slot))
    };
    let all_tokens: Vec<Minted> = early.iter().chain(&minted).cloned().collect();
    let mut lost = Vec::new();
    for token in &all_tokens {
        match verify(&app, &token.token).await {
            Verification::Allowed(_) => {}
            Verification::Denied { reason } if reason == REVOKED_OR_EXPIRED => {
                lost.push(token.clone());
            }
            other => panic!("after the kill, a token acknowledged earlier: {other:?}"),
        }
    }
    for token in &lost {
        assert!(
            block_in_place(|| on_victim(token)),
            "a lost token was not on the killed shard"
        );
        assert!(
            token.acked_at + REPLICATED_AFTER > kill_at && token.acked_at < promoted_at,
            "a token acknowledged {:?} after the kill was lost",
            token.acked_at.checked_duration_since(kill_at)
        );
    }
    let acked_before_kill = all_tokens.iter().filter(|t| t.acked_at < kill_at).count();
    let on_victim_count = block_in_place(|| all_tokens.iter().filter(|t| on_victim(t)).count());
    assert_eq!(service_panics(), 0, "the service panicked");
    println!(
        "manual failover: replica promoted in {promoted_in:?}; {} mints and {} verifies failed \
         (slowest failed mint {:?}, verify {:?}; slowest success {:?}), last failure {:?} after \
         CLUSTER FAILOVER, {} requests after; {} tokens minted before all verify",
        manual.failed_mints,
        manual.failed_verifies,
        manual.slowest_failed_mint,
        manual.slowest_failed_verify,
        manual.slowest_success,
        manual.last_failure_after,
        manual.after_recovery,
        acked.len()
    );
    println!(
        "killed master: replica promoted {promoted_after_kill:?} after SIGKILL; {} mints and {} \
         verifies failed (slowest failed mint {:?}, verify \
         {:?}; slowest success {:?}), last failure {:?} after the kill, {} requests after; \
         lost acknowledged writes: {} of {} tokens ({} acknowledged before the kill, {} on the \
         killed shard)",
        killed.failed_mints,
        killed.failed_verifies,
        killed.slowest_failed_mint,
        killed.slowest_failed_verify,
        killed.slowest_success,
        killed.last_failure_after,
        killed.after_recovery,
        lost.len(),
        all_tokens.len(),
        acked_before_kill,
        on_victim_count
    );
    drop(app);
    block_in_place(move || drop(cluster));
}
