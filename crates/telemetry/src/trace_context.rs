//! W3C trace context (`traceparent`/`tracestate`) from incoming HTTP headers or gRPC
//! metadata, so a failed exchange can be followed across the index and trustmint.

use std::collections::HashMap;

use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Makes `span` a child of the remote span described by `traceparent` (and
/// `tracestate`), using the globally installed propagator. Invalid or absent headers
/// leave the span a root; without the OpenTelemetry layer this is a no-op.
pub fn link_remote_parent(
    span: &tracing::Span,
    traceparent: Option<&str>,
    tracestate: Option<&str>,
) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let mut carrier = HashMap::with_capacity(2);
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    if let Some(tracestate) = tracestate {
        carrier.insert("tracestate".to_owned(), tracestate.to_owned());
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&carrier));
    // LayerNotFound just means tracing export is off: nothing to link.
    let _ = span.set_parent(parent);
}
