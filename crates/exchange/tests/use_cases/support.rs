//! What the use-case tests share: the error assertion (code + description) and token
//! surgery (attenuate, edit without re-signing).

use serde_json::Value;
use trustmint_exchange::{ExchangeError, NewPublisher, Verification};
use trustmint_publishers::{PublisherSpec, parse_declaration};

/// The fixed description of every `invalid-token` (attackers learn nothing).
pub const INVALID_TOKEN: &str = "malformed or invalid token";

/// Asserts the wire code and the client-facing description of `result`'s error.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, ExchangeError>,
    code: &str,
    description: &str,
) {
    let error = result.expect_err("the use case refuses");
    assert_eq!(error.code().to_string(), code, "code of {error:?}");
    assert_eq!(error.description(), description, "description of {error:?}");
}

/// The wire code of `result`'s error.
#[track_caller]
pub fn code_of<T: std::fmt::Debug>(result: Result<T, ExchangeError>) -> String {
    result.expect_err("the use case refuses").code().to_string()
}

/// Asserts a denial with exactly `reason`.
#[track_caller]
pub fn assert_denied(verification: Result<Verification, ExchangeError>, reason: &str) {
    match verification.expect("verify answers") {
        Verification::Denied { reason: actual } => assert_eq!(actual, reason),
        allowed => panic!("expected a denial ({reason}), got {allowed:?}"),
    }
}

/// Asserts an allowed verification and returns it.
#[track_caller]
pub fn assert_allowed(
    verification: Result<Verification, ExchangeError>,
) -> trustmint_exchange::Allowed {
    match verification.expect("verify answers") {
        Verification::Allowed(allowed) => *allowed,
        denied => panic!("expected an allowed verification, got {denied:?}"),
    }
}

/// The names of `projects`, as the wire spells them.
pub fn names(projects: &[trustmint_publishers::ProjectName]) -> Vec<&str> {
    projects.iter().map(|p| p.as_str()).collect()
}

pub use trustmint_testkit::token_surgery::{attenuate, tamper};

/// A registration request from a `[[publishers]]`-shaped declaration.
pub fn new_publisher(declaration: &Value, projects: &[&str], pending: bool) -> NewPublisher {
    NewPublisher {
        spec: parse_declaration(declaration)
            .expect("a valid declaration")
            .spec,
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        pending,
        policy: Default::default(),
    }
}

/// A registration request for `spec` as the index sends it (not validated yet: the use
/// case validates).
pub fn new_publisher_with_spec(spec: Value, projects: &[&str], pending: bool) -> NewPublisher {
    NewPublisher {
        spec: serde_json::from_value::<PublisherSpec>(spec).expect("a publisher spec"),
        projects: projects.iter().map(|p| (*p).to_owned()).collect(),
        pending,
        policy: Default::default(),
    }
}

/// The spec of the testkit's default GitHub workflow in `repository` of `octo-org`,
/// trusting `issuer`.
pub fn github_spec(issuer: &str, repository: &str) -> Value {
    serde_json::json!({
        "kind": "github",
        "issuer": issuer,
        "repository_owner": "octo-org",
        "repository_owner_id": "92345678",
        "repository_name": repository,
        "workflow_filename": "release.yml",
    })
}

/// A registration request for [`github_spec`].
pub fn github_publisher(
    issuer: &str,
    repository: &str,
    projects: &[&str],
    pending: bool,
) -> NewPublisher {
    new_publisher_with_spec(github_spec(issuer, repository), projects, pending)
}
