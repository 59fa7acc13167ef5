//! Redis going away and coming back, on servers and clusters these tests own: every call
//! fails with a `StoreError` naming its operation within `timeout_ms` (plus scheduling
//! margin), nothing hangs or panics, and calls succeed again by themselves once Redis is
//! back, on the same `Backends`.

use std::time::{Duration, Instant};

use trustmint_store::{Backend, Backends, RateLimitSettings, StoreError, StoreSettings};

use crate::support::fixtures::{github, now, pending, token_record, unique_owner};
use crate::support::processes::{OwnedRedis, TestCluster};
use crate::support::unique_prefix;

const TIMEOUT_MS: u64 = 300;
/// Scheduling slack on a loaded 2-core machine running debug builds.
const MARGIN: Duration = Duration::from_millis(500);
/// How soon after Redis is back every call must succeed again.
const RECOVERY: Duration = Duration::from_secs(2);

fn settings(redis_url: Option<String>, cluster_urls: Vec<String>) -> StoreSettings {
    StoreSettings {
        backend: Backend::Redis,
        redis_url: redis_url.unwrap_or_default(),
        cluster_urls,
        key_prefix: unique_prefix(),
        timeout_ms: TIMEOUT_MS,
        ..StoreSettings::default()
    }
}

/// Runs one call of every operation; returns (expected op name, outcome, duration).
async fn every_op(backends: &Backends) -> Vec<(&'static str, Result<(), StoreError>, Duration)> {
    let record = token_record();
    let publisher = github(
        &unique_owner(),
        "sampleproject",
        "release.yml",
        &["sampleproject"],
    );
    let waiting = pending(
        &unique_owner(),
        "sampleproject",
        "release.yml",
        &["new"],
        None,
    );
    let lookup_key = publisher.spec.lookup_key();
    let project = publisher.projects[0].clone();
    let replay_key = format!("d:{}", uuid::Uuid::new_v4());
    let mut outcomes = Vec::new();
    macro_rules! run {
        ($op:literal, $call:expr) => {{
            let start = Instant::now();
            let outcome = $call.await.map(|_| ());
            outcomes.push(($op, outcome, start.elapsed()));
        }};
    }
    run!("token_put", backends.tokens.put(&record, 900));
    run!("token_get", backends.tokens.get(&record.token_id));
    run!("token_delete", backends.tokens.delete(&record.token_id));
    run!(
        "replay_claim",
        backends.replay.claim(&replay_key, "fault-test", now() + 60)
    );
    run!(
        "replay_release",
        backends.replay.release(&replay_key, "fault-test")
    );
    run!(
        "publisher_create",
        backends.publishers.create(publisher.clone())
    );
    run!(
        "publisher_create",
        backends.publishers.create(waiting.clone())
    );
    run!("publisher_get", backends.publishers.get(&publisher.id));
    run!(
        "publisher_candidates",
        backends.publishers.candidates(lookup_key.as_str())
    );
    run!(
        "publisher_list",
        backends.publishers.list_by_project(&project)
    );
    run!(
        "publisher_confirm",
        backends.publishers.confirm(&waiting.id)
    );
    run!(
        "publisher_delete",
        backends.publishers.delete(&publisher.id)
    );
    run!(
        "rate_check",
        backends.rate_limiter.check("mint:198.51.100.7")
    );
    if let Some(audit) = &backends.audit {
        run!(
            "audit_append",
            audit.append(&[("event", "fault-test".to_owned())])
        );
    }
    run!("ping", backends.health.ping());
    outcomes
}

/// Every call fails, with its own op name, within the bound.
async fn assert_all_fail_in_time(backends: &Backends, when: &str) {
    let bound = Duration::from_millis(TIMEOUT_MS) + MARGIN;
    for (op, outcome, took) in every_op(backends).await {
        let err = outcome.expect_err(&format!("{op} should fail {when}"));
        assert_eq!(err.op, op, "{when}: {err}");
        assert!(
            took <= bound,
            "{when}: {op} took {took:?} (bound {bound:?}): {err}"
        );
    }
}

/// Polls until every call succeeds; fails if that takes longer than `RECOVERY` after
/// `back_at`.
async fn assert_recovers(backends: &Backends, back_at: Instant, when: &str) -> Duration {
    loop {
        let outcomes = every_op(backends).await;
        let failures: Vec<String> = outcomes
            .iter()
            .filter_map(|(op, outcome, _)| outcome.as_ref().err().map(|e| format!("{op}: {e}")))
            .collect();
        if failures.is_empty() {
            return back_at.elapsed();
        }
        assert!(
            back_at.elapsed() <= RECOVERY,
            "{when}: still failing {:?} after Redis came back: {failures:?}",
            back_at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn assert_all_succeed(backends: &Backends, when: &str) {
    for (op, outcome, _) in every_op(backends).await {
        assert_eq!(outcome, Ok(()), "{when}: {op}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_outage_and_recovery() {
    let owned = OwnedRedis::on_free_port();
    owned.server.start();
    let backends = Backends::connect(
        &settings(Some(owned.server.url()), vec![]),
        &RateLimitSettings::default(),
    )
    .await
    .expect("connect");
    assert_all_succeed(&backends, "while Redis is up").await;

    owned.server.stop();
    assert_all_fail_in_time(&backends, "right after Redis stopped").await;
    assert_all_fail_in_time(&backends, "while Redis stays down").await;
    assert!(backends.health.ping().await.is_err());

    owned.server.start();
    let took = assert_recovers(&backends, Instant::now(), "after restart").await;
    println!("standalone: every call succeeded again {took:?} after Redis restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_hang_is_bounded_by_the_timeout() {
    // A frozen server keeps the TCP connection open and never answers: only the
    // timeouts stand between callers and an unbounded wait.
    let owned = OwnedRedis::on_free_port();
    owned.server.start();
    let backends = Backends::connect(
        &settings(Some(owned.server.url()), vec![]),
        &RateLimitSettings::default(),
    )
    .await
    .expect("connect");
    assert_all_succeed(&backends, "before the hang").await;

    owned.server.signal("STOP");
    assert_all_fail_in_time(&backends, "while Redis is frozen").await;
    owned.server.signal("CONT");
    let took = assert_recovers(&backends, Instant::now(), "after Redis thawed").await;
    println!("standalone: every call succeeded again {took:?} after Redis thawed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone_startup_with_redis_down() {
    let owned = OwnedRedis::on_free_port();
    let backends = Backends::connect(
        &settings(Some(owned.server.url()), vec![]),
        &RateLimitSettings::default(),
    )
    .await
    .expect("connect must not need Redis");
    assert_all_fail_in_time(&backends, "before Redis ever started").await;
    let ping = backends.health.ping().await.expect_err("down");
    assert_eq!(ping.op, "ping");

    owned.server.start();
    let took = assert_recovers(&backends, Instant::now(), "after Redis started").await;
    println!("standalone: every call succeeded {took:?} after Redis first started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_outage_and_recovery() {
    let cluster = TestCluster::start();
    let backends = Backends::connect(
        &settings(None, cluster.urls()),
        &RateLimitSettings::default(),
    )
    .await
    .expect("connect");
    assert_recovers(&backends, Instant::now(), "while the cluster is up").await;

    cluster.stop_all();
    assert_all_fail_in_time(&backends, "right after the cluster stopped").await;
    assert_all_fail_in_time(&backends, "while the cluster stays down").await;

    cluster.start_all();
    let took = assert_recovers(&backends, Instant::now(), "after the cluster restarted").await;
    println!("cluster: every call succeeded again {took:?} after cluster_state:ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_startup_with_cluster_down() {
    let cluster = TestCluster::unstarted();
    let backends = Backends::connect(
        &settings(None, cluster.urls()),
        &RateLimitSettings::default(),
    )
    .await
    .expect("connect must not need the cluster");
    assert_all_fail_in_time(&backends, "before the cluster existed").await;

    cluster.create();
    let took = assert_recovers(&backends, Instant::now(), "after the cluster formed").await;
    println!("cluster: every call succeeded {took:?} after the cluster first formed");
}

#[tokio::test]
async fn connect_fails_only_for_invalid_settings() {
    let cases = [
        (
            settings(Some("redis://127.0.0.1:notaport".into()), vec![]),
            "store.redis_url: 'redis://127.0.0.1:notaport' is not a valid Redis URL",
        ),
        (
            settings(None, vec!["http://127.0.0.1:7000".into()]),
            "store.cluster_urls: 'http://127.0.0.1:7000' is not a redis:// or rediss:// URL",
        ),
    ];
    for (settings, expected) in cases {
        let err = Backends::connect(&settings, &RateLimitSettings::default())
            .await
            .expect_err("invalid");
        assert_eq!(err.op, "connect");
        assert!(err.detail.starts_with(expected), "{}", err.detail);
    }
}
