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
//! Each CI platform is one folder (`github/`, `gitlab/`, `google/`, `activestate/`, `buildkite/`, …)
//! implementing the crate's `Platform` trait, registered once in `registry.rs`.
//!
//! For input, [`parse_declaration`] reads a config entry or API body and
//! [`PublisherSpec::validate`] applies PyPI's and crates.io's field rules.

mod activestate;
mod bitbucket;
mod buildkite;
mod circleci;
mod claims;
mod compare;
mod declaration;
mod describe;
mod diagnostics;
mod ecosystem;
mod fields;
mod forgejo;
mod github;
mod gitlab;
mod google;
mod id;
mod keys;
mod matching;
mod oidc;
mod platform;
mod policy;
mod project;
mod publisher;
mod reasons;
mod registry;
mod stored;
mod tenant_uuid;
mod validation;
mod verdict;

#[cfg(test)]
mod test_support;

pub use activestate::{ACTIVESTATE_ISSUER_URL, ActiveStatePublisher};
pub use bitbucket::{BITBUCKET_ISSUER_PATTERN, BitbucketPublisher};
pub use buildkite::{BUILDKITE_ISSUER_URL, BuildkitePublisher};
pub use circleci::{CIRCLECI_ISSUER_PATTERN, CIRCLECI_ISSUER_PREFIX, CircleCIPublisher};
pub use claims::TokenClaims;
pub use declaration::{Declaration, parse_declaration};
pub use diagnostics::{MAX_DESCRIBED_PUBLISHERS, NoMatch, NoMatchKind};
pub use ecosystem::{Ecosystem, MAX_CRATE_NAME_LEN, MAX_NPM_NAME_LEN};
pub use forgejo::{CODEBERG_ISSUER_URL, ForgejoPublisher};
pub use github::{GITHUB_ISSUER_URL, GitHubPublisher};
pub use gitlab::{GITLAB_ISSUER_URL, GitLabPublisher};
pub use google::{GOOGLE_ISSUER_URL, GooglePublisher};
pub use id::PublisherId;
pub use keys::LookupKey;
pub use matching::{Match, find_match, lookup_key_for_claims};
pub use oidc::{OidcIssuerRules, OidcPublisher};
pub use policy::{POLICY_FIELDS, PublisherPolicy};
pub use project::{MAX_PROJECT_NAME_LEN, ProjectName, ProjectNameError};
pub use publisher::{Origin, PENDING_PUBLISHER_TTL_SECS, Publisher};
pub use reasons::MAX_ECHOED_CHARS;
pub use registry::{Provider, PublisherSpec};
pub use validation::{MAX_FIELD_LEN, ValidationError};
