//! GitHub secret scanning's partner endpoint: GitHub POSTs the tokens it found in
//! public places, signed with one of its keys; every trustmint token among them is
//! revoked at once and audited (action `leak`), and the answer labels each one.
//!
//! The request is trusted only when `Github-Public-Key-Signature` (base64 of a DER
//! ECDSA P-256 / SHA-256 signature over the raw body) verifies against the key named
//! by `Github-Public-Key-Identifier`, taken from `[secret_scanning] keys_url`. Anything
//! else is 401 and changes nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use openssl::ec::EcKey;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use trustmint_exchange::UploadToken;
use trustmint_telemetry::LeakLabel;

use super::read_body;
use crate::HttpState;

/// GitHub's published secret-scanning keys.
pub const GITHUB_KEYS_URL: &str = "https://api.github.com/meta/public_keys/secret_scanning";

/// After a fetch, an unknown key identifier triggers no other fetch for this long: a
/// flood of forged identifiers costs GitHub's API one request per interval.
const KEYS_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// The most tokens one request may report (GitHub batches; this bounds the work).
const MAX_REPORTED_TOKENS: usize = 1_000;

/// `[secret_scanning]`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecretScanningSettings {
    /// Serve the endpoint.
    pub enabled: bool,
    /// Where the verification keys are: `{"public_keys": [{"key_identifier", "key"
    /// (PEM), "is_current"}]}`.
    pub keys_url: String,
    /// The endpoint's path (registered with GitHub as the partner URL).
    pub path: String,
}

impl Default for SecretScanningSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            keys_url: GITHUB_KEYS_URL.to_owned(),
            path: "/_/secret-scanning/github".to_owned(),
        }
    }
}

impl SecretScanningSettings {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.keys_url.starts_with("https://") || self.keys_url.starts_with("http://")) {
            return Err("secret_scanning.keys_url: must be an http(s) URL".to_owned());
        }
        if !self.path.starts_with('/') || self.path.contains(['{', '}', '?', '#', ' ']) {
            return Err(
                "secret_scanning.path: must be an absolute path without '{', '}', '?', '#' or spaces"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// The endpoint's state: the key cache.
#[derive(Debug)]
pub(crate) struct SecretScanning {
    settings: SecretScanningSettings,
    client: reqwest::Client,
    keys: Mutex<KeyCache>,
    /// Serialises fetches, so a burst of unknown identifiers makes one request.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct KeyCache {
    keys: HashMap<String, PKey<Public>>,
    fetched_at: Option<Instant>,
}

#[derive(Deserialize)]
struct PublishedKeys {
    public_keys: Vec<PublishedKey>,
}

#[derive(Deserialize)]
struct PublishedKey {
    key_identifier: String,
    key: String,
}

/// One reported match.
#[derive(Deserialize)]
struct Reported {
    token: String,
    #[serde(rename = "type", default)]
    token_type: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    source: String,
}

/// The answer for one match.
#[derive(Serialize)]
struct Labelled {
    token_hash: String,
    token_type: String,
    label: &'static str,
}

/// Why a request is refused before anything is looked at.
#[derive(Debug, PartialEq, Eq)]
enum Unauthorized {
    MissingHeaders,
    UnknownKey,
    BadSignature,
    KeysUnavailable,
}

impl Unauthorized {
    fn text(&self) -> &'static str {
        match self {
            Unauthorized::MissingHeaders => {
                "Github-Public-Key-Identifier and Github-Public-Key-Signature are required"
            }
            Unauthorized::UnknownKey => "unknown Github-Public-Key-Identifier",
            Unauthorized::BadSignature => "the signature does not verify",
            Unauthorized::KeysUnavailable => "the verification keys could not be fetched",
        }
    }
}

impl SecretScanning {
    /// The endpoint for `settings` (`None` when disabled).
    pub(crate) fn new(settings: &SecretScanningSettings) -> Result<Option<Self>, String> {
        if !settings.enabled {
            return Ok(None);
        }
        settings.validate()?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("trustmint/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("secret_scanning: cannot build the HTTP client: {error}"))?;
        Ok(Some(Self {
            settings: settings.clone(),
            client,
            keys: Mutex::new(KeyCache::default()),
            fetching: tokio::sync::Mutex::new(()),
        }))
    }

    /// The configured path.
    pub(crate) fn path(&self) -> &str {
        &self.settings.path
    }

    fn cached(&self, key_id: &str) -> (Option<PKey<Public>>, bool) {
        let cache = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let may_fetch = cache
            .fetched_at
            .is_none_or(|at| at.elapsed() >= KEYS_REFETCH_COOLDOWN);
        (cache.keys.get(key_id).cloned(), may_fetch)
    }

    /// The key named `key_id`: from the cache, else from a fetch of the keys URL.
    async fn key(&self, key_id: &str) -> Result<PKey<Public>, Unauthorized> {
        if let (Some(key), _) = self.cached(key_id) {
            return Ok(key);
        }
        let _one_fetch = self.fetching.lock().await;
        match self.cached(key_id) {
            (Some(key), _) => return Ok(key),
            (None, false) => return Err(Unauthorized::UnknownKey),
            (None, true) => {}
        }
        let fetched = self.fetch().await;
        let mut cache = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.fetched_at = Some(Instant::now());
        match fetched {
            Ok(keys) => cache.keys = keys,
            Err(error) => {
                tracing::warn!(%error, "secret scanning: could not fetch the verification keys");
                if cache.keys.is_empty() {
                    return Err(Unauthorized::KeysUnavailable);
                }
            }
        }
        cache
            .keys
            .get(key_id)
            .cloned()
            .ok_or(Unauthorized::UnknownKey)
    }

    async fn fetch(&self) -> Result<HashMap<String, PKey<Public>>, String> {
        let response = self
            .client
            .get(&self.settings.keys_url)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("keys URL answered {}", response.status()));
        }
        let body = response.bytes().await.map_err(|error| error.to_string())?;
        let published: PublishedKeys =
            serde_json::from_slice(&body).map_err(|error| error.to_string())?;
        let mut keys = HashMap::new();
        for published in published.public_keys {
            // Only P-256 keys: the signature scheme is fixed, so another curve is a
            // key we must not verify with.
            let key = EcKey::public_key_from_pem(published.key.as_bytes())
                .ok()
                .filter(|key| key.group().curve_name() == Some(Nid::X9_62_PRIME256V1))
                .and_then(|key| PKey::from_ec_key(key).ok());
            match key {
                Some(key) => {
                    keys.insert(published.key_identifier, key);
                }
                None => tracing::warn!(
                    key_identifier = %published.key_identifier,
                    "secret scanning: skipping a key that is not an EC P-256 public key"
                ),
            }
        }
        Ok(keys)
    }

    /// Checks the request's signature over `body`.
    async fn authenticate(&self, request: &HttpRequest, body: &[u8]) -> Result<(), Unauthorized> {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .filter(|value| !value.is_empty())
        };
        let (Some(key_id), Some(signature)) = (
            header("Github-Public-Key-Identifier"),
            header("Github-Public-Key-Signature"),
        ) else {
            return Err(Unauthorized::MissingHeaders);
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| Unauthorized::BadSignature)?;
        let key = self.key(key_id).await?;
        let verified = Verifier::new(MessageDigest::sha256(), &key)
            .and_then(|mut verifier| verifier.verify_oneshot(&signature, body))
            .unwrap_or(false);
        if verified {
            Ok(())
        } else {
            Err(Unauthorized::BadSignature)
        }
    }
}

/// Registers the endpoint at its configured path, when enabled.
pub(crate) fn configure(config: &mut web::ServiceConfig, path: Option<&str>) {
    if let Some(path) = path {
        config.route(path, web::post().to(report));
    }
}

/// `POST [secret_scanning] path`.
async fn report(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(scanning) = state.secret_scanning.clone() else {
        return HttpResponse::NotFound().json(json!({ "message": "not found" }));
    };
    let body = match read_body(payload, &state).await {
        Ok(body) => body,
        Err((status, text)) => return HttpResponse::build(status).json(json!({ "message": text })),
    };
    if let Err(refused) = scanning.authenticate(&request, &body).await {
        tracing::warn!(
            reason = refused.text(),
            "secret scanning: unauthenticated report refused"
        );
        return HttpResponse::Unauthorized().json(json!({ "message": refused.text() }));
    }
    let reported: Vec<Reported> = match serde_json::from_slice(&body) {
        Ok(reported) => reported,
        Err(error) => {
            return HttpResponse::BadRequest().json(json!({
                "message": format!("body must be a JSON array of {{token, type, url, source}}: {error}")
            }));
        }
    };
    if reported.len() > MAX_REPORTED_TOKENS {
        return HttpResponse::build(StatusCode::PAYLOAD_TOO_LARGE).json(json!({
            "message": format!("at most {MAX_REPORTED_TOKENS} tokens per request")
        }));
    }
    let mut answer = Vec::with_capacity(reported.len());
    for item in reported {
        let leaked = match state
            .exchange
            .revoke_leaked(
                &UploadToken::new(item.token.clone()),
                &item.url,
                &item.source,
            )
            .await
        {
            Ok(leaked) => leaked,
            // Fail so GitHub retries: a token we could not revoke must not be
            // reported as handled.
            Err(error) => {
                return HttpResponse::ServiceUnavailable()
                    .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
                    .json(json!({ "message": error.description() }));
            }
        };
        let label = if leaked {
            LeakLabel::TruePositive
        } else {
            LeakLabel::FalsePositive
        };
        state.exchange.metrics().record_leaked_token(label);
        answer.push(Labelled {
            token_hash: hex::encode(Sha256::digest(item.token.as_bytes())),
            token_type: item.token_type,
            label: label.as_str(),
        });
    }
    HttpResponse::Ok().json(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_the_key_they_refuse() {
        assert_eq!(SecretScanningSettings::default().validate(), Ok(()));
        let bad_url = SecretScanningSettings {
            keys_url: "ftp://x".into(),
            ..SecretScanningSettings::default()
        };
        assert_eq!(
            bad_url.validate(),
            Err("secret_scanning.keys_url: must be an http(s) URL".to_owned())
        );
        let bad_path = SecretScanningSettings {
            path: "/_/{x}".into(),
            ..SecretScanningSettings::default()
        };
        assert!(
            bad_path
                .validate()
                .is_err_and(|e| e.starts_with("secret_scanning.path:"))
        );
    }
}
