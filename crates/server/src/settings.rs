//! The layered configuration: built-in defaults, then an optional TOML file, then
//! environment variables `TRUSTMINT__SECTION__KEY` (double underscores between parts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::{Deserialize, Serialize, Serializer};
use trustmint_claims::IssuerSettings;
use trustmint_exchange::{
    CratesSettings, DoorSettings, ExchangeSettings, NpmSettings, TokenExchangeSettings,
};
use trustmint_grpc::GrpcSettings;
use trustmint_http::{GatewaySettings, SecretScanningSettings};
use trustmint_store::{RateLimitSettings, StoreSettings};
use trustmint_telemetry::TelemetrySettings;

/// Keys of list values that may come from the environment as comma-separated text.
const LIST_KEYS: [&str; 3] = [
    "store.cluster_urls",
    "rate_limit.trusted_proxies",
    "grpc.auth_tokens",
];

/// Why the configuration is unusable. Every message names the offending key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// `[server]`: listeners and the token location.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
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
    /// PEM certificate chain for HTTPS on the HTTP listener; empty = plain HTTP.
    pub tls_cert_file: String,
    /// PEM private key of that certificate.
    pub tls_key_file: String,
    /// After SIGTERM: how long in-flight HTTP requests and gRPC calls may take to finish
    /// (counted from the listeners closing); the process exits 0 when they are done or
    /// this has passed.
    pub shutdown_grace_secs: u64,
    /// After SIGTERM: how long the service keeps serving while reporting not-ready
    /// (`/readyz` 503, gRPC health NOT_SERVING) before it closes its listeners, so load
    /// balancers take it out of rotation first. 0 closes them at once.
    pub shutdown_drain_delay_ms: u64,
    /// How often to look whether the files a reload reads (the config file, the
    /// `[keys] secrets_dir` files, `[grpc] auth_token_file`) changed, reloading when they
    /// did, as on SIGHUP; 0 (the default) = reload on SIGHUP only.
    pub config_poll_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            http_addr: "127.0.0.1:8080".to_owned(),
            grpc_addr: "127.0.0.1:50051".to_owned(),
            location: "trustmint".to_owned(),
            http_workers: 2,
            tls_cert_file: String::new(),
            tls_key_file: String::new(),
            shutdown_grace_secs: 25,
            shutdown_drain_delay_ms: 2_000,
            config_poll_secs: 0,
        }
    }
}

/// `[keys]`: the minting keyring. Secrets are base64, at least 32 bytes each, from this
/// table (best from environment variables `TRUSTMINT__KEYS__SECRETS__<ID>`) or from a
/// directory holding one file per key id (a mounted Kubernetes Secret).
/// `Serialize` (for the generated configuration reference) redacts the secrets.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySettings {
    /// The key id new tokens are minted with; empty = an ephemeral key (development).
    pub current: String,
    /// Key id → base64 secret. Older ids keep verifying until removed.
    #[serde(serialize_with = "redacted_values")]
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

/// Serializes key ids with `<redacted>` for every secret.
fn redacted_values<S: Serializer>(
    secrets: &BTreeMap<String, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(secrets.keys().map(|id| (id, "<redacted>")))
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
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
    /// `[gateway]`: the upload gateway.
    pub gateway: GatewaySettings,
    /// `[[issuers]]`; empty = the public issuers.
    pub issuers: Vec<IssuerSettings>,
    /// `[[publishers]]`: declared publishers, always in force.
    pub publishers: Vec<serde_json::Value>,
    /// `[crates]`: crates.io's Trusted Publishing door.
    pub crates: CratesSettings,
    /// `[npm]`: npm's OIDC exchange door.
    pub npm: NpmSettings,
    /// `[token_exchange]`: the RFC 8693 door.
    pub token_exchange: TokenExchangeSettings,
    /// `[secret_scanning]`: GitHub secret scanning's leaked-token endpoint.
    pub secret_scanning: SecretScanningSettings,
}

impl Settings {
    /// The settings of the doors beyond PyPI's.
    pub fn doors(&self) -> DoorSettings {
        DoorSettings {
            crates: self.crates.clone(),
            npm: self.npm.clone(),
            token_exchange: self.token_exchange.clone(),
        }
    }
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
            .map_err(|error| ConfigError(describe_config_error(&error)))?;
        settings.validate_sections()?;
        Ok(settings)
    }

    /// Section-level checks that need no I/O (the wiring checks issuers, publishers and
    /// keys as it builds them).
    fn validate_sections(&self) -> Result<(), ConfigError> {
        self.telemetry.validate().map_err(ConfigError)?;
        self.exchange.validate().map_err(ConfigError)?;
        self.doors().validate().map_err(ConfigError)?;
        self.secret_scanning.validate().map_err(ConfigError)?;
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
        if !(1..=3600).contains(&self.server.shutdown_grace_secs) {
            return Err(ConfigError(
                "server.shutdown_grace_secs: must be between 1 and 3600".to_owned(),
            ));
        }
        if self.server.config_poll_secs > 86_400 {
            return Err(ConfigError(
                "server.config_poll_secs: must be at most 86400 (a day); 0 turns the poll off"
                    .to_owned(),
            ));
        }
        if self.server.shutdown_drain_delay_ms > 600_000 {
            return Err(ConfigError(
                "server.shutdown_drain_delay_ms: must be at most 600000 (10 minutes)".to_owned(),
            ));
        }
        if !(1..=64).contains(&self.server.http_workers) {
            return Err(ConfigError(
                "server.http_workers: must be between 1 and 64".to_owned(),
            ));
        }
        Ok(())
    }
}

/// Valid values of the enums a config key can hold, for "unknown value" messages
/// (config-rs only says which enum refused the value).
fn enum_values(enum_name: &str) -> Option<String> {
    match enum_name {
        "Provider" => Some(
            trustmint_publishers::Provider::ALL
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        "Backend" => Some("memory, redis".to_owned()),
        "LogFormat" => Some("text, json".to_owned()),
        _ => None,
    }
}

/// A config-rs error as `<key>: <what is wrong> (in <file or the environment>)`, so the
/// key comes first as in every other configuration error.
///
/// config-rs writes the path of a field inside a list without its dot
/// (`issuers[0]kind`) and names only the Rust enum for an unknown enum value; both are
/// repaired here.
fn describe_config_error(error: &config::ConfigError) -> String {
    let located = |key: &Option<String>, message: String, origin: &Option<String>| {
        let mut text = match key {
            Some(key) => format!("{}: {message}", repair_key_path(key)),
            None => message,
        };
        if let Some(origin) = origin {
            text.push_str(&format!(" (in {origin})"));
        }
        text
    };
    match error {
        config::ConfigError::Type {
            origin,
            unexpected,
            expected,
            key,
        } => located(
            key,
            format!("invalid type: {unexpected}, expected {expected}"),
            origin,
        ),
        config::ConfigError::At { error, origin, key } => {
            located(key, describe_config_error(error), origin)
        }
        config::ConfigError::NotFound(key) => format!("{}: is required", repair_key_path(key)),
        config::ConfigError::Message(message) => describe_enum_error(message),
        other => other.to_string(),
    }
}

/// `issuers[0]kind` → `issuers[0].kind` (a dot after `]` unless another index follows).
fn repair_key_path(key: &str) -> String {
    let mut repaired = String::with_capacity(key.len() + 2);
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        repaired.push(c);
        if c == ']'
            && chars
                .peek()
                .is_some_and(|next| *next != '[' && *next != '.')
        {
            repaired.push('.');
        }
    }
    repaired
}

/// `enum Backend does not have variant constructor postgres` → `unknown value
/// "postgres"; expected one of: memory, redis`; any other message unchanged.
fn describe_enum_error(message: &str) -> String {
    let parsed = message
        .strip_prefix("enum ")
        .and_then(|rest| rest.split_once(" does not have variant constructor "));
    let Some((enum_name, value)) = parsed else {
        return message.to_owned();
    };
    match enum_values(enum_name) {
        Some(values) => format!("unknown value {value:?}; expected one of: {values}"),
        None => format!("unknown value {value:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(text: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("trustmint.toml");
        std::fs::write(&path, text).expect("write");
        Settings::load(Some(&path), std::iter::empty())
    }

    /// (config, environment, message without the `invalid configuration: ` prefix).
    type ErrorRow = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    #[test]
    fn config_errors_name_the_key_first() {
        let rows: &[ErrorRow] = &[
            (
                "[[issuers]]\nurl = \"https://gitlab.example.com\"\nkind = \"gitlb\"\n",
                &[],
                "issuers[0].kind: unknown value \"gitlb\"; expected one of: github, gitlab, google, activestate, buildkite, circleci, bitbucket, forgejo, oidc",
            ),
            (
                "[[issuers]]\nurl = \"https://gitlab.example.com\"\n",
                &[],
                "issuers[0].kind: is required",
            ),
            (
                "[[issuers]]\nurl = \"https://x.example.com\"\nkind = \"gitlab\"\nalgorithms = \"RS256\"\n",
                &[],
                "issuers[0].algorithms: invalid type: string \"RS256\", expected a sequence",
            ),
            (
                "[store]\nbackend = \"postgres\"\n",
                &[],
                "store.backend: unknown value \"postgres\"; expected one of: memory, redis",
            ),
            (
                "[telemetry]\nlog_format = \"xml\"\n",
                &[],
                "telemetry.log_format: unknown value \"xml\"; expected one of: text, json",
            ),
            (
                "[server]\nlocaton = \"x\"\n",
                &[],
                "server: unknown field `locaton`, expected one of `http_addr`, `grpc_addr`, `location`, `http_workers`, `tls_cert_file`, `tls_key_file`, `shutdown_grace_secs`, `shutdown_drain_delay_ms`, `config_poll_secs`",
            ),
            (
                "",
                &[("TRUSTMINT__STORE__TIMEOUT_MS", "abc")],
                "store.timeout_ms: invalid type: string \"abc\", expected an integer (in the environment)",
            ),
        ];
        for (toml, env, expected) in rows {
            let error = match env {
                [] => load_toml(toml).expect_err(toml),
                env => Settings::load(
                    None,
                    env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
                )
                .expect_err("env"),
            };
            assert_eq!(
                error.to_string(),
                format!("invalid configuration: {expected}"),
                "{toml}"
            );
        }
    }

    #[test]
    fn grpc_auth_tokens_come_from_the_file_or_the_environment_as_a_list() {
        let from_file =
            load_toml("[grpc]\nauth_tokens = [\"token-a\", \"token-b\"]\n").expect("loads");
        assert_eq!(from_file.grpc.auth_tokens, ["token-a", "token-b"]);
        let from_env = Settings::load(
            None,
            [(
                "TRUSTMINT__GRPC__AUTH_TOKENS".to_owned(),
                "token-a,token-b".to_owned(),
            )],
        )
        .expect("loads");
        assert_eq!(from_env.grpc.auth_tokens, ["token-a", "token-b"]);
        assert_eq!(
            from_env.grpc.load_auth_tokens().expect("valid"),
            ["token-a", "token-b"]
        );
        let error = load_toml("[grpc]\nauth_tokens = \"token-a\"\n").expect_err("a string");
        assert_eq!(
            error.to_string(),
            "invalid configuration: grpc.auth_tokens: invalid type: string \"token-a\", expected a sequence"
        );
    }

    #[test]
    fn key_paths_are_repaired() {
        for (key, expected) in [
            ("issuers[0]kind", "issuers[0].kind"),
            ("publishers[2]projects[1]", "publishers[2].projects[1]"),
            (
                "rate_limit.trusted_proxies[0]",
                "rate_limit.trusted_proxies[0]",
            ),
            ("a[0][1].b", "a[0][1].b"),
            ("store.timeout_ms", "store.timeout_ms"),
        ] {
            assert_eq!(repair_key_path(key), expected, "{key}");
        }
    }
}
