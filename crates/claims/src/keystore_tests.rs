//! Keystore behaviours (PyPI test_services 29–35, adapted; plus single-flight and the
//! failure backoff). Time-based ones run on tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use trustmint_testkit::{KeyAlgorithm, TestKey};

use super::*;
use crate::test_support::{FakeFetcher, keystore, keystore_with};

const JWKS: &str = "https://keys.example.com/jwks";
const ISSUER: &str = "https://gitlab.example.com";
const DISCOVERY: &str = "https://gitlab.example.com/.well-known/openid-configuration";

fn rsa(kid: &str) -> TestKey {
    TestKey::generate(KeyAlgorithm::RS256, kid).expect("key")
}

fn jwks_source() -> KeySource {
    KeySource::Jwks(JWKS.to_owned())
}

async fn lookup(store: &KeyStore, kid: &str) -> Result<String, KeyLookupError> {
    store
        .key("gl", &jwks_source(), kid)
        .await
        .map(|key| format!("{key:?}"))
}

fn found(kid: &str) -> Result<String, KeyLookupError> {
    Ok(format!(
        "VerificationKey {{ kid: {kid:?}, algorithms: [RS256], .. }}"
    ))
}

#[test]
fn source_is_jwks_uri_or_discovery_of_the_concrete_iss() {
    assert_eq!(
        KeySource::for_issuer(Some(JWKS), ISSUER),
        KeySource::Jwks(JWKS.into())
    );
    assert_eq!(
        KeySource::for_issuer(None, ISSUER),
        KeySource::Discovery(DISCOVERY.into())
    );
    assert_eq!(
        KeySource::for_issuer(None, "https://gitlab.example.com/"),
        KeySource::Discovery(DISCOVERY.into())
    );
}

#[tokio::test(start_paused = true)]
async fn first_miss_loads_then_hits_are_served_from_cache() {
    let fetcher = FakeFetcher::new();
    let key1 = rsa("k1");
    fetcher.serve_keys(JWKS, &[&key1]);
    let (store, observer) = keystore(&fetcher);

    assert_eq!(lookup(&store, "k1").await, found("k1"));
    assert_eq!(lookup(&store, "k1").await, found("k1"));
    assert_eq!(fetcher.calls(JWKS), 1);
    assert_eq!(observer.results(), vec![FetchResult::Ok]);
}

#[tokio::test(start_paused = true)]
async fn unknown_kid_within_cooldown_skips_the_fetch() {
    let fetcher = FakeFetcher::new();
    let key1 = rsa("k1");
    fetcher.serve_keys(JWKS, &[&key1]);
    let (store, observer) = keystore(&fetcher);

    assert_eq!(lookup(&store, "k1").await, found("k1"));
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(
        lookup(&store, "fake-key-id").await,
        Err(KeyLookupError::NotFound)
    );
    assert_eq!(lookup(&store, "other").await, Err(KeyLookupError::NotFound));
    assert_eq!(fetcher.calls(JWKS), 1, "no HTTP call within the cooldown");
    assert_eq!(
        observer
            .cooldown_skips
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_kid_misses_after_refresh() {
    let fetcher = FakeFetcher::new();
    fetcher.serve_keys(JWKS, &[&rsa("k1")]);
    let (store, _) = keystore(&fetcher);

    // The first load is the refresh: the kid is still absent afterwards.
    assert_eq!(
        lookup(&store, "fake-key-id").await,
        Err(KeyLookupError::NotFound)
    );
    assert_eq!(fetcher.calls(JWKS), 1);
}

#[tokio::test(start_paused = true)]
async fn refresh_after_cooldown_adds_the_new_kid_and_drops_rotated_out_ones() {
    let fetcher = FakeFetcher::new();
    let (key1, key2) = (rsa("k1"), rsa("k2"));
    fetcher.serve_keys(JWKS, &[&key1]);
    let (store, _) = keystore(&fetcher);
    assert_eq!(lookup(&store, "k1").await, found("k1"));

    fetcher.serve_keys(JWKS, &[&key2]);
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(lookup(&store, "k2").await, found("k2"));
    assert_eq!(fetcher.calls(JWKS), 2);
    // The whole set was replaced: k1 is gone (and within the new cooldown, no refetch).
    assert_eq!(lookup(&store, "k1").await, Err(KeyLookupError::NotFound));
    assert_eq!(fetcher.calls(JWKS), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_refresh_keeps_the_last_good_set() {
    let fetcher = FakeFetcher::new();
    fetcher.serve_keys(JWKS, &[&rsa("k1")]);
    let (store, observer) = keystore(&fetcher);
    assert_eq!(lookup(&store, "k1").await, found("k1"));

    fetcher.respond(JWKS, Err(FetchError::Status(503)));
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(
        lookup(&store, "k2").await,
        Err(KeyLookupError::Unavailable(
            "gl: fetching JWKS: HTTP status 503".into()
        ))
    );
    assert_eq!(
        lookup(&store, "k1").await,
        found("k1"),
        "stale key still verifies"
    );
    assert_eq!(
        observer.results(),
        vec![FetchResult::Ok, FetchResult::Error]
    );
}

#[tokio::test(start_paused = true)]
async fn failure_backoff_answers_unavailable_without_refetching() {
    let fetcher = FakeFetcher::new();
    fetcher.respond(JWKS, Err(FetchError::Timeout));
    let (store, _) = keystore(&fetcher);

    assert_eq!(
        lookup(&store, "k1").await,
        Err(KeyLookupError::Unavailable(
            "gl: fetching JWKS: timed out".into()
        ))
    );
    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(
        lookup(&store, "k1").await,
        Err(KeyLookupError::Unavailable(
            "key set of gl could not be fetched recently; retrying after the backoff".into()
        ))
    );
    assert_eq!(fetcher.calls(JWKS), 1);

    fetcher.serve_keys(JWKS, &[&rsa("k1")]);
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(lookup(&store, "k1").await, found("k1"));
    assert_eq!(fetcher.calls(JWKS), 2);
}

#[tokio::test(start_paused = true)]
async fn empty_key_set_is_never_cached() {
    let fetcher = FakeFetcher::new();
    let key1 = rsa("k1");
    fetcher.serve_keys(JWKS, &[&key1]);
    let (store, observer) = keystore(&fetcher);
    assert_eq!(lookup(&store, "k1").await, found("k1"));

    // Upstream publishes an empty set (or one with nothing usable).
    fetcher.serve_json(
        JWKS,
        &json!({"keys": [{"kty": "oct", "kid": "s", "k": "c2VjcmV0"}]}),
    );
    tokio::time::advance(Duration::from_secs(61)).await;
    assert_eq!(
        lookup(&store, "k2").await,
        Err(KeyLookupError::Unavailable(
            "gl: JWKS has no usable keys".into()
        ))
    );
    assert_eq!(lookup(&store, "k1").await, found("k1"));
    assert_eq!(
        observer.results(),
        vec![FetchResult::Ok, FetchResult::Empty]
    );
    assert_eq!(store.status()[0].keys, 1);
}

#[tokio::test(start_paused = true)]
async fn oversized_and_invalid_documents_are_errors() {
    let rows: Vec<(Result<Vec<u8>, FetchError>, &str)> = vec![
        (
            Ok(vec![b' '; 300 * 1024]),
            "gl: fetching JWKS: response larger than 262144 bytes",
        ),
        (
            Ok(b"not json".to_vec()),
            "gl: JWKS is not a JSON object with a \"keys\" array",
        ),
        (
            Ok(b"{\"keys\": {}}".to_vec()),
            "gl: JWKS is not a JSON object with a \"keys\" array",
        ),
        (
            Ok(b"[]".to_vec()),
            "gl: JWKS is not a JSON object with a \"keys\" array",
        ),
    ];
    for (response, expected) in rows {
        let fetcher = FakeFetcher::new();
        fetcher.respond(JWKS, response);
        let (store, _) = keystore(&fetcher);
        assert_eq!(
            lookup(&store, "k1").await,
            Err(KeyLookupError::Unavailable(expected.into()))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn slow_fetch_is_cut_at_the_fetch_timeout() {
    let fetcher = FakeFetcher::new();
    fetcher.serve_keys(JWKS, &[&rsa("k1")]);
    fetcher.set_delay(Duration::from_secs(30));
    let settings = KeyStoreSettings {
        fetch_timeout: Duration::from_secs(5),
        ..KeyStoreSettings::default()
    };
    let (store, _) = keystore_with(&fetcher, settings);
    let started = tokio::time::Instant::now();
    assert_eq!(
        lookup(&store, "k1").await,
        Err(KeyLookupError::Unavailable(
            "gl: fetching JWKS: timed out".into()
        ))
    );
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn discovery_then_jwks() {
    let fetcher = FakeFetcher::new();
    fetcher.serve_json(DISCOVERY, &json!({"issuer": ISSUER, "jwks_uri": JWKS}));
    fetcher.serve_keys(JWKS, &[&rsa("k1")]);
    let (store, _) = keystore(&fetcher);
    let source = KeySource::for_issuer(None, ISSUER);
    let key = store
        .key("gl", &source, "k1")
        .await
        .map(|key| format!("{key:?}"));
    assert_eq!(key, found("k1"));
    assert_eq!((fetcher.calls(DISCOVERY), fetcher.calls(JWKS)), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn bad_discovery_documents_are_errors() {
    let rows = [
        (
            json!({"issuer": ISSUER}),
            "gl: discovery document has no jwks_uri",
        ),
        (
            json!({"jwks_uri": 7}),
            "gl: discovery document has no jwks_uri",
        ),
        (
            json!({"jwks_uri": "http://keys.example.com/jwks"}),
            "gl: discovery jwks_uri must use https (plain http is only allowed on a loopback host such as 127.0.0.1, ::1 or localhost)",
        ),
    ];
    for (document, expected) in rows {
        let fetcher = FakeFetcher::new();
        fetcher.serve_json(DISCOVERY, &document);
        let (store, _) = keystore(&fetcher);
        let got = store
            .key("gl", &KeySource::Discovery(DISCOVERY.into()), "k1")
            .await
            .map(|_| ());
        assert_eq!(
            got,
            Err(KeyLookupError::Unavailable(expected.into())),
            "{document}"
        );
        assert_eq!(fetcher.calls(JWKS), 0);
    }
}

/// 1,000 concurrent lookups of a kid not yet cached cause exactly one fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_one_fetch_for_a_thousand_concurrent_misses() {
    let fetcher = FakeFetcher::new();
    let (key1, key2) = (rsa("k1"), rsa("k2"));
    fetcher.serve_keys(JWKS, &[&key1, &key2]);
    fetcher.set_delay(Duration::from_millis(100));
    let (store, observer) = keystore(&fetcher);
    let store = Arc::new(store);

    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let kid = if i % 2 == 0 { "k2" } else { "absent" };
                (
                    kid,
                    store
                        .key("gl", &jwks_source(), kid)
                        .await
                        .map(|key| format!("{key:?}")),
                )
            })
        })
        .collect();
    for task in tasks {
        let (kid, result) = task.await.expect("task");
        match kid {
            "k2" => assert_eq!(result, found("k2")),
            _ => assert_eq!(result, Err(KeyLookupError::NotFound)),
        }
    }
    assert_eq!(fetcher.total_calls(), 1);
    assert_eq!(observer.results(), vec![FetchResult::Ok]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_one_fetch_when_the_issuer_is_down() {
    let fetcher = FakeFetcher::new();
    fetcher.respond(JWKS, Err(FetchError::Status(500)));
    fetcher.set_delay(Duration::from_millis(100));
    let (store, _) = keystore(&fetcher);
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.key("gl", &jwks_source(), "k1").await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.expect("task"),
            Err(KeyLookupError::Unavailable(_))
        ));
    }
    assert_eq!(fetcher.total_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn status_reports_each_source() {
    let fetcher = FakeFetcher::new();
    fetcher.serve_keys(JWKS, &[&rsa("k1"), &rsa("k2")]);
    let (store, _) = keystore(&fetcher);
    assert_eq!(store.status(), vec![]);
    assert_eq!(lookup(&store, "k1").await, found("k1"));
    tokio::time::advance(Duration::from_secs(7)).await;
    assert_eq!(
        store.status(),
        vec![KeySetStatus {
            issuer_name: "gl".into(),
            source: JWKS.into(),
            keys: 2,
            age: Some(Duration::from_secs(7)),
        }]
    );
}

#[tokio::test(start_paused = true)]
async fn sources_are_bounded() {
    let fetcher = FakeFetcher::new();
    let settings = KeyStoreSettings {
        max_key_sources: 3,
        ..KeyStoreSettings::default()
    };
    let (store, _) = keystore_with(&fetcher, settings);
    for n in 0..10 {
        let source = KeySource::Jwks(format!("https://keys{n}.example.com/jwks"));
        let _ = store.key("gl", &source, "k").await;
    }
    store.sources.run_pending_tasks().await;
    assert_eq!(store.sources.entry_count(), 3);
}
