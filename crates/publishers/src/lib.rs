//! Trusted publishers: the identities on CI platforms that may mint upload tokens, the
//! claim rules of each provider (PyPI's semantics, reference §3), matching a verified
//! token's claims to the most specific publisher, and diagnostics a human can act on.
//!
//! This crate does no I/O: stores hand it candidate publishers, the exchange hands it
//! verified claims.

mod id;
mod keys;
mod project;
mod provider;
mod publisher;

pub use id::PublisherId;
pub use project::{MAX_PROJECT_NAME_LEN, ProjectName, ProjectNameError};
pub use provider::{
    ACTIVESTATE_ISSUER_URL, GITHUB_ISSUER_URL, GITLAB_ISSUER_URL, GOOGLE_ISSUER_URL, Provider,
};
pub use publisher::{
    ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher, Origin,
    PENDING_PUBLISHER_TTL_SECS, Publisher, PublisherSpec,
};
pub use keys::LookupKey;
