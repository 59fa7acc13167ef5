//! Fakes shared by the unit tests: a scripted, counting [`JwksFetcher`] and a recording
//! [`KeyStoreObserver`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use trustmint_testkit::TestKey;

use crate::fetcher::{FetchError, JwksFetcher};
use crate::keystore::{FetchResult, KeyStore, KeyStoreObserver, KeyStoreSettings};

/// Answers each URL with a scripted result and counts calls per URL.
#[derive(Debug, Default)]
pub(crate) struct FakeFetcher {
    responses: Mutex<HashMap<String, Result<Vec<u8>, FetchError>>>,
    calls: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
    delay: Mutex<Option<Duration>>,
}

impl FakeFetcher {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(crate) fn respond(&self, url: &str, response: Result<Vec<u8>, FetchError>) {
        self.responses
            .lock()
            .expect("lock")
            .insert(url.to_owned(), response);
    }

    pub(crate) fn serve_json(&self, url: &str, document: &Value) {
        self.respond(url, Ok(serde_json::to_vec(document).expect("json")));
    }

    pub(crate) fn serve_keys(&self, url: &str, keys: &[&TestKey]) {
        self.serve_json(url, &jwks(keys));
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        *self.delay.lock().expect("lock") = Some(delay);
    }

    pub(crate) fn calls(&self, url: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .get(url)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn total_calls(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl JwksFetcher for FakeFetcher {
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.total.fetch_add(1, Ordering::SeqCst);
        *self
            .calls
            .lock()
            .expect("lock")
            .entry(url.to_owned())
            .or_default() += 1;
        let delay = *self.delay.lock().expect("lock");
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        self.responses
            .lock()
            .expect("lock")
            .get(url)
            .cloned()
            .unwrap_or(Err(FetchError::Status(404)))
    }
}

/// `{"keys": [...]}` of the public JWKs.
pub(crate) fn jwks(keys: &[&TestKey]) -> Value {
    json!({"keys": keys.iter().map(|key| key.public_jwk()).collect::<Vec<_>>()})
}

/// Records every observer call.
#[derive(Debug, Default)]
pub(crate) struct RecordingObserver {
    pub(crate) fetched: Mutex<Vec<(String, FetchResult)>>,
    pub(crate) cooldown_skips: AtomicUsize,
}

impl RecordingObserver {
    pub(crate) fn results(&self) -> Vec<FetchResult> {
        self.fetched
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, result)| *result)
            .collect()
    }
}

impl KeyStoreObserver for RecordingObserver {
    fn fetched(&self, issuer_name: &str, result: FetchResult) {
        self.fetched
            .lock()
            .expect("lock")
            .push((issuer_name.to_owned(), result));
    }

    fn cooldown_skip(&self, _issuer_name: &str) {
        self.cooldown_skips.fetch_add(1, Ordering::SeqCst);
    }
}

/// A keystore over `fetcher` with default settings, and its observer.
pub(crate) fn keystore(fetcher: &Arc<FakeFetcher>) -> (KeyStore, Arc<RecordingObserver>) {
    keystore_with(fetcher, KeyStoreSettings::default())
}

pub(crate) fn keystore_with(
    fetcher: &Arc<FakeFetcher>,
    settings: KeyStoreSettings,
) -> (KeyStore, Arc<RecordingObserver>) {
    let observer = Arc::new(RecordingObserver::default());
    let store = KeyStore::new(fetcher.clone(), settings, observer.clone());
    (store, observer)
}
