//! Per-call bookkeeping shared by the services: a request span linked to the caller's
//! trace, and the request counter/histogram by method and status code.

use std::time::Instant;

use tonic::metadata::MetadataMap;
use tonic::{Code, Status};
use trustmint_telemetry::{Metrics, link_remote_parent};

/// A span for one RPC, child of the caller's `traceparent` when it sent one.
pub(crate) fn request_span(method: &'static str, metadata: &MetadataMap) -> tracing::Span {
    let span = tracing::info_span!(
        "grpc.request",
        rpc.method = method,
        rpc.code = tracing::field::Empty
    );
    let header = |name: &str| metadata.get(name).and_then(|value| value.to_str().ok());
    link_remote_parent(&span, header("traceparent"), header("tracestate"));
    span
}

/// Snake-case name of a gRPC code, as metric label.
pub(crate) fn code_label(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Counts and times one finished call.
pub(crate) fn record<T>(
    metrics: &Metrics,
    span: &tracing::Span,
    method: &'static str,
    started: Instant,
    result: &Result<T, Status>,
) {
    let code = match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    };
    span.record("rpc.code", code_label(code));
    metrics.record_grpc_request(method, code_label(code), started.elapsed());
}
