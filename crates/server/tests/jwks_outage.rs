//! An issuer's discovery/JWKS endpoint down or slow under a steady load of exchanges
//! (issue 17 §3): tokens signed with a cached key keep minting; a token with a new `kid`
//! is refused with 503 `unavailable` (retryable, not a verdict on the token) without a
//! fetch per request; the refresh is retried after the failure backoff, and the JWT
//! refused during the outage is not burnt. A slow endpoint delays only the tokens that
//! need the fetch, never those whose key is cached.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::{PROJECT, TestApp, assert_token_error, now, spawn_app_with};
use trustmint_testkit::SignOptions;
use trustmint_testkit::claims::GitHubClaims;

/// What a client is told when the issuer's keys cannot be fetched.
const KEYS_UNAVAILABLE: &str = "the token issuer's signing keys could not be fetched; retry later";
/// The keystore's backoff after a failed refresh (`KeyStoreSettings::failure_backoff`).
const FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// Upper bound for anything in this test to happen; reaching it is a failure.
const DEADLINE: Duration = Duration::from_secs(30);

/// Requests the issuer answered (discovery and JWKS).
fn issuer_requests(app: &TestApp) -> usize {
    app.issuer.discovery_fetch_count() + app.issuer.jwks_fetch_count()
}

/// A fresh JWT (new `jti`) signed with the issuer's key `kid`.
fn jwt_signed_by(app: &TestApp, kid: &str) -> String {
    let claims = GitHubClaims::new().build(&app.issuer.url(), "pypi", now());
    app.issuer
        .sign_with(SignOptions::default().signed_by(kid), &claims)
}

/// Exchanges with the cached key `kid` on two clients until `stop`; returns every
/// status seen.
fn steady_load(
    app: &Arc<TestApp>,
    kid: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<u16>>> {
    (0..2)
        .map(|_| {
            let (app, kid, stop) = (app.clone(), kid.to_owned(), stop.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let (status, body) = app.mint(&jwt_signed_by(&app, &kid)).await;
                    assert!(status == 200, "cached-key exchange: {status} {body}");
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect()
}

async fn finish(load: Vec<tokio::task::JoinHandle<Vec<u16>>>) -> usize {
    let mut total = 0;
    for client in load {
        total += client.await.expect("load client").len();
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_down_keeps_cached_keys_working_and_retries_after_the_backoff() {
    let app = Arc::new(
        spawn_app_with(|settings, _| settings.exchange.jwks_refresh_cooldown_secs = 1).await,
    );
    let first_kid = app.issuer.current_kid();
    let (status, body) = app.mint(&jwt_signed_by(&app, &first_kid)).await;
    assert_eq!(status, 200, "{body}");

    // The issuer goes down; the load keeps using the cached key.
    app.issuer.set_failing(true);
    let stop = Arc::new(AtomicBool::new(false));
    let load = steady_load(&app, &first_kid, &stop);
    // A key the service has never seen: the refresh it triggers fails (after the
    // 1 s cooldown since the first fetch).
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let new_kid = app.issuer.rotate_key();
    let refused_jwt = jwt_signed_by(&app, &new_kid);
    let before = issuer_requests(&app);
    let refused = app.mint(&refused_jwt).await;
    assert_token_error(&refused, 503, "unavailable", KEYS_UNAVAILABLE);
    let failed_at = Instant::now();
    assert!(
        issuer_requests(&app) > before,
        "the new kid triggered a refresh"
    );
    // Within the backoff, more tokens with the new kid are refused without a fetch each.
    let during_backoff = issuer_requests(&app);
    for _ in 0..5 {
        let response = app.mint(&jwt_signed_by(&app, &new_kid)).await;
        assert_token_error(&response, 503, "unavailable", KEYS_UNAVAILABLE);
    }
    assert_eq!(
        issuer_requests(&app),
        during_backoff,
        "refused without fetching again during the backoff"
    );

    // The issuer comes back; after the backoff the refresh is retried and the JWT
    // refused during the outage mints (it was not burnt).
    app.issuer.set_failing(false);
    let recovered = loop {
        let response = app.mint(&refused_jwt).await;
        if response.0 == 200 {
            break response;
        }
        assert_token_error(&response, 503, "unavailable", KEYS_UNAVAILABLE);
        assert!(
            failed_at.elapsed() < DEADLINE,
            "no recovery within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        failed_at.elapsed() >= FAILURE_BACKOFF - Duration::from_millis(500),
        "retried only after the backoff"
    );
    app.assert_minted_for(&recovered, PROJECT).await;
    stop.store(true, Ordering::SeqCst);
    let served = finish(load).await;
    assert!(served > 0, "the cached-key load ran");
    println!("{served} cached-key exchanges during the outage, all 200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_jwks_delays_only_the_tokens_that_need_a_fetch() {
    let app = Arc::new(
        spawn_app_with(|settings, _| settings.exchange.jwks_refresh_cooldown_secs = 1).await,
    );
    let first_kid = app.issuer.current_kid();
    let (status, body) = app.mint(&jwt_signed_by(&app, &first_kid)).await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    // Under the fetch timeout (5 s): the refresh succeeds, late.
    app.issuer.set_response_delay(Duration::from_secs(2));
    let new_kid = app.issuer.rotate_key();
    let slow = {
        let (app, jwt) = (app.clone(), jwt_signed_by(&app, &new_kid));
        tokio::spawn(async move { app.mint(&jwt).await })
    };
    // Give the slow exchange time to start its fetch, then exchange with the cached key
    // while it waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..5 {
        let (status, body) = app.mint(&jwt_signed_by(&app, &first_kid)).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        !slow.is_finished(),
        "cached-key exchanges waited behind the slow fetch"
    );
    let slow = slow.await.expect("slow exchange");
    app.assert_minted_for(&slow, PROJECT).await;
}
