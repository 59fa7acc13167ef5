//! The `[telemetry]` config section.

use serde::{Deserialize, Serialize};

/// How logs are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[telemetry]`: logging and tracing.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax; `RUST_LOG` overrides it.
    pub log_level: String,
    /// OTLP/gRPC collector endpoint (e.g. `http://127.0.0.1:4317`); empty = no export.
    pub otlp_endpoint: String,
    /// `service.name` resource attribute of exported spans.
    pub service_name: String,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            otlp_endpoint: String::new(),
            service_name: "trustmint".to_owned(),
        }
    }
}
