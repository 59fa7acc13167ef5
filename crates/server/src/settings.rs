//! The layered configuration: built-in defaults, then an optional TOML file, then
//! environment variables `TRUSTMINT__SECTION__KEY` (double underscores between parts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;
use trustmint_claims::IssuerSettings;
use trustmint_exchange::ExchangeSettings;
use trustmint_grpc::GrpcSettings;
use trustmint_store::{RateLimitSettings, StoreSettings};
use trustmint_telemetry::TelemetrySettings;

/// Keys of list values that may come from the environment as comma-separated text.
const LIST_KEYS: [&str; 2] = ["store.cluster_urls", "rate_limit.trusted_proxies"];

/// Why the configuration is unusable. Every message names the offending key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// `[server]`: listeners and the token location.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// HTTP listener (CI runners, metrics, health).
    pub http_addr: String,
    /// gRPC listener (the index).
    pub grpc_addr: String,
    /// Location written into minted macaroons (the index's upload URL or host).
    pub location: String,
    /// actix-web worker threads.
    pub http_workers: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8080".to_owned(),
            grpc_addr: "127.0.0.1:50051".to_owned(),
            location: "trustmint".to_owned(),
            http_workers: 2,
        }
    }
}

/// `[keys]`: the minting keyring. Secrets are base64, at least 32 bytes each, from this
/// table (best from environment variables `TRUSTMINT__KEYS__SECRETS__<ID>`) or from a
/// directory holding one file per key id (a mounted Kubernetes Secret).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// The key id new tokens are minted with; empty = an ephemeral key (development).
    pub current: String,
    /// Key id → base64 secret. Older ids keep verifying until removed.
    pub secrets: BTreeMap<String, String>,
    /// Directory with one file per key id whose content is the base64 secret.
    pub secrets_dir: String,
}

impl std::fmt::Debug for KeySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySettings")
            .field("current", &self.current)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("secrets_dir", &self.secrets_dir)
            .finish()
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `[server]`
    pub server: ServerSettings,
    /// `[exchange]`
    pub exchange: ExchangeSettings,
    /// `[store]`
    pub store: StoreSettings,
    /// `[rate_limit]`
    pub rate_limit: RateLimitSettings,
    /// `[keys]`
    pub keys: KeySettings,
    /// `[grpc]`
    pub grpc: GrpcSettings,
    /// `[telemetry]`
    pub telemetry: TelemetrySettings,
    /// `[[issuers]]`; empty = the four public issuers.
    pub issuers: Vec<IssuerSettings>,
    /// `[[publishers]]`: declared publishers, always in force.
    pub publishers: Vec<serde_json::Value>,
}

impl Settings {
    /// Loads defaults, then `file` (if given), then the environment `env` (pass
    /// `std::env::vars()`; tests pass a map instead of mutating the process).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut builder = Config::builder();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "--config: file '{}' does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(File::from(PathBuf::from(path)).format(FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(key, _)| key.starts_with("TRUSTMINT__"))
            .collect();
        let mut environment = Environment::with_prefix("TRUSTMINT")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .source(Some(env));
        for key in LIST_KEYS {
            environment = environment.with_list_parse_key(key);
        }
        builder = builder.add_source(environment);
        let settings: Settings = builder
            .build()
            .and_then(Config::try_deserialize)
            .map_err(|error| ConfigError(error.to_string()))?;
        settings.validate_sections()?;
        Ok(settings)
    }

    /// Section-level checks that need no I/O (the wiring checks issuers, publishers and
    /// keys as it builds them).
    fn validate_sections(&self) -> Result<(), ConfigError> {
        self.exchange.validate().map_err(ConfigError)?;
        self.store
            .validate()
            .map_err(|error| ConfigError(error.to_string()))?;
        self.rate_limit
            .validate()
            .map_err(|error| ConfigError(error.to_string()))?;
        for (key, value) in [
            ("server.http_addr", &self.server.http_addr),
            ("server.grpc_addr", &self.server.grpc_addr),
        ] {
            value.parse::<std::net::SocketAddr>().map_err(|error| {
                ConfigError(format!(
                    "{key}: '{value}' is not a socket address ({error})"
                ))
            })?;
        }
        if self.server.location.is_empty() {
            return Err(ConfigError("server.location: must not be empty".to_owned()));
        }
        if !(1..=64).contains(&self.server.http_workers) {
            return Err(ConfigError(
                "server.http_workers: must be between 1 and 64".to_owned(),
            ));
        }
        Ok(())
    }
}
