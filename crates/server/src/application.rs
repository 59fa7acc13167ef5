//! The running service: HTTP and gRPC listeners over one `Exchange`, with graceful
//! shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use tokio::net::TcpListener;
use tokio::sync::watch;
use trustmint_exchange::Exchange;
use trustmint_grpc::GrpcSecurity;
use trustmint_http::HttpState;

use crate::reload::Reloader;
use crate::settings::{ConfigError, Settings};
use crate::wiring::build_service;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The configuration is invalid (exit code 64).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A built, bound service. Listening starts with [`Application::run_until`]; use port 0
/// in the settings to get free ports (tests do).
pub struct Application {
    exchange: Arc<Exchange>,
    http_server: Server,
    http_addr: SocketAddr,
    grpc_listener: TcpListener,
    grpc_addr: SocketAddr,
    grpc_security: GrpcSecurity,
    shutdown: ShutdownTimes,
    /// What it was built from, so a reload can name the sections it cannot apply.
    settings: Settings,
}

/// The `[server]` shutdown settings, as durations.
#[derive(Debug, Clone, Copy)]
struct ShutdownTimes {
    drain_delay: Duration,
    grace: Duration,
}

fn parse_addr(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|error| {
        ConfigError(format!(
            "{key}: '{value}' is not a socket address ({error})"
        ))
    })
}

/// The HTTPS configuration of the HTTP listener, when `[server] tls_cert_file` is set.
pub(crate) fn http_tls(settings: &Settings) -> Result<Option<rustls::ServerConfig>, ConfigError> {
    match (
        settings.server.tls_cert_file.is_empty(),
        settings.server.tls_key_file.is_empty(),
    ) {
        (true, true) => return Ok(None),
        (false, false) => {}
        (true, false) | (false, true) => {
            return Err(ConfigError(
                "server.tls_cert_file: set both tls_cert_file and tls_key_file, or neither"
                    .to_owned(),
            ));
        }
    }
    trustmint_http::server_config(
        settings.server.tls_cert_file.as_ref(),
        settings.server.tls_key_file.as_ref(),
    )
    .map(Some)
    .map_err(|error| ConfigError(error.to_string()))
}

/// The upload gateway, when `[gateway]` is enabled.
pub(crate) fn gateway(
    settings: &Settings,
) -> Result<Option<Arc<trustmint_http::Gateway>>, ConfigError> {
    let Some(config) = settings.gateway.load().map_err(ConfigError)? else {
        return Ok(None);
    };
    trustmint_http::Gateway::new(config)
        .map(|gateway| Some(Arc::new(gateway)))
        .map_err(ConfigError)
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("http_addr", &self.http_addr)
            .field("grpc_addr", &self.grpc_addr)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Builds the service from `settings` and binds its listeners.
    pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
        let grpc_security = settings.grpc.load().map_err(ConfigError)?;
        let service = build_service(settings).await?;
        let http_addr = parse_addr("server.http_addr", &settings.server.http_addr)?;
        let grpc_addr = parse_addr("server.grpc_addr", &settings.server.grpc_addr)?;
        let mut state = HttpState::new(
            service.exchange.clone(),
            settings.rate_limit.trusted_proxies.clone(),
        )
        .with_secret_scanning(&settings.secret_scanning)
        .map_err(ConfigError)?;
        state.gateway = gateway(settings)?;
        let (http_server, http_addr) = trustmint_http::bind_with_tls(
            state,
            http_addr,
            settings.server.http_workers,
            http_tls(settings)?,
            settings.server.shutdown_grace_secs,
        )
        .map_err(|source| StartupError::Bind {
            addr: settings.server.http_addr.clone(),
            source,
        })?;
        let grpc_listener =
            TcpListener::bind(grpc_addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.server.grpc_addr.clone(),
                    source,
                })?;
        let grpc_addr = grpc_listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: settings.server.grpc_addr.clone(),
                source,
            })?;
        if grpc_security.auth_tokens.is_empty() && !grpc_addr.ip().is_loopback() {
            tracing::warn!(
                grpc = %grpc_addr,
                "!!! gRPC listens on a non-loopback address WITHOUT authentication: anyone who can reach it can register publishers and mint tokens. Set [grpc] auth_token_file. !!!"
            );
        }
        Ok(Application {
            exchange: service.exchange,
            http_server,
            http_addr,
            grpc_listener,
            grpc_addr,
            grpc_security,
            shutdown: ShutdownTimes {
                drain_delay: Duration::from_millis(settings.server.shutdown_drain_delay_ms),
                grace: Duration::from_secs(settings.server.shutdown_grace_secs),
            },
            settings: settings.clone(),
        })
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The bound gRPC address.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// The use cases (for tests that drive them directly).
    pub fn exchange(&self) -> &Arc<Exchange> {
        &self.exchange
    }

    /// The configuration reloader of this service: it re-reads `config` (the file the
    /// settings came from, if any) and the environment, and puts the keys, the gRPC
    /// tokens, the issuers and the declared publishers in force (see
    /// [`Reloader`]). Take it before [`Application::run_until`].
    pub fn reloader(&self, config: Option<PathBuf>) -> Reloader {
        Reloader::new(
            self.exchange.clone(),
            Some(self.grpc_security.auth_tokens.clone()),
            config,
            Some(self.settings.clone()),
        )
    }

    /// Serves until `shutdown` completes, then drains: reports not-ready for
    /// `[server] shutdown_drain_delay_ms` while still serving, closes the listeners, and
    /// lets in-flight requests and calls finish for up to `[server] shutdown_grace_secs`.
    /// Requests still running after that are dropped (logged); the result is `Ok` either
    /// way unless a server failed.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let http_handle = self.http_server.handle();
        let mut http = tokio::spawn(self.http_server);
        let (stop_grpc, mut grpc_stopping) = watch::channel(false);
        let mut grpc = tokio::spawn(trustmint_grpc::serve(
            self.grpc_listener,
            self.exchange.clone(),
            self.grpc_security,
            async move {
                let _ = grpc_stopping.wait_for(|stop| *stop).await;
            },
        ));
        tokio::select! {
            () = shutdown => {}
            // A server that stops by itself (it failed) ends the service too.
            result = &mut http => return flatten_http(result),
            result = &mut grpc => return flatten_grpc(result),
        }
        let ShutdownTimes { drain_delay, grace } = self.shutdown;
        tracing::info!(
            drain_delay_ms = drain_delay.as_millis() as u64,
            grace_secs = grace.as_secs(),
            "shutting down: reporting not-ready, then finishing in-flight requests"
        );
        self.exchange.start_draining();
        tokio::time::sleep(drain_delay).await;
        let _ = stop_grpc.send(true);
        let graceful = async {
            http_handle.stop(true).await;
            let http_result = flatten_http((&mut http).await);
            let grpc_result = flatten_grpc((&mut grpc).await);
            http_result.and(grpc_result)
        };
        match tokio::time::timeout(grace, graceful).await {
            Ok(result) => {
                tracing::info!("shutdown complete");
                result
            }
            Err(_) => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "shutdown grace period over: dropping the requests still in flight"
                );
                http_handle.stop(false).await;
                http.abort();
                grpc.abort();
                Ok(())
            }
        }
    }
}

fn flatten_http(
    result: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> std::io::Result<()> {
    result.map_err(std::io::Error::other).and_then(|r| r)
}

fn flatten_grpc(
    result: Result<Result<(), trustmint_grpc::GrpcServeError>, tokio::task::JoinError>,
) -> std::io::Result<()> {
    result
        .map_err(std::io::Error::other)
        .and_then(|r| r.map_err(std::io::Error::other))
}
