//! The running service: HTTP (and gRPC) listeners over one `Exchange`, with graceful
//! shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use trustmint_exchange::Exchange;
use trustmint_http::HttpState;

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
#[derive(Debug)]
pub struct Application {
    exchange: Arc<Exchange>,
    http_server: Server,
    http_addr: SocketAddr,
}

impl Application {
    /// Builds the service from `settings` and binds its listeners.
    pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
        let service = build_service(settings).await?;
        let http_addr: SocketAddr = settings.server.http_addr.parse().map_err(|error| {
            ConfigError(format!("server.http_addr: {error}"))
        })?;
        let state = HttpState::new(
            service.exchange.clone(),
            settings.rate_limit.trusted_proxies.clone(),
        );
        let (http_server, http_addr) =
            trustmint_http::bind(state, http_addr, settings.server.http_workers).map_err(
                |source| StartupError::Bind {
                    addr: settings.server.http_addr.clone(),
                    source,
                },
            )?;
        Ok(Application {
            exchange: service.exchange,
            http_server,
            http_addr,
        })
    }

    /// The bound HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The use cases (for tests that drive them directly).
    pub fn exchange(&self) -> &Arc<Exchange> {
        &self.exchange
    }

    /// A handle that stops the HTTP server gracefully.
    pub fn http_handle(&self) -> ServerHandle {
        self.http_server.handle()
    }

    /// Serves until `shutdown` completes, then stops accepting connections and lets
    /// in-flight requests finish (up to the servers' shutdown timeout).
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let handle = self.http_server.handle();
        let server = tokio::spawn(self.http_server);
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        handle.stop(true).await;
        match server.await {
            Ok(result) => result,
            Err(join_error) => Err(std::io::Error::other(join_error)),
        }
    }
}
