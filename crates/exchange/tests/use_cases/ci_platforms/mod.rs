//! The CI platforms of issue 13 (Buildkite, CircleCI, Bitbucket Pipelines, Forgejo
//! Actions) through the use cases: for each, a publisher is created, read, listed and
//! deleted through the manage use cases; a real-shaped token signed by a testkit issuer
//! mints; verify returns the platform's provenance; the exchange is counted under the
//! platform's issuer kind; and every refusal (each required field wrong, refused
//! triggers, another tenant, audiences) is asserted with its exact code and description.
//!
//! Tokens carry the platform's real `iss`; the exchange fetches keys from the test issuer
//! through a configured `jwks_uri`, as an operator behind an egress proxy would.

mod harness;

mod buildkite;

mod circleci;

mod bitbucket;

mod forgejo;
