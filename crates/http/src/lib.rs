//! trustmint's PyPI-compatible HTTP API (actix-web): thin handlers that parse, call the
//! use case and map its error in one place.
//!
//! Routes: `GET /_/oidc/audience`, `POST /_/oidc/mint-token`,
//! `POST /_/oidc/github/mint-token` (legacy alias), `POST /_/oidc/revoke-token`,
//! `POST /_/oidc/burn-token`,
//! `GET /metrics`, `GET /healthz`, `GET /readyz`; and the other ecosystems' doors
//! (`doors/`): crates.io's `/api/v1/trusted_publishing/tokens`, npm's
//! `/-/npm/v1/oidc/token/exchange/package/{name}`, RFC 8693's `/oauth2/token` and
//! GitHub secret scanning's `[secret_scanning] path`.

mod body;
mod client_ip;
mod doors;
mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod gateway;
mod oidc;
mod ops;
mod server;
mod state;
mod tls;

pub use doors::SecretScanningSettings;
pub use doors::secret_scanning::GITHUB_KEYS_URL;
pub use doors::token_exchange::{ACCESS_TOKEN_TYPE, GRANT_TYPE, SUBJECT_TOKEN_TYPES};
pub use error::{ApiError, TOKEN_REQUEST_FAILED};
pub use gateway::{DEFAULT_MAX_UPLOAD_BYTES, Gateway, GatewayConfig, GatewaySettings};
pub use server::{bind, bind_with_grace, bind_with_tls, configure};
pub use state::{DEFAULT_BODY_LIMIT, HttpState};
pub use tls::{TlsError, server_config};
