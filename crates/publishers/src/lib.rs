//! Trusted publishers: the identities on CI platforms that may mint upload tokens, the
//! claim rules of each provider (PyPI's semantics, reference §3), matching a verified
//! token's claims to the most specific publisher, and diagnostics a human can act on.
//!
//! This crate does no I/O: stores hand it candidate publishers, the exchange hands it
//! verified claims.
//!
//! The flow, for the exchange:
//! 1. [`lookup_key_for_claims`] names the candidates to fetch (one repository, project,
//!    email or organization/project under one issuer);
//! 2. [`find_match`] checks them and returns a [`Match`] (publishers, projects,
//!    provenance to store with the token) or a [`NoMatch`] whose reason is PyPI's,
//!    followed by what each near-miss publisher expected.
//!
//! For input, [`parse_declaration`] reads a config entry or API body and
//! [`PublisherSpec::validate`] applies PyPI's and crates.io's field rules.

mod activestate;
mod claims;
mod compare;
mod declaration;
mod describe;
mod diagnostics;
mod github;
mod gitlab;
mod google;
mod id;
mod keys;
mod matching;
mod project;
mod provider;
mod publisher;
mod reasons;
mod stored;
mod token;
mod validation;
mod verdict;

#[cfg(test)]
mod test_support;

pub use claims::TokenClaims;
pub use declaration::{Declaration, parse_declaration};
pub use diagnostics::{MAX_DESCRIBED_PUBLISHERS, NoMatch, NoMatchKind};
pub use id::PublisherId;
pub use keys::LookupKey;
pub use matching::{Match, find_match, lookup_key_for_claims};
pub use project::{MAX_PROJECT_NAME_LEN, ProjectName, ProjectNameError};
pub use provider::{
    ACTIVESTATE_ISSUER_URL, GITHUB_ISSUER_URL, GITLAB_ISSUER_URL, GOOGLE_ISSUER_URL, Provider,
};
pub use publisher::{
    ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher, Origin,
    PENDING_PUBLISHER_TTL_SECS, Publisher, PublisherSpec,
};
pub use reasons::MAX_ECHOED_CHARS;
pub use validation::{MAX_FIELD_LEN, ValidationError};
