//! Observability for trustmint: Prometheus metrics, tracing and OpenTelemetry setup,
//! audit events, and the vocabulary they share (wire error codes, typed outcomes).

mod audit;
mod error_code;
mod metrics;
mod recorders;
mod settings;
mod trace_context;
mod tracing_setup;

pub use audit::{AuditAction, AuditCode, AuditEvent, AuditOutcome};
pub use error_code::ErrorCode;
pub use metrics::Metrics;
/// Re-exported so adapters can hold metric handles without depending on `prometheus`.
pub use prometheus::IntCounter;
pub use recorders::{
    ExchangeOutcome, JwksFetchResult, LeakLabel, PublisherChange, UNKNOWN_ISSUER_KIND,
    VerifyOutcome,
};
pub use settings::{LogFormat, TelemetrySettings};
pub use trace_context::link_remote_parent;
pub use tracing_setup::{TelemetryError, TelemetryGuard, init_tracing, otlp_tracer_provider};
