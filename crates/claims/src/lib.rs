//! trustmint-claims: from a CI runner's OIDC JWT to verified claims.
//!
//! ```text
//! JwtVerifier::route(jwt)        unverified peek of `iss` (+ `kid`) → configured Issuer
//!        (caller: kill switch)   issuer.enabled
//! JwtVerifier::verify(routed)    header rules → KeyStore (JWKS by kid: moka, single-flight,
//!                                cooldown, stale-on-error) → signature → iss/aud/exp/iat/nbf
//! ReplayKey::new(..)             one-time-use key, kept until replay_expiry(exp)
//! ```
//!
//! This crate knows nothing of publishers, minted tokens, HTTP routes or Redis; its only
//! I/O is the [`JwksFetcher`] seam.

mod algorithm;
mod audience;
mod error;
mod fetcher;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod header_policy;
mod issuer;
mod issuer_url;
mod jwks;
mod keystore;
mod registered_claims;
mod registry;
mod replay;
#[cfg(test)]
mod test_support;
mod unverified;
mod verifier;

pub use algorithm::{Algorithm, AlgorithmError};
pub use error::ClaimsError;
pub use fetcher::{FetchError, HttpFetcher, JwksFetcher};
pub use issuer::{Issuer, IssuerSettings};
pub use keystore::{
    FetchResult, KeySetStatus, KeyStore, KeyStoreObserver, KeyStoreSettings, NoopObserver,
};
pub use registry::{IssuerConfigError, IssuerRegistry};
pub use replay::{JWT_LEEWAY_SECS, MAX_JTI_BYTES, REPLAY_MARGIN_SECS, ReplayKey, replay_expiry};
pub use unverified::MAX_JWT_BYTES;
pub use verifier::{JwtVerifier, RoutedToken, VerifiedClaims};
