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

impl TelemetrySettings {
    /// Checks the values `serve` would otherwise refuse only when it installs tracing;
    /// the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        tracing_subscriber::EnvFilter::try_new(&self.log_level).map_err(|error| {
            format!(
                "telemetry.log_level: '{}' is not a log filter ({error}); e.g. 'info' or 'info,trustmint=debug'",
                self.log_level
            )
        })?;
        if !self.otlp_endpoint.is_empty() {
            let rest = self
                .otlp_endpoint
                .strip_prefix("http://")
                .or_else(|| self.otlp_endpoint.strip_prefix("https://"));
            let host_ok = rest.is_some_and(|rest| {
                let authority = rest.split('/').next().unwrap_or_default();
                !authority.is_empty() && !rest.chars().any(char::is_whitespace)
            });
            if !host_ok {
                return Err(format!(
                    "telemetry.otlp_endpoint: '{}' is not an http(s) URL of an OTLP/gRPC collector, e.g. 'http://127.0.0.1:4317'",
                    self.otlp_endpoint
                ));
            }
        }
        if self.service_name.trim().is_empty() {
            return Err("telemetry.service_name: must not be empty".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_table() {
        let with = |edit: fn(&mut TelemetrySettings)| {
            let mut settings = TelemetrySettings::default();
            edit(&mut settings);
            settings.validate()
        };
        assert_eq!(with(|_| {}), Ok(()));
        assert_eq!(
            with(|s| s.log_level = "info,trustmint=debug".into()),
            Ok(())
        );
        assert_eq!(
            with(|s| s.otlp_endpoint = "http://127.0.0.1:4317".into()),
            Ok(())
        );
        assert_eq!(
            with(|s| s.otlp_endpoint = "https://otel.internal".into()),
            Ok(())
        );
        assert!(
            with(|s| s.log_level = "info,[".into())
                .unwrap_err()
                .starts_with("telemetry.log_level: 'info,[' is not a log filter")
        );
        for endpoint in [
            "127.0.0.1:4317",
            "grpc://collector:4317",
            "http://",
            "http:// x",
        ] {
            let settings = TelemetrySettings {
                otlp_endpoint: endpoint.to_owned(),
                ..TelemetrySettings::default()
            };
            assert_eq!(
                settings.validate(),
                Err(format!(
                    "telemetry.otlp_endpoint: '{endpoint}' is not an http(s) URL of an OTLP/gRPC collector, e.g. 'http://127.0.0.1:4317'"
                )),
                "{endpoint}"
            );
        }
        assert_eq!(
            with(|s| s.service_name = " ".into()),
            Err("telemetry.service_name: must not be empty".to_owned())
        );
    }
}
