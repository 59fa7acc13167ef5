//! The upload gateway: PyPI's legacy upload API (`POST <path>`, multipart/form-data) in
//! front of an index that has no Trusted Publishing (pypiserver, devpi, …).
//!
//! An upload authenticated with a trustmint token is checked for the form's project by
//! [`Exchange::verify`](trustmint_exchange::Exchange::verify) — the use case behind gRPC
//! `VerifyToken` — and then streamed to the index with the index's own credentials. The
//! file is never held in memory: only the form fields before it are (see [`form`]).

mod credentials;
mod filename;
// The fuzz entry point (`crate::fuzzing`) drives the form scanner directly.
pub(crate) mod form;
mod forward;
mod settings;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt as _;
use trustmint_exchange::{ExchangeError, Verification, VerifyRequest};
use trustmint_publishers::ProjectName;
use trustmint_telemetry::{AuditAction, AuditCode, AuditEvent};

pub use settings::{DEFAULT_MAX_UPLOAD_BYTES, GatewayConfig, GatewaySettings};

use crate::HttpState;
use crate::client_ip::client_ip;
use forward::{ForwardError, Forwarded, Upstream};

/// Cap on the form fields before the file (metadata, including a long description).
pub(crate) const MAX_PREAMBLE_BYTES: usize = 1024 * 1024;

/// The gateway: its configuration and the HTTP client to the index.
#[derive(Debug)]
pub struct Gateway {
    upstream: Upstream,
    path: String,
    max_upload_bytes: u64,
}

impl Gateway {
    /// Builds the gateway (and its HTTP client) from a checked configuration.
    pub fn new(config: GatewayConfig) -> Result<Self, String> {
        Ok(Self {
            path: config.path.clone(),
            max_upload_bytes: config.max_upload_bytes,
            upstream: Upstream::new(&config)?,
        })
    }

    /// The upload path it serves.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// How one upload ended; the metric's `outcome` label and the audit event's `code`.
#[derive(Debug)]
enum Outcome {
    /// The index answered; its status and body are relayed.
    Relayed(Forwarded),
    /// The token may not upload to the project (403).
    Denied(String),
    /// No usable token (401).
    Unauthenticated(String),
    /// A malformed form (400).
    Invalid(String),
    /// Over `max_upload_bytes` (413).
    TooLarge,
    /// The index refused the gateway's own credentials (502: an operator's problem,
    /// not the client's token).
    UpstreamRefusedCredentials(u16),
    /// The index could not be reached (502).
    UpstreamUnreachable,
    /// The index did not answer in time (504).
    UpstreamTimeout,
    /// The store is down, so the token cannot be checked (503).
    Unavailable,
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Relayed(forwarded) if forwarded.status.is_success() => "uploaded",
            Outcome::Relayed(_) => "rejected-by-index",
            Outcome::Denied(_) => "denied",
            Outcome::Unauthenticated(_) => "unauthenticated",
            Outcome::Invalid(_) => "invalid",
            Outcome::TooLarge => "too-large",
            Outcome::UpstreamRefusedCredentials(_) => "upstream-credentials",
            Outcome::UpstreamUnreachable => "upstream-unreachable",
            Outcome::UpstreamTimeout => "upstream-timeout",
            Outcome::Unavailable => "unavailable",
        }
    }

    fn response(&self, max_upload_bytes: u64) -> HttpResponse {
        let plain = |status: StatusCode, text: String| {
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(text)
        };
        match self {
            Outcome::Relayed(forwarded) => {
                let mut response = HttpResponse::build(forwarded.status);
                if let Some(content_type) = &forwarded.content_type {
                    response.insert_header((header::CONTENT_TYPE, content_type.clone()));
                }
                response.body(forwarded.body.clone())
            }
            Outcome::Denied(reason) => plain(
                StatusCode::FORBIDDEN,
                format!("Invalid API Token: {reason}"),
            ),
            Outcome::Unauthenticated(reason) => HttpResponse::build(StatusCode::UNAUTHORIZED)
                .insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"trustmint\""))
                .content_type("text/plain; charset=utf-8")
                .body(reason.clone()),
            Outcome::Invalid(reason) => plain(StatusCode::BAD_REQUEST, reason.clone()),
            Outcome::TooLarge => plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("File too large. Limit is {max_upload_bytes} bytes."),
            ),
            Outcome::UpstreamRefusedCredentials(status) => plain(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the index refused the gateway's upload credentials (HTTP {status}); the operator must check gateway.upstream_username and the password"
                ),
            ),
            Outcome::UpstreamUnreachable => plain(
                StatusCode::BAD_GATEWAY,
                "the index behind the gateway cannot be reached".to_owned(),
            ),
            Outcome::UpstreamTimeout => plain(
                StatusCode::GATEWAY_TIMEOUT,
                "the index behind the gateway did not answer in time".to_owned(),
            ),
            Outcome::Unavailable => plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the token store is unavailable; retry shortly".to_owned(),
            ),
        }
    }
}

/// What the audit event says beyond the outcome.
#[derive(Debug, Default)]
struct UploadFacts {
    project: String,
    version: String,
    file_name: String,
    publisher_id: String,
    token_id: String,
}

/// `POST <gateway.path>`.
pub(crate) async fn upload(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(gateway) = state.gateway.clone() else {
        return HttpResponse::NotFound().finish();
    };
    let started = Instant::now();
    let client = client_ip(&request, &state.trusted_proxies);
    let mut facts = UploadFacts::default();
    let outcome = run(&request, payload, &state, &gateway, &mut facts).await;
    state
        .exchange
        .metrics()
        .record_gateway_upload(outcome.label(), started.elapsed());
    audit(&state, &outcome, facts, client).await;
    outcome.response(gateway.max_upload_bytes)
}

async fn audit(state: &HttpState, outcome: &Outcome, facts: UploadFacts, client: Option<IpAddr>) {
    let success = matches!(outcome, Outcome::Relayed(forwarded) if forwarded.status.is_success());
    let reason = match outcome {
        Outcome::Denied(reason) | Outcome::Unauthenticated(reason) | Outcome::Invalid(reason) => {
            reason.clone()
        }
        _ => String::new(),
    };
    let mut event = if success {
        AuditEvent::success(AuditAction::Upload, now())
    } else {
        AuditEvent::failure(
            AuditAction::Upload,
            AuditCode::Upload(outcome.label()),
            reason,
            now(),
        )
    };
    event.upstream_status = match outcome {
        Outcome::Relayed(forwarded) => forwarded.status.as_u16().to_string(),
        Outcome::UpstreamRefusedCredentials(status) => status.to_string(),
        _ => String::new(),
    };
    event.projects = facts.project;
    event.version = facts.version;
    event.file_name = facts.file_name;
    event.publisher_id = facts.publisher_id;
    event.token_id = facts.token_id;
    event.client_ip = client.map(|ip| ip.to_string()).unwrap_or_default();
    state.exchange.record_audit(event).await;
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

async fn run(
    request: &HttpRequest,
    mut payload: web::Payload,
    state: &HttpState,
    gateway: &Arc<Gateway>,
    facts: &mut UploadFacts,
) -> Outcome {
    let token = match credentials::token(
        request
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| value.as_bytes()),
    ) {
        Ok(token) => token,
        Err(error) => return Outcome::Unauthenticated(error.to_string()),
    };
    let declared_length = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > gateway.max_upload_bytes) {
        return Outcome::TooLarge;
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let boundary = match form::boundary(&content_type) {
        Ok(boundary) => boundary,
        Err(error) => return Outcome::Invalid(error.to_string()),
    };

    // Read up to the file's first byte, keeping the chunks to forward them unchanged.
    let mut scanner = form::FormScanner::new(&boundary, MAX_PREAMBLE_BYTES);
    let mut head = Vec::new();
    let mut received: u64 = 0;
    while scanner.preamble().is_none() {
        match payload.next().await {
            Some(Ok(chunk)) => {
                received += chunk.len() as u64;
                if received > gateway.max_upload_bytes {
                    return Outcome::TooLarge;
                }
                if let Err(error) = scanner.feed(&chunk) {
                    return Outcome::Invalid(error.to_string());
                }
                head.push(chunk);
            }
            Some(Err(error)) => {
                return Outcome::Invalid(format!("could not read the upload: {error}"));
            }
            None => {
                if let Err(error) = scanner.finish() {
                    return Outcome::Invalid(error.to_string());
                }
            }
        }
    }
    let Some(preamble) = scanner.preamble().cloned() else {
        return Outcome::Invalid("the upload form is incomplete".to_owned());
    };
    let raw_name = preamble.field("name").unwrap_or_default();
    let project = match ProjectName::parse(raw_name) {
        Ok(project) => project,
        Err(error) => {
            return Outcome::Invalid(format!("invalid project name '{raw_name}': {error}"));
        }
    };
    facts.project = project.to_string();
    facts.version = preamble.field("version").unwrap_or_default().to_owned();
    facts.file_name = preamble.file_name.clone().unwrap_or_default();
    if let Some(Err(error)) = preamble
        .file_name
        .as_ref()
        .map(|file_name| filename::check(file_name, &project))
    {
        return Outcome::Invalid(error.to_string());
    }

    // The same check as gRPC VerifyToken.
    let verification = state
        .exchange
        .verify(VerifyRequest {
            token: token.into(),
            project: project.to_string(),
        })
        .await;
    match verification {
        Ok(Verification::Allowed(allowed)) => {
            facts.publisher_id = allowed.publisher.id.to_string();
            facts.token_id = allowed.token_id.clone();
        }
        Ok(Verification::Denied { reason }) => return Outcome::Denied(reason),
        Err(ExchangeError::Unavailable { .. }) => return Outcome::Unavailable,
        Err(error) => return Outcome::Invalid(error.description()),
    }

    let forwarding = gateway.upstream.forward(
        &content_type,
        declared_length,
        head,
        payload,
        scanner,
        received,
        gateway.max_upload_bytes,
    );
    match forwarding.await {
        Ok(forwarded) if matches!(forwarded.status.as_u16(), 401 | 403) => {
            tracing::warn!(
                status = forwarded.status.as_u16(),
                "the index refused the gateway's upload credentials"
            );
            Outcome::UpstreamRefusedCredentials(forwarded.status.as_u16())
        }
        Ok(forwarded) => Outcome::Relayed(forwarded),
        Err(ForwardError::Form(error)) => Outcome::Invalid(error.to_string()),
        Err(ForwardError::Client(message)) => Outcome::Invalid(message),
        Err(ForwardError::TooLarge) => Outcome::TooLarge,
        Err(ForwardError::Timeout) => Outcome::UpstreamTimeout,
        Err(ForwardError::Unreachable(error)) => {
            tracing::warn!(%error, "the index behind the gateway cannot be reached");
            Outcome::UpstreamUnreachable
        }
    }
}
