//! Observability for trustmint: Prometheus metrics, tracing and OpenTelemetry setup,
//! and audit events.

mod audit;
mod metrics;
mod settings;
mod trace_context;
mod tracing_setup;

pub use audit::{AuditAction, AuditEvent};
pub use metrics::Metrics;
/// Re-exported so adapters can hold metric handles without depending on `prometheus`.
pub use prometheus::IntCounter;
pub use settings::{LogFormat, TelemetrySettings};
pub use trace_context::link_remote_parent;
pub use tracing_setup::{TelemetryError, TelemetryGuard, init_tracing, otlp_tracer_provider};
