//! End to end for the CI platforms of issue 13 (Buildkite, CircleCI, Bitbucket
//! Pipelines, Forgejo Actions): for each, on the memory store and on Redis, a publisher
//! is created, read, listed and deleted over gRPC; a real-shaped token signed by a
//! testkit issuer mints over HTTP and over gRPC; VerifyToken returns the platform's
//! provenance; and every refusal (each required field wrong, refused triggers, another
//! tenant, audiences) is asserted with its exact code and description.
//!
//! Tokens carry the platform's real `iss`; the app fetches keys from the test issuer
//! through a configured `jwks_uri`, as an operator behind an egress proxy would.

mod harness;

mod buildkite;

mod circleci;

mod bitbucket;

mod forgejo;
