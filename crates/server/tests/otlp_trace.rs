//! OpenTelemetry export end to end, into an in-process OTLP/gRPC collector
//! (opentelemetry-proto's `TraceService`): the spans of one exchange over HTTP and one
//! VerifyToken over gRPC arrive under the trace and parent span of the caller's W3C
//! `traceparent`, with their child spans (JWKS, matching, store calls, minting); and a
//! `trustmint serve` process exports nothing while `[telemetry] otlp_endpoint` is empty.
//!
//! Its own test binary: the first test installs the process-wide subscriber.

mod observability;
mod support;

use std::time::Duration;

use observability::collector::{CollectedSpan, Collector, SpanSet as _};
use observability::github_issuer_config;
use observability::new_traceparent;
use serde_json::json;
use support::trustmint_process::TrustmintProcess;
use support::{PROJECT, now, spawn_app_with};
use trustmint_grpc::pb;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_telemetry::{TelemetrySettings, init_tracing};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// Asserts `span`'s parent is `parent` (by span id), naming both on failure.
#[track_caller]
fn assert_parent(spans: &[CollectedSpan], span: &CollectedSpan, parent: &CollectedSpan) {
    assert_eq!(
        span.parent_span_id,
        parent.span_id,
        "{} should be a child of {}; the trace:\n{}",
        span.name,
        parent.name,
        spans.describe_trace(&span.trace_id)
    );
}

/// No attribute of any span holds one of `secrets`.
#[track_caller]
fn assert_no_secret_attributes(spans: &[CollectedSpan], secrets: &[&str]) {
    for span in spans {
        for (name, value) in &span.attributes {
            for secret in secrets {
                assert!(
                    !value.contains(secret),
                    "span {} attribute {name} holds a secret",
                    span.name
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exchange_and_verify_spans_reach_the_collector_under_the_callers_trace() {
    let collector = Collector::start().await;
    let mut telemetry = init_tracing(&TelemetrySettings {
        otlp_endpoint: collector.endpoint.clone(),
        log_level: "info".to_owned(),
        ..TelemetrySettings::default()
    })
    .expect("tracing initialises");
    // Rate limiting on: its store call is one of the spans checked below.
    let app = spawn_app_with(|settings, _| settings.rate_limit.enabled = true).await;

    // One exchange over HTTP, inside the caller's trace.
    let (http_traceparent, http_trace, http_parent) = new_traceparent();
    let jwt = app.github_jwt(GitHubClaims::new());
    let response = app
        .client
        .post(format!("{}/_/oidc/mint-token", app.http))
        .header("traceparent", &http_traceparent)
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .send()
        .await
        .expect("mint-token");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value =
        serde_json::from_str(&response.text().await.expect("body")).expect("json");
    let token = body["token"].as_str().expect("token").to_owned();

    // One VerifyToken over gRPC, inside another trace.
    let (grpc_traceparent, grpc_trace, grpc_parent) = new_traceparent();
    let mut client = TokenServiceClient::connect(format!("http://{}", app.grpc_addr))
        .await
        .expect("connect");
    let mut request = tonic::Request::new(pb::VerifyTokenRequest {
        ecosystem: String::new(),
        token: token.clone(),
        project: PROJECT.to_owned(),
    });
    request.metadata_mut().insert(
        "traceparent",
        grpc_traceparent.parse().expect("metadata value"),
    );
    let verified = client.verify_token(request).await.expect("verify");
    assert!(verified.get_ref().allowed);

    // Flush: shutting the provider down exports every finished span (blocking call).
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .expect("shutdown");
    collector
        .wait_for(Duration::from_secs(5), |spans| {
            spans.iter().any(|s| s.name == "exchange.verify")
        })
        .await;
    let spans = collector.spans();

    // HTTP: request span ← caller; exchange.mint ← request span; children of the mint.
    let http = spans.one(&http_trace, "POST /_/oidc/mint-token");
    assert_eq!(
        http.parent_span_id, http_parent,
        "the request span's parent is the caller's span"
    );
    assert_eq!(http.attributes["http.route"], "/_/oidc/mint-token");
    assert_eq!(http.attributes["http.response.status_code"], "200");
    assert_eq!(http.service_name, "trustmint");
    let mint = spans.one(&http_trace, "exchange.mint");
    assert_parent(&spans, mint, http);
    assert_eq!(mint.attributes["issuer_kind"], "github");
    let jwks = spans.one(&http_trace, "jwks.key");
    assert_parent(&spans, jwks, mint);
    assert_parent(&spans, spans.one(&http_trace, "jwks.fetch"), jwks);
    assert_parent(&spans, spans.one(&http_trace, "exchange.match"), mint);
    assert_parent(&spans, spans.one(&http_trace, "exchange.mint_token"), mint);
    for op in [
        "rate_check",
        "publisher_candidates",
        "replay_claim",
        "token_put",
    ] {
        let store = spans.one(&http_trace, &format!("store.{op}"));
        assert_eq!(store.attributes["store.op"], op);
        assert!(
            spans
                .ancestor_names(store)
                .contains(&"exchange.mint".to_owned()),
            "store.{op} under exchange.mint; the trace:\n{}",
            spans.describe_trace(&http_trace)
        );
    }

    // gRPC: request span ← caller; exchange.verify ← request span; its store reads.
    let grpc = spans.one(&grpc_trace, "grpc.request");
    assert_eq!(grpc.parent_span_id, grpc_parent);
    assert_eq!(grpc.attributes["rpc.method"], "VerifyToken");
    assert_eq!(grpc.attributes["rpc.code"], "OK");
    let verify = spans.one(&grpc_trace, "exchange.verify");
    assert_parent(&spans, verify, grpc);
    assert_eq!(verify.attributes["outcome"], "allowed");
    assert_parent(&spans, spans.one(&grpc_trace, "store.token_get"), verify);
    assert_parent(
        &spans,
        spans.one(&grpc_trace, "store.publisher_get"),
        verify,
    );

    let signature = jwt.rsplit('.').next().expect("signature");
    assert_no_secret_attributes(&spans, &[&jwt, signature, &token, &token["pypi-".len()..]]);
}

/// Runs one exchange against a `trustmint serve` process with `env`, stops it
/// gracefully and returns the trace id the exchange was sent under.
async fn exchange_with_process(issuer: &TestIssuer, env: &[(&str, &str)]) -> String {
    let process = TrustmintProcess::start_with_env(&github_issuer_config(&issuer.url()), env).await;
    let (traceparent, trace_id, _) = new_traceparent();
    let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now()));
    let response = reqwest::Client::new()
        .post(format!("{}/_/oidc/mint-token", process.http))
        .header("traceparent", traceparent)
        .body(json!({ "token": jwt }).to_string())
        .send()
        .await
        .expect("mint-token");
    assert_eq!(response.status(), 200, "{}", process.log());
    process.stop().await;
    trace_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_exports_only_when_an_endpoint_is_configured() {
    let issuer = TestIssuer::start().await;
    let collector = Collector::start().await;

    // Without `otlp_endpoint` nothing is sent, even where the standard OTEL_* variables
    // name a collector.
    exchange_with_process(
        &issuer,
        &[
            ("RUST_LOG", "info"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &collector.endpoint),
        ],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        collector.request_count(),
        0,
        "spans were exported without [telemetry] otlp_endpoint"
    );

    // The same process with the endpoint set exports the exchange (flushed on SIGTERM).
    let trace_id = exchange_with_process(
        &issuer,
        &[
            ("RUST_LOG", "info"),
            ("TRUSTMINT__TELEMETRY__OTLP_ENDPOINT", &collector.endpoint),
        ],
    )
    .await;
    collector
        .wait_for(Duration::from_secs(5), |spans| {
            spans.iter().any(|s| s.name == "exchange.mint")
        })
        .await;
    let spans = collector.spans();
    let mint = spans.one(&trace_id, "exchange.mint");
    assert_eq!(mint.service_name, "trustmint");
}
