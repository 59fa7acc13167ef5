//! An in-process OTLP/gRPC trace collector: opentelemetry-proto's `TraceService` on
//! `127.0.0.1:<free port>`, keeping every export request it receives.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use tokio::sync::oneshot;
use tokio_stream::wrappers::TcpListenerStream;

/// One received span, flattened: ids in lowercase hex (empty parent = root).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    /// Attribute values rendered as text.
    pub attributes: BTreeMap<String, String>,
    /// The `service.name` resource attribute of the batch it came in.
    pub service_name: String,
}

#[derive(Clone, Default)]
struct Received {
    requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.requests
            .lock()
            .expect("collector lock")
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// A running collector; stops when dropped.
pub struct Collector {
    /// `http://127.0.0.1:PORT`, what `[telemetry] otlp_endpoint` takes.
    pub endpoint: String,
    received: Received,
    stop: Option<oneshot::Sender<()>>,
}

impl Collector {
    /// Starts a collector on a free port.
    pub async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the collector");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Received::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let service = TraceServiceServer::new(received.clone());
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Collector {
            endpoint,
            received,
            stop: Some(stop),
        }
    }

    /// How many export requests arrived.
    pub fn request_count(&self) -> usize {
        self.received.requests.lock().expect("collector lock").len()
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<CollectedSpan> {
        let requests = self.received.requests.lock().expect("collector lock");
        let mut spans = Vec::new();
        for request in requests.iter() {
            for resource_spans in &request.resource_spans {
                let service_name = resource_spans
                    .resource
                    .as_ref()
                    .and_then(|resource| {
                        resource
                            .attributes
                            .iter()
                            .find(|kv| kv.key == "service.name")
                            .and_then(|kv| kv.value.as_ref())
                            .map(render)
                    })
                    .unwrap_or_default();
                for scope_spans in &resource_spans.scope_spans {
                    for span in &scope_spans.spans {
                        spans.push(CollectedSpan {
                            name: span.name.clone(),
                            trace_id: hex::encode(&span.trace_id),
                            span_id: hex::encode(&span.span_id),
                            parent_span_id: hex::encode(&span.parent_span_id),
                            attributes: span
                                .attributes
                                .iter()
                                .map(|kv| {
                                    (
                                        kv.key.clone(),
                                        kv.value.as_ref().map(render).unwrap_or_default(),
                                    )
                                })
                                .collect(),
                            service_name: service_name.clone(),
                        });
                    }
                }
            }
        }
        spans
    }

    /// Waits (up to `timeout`) until `done` holds for the spans received.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&[CollectedSpan]) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.spans()) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn render(value: &AnyValue) -> String {
    match &value.value {
        Some(Value::StringValue(text)) => text.clone(),
        Some(Value::BoolValue(flag)) => flag.to_string(),
        Some(Value::IntValue(number)) => number.to_string(),
        Some(Value::DoubleValue(number)) => number.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// Helpers over a set of spans.
pub trait SpanSet {
    /// The spans named `name`.
    fn named(&self, name: &str) -> Vec<&CollectedSpan>;
    /// The one span named `name` in `trace_id`; fails the test listing the trace.
    fn one(&self, trace_id: &str, name: &str) -> &CollectedSpan;
    /// The span with id `span_id`.
    fn by_id(&self, span_id: &str) -> Option<&CollectedSpan>;
    /// Names of `span`'s ancestors received here, nearest first.
    fn ancestor_names(&self, span: &CollectedSpan) -> Vec<String>;
    /// The trace as `name (span id ← parent)` lines, for failure messages.
    fn describe_trace(&self, trace_id: &str) -> String;
}

impl SpanSet for [CollectedSpan] {
    fn named(&self, name: &str) -> Vec<&CollectedSpan> {
        self.iter().filter(|span| span.name == name).collect()
    }

    #[track_caller]
    fn one(&self, trace_id: &str, name: &str) -> &CollectedSpan {
        let found: Vec<&CollectedSpan> = self
            .iter()
            .filter(|span| span.trace_id == trace_id && span.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one {name} span in trace {trace_id}; the trace:\n{}",
            self.describe_trace(trace_id)
        );
        found[0]
    }

    fn by_id(&self, span_id: &str) -> Option<&CollectedSpan> {
        self.iter().find(|span| span.span_id == span_id)
    }

    fn ancestor_names(&self, span: &CollectedSpan) -> Vec<String> {
        let mut names = Vec::new();
        let mut parent = span.parent_span_id.clone();
        while let Some(next) = self.by_id(&parent) {
            names.push(next.name.clone());
            parent = next.parent_span_id.clone();
        }
        names
    }

    fn describe_trace(&self, trace_id: &str) -> String {
        self.iter()
            .filter(|span| span.trace_id == trace_id)
            .map(|span| {
                format!(
                    "  {} ({} <- {}) {:?}",
                    span.name, span.span_id, span.parent_span_id, span.attributes
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
