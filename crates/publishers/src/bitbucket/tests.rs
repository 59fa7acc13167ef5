//! Bitbucket matching tables: a real-shaped step token, each field wrong, tenant
//! isolation between workspaces, the workspace audience bound to the publisher.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, assert_match_table, assert_token_selects, edited, matched, object, refused,
    stored_claims_of, with, without,
};
use crate::{BitbucketPublisher, NoMatchKind, Provider, Publisher, PublisherSpec, TokenClaims};

const ISS: &str =
    "https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc";
const WORKSPACE: &str = "{8b1c2d3e-0000-4000-8000-00000000aaaa}";
const REPOSITORY: &str = "{9c2d3e4f-0000-4000-8000-00000000bbbb}";
const ENVIRONMENT: &str = "{e1e2e3e4-0000-4000-8000-000000000005}";
const OTHER: &str = "{99999999-0000-4000-8000-000000000009}";

fn spec() -> BitbucketPublisher {
    BitbucketPublisher {
        workspace: "octo-team".into(),
        workspace_uuid: WORKSPACE.into(),
        repository_uuid: REPOSITORY.into(),
        ..BitbucketPublisher::default()
    }
}

fn bitbucket(id: &str, edit: impl FnOnce(&mut BitbucketPublisher)) -> Publisher {
    edited(id, spec(), PublisherSpec::Bitbucket, edit)
}

/// `$BITBUCKET_STEP_OIDC_TOKEN` of a deployment step on `main`, with Bitbucket's
/// default workspace audience.
fn claims() -> Map<String, Value> {
    object(json!({
        "iss": ISS,
        "aud": "ari:cloud:bitbucket::workspace/8b1c2d3e-0000-4000-8000-00000000aaaa",
        "sub": format!("{REPOSITORY}:{ENVIRONMENT}:{{f0f1f2f3-0000-4000-8000-000000000006}}"),
        "workspaceUuid": WORKSPACE,
        "repositoryUuid": REPOSITORY,
        "pipelineUuid": "{a0a1a2a3-0000-4000-8000-000000000007}",
        "stepUuid": "{f0f1f2f3-0000-4000-8000-000000000006}",
        "branchName": "main",
        "deploymentEnvironmentUuid": ENVIRONMENT,
    }))
}

#[test]
fn matching_table() {
    let rows: Vec<MatchRow> = vec![
        (
            "real-shaped token",
            claims(),
            vec![bitbucket("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "bare upper-case uuids in config",
            with(claims(), "aud", json!("pypi")),
            vec![bitbucket("a", |p| {
                p.workspace_uuid = "8B1C2D3E-0000-4000-8000-00000000AAAA".into();
                p.repository_uuid = "9c2d3e4f-0000-4000-8000-00000000bbbb".into();
                p.deployment_environment_uuid = ENVIRONMENT.into();
            })],
            matched(&["a"]),
        ),
        (
            "the environment-pinned publisher wins",
            claims(),
            vec![
                bitbucket("a", |_| {}),
                bitbucket("b", |p| p.deployment_environment_uuid = ENVIRONMENT.into()),
            ],
            matched(&["b"]),
        ),
        (
            "another deployment environment",
            without(claims(), "deploymentEnvironmentUuid"),
            vec![bitbucket("a", |p| {
                p.deployment_environment_uuid = ENVIRONMENT.into()
            })],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; the publisher for workspace_uuid \
                 '{8b1c2d3e-0000-4000-8000-00000000aaaa}' repository_uuid \
                 '{9c2d3e4f-0000-4000-8000-00000000bbbb}' expects deployment_environment_uuid \
                 '{e1e2e3e4-0000-4000-8000-000000000005}' but the token has no \
                 deploymentEnvironmentUuid",
            ),
        ),
        (
            "another repository",
            with(claims(), "repositoryUuid", json!(OTHER)),
            vec![bitbucket("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; no publisher is registered for \
                 workspace_uuid '{8b1c2d3e-0000-4000-8000-00000000aaaa}' repository_uuid \
                 '{99999999-0000-4000-8000-000000000009}' with issuer \
                 'https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc'",
            ),
        ),
        (
            "another workspace uuid under the same slug",
            with(claims(), "workspaceUuid", json!(OTHER)),
            vec![bitbucket("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; no publisher is registered for \
                 workspace_uuid '{99999999-0000-4000-8000-000000000009}' repository_uuid \
                 '{9c2d3e4f-0000-4000-8000-00000000bbbb}' with issuer \
                 'https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc'",
            ),
        ),
        (
            "another workspace's issuer",
            with(
                claims(),
                "iss",
                json!(
                    "https://api.bitbucket.org/2.0/workspaces/evil/pipelines-config/identity/oidc"
                ),
            ),
            vec![bitbucket("a", |_| {})],
            refused(
                NoMatchKind::IssuerMismatch,
                "JWT issuer 'https://api.bitbucket.org/2.0/workspaces/evil/pipelines-config/identity/oidc' \
                 does not match expected issuer \
                 'https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc'",
            ),
        ),
        (
            "a workspace audience naming another workspace",
            with(
                claims(),
                "aud",
                json!("ari:cloud:bitbucket::workspace/99999999-0000-4000-8000-000000000009"),
            ),
            vec![bitbucket("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'aud'; the publisher for workspace_uuid \
                 '{8b1c2d3e-0000-4000-8000-00000000aaaa}' repository_uuid \
                 '{9c2d3e4f-0000-4000-8000-00000000bbbb}' expects a workspace audience naming \
                 workspace_uuid '{8b1c2d3e-0000-4000-8000-00000000aaaa}' but the token's aud is \
                 'ari:cloud:bitbucket::workspace/99999999-0000-4000-8000-000000000009'",
            ),
        ),
        (
            "missing step uuid",
            without(claims(), "stepUuid"),
            vec![bitbucket("a", |_| {})],
            refused(NoMatchKind::MissingClaim, "Missing claim 'stepUuid'"),
        ),
    ];
    assert_match_table(Provider::Bitbucket, rows);
}

#[test]
fn issuer_key_audience_and_provenance() {
    let spec = PublisherSpec::Bitbucket(spec());
    assert_eq!(spec.issuer(), ISS);
    assert_token_selects(Provider::Bitbucket, ISS, &claims(), &spec);
    assert_eq!(
        Provider::Bitbucket
            .audience_placeholder_value("workspace_uuid", &TokenClaims::new(ISS, &claims())),
        Some("8b1c2d3e-0000-4000-8000-00000000aaaa".to_owned())
    );
    let stored = stored_claims_of(Provider::Bitbucket, &claims(), &[bitbucket("a", |_| {})]);
    let get = |key: &str| stored.get(key).map(String::as_str);
    assert_eq!(get("workspace"), Some("octo-team"));
    assert_eq!(get("repositoryUuid"), Some(REPOSITORY));
    assert_eq!(get("ref"), Some("refs/heads/main"));
    assert_eq!(
        get("pipelineUuid"),
        Some("{a0a1a2a3-0000-4000-8000-000000000007}")
    );
    assert_eq!(
        get("publisher_url"),
        Some("https://bitbucket.org/octo-team")
    );
}
