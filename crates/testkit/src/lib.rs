//! trustmint-testkit: a local OIDC issuer and realistic CI claims, for tests and for
//! `trustmint dev-issuer`.
//!
//! * [`TestIssuer`] — discovery + JWKS on `127.0.0.1:<random port>`, key rotation,
//!   failure/latency/size injection, fetch counters, and signing (including attack
//!   tokens via [`SignOptions`]).
//! * [`claims`] — builders shaped like real GitHub, GitLab, Google, ActiveState, Buildkite,
//!   CircleCI, Bitbucket and Forgejo tokens.
//! * [`TestKey`] — a standalone signing key, for unit tests that need no server.
//! * [`run_dev_issuer`] — the development issuer (token endpoint, `id`-package endpoint).
//!
//! With the `fixtures` feature (tests only), what the crates' tests share:
//! * [`redis_processes`] — the local Redis check with its "how to start one" message,
//!   unique key prefixes, `redis-server` processes and clusters on free ports.
//! * [`publisher_fixtures`] — realistic publishers and token records.
//! * [`memory_exchange`] — the use cases on the memory backends with a fixed clock.

pub mod claims;
mod dev_issuer;
mod keys;
#[cfg(feature = "fixtures")]
pub mod memory_exchange;
#[cfg(feature = "fixtures")]
pub mod publisher_fixtures;
#[cfg(feature = "fixtures")]
pub mod redis_processes;
mod server;
mod test_issuer;
#[cfg(feature = "fixtures")]
pub mod token_surgery;

pub use dev_issuer::{run_dev_issuer, run_dev_issuer_on};
pub use keys::{KeyAlgorithm, KeyError, KidHeader, SignOptions, SignatureMode, TestKey};
pub use test_issuer::{IssuerOptions, TestIssuer};
