//! Builds the concrete service from settings: issuers, key cache, store, publishers,
//! keyring, metrics, and the use cases on top.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use trustmint_claims::{HttpFetcher, IssuerRegistry, JwtVerifier, KeyStore, KeyStoreSettings};
use trustmint_exchange::{Clock, Exchange, ExchangeBackends, SystemClock, declared_publisher};
use trustmint_publishers::Publisher;
use trustmint_store::{Backends, PublisherRegistry};
use trustmint_telemetry::Metrics;
use trustmint_tokens::{Keyring, KeyringError};

use crate::observer::MetricsObserver;
use crate::settings::{ConfigError, KeySettings, Settings};

/// Parses and validates the `[[issuers]]` list (defaults to the public issuers).
pub fn issuer_registry(settings: &Settings) -> Result<IssuerRegistry, ConfigError> {
    let issuers = if settings.issuers.is_empty() {
        IssuerRegistry::public_issuers()
    } else {
        settings.issuers.clone()
    };
    IssuerRegistry::new(&issuers).map_err(|error| ConfigError(error.to_string()))
}

/// Parses and validates every `[[publishers]]` entry; each must be reachable through a
/// configured issuer of its kind, or it could never match.
pub fn declared_publishers(
    settings: &Settings,
    issuers: &IssuerRegistry,
) -> Result<Vec<Publisher>, ConfigError> {
    settings
        .publishers
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            declared_publisher(issuers, entry)
                .map_err(|error| ConfigError(format!("publishers[{index}].{error}")))
        })
        .collect()
}

/// The minting keyring from `[keys]`; an ephemeral key when none is configured.
pub fn keyring(keys: &KeySettings) -> Result<Keyring, ConfigError> {
    let mut secrets = keys.secrets.clone();
    if !keys.secrets_dir.is_empty() {
        let entries = std::fs::read_dir(&keys.secrets_dir).map_err(|error| {
            ConfigError(format!(
                "keys.secrets_dir: cannot read '{}': {error}",
                keys.secrets_dir
            ))
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Kubernetes secret mounts add `..data` symlinks and hidden entries.
            if name.starts_with('.') || !entry.path().is_file() {
                continue;
            }
            let secret = std::fs::read_to_string(entry.path()).map_err(|error| {
                ConfigError(format!(
                    "keys.secrets_dir: cannot read key '{name}': {error}"
                ))
            })?;
            secrets.insert(name, secret.trim().to_owned());
        }
    }
    if keys.current.is_empty() {
        if !secrets.is_empty() {
            return Err(ConfigError(
                "keys.current: name the key id new tokens are minted with".to_owned(),
            ));
        }
        tracing::warn!(
            "no [keys] configured: minting with an ephemeral key; tokens stop verifying when this process exits and other replicas cannot verify them"
        );
        return Ok(Keyring::ephemeral());
    }
    Keyring::new(&keys.current, &secrets)
        .map_err(|error| ConfigError(keyring_error_message(&error, &secrets)))
}

/// A keyring error as `<config key>: <message>`: the secret's own key
/// (`keys.secrets.<id>`, whether it came from the table or `keys.secrets_dir`), or
/// `keys.current`.
fn keyring_error_message(error: &KeyringError, secrets: &BTreeMap<String, String>) -> String {
    match error {
        KeyringError::InvalidBase64 { key_id } | KeyringError::SecretTooShort { key_id, .. } => {
            format!("keys.secrets.{key_id}: {error}")
        }
        KeyringError::InvalidKeyId { key_id } if secrets.contains_key(key_id) => {
            format!("keys.secrets: {error}")
        }
        KeyringError::InvalidKeyId { .. } | KeyringError::CurrentKeyMissing { .. } => {
            format!("keys.current: {error}")
        }
    }
}

/// Everything `serve` runs, built and checked.
#[derive(Debug)]
pub struct Service {
    /// The use cases.
    pub exchange: Arc<Exchange>,
    /// The metrics registry shared by all adapters.
    pub metrics: Arc<Metrics>,
}

/// Builds the service. Fails only on configuration errors: an unreachable Redis is not
/// one (the service starts, reports not-ready, and recovers when Redis comes back).
pub async fn build_service(settings: &Settings) -> Result<Service, ConfigError> {
    let metrics = Arc::new(Metrics::new());
    let issuers = issuer_registry(settings)?;
    let declared = declared_publishers(settings, &issuers)?;
    let keyring = keyring(&settings.keys)?;
    let keystore_settings = KeyStoreSettings {
        refresh_cooldown: Duration::from_secs(settings.exchange.jwks_refresh_cooldown_secs),
        ..KeyStoreSettings::default()
    };
    let fetcher = HttpFetcher::new(&keystore_settings)
        .map_err(|error| ConfigError(format!("jwks: cannot build the HTTP client: {error}")))?;
    let keystore = KeyStore::new(
        Arc::new(fetcher),
        keystore_settings,
        Arc::new(MetricsObserver::new(metrics.clone())),
    );
    let verifier = JwtVerifier::new(issuers, keystore, settings.exchange.audience.clone());
    // One clock for the use cases and the stores, so both agree on "now".
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let backends =
        Backends::connect_with_clock(&settings.store, &settings.rate_limit, clock.clone())
            .await
            .map_err(|error| ConfigError(format!("store: {error}")))?;
    let exchange = Exchange::new(
        settings.exchange.clone(),
        settings.server.location.clone(),
        verifier,
        keyring,
        ExchangeBackends {
            tokens: backends.tokens,
            replay: backends.replay,
            publishers: Arc::new(PublisherRegistry::new(declared, backends.publishers)),
            rate_limiter: backends.rate_limiter,
            health: backends.health,
            audit: backends.audit,
            commit: backends.commit,
        },
        metrics.clone(),
        clock,
    )
    .with_doors(settings.doors());
    Ok(Service {
        exchange: Arc::new(exchange),
        metrics,
    })
}
