//! CircleCI matching tables: a real-shaped job token, each field wrong, SSH reruns,
//! tenant isolation between organizations' issuers.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, assert_match_table, assert_token_selects, edited, matched, object, refused,
    stored_claims_of, with, without,
};
use crate::{CircleCIPublisher, NoMatchKind, Provider, Publisher, PublisherSpec, TokenClaims};

const ORG: &str = "b7c6d5e4-0000-4000-8000-000000000001";
const PROJECT: &str = "c8d7e6f5-0000-4000-8000-000000000002";
const PIPELINE_DEFINITION: &str = "5d1a2b3c-0000-4000-8000-000000000003";
const CONTEXT: &str = "a74579f1-2e7d-451e-b009-5c082ad2729e";
const ISS: &str = "https://oidc.circleci.com/org/b7c6d5e4-0000-4000-8000-000000000001";

fn spec() -> CircleCIPublisher {
    CircleCIPublisher {
        organization_id: ORG.into(),
        project_id: PROJECT.into(),
        ..CircleCIPublisher::default()
    }
}

fn circleci(id: &str, edit: impl FnOnce(&mut CircleCIPublisher)) -> Publisher {
    edited(id, spec(), PublisherSpec::CircleCI, edit)
}

/// A job's `$CIRCLE_OIDC_TOKEN_V2` after `circleci run oidc get --claims '{"aud":"pypi"}'`.
fn claims() -> Map<String, Value> {
    object(json!({
        "iss": ISS,
        "aud": "pypi",
        "sub": format!("org/{ORG}/project/{PROJECT}/user/d9e8f7a6-0000-4000-8000-000000000004"),
        "oidc.circleci.com/project-id": PROJECT,
        "oidc.circleci.com/pipeline-definition-id": PIPELINE_DEFINITION,
        "oidc.circleci.com/vcs-origin": "github.com/octo-org/sampleproject",
        "oidc.circleci.com/vcs-ref": "refs/tags/v1.0.0",
        "oidc.circleci.com/context-ids": [CONTEXT, "cb32986e-2f6f-4f43-b2bd-d3c2fd98e903"],
        "oidc.circleci.com/ssh-rerun": false,
    }))
}

#[test]
fn matching_table() {
    let rows: Vec<MatchRow> = vec![
        (
            "real-shaped token",
            claims(),
            vec![circleci("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "every optional field, vcs_origin in another case",
            claims(),
            vec![circleci("a", |p| {
                p.pipeline_definition_id = PIPELINE_DEFINITION.into();
                p.vcs_origin = "GitHub.com/Octo-Org/SampleProject".into();
                p.context_id = CONTEXT.into();
            })],
            matched(&["a"]),
        ),
        (
            "the context-pinned publisher wins",
            claims(),
            vec![
                circleci("a", |_| {}),
                circleci("b", |p| p.context_id = CONTEXT.into()),
            ],
            matched(&["b"]),
        ),
        (
            "an SSH rerun is refused",
            with(claims(), "oidc.circleci.com/ssh-rerun", json!(true)),
            vec![circleci("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "SSH reruns may not publish: a person had a shell in the job that holds this token",
            ),
        ),
        (
            "another pipeline definition",
            with(
                claims(),
                "oidc.circleci.com/pipeline-definition-id",
                json!("99999999-0000-4000-8000-000000000009"),
            ),
            vec![circleci("a", |p| {
                p.pipeline_definition_id = PIPELINE_DEFINITION.into()
            })],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; the publisher for project_id \
                 'c8d7e6f5-0000-4000-8000-000000000002' expects pipeline_definition_id \
                 '5d1a2b3c-0000-4000-8000-000000000003' but the token's \
                 oidc.circleci.com/pipeline-definition-id is '99999999-0000-4000-8000-000000000009'",
            ),
        ),
        (
            "context not used by the job",
            without(claims(), "oidc.circleci.com/context-ids"),
            vec![circleci("a", |p| p.context_id = CONTEXT.into())],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; the publisher for project_id \
                 'c8d7e6f5-0000-4000-8000-000000000002' expects context_id \
                 'a74579f1-2e7d-451e-b009-5c082ad2729e' but the token has no \
                 oidc.circleci.com/context-ids",
            ),
        ),
        (
            "another repository",
            with(
                claims(),
                "oidc.circleci.com/vcs-origin",
                json!("github.com/evil/fork"),
            ),
            vec![circleci("a", |p| {
                p.vcs_origin = "github.com/octo-org/sampleproject".into()
            })],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'vcs_origin'; the publisher for project_id \
                 'c8d7e6f5-0000-4000-8000-000000000002' expects vcs_origin \
                 'github.com/octo-org/sampleproject' but the token's oidc.circleci.com/vcs-origin is \
                 'github.com/evil/fork'",
            ),
        ),
        (
            "another project",
            with(
                claims(),
                "oidc.circleci.com/project-id",
                json!("99999999-0000-4000-8000-000000000009"),
            ),
            vec![circleci("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; no publisher is registered for \
                 project_id '99999999-0000-4000-8000-000000000009' with issuer \
                 'https://oidc.circleci.com/org/b7c6d5e4-0000-4000-8000-000000000001'",
            ),
        ),
        (
            "the same project id under another organization's issuer",
            with(
                claims(),
                "iss",
                json!("https://oidc.circleci.com/org/99999999-0000-4000-8000-000000000009"),
            ),
            vec![circleci("a", |_| {})],
            refused(
                NoMatchKind::IssuerMismatch,
                "JWT issuer 'https://oidc.circleci.com/org/99999999-0000-4000-8000-000000000009' \
                 does not match expected issuer \
                 'https://oidc.circleci.com/org/b7c6d5e4-0000-4000-8000-000000000001'",
            ),
        ),
        (
            "sub of another project",
            with(
                claims(),
                "sub",
                json!(format!(
                    "org/{ORG}/project/99999999-0000-4000-8000-000000000009/user/x"
                )),
            ),
            vec![circleci("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'sub'; the publisher for project_id \
                 'c8d7e6f5-0000-4000-8000-000000000002' expects sub to start with \
                 'org/b7c6d5e4-0000-4000-8000-000000000001/project/c8d7e6f5-0000-4000-8000-000000000002/' \
                 but the token's sub is \
                 'org/b7c6d5e4-0000-4000-8000-000000000001/project/99999999-0000-4000-8000-000000000009/user/x'",
            ),
        ),
        (
            "missing project id",
            without(claims(), "oidc.circleci.com/project-id"),
            vec![circleci("a", |_| {})],
            refused(
                NoMatchKind::MissingClaim,
                "Missing claim 'oidc.circleci.com/project-id'",
            ),
        ),
        (
            "an issuer without an organization",
            with(claims(), "iss", json!("https://oidc.circleci.com/org/")),
            vec![circleci("a", |_| {})],
            refused(
                NoMatchKind::MalformedClaim,
                "The issuer 'https://oidc.circleci.com/org/' names no CircleCI organization \
                 (expected https://oidc.circleci.com/org/<organization_id>)",
            ),
        ),
    ];
    assert_match_table(Provider::CircleCI, rows);
}

#[test]
fn issuer_key_and_provenance() {
    let spec = PublisherSpec::CircleCI(spec());
    assert_eq!(spec.issuer(), ISS);
    assert_token_selects(Provider::CircleCI, ISS, &claims(), &spec);
    let stored = stored_claims_of(Provider::CircleCI, &claims(), &[circleci("a", |_| {})]);
    let get = |key: &str| stored.get(key).map(String::as_str);
    assert_eq!(get("organization_id"), Some(ORG));
    assert_eq!(get("project_id"), Some(PROJECT));
    assert_eq!(get("ref"), Some("refs/tags/v1.0.0"));
    assert_eq!(get("pipeline_definition_id"), Some(PIPELINE_DEFINITION));
    assert_eq!(
        get("publisher_url"),
        Some("https://github.com/octo-org/sampleproject")
    );
    assert_eq!(
        Provider::CircleCI
            .audience_placeholder_value("organization_id", &TokenClaims::new(ISS, &claims())),
        Some(ORG.to_owned())
    );
}
