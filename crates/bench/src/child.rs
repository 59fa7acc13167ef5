//! The service side: the bench re-executes itself as `trustmint-bench serve-child`, and
//! that process runs a real `trustmint::Application` — built the way `trustmint serve`
//! builds it, on its own runtime — until its stdin closes.
//!
//! A separate process keeps the numbers honest: its RSS and CPU time are the service's
//! alone (the load generator's buffers and the pre-signed JWTs live in the parent), and
//! it gets `RUST_LIB_BACKTRACE` from its environment, which the parent sets without
//! `std::env::set_var` (unsafe since edition 2024, and the workspace forbids unsafe).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;
use trustmint::{Application, Settings};
use trustmint_store::Backend;
use trustmint_telemetry::{LogFormat, TelemetrySettings};

use crate::cli::ServiceLogs;
use crate::error::BenchError;

/// The line prefix the child prints once it listens; the rest of the line is a
/// [`ReadyLine`] as JSON.
pub(crate) const READY_MARKER: &str = "TRUSTMINT-BENCH-READY ";

/// `[exchange] jwks_refresh_cooldown_secs` of the service: short, so the rotation storm
/// need not wait the production minute after the rotation issuer's first fetch.
pub(crate) const JWKS_REFRESH_COOLDOWN_SECS: u64 = 1;

/// The repository of the declared publisher (the testkit's default GitHub claims).
pub(crate) const DECLARED_PROJECT: &str = "sampleproject";

/// What the service child runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChildSpec {
    /// GitHub-kind issuers to trust; each gets a declared publisher for the testkit's
    /// default repository and [`DECLARED_PROJECT`].
    pub(crate) issuers: Vec<IssuerSpec>,
    /// `None` = the memory store.
    pub(crate) redis: Option<RedisSpec>,
    /// `[server] http_workers`.
    pub(crate) http_workers: usize,
    /// `[grpc] auth_token` the index side must send.
    pub(crate) grpc_auth_token: String,
    /// Log output.
    pub(crate) logs: ServiceLogs,
    /// `[exchange] jwks_refresh_cooldown_secs`: short, so the rotation storm need not
    /// wait a minute after the rotation issuer's first fetch.
    pub(crate) jwks_refresh_cooldown_secs: u64,
}

/// One trusted issuer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IssuerSpec {
    /// `iss`.
    pub(crate) url: String,
    /// The one JWS algorithm it signs with (`RS256`, `ES256`).
    pub(crate) algorithm: String,
}

/// The Redis store of the child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RedisSpec {
    /// Standalone URL (ignored when `cluster_urls` is set).
    pub(crate) url: String,
    /// Cluster seeds.
    pub(crate) cluster_urls: Vec<String>,
    /// Unique per run, so the probe and the clean-up see only this run's keys.
    pub(crate) key_prefix: String,
}

/// What the child reports once it listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReadyLine {
    /// `127.0.0.1:PORT` of the HTTP listener.
    pub(crate) http: String,
    /// `127.0.0.1:PORT` of the gRPC listener.
    pub(crate) grpc: String,
}

/// A `[[publishers]]` entry for the testkit's default GitHub repository.
fn declared_publisher(issuer: &str) -> Value {
    json!({
        "kind": "github",
        "issuer": issuer,
        "projects": [DECLARED_PROJECT],
        "repository_owner": "octo-org",
        "repository_owner_id": "92345678",
        "repository_name": "sampleproject",
        "workflow_filename": "release.yml",
        "environment": "",
    })
}

/// The service settings: free loopback ports, rate limiting off (the bench is one
/// client address sending thousands of requests a second), a 1 s JWKS refresh cooldown
/// (the rotation storm), everything else at the defaults `trustmint serve` uses.
fn settings_for(spec: &ChildSpec) -> Result<Settings, BenchError> {
    let settings_error = |error: &dyn std::fmt::Display| BenchError::Settings(error.to_string());
    let mut settings =
        Settings::load(None, std::iter::empty()).map_err(|error| settings_error(&error))?;
    settings.server.http_addr = "127.0.0.1:0".into();
    settings.server.grpc_addr = "127.0.0.1:0".into();
    settings.server.http_workers = spec.http_workers;
    settings.server.location = "https://upload.example.org".into();
    settings.rate_limit.enabled = false;
    settings.exchange.jwks_refresh_cooldown_secs = spec.jwks_refresh_cooldown_secs;
    settings.grpc.auth_token = spec.grpc_auth_token.clone();
    settings.issuers = spec
        .issuers
        .iter()
        .map(|issuer| {
            serde_json::from_value(json!({
                "url": issuer.url,
                "kind": "github",
                "algorithms": [issuer.algorithm],
            }))
        })
        .collect::<Result<_, _>>()
        .map_err(|error| settings_error(&error))?;
    settings.publishers = spec
        .issuers
        .iter()
        .map(|issuer| declared_publisher(&issuer.url))
        .collect();
    if let Some(redis) = &spec.redis {
        settings.store.backend = Backend::Redis;
        settings.store.redis_url = redis.url.clone();
        settings.store.cluster_urls = redis.cluster_urls.clone();
        settings.store.key_prefix = redis.key_prefix.clone();
    }
    settings.telemetry = TelemetrySettings {
        log_format: match spec.logs {
            ServiceLogs::Json => LogFormat::Json,
            ServiceLogs::Text | ServiceLogs::Off => LogFormat::Text,
        },
        ..TelemetrySettings::default()
    };
    Ok(settings)
}

/// Runs the service until stdin reaches end-of-file (the parent closed it or died).
pub(crate) async fn serve_child(spec_json: &str) -> Result<(), BenchError> {
    let spec: ChildSpec = serde_json::from_str(spec_json)?;
    let settings = settings_for(&spec)?;
    let _telemetry = if spec.logs == ServiceLogs::Off {
        None
    } else {
        Some(
            trustmint_telemetry::init_tracing(&settings.telemetry)
                .map_err(|error| BenchError::Settings(error.to_string()))?,
        )
    };
    let application = Application::build(&settings)
        .await
        .map_err(|error| BenchError::Service(error.to_string()))?;
    let ready = ReadyLine {
        http: application.http_addr().to_string(),
        grpc: application.grpc_addr().to_string(),
    };
    println!("{READY_MARKER}{}", serde_json::to_string(&ready)?);
    application
        .run_until(stdin_closed())
        .await
        .map_err(|error| BenchError::Service(format!("serving: {error}")))
}

/// Completes when stdin is closed (or unreadable).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0_u8; 64];
    while let Ok(read) = stdin.read(&mut buffer).await {
        if read == 0 {
            break;
        }
    }
}
