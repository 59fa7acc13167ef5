//! trustmint's PyPI-compatible HTTP API (actix-web): thin handlers that parse, call the
//! use case and map its error in one place.
//!
//! Routes: `GET /_/oidc/audience`, `POST /_/oidc/mint-token`,
//! `POST /_/oidc/github/mint-token` (legacy alias), `POST /_/oidc/revoke-token`,
//! `POST /_/oidc/burn-token`,
//! `GET /metrics`, `GET /healthz`, `GET /readyz`.

mod body;
mod client_ip;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod gateway;
mod oidc;
mod ops;
mod server;
mod state;
mod tls;

pub use error::{ApiError, TOKEN_REQUEST_FAILED};
pub use gateway::{DEFAULT_MAX_UPLOAD_BYTES, Gateway, GatewayConfig, GatewaySettings};
pub use server::{bind, bind_with_grace, bind_with_tls, configure};
pub use state::{DEFAULT_BODY_LIMIT, HttpState};
pub use tls::{TlsError, server_config};
