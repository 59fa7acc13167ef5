//! The actix-web application and server.

use std::net::{SocketAddr, TcpListener};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use tracing::Instrument as _;
use trustmint_exchange::ErrorCode;
use trustmint_telemetry::link_remote_parent;

use crate::error::error_with_status;
use crate::{HttpState, doors, gateway, oidc, ops};

/// Registers every route on `config`.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/_/oidc/audience", web::get().to(oidc::audience))
        .route("/_/oidc/mint-token", web::post().to(oidc::mint_token))
        .route(
            "/_/oidc/github/mint-token",
            web::post().to(oidc::mint_token),
        )
        .route("/_/oidc/revoke-token", web::post().to(oidc::revoke_token))
        .route("/_/oidc/burn-token", web::post().to(oidc::burn_token))
        .route("/metrics", web::get().to(ops::metrics))
        .route("/healthz", web::get().to(ops::healthz))
        .route("/readyz", web::get().to(ops::readyz))
        .configure(doors::configure);
}

async fn not_found() -> HttpResponse {
    error_with_status(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such endpoint".to_owned(),
    )
}

/// Routes whose requests get no span: scrapes and probes every few seconds would
/// drown the traces that matter.
const UNTRACED_ROUTES: [&str; 3] = ["/metrics", "/healthz", "/readyz"];

/// The span of one request, child of the caller's W3C `traceparent` when it sent one.
/// Only the method, the route pattern and the status are recorded: never the body,
/// the query or a header value.
fn request_span(request: &ServiceRequest, route: &str) -> tracing::Span {
    if UNTRACED_ROUTES.contains(&route) {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "http.request",
        otel.name = format!("{} {route}", request.method()).as_str(),
        http.request.method = %request.method(),
        http.route = route,
        http.response.status_code = tracing::field::Empty,
    );
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    link_remote_parent(&span, header("traceparent"), header("tracestate"));
    span
}

/// Runs every request inside its span (so the use case's spans are its children), and
/// counts and times it by route pattern and status.
async fn record_metrics(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let state = request.app_data::<web::Data<HttpState>>().cloned();
    let span = request_span(&request, &route);
    let started = Instant::now();
    let response = next.call(request).instrument(span.clone()).await?;
    span.record("http.response.status_code", response.status().as_u16());
    if let Some(state) = state {
        state.exchange.metrics().record_http_request(
            &route,
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}

/// Binds `addr` (port 0 picks a free port) and returns the server (not yet awaited)
/// and the bound address. Signals are left to the caller, which stops the server
/// through its handle for a graceful shutdown.
pub fn bind(
    state: HttpState,
    addr: SocketAddr,
    workers: usize,
) -> std::io::Result<(Server, SocketAddr)> {
    bind_with_tls(state, addr, workers, None, 10)
}

/// [`bind`], with `grace_secs` for in-flight requests to finish after a graceful stop
/// (`[server] shutdown_grace_secs`) before actix drops them.
pub fn bind_with_grace(
    state: HttpState,
    addr: SocketAddr,
    workers: usize,
    grace_secs: u64,
) -> std::io::Result<(Server, SocketAddr)> {
    bind_with_tls(state, addr, workers, None, grace_secs)
}

/// [`bind_with_grace`], serving HTTPS (HTTP/1.1 and HTTP/2 by ALPN) when `tls` is given.
pub fn bind_with_tls(
    state: HttpState,
    addr: SocketAddr,
    workers: usize,
    tls: Option<rustls::ServerConfig>,
    grace_secs: u64,
) -> std::io::Result<(Server, SocketAddr)> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let secret_scanning_path = state
        .secret_scanning
        .as_ref()
        .map(|scanning| scanning.path().to_owned());
    let gateway_path = state
        .gateway
        .as_ref()
        .map(|gateway| gateway.path().to_owned());
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let mut app = App::new()
            .app_data(data.clone())
            .wrap(middleware::from_fn(record_metrics))
            .configure(configure)
            .configure(|config| {
                doors::secret_scanning::configure(config, secret_scanning_path.as_deref())
            });
        if let Some(path) = &gateway_path {
            app = app.route(path, web::post().to(gateway::upload));
        }
        app.default_service(web::to(not_found))
    })
    .workers(workers.max(1))
    .disable_signals()
    .shutdown_timeout(grace_secs);
    let server = match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls)?,
        None => server.listen(listener)?,
    };
    Ok((server.run(), bound))
}
