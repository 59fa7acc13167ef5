//! The use cases on the memory backends, without HTTP or gRPC: a real [`Exchange`]
//! (testkit `memory_exchange`) trusting a real testkit OIDC issuer, with a clock the
//! test holds. Each test asserts the exact wire code and description (or denial
//! reason) the adapters pass on unchanged; the adapters' own tests check only the
//! mapping to HTTP and gRPC.
//!
//! [`Exchange`]: trustmint_exchange::Exchange

// A test binary exports nothing: `pub` here only means "visible to sibling modules".
#![allow(unreachable_pub)]

mod attenuation;
mod burn;
mod ci_platforms;
mod custom_issuers;
mod doors;
mod key_refresh;
mod manage;
mod metrics;
mod mint;
mod minted_caveats;
mod pending;
mod providers;
mod providers_support;
mod publisher_policy;
mod rate_limit;
mod revoke;
mod support;
mod verify;
