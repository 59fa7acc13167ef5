//! Process-wide tracing: a log layer (text or JSON) filtered by `log_level`/`RUST_LOG`,
//! plus an OpenTelemetry layer exporting spans over OTLP/gRPC when an endpoint is set.
//!
//! Log lines are formatted on the thread that logs but written to stdout by a writer
//! thread of their own (`tracing_appender::non_blocking`). Written directly, every
//! worker that logs takes the stdout lock and makes a `write(2)`; when whatever reads
//! stdout (a pipe to journald, a container runtime, a log shipper) falls behind by a
//! pipe's worth (64 KiB, a few dozen audit lines), the writer blocks holding that lock
//! and every request that logs stalls with it.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::{LogFormat, TelemetrySettings};

/// Why tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `telemetry.log_level` is not a valid filter.
    #[error("telemetry.log_level: {0}")]
    Filter(String),
    /// The OTLP exporter could not be built.
    #[error("telemetry.otlp_endpoint: {0}")]
    Exporter(String),
    /// A global subscriber was already installed.
    #[error("tracing is already initialised")]
    AlreadyInitialised,
}

/// Log lines the writer thread may hold when stdout is slow (about 2.5 MB of audit
/// lines, half a second at full exchange rate): enough for a reader's scheduling
/// hiccup. Past it, logging blocks instead of dropping lines: an audit line is never
/// lost, and memory stays bounded.
const BUFFERED_LOG_LINES: usize = 2_048;

/// Keeps the exporter and the log writer alive; flushes and shuts them down when
/// dropped.
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    /// Dropping it writes out the buffered log lines and stops the writer thread.
    log_writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

impl TelemetryGuard {
    /// Flushes pending spans and stops the exporter. Blocking: call it from a
    /// multi-thread runtime or `spawn_blocking`.
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!(%error, "span exporter did not shut down cleanly");
        }
        // Last: the warning above must still be written.
        self.log_writer.take();
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Builds the tracer provider for `endpoint` (OTLP/gRPC). Must run inside a tokio
/// runtime: the tonic exporter spawns onto it.
pub fn otlp_tracer_provider(
    endpoint: &str,
    service_name: &str,
) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build())
}

/// Installs the global subscriber and the W3C trace-context propagator.
pub fn init_tracing(settings: &TelemetrySettings) -> Result<TelemetryGuard, TelemetryError> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = match std::env::var("RUST_LOG") {
        Ok(from_env) if !from_env.is_empty() => EnvFilter::try_new(from_env),
        _ => EnvFilter::try_new(&settings.log_level),
    }
    .map_err(|error| TelemetryError::Filter(error.to_string()))?;

    let (writer, log_writer) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(BUFFERED_LOG_LINES)
        .thread_name("trustmint-log")
        .finish(std::io::stdout());
    let log_layer = match settings.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .json()
            .flatten_event(true)
            .boxed(),
    };

    let mut guard = TelemetryGuard {
        provider: None,
        log_writer: Some(log_writer),
    };
    let otel_layer = if settings.otlp_endpoint.is_empty() {
        None
    } else {
        let provider = otlp_tracer_provider(&settings.otlp_endpoint, &settings.service_name)?;
        let tracer = provider.tracer("trustmint");
        opentelemetry::global::set_tracer_provider(provider.clone());
        guard.provider = Some(provider);
        Some(tracing_opentelemetry::layer().with_tracer(tracer))
    };

    tracing_subscriber::registry()
        .with(filter)
        .with(log_layer)
        .with(otel_layer)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInitialised)?;
    Ok(guard)
}
