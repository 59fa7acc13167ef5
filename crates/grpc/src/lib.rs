//! trustmint's gRPC API for package indexes (tonic): `trustmint.v1.TokenService`
//! (mint, verify, revoke) and `trustmint.v1.PublisherService` (create, get, list,
//! delete, confirm), bearer-token authentication in an interceptor, optional TLS/mTLS,
//! `grpc.health.v1.Health` and server reflection.

mod auth;
mod convert;
mod observe;
pub mod pb;
mod publisher_service;
mod server;
mod settings;
mod status;
mod token_service;

pub use auth::{AcceptedTokens, BearerAuth};
pub use publisher_service::PublisherApi;
pub use server::{GrpcServeError, serve, serve_incoming};
pub use settings::{GrpcSecurity, GrpcSettings};
pub use status::{ERROR_CODE_METADATA, ERROR_DOMAIN, status_from};
pub use token_service::TokenApi;
