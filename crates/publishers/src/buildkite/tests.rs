//! Buildkite matching tables: a real-shaped job token, each field wrong, tenant
//! isolation on the shared issuer.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, SHA, assert_match_table, edited, matched, object, refused, run_match,
    stored_claims_of, with, without,
};
use crate::{
    BUILDKITE_ISSUER_URL, BuildkitePublisher, Match, NoMatch, NoMatchKind, Provider, Publisher,
    PublisherSpec, TokenClaims, lookup_key_for_claims,
};

const ORG_ID: &str = "0a1b2c3d-0000-4000-8000-000000000001";
const PIPELINE_ID: &str = "0a1b2c3d-0000-4000-8000-000000000002";

fn run(claims: &Map<String, Value>, candidates: &[Publisher]) -> Result<Match, NoMatch> {
    run_match(Provider::Buildkite, claims, candidates)
}

fn spec() -> BuildkitePublisher {
    BuildkitePublisher {
        organization_slug: "acme-inc".into(),
        pipeline_slug: "sampleproject".into(),
        ..BuildkitePublisher::default()
    }
}

fn buildkite(id: &str, edit: impl FnOnce(&mut BuildkitePublisher)) -> Publisher {
    edited(id, spec(), PublisherSpec::Buildkite, edit)
}

/// A tag build's `publish` step, as `buildkite-agent oidc request-token --audience pypi
/// --claim organization_id,pipeline_id` returns it.
fn claims() -> Map<String, Value> {
    object(json!({
        "iss": BUILDKITE_ISSUER_URL,
        "aud": "pypi",
        "sub": format!("organization:acme-inc:pipeline:sampleproject:ref:refs/tags/v1.0.0:commit:{SHA}:step:publish"),
        "organization_slug": "acme-inc",
        "pipeline_slug": "sampleproject",
        "build_number": 1234,
        "build_branch": "main",
        "build_tag": "v1.0.0",
        "build_commit": SHA,
        "build_source": "webhook",
        "step_key": "publish",
        "job_id": "0184990a-477b-4fa8-9968-496074483cee",
        "agent_id": "0184990a-4782-42b5-afc1-16715b10b8ff",
        "runner_environment": "self-hosted",
        "organization_id": ORG_ID,
        "pipeline_id": PIPELINE_ID,
    }))
}

#[test]
fn matching_table() {
    let rows: Vec<MatchRow> = vec![
        (
            "real-shaped token",
            claims(),
            vec![buildkite("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "pinned ids, step and upper-case ids in config",
            claims(),
            vec![buildkite("a", |p| {
                p.organization_id = ORG_ID.to_uppercase();
                p.pipeline_id = PIPELINE_ID.into();
                p.step_key = "publish".into();
            })],
            matched(&["a"]),
        ),
        (
            "the step-pinned publisher wins over the unpinned one",
            claims(),
            vec![
                buildkite("a", |_| {}),
                buildkite("b", |p| p.step_key = "publish".into()),
            ],
            matched(&["b"]),
        ),
        (
            "ids pinned but not requested by the job: slugs decide",
            without(without(claims(), "organization_id"), "pipeline_id"),
            vec![buildkite("a", |p| p.organization_id = ORG_ID.into())],
            matched(&["a"]),
        ),
        (
            "another step",
            with(claims(), "step_key", json!("test")),
            vec![buildkite("a", |p| p.step_key = "publish".into())],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; the publisher for organization_slug \
                 'acme-inc' pipeline_slug 'sampleproject' expects step_key 'publish' but the token's \
                 step_key is 'test'",
            ),
        ),
        (
            "organization id of another organization (slug reused after a rename)",
            with(
                claims(),
                "organization_id",
                json!("9a1b2c3d-0000-4000-8000-000000000009"),
            ),
            vec![buildkite("a", |p| p.organization_id = ORG_ID.into())],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'organization_id'; the publisher for \
                 organization_slug 'acme-inc' pipeline_slug 'sampleproject' expects organization_id \
                 '0a1b2c3d-0000-4000-8000-000000000001' but the token's organization_id is \
                 '9a1b2c3d-0000-4000-8000-000000000009' (ids never change: the slug now names \
                 another organization or pipeline, or the configured id is wrong)",
            ),
        ),
        (
            "pipeline id differs",
            with(
                claims(),
                "pipeline_id",
                json!("9a1b2c3d-0000-4000-8000-000000000009"),
            ),
            vec![buildkite("a", |p| p.pipeline_id = PIPELINE_ID.into())],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'pipeline_id'; the publisher for organization_slug \
                 'acme-inc' pipeline_slug 'sampleproject' expects pipeline_id \
                 '0a1b2c3d-0000-4000-8000-000000000002' but the token's pipeline_id is \
                 '9a1b2c3d-0000-4000-8000-000000000009' (ids never change: the slug now names \
                 another organization or pipeline, or the configured id is wrong)",
            ),
        ),
        (
            "organization of another tenant never sees this publisher",
            with(
                with(claims(), "organization_slug", json!("evil-corp")),
                "sub",
                json!(format!(
                    "organization:evil-corp:pipeline:sampleproject:ref:refs/tags/v1.0.0:commit:{SHA}:step:publish"
                )),
            ),
            vec![buildkite("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; no publisher is registered for \
                 organization_slug 'evil-corp' pipeline_slug 'sampleproject' with issuer \
                 'https://agent.buildkite.com'",
            ),
        ),
        (
            "another pipeline",
            with(claims(), "pipeline_slug", json!("other")),
            vec![buildkite("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; no publisher is registered for \
                 organization_slug 'acme-inc' pipeline_slug 'other' with issuer \
                 'https://agent.buildkite.com'",
            ),
        ),
        (
            "sub naming another organization than the slug claim",
            with(
                claims(),
                "sub",
                json!(
                    "organization:evil-corp:pipeline:sampleproject:ref:refs/heads/main:commit:x:step:publish"
                ),
            ),
            vec![buildkite("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'sub'; the publisher for organization_slug \
                 'acme-inc' pipeline_slug 'sampleproject' expects sub to start with \
                 'organization:acme-inc:pipeline:sampleproject:' but the token's sub is \
                 'organization:evil-corp:pipeline:sampleproject:ref:refs/heads/main:commit:x:step:publish'",
            ),
        ),
        (
            "missing job_id",
            without(claims(), "job_id"),
            vec![buildkite("a", |_| {})],
            refused(NoMatchKind::MissingClaim, "Missing claim 'job_id'"),
        ),
        (
            "foreign issuer",
            with(claims(), "iss", json!("https://agent.example.com")),
            vec![buildkite("a", |_| {})],
            refused(
                NoMatchKind::IssuerMismatch,
                "JWT issuer 'https://agent.example.com' does not match expected issuer \
                 'https://agent.buildkite.com'",
            ),
        ),
    ];
    assert_match_table(Provider::Buildkite, rows);
}

/// The lookup key carries the organization: two organizations with a pipeline of the
/// same slug never share candidates.
#[test]
fn lookup_key_includes_the_organization() {
    let key = |organization: &str| {
        let claims = with(claims(), "organization_slug", json!(organization));
        lookup_key_for_claims(
            Provider::Buildkite,
            &TokenClaims::new(BUILDKITE_ISSUER_URL, &claims),
        )
    };
    assert_eq!(
        key("acme-inc"),
        Ok(PublisherSpec::Buildkite(spec()).lookup_key())
    );
    assert_ne!(key("acme-inc"), key("evil-corp"));
    assert_eq!(
        PublisherSpec::Buildkite(spec()).lookup_key().as_str(),
        r#"["buildkite","https://agent.buildkite.com","acme-inc","sampleproject"]"#
    );
}

#[test]
fn stored_claims_carry_provenance() {
    let stored = stored_claims_of(Provider::Buildkite, &claims(), &[buildkite("a", |_| {})]);
    let get = |key: &str| stored.get(key).map(String::as_str);
    assert_eq!(get("ref"), Some("refs/tags/v1.0.0"));
    assert_eq!(get("sha"), Some(SHA));
    assert_eq!(get("build_number"), Some("1234"));
    assert_eq!(get("job_id"), Some("0184990a-477b-4fa8-9968-496074483cee"));
    assert_eq!(get("runner_environment"), Some("self-hosted"));
    assert_eq!(
        get("publisher_url"),
        Some("https://buildkite.com/acme-inc/sampleproject/builds/1234")
    );
    let branch_build = without(claims(), "build_tag");
    let found = run(&branch_build, &[buildkite("a", |_| {})]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        found.stored_claims.get("ref").map(String::as_str),
        Some("refs/heads/main")
    );
}

/// The publisher policy reads Buildkite's ref (`refs/tags/<build_tag>`, else
/// `refs/heads/<build_branch>`) and runner environment.
#[test]
fn policy_reads_the_build_ref_and_runner() {
    let with_policy = |policy: crate::PublisherPolicy| {
        let mut publisher = buildkite("p1", |_| {});
        publisher.policy = policy;
        publisher
    };
    let tags_only = crate::PublisherPolicy {
        refs: vec!["refs/tags/v*".into()],
        ..crate::PublisherPolicy::default()
    };
    assert!(run(&claims(), &[with_policy(tags_only.clone())]).is_ok());
    let branch_build = without(
        with(claims(), "build_branch", json!("feature")),
        "build_tag",
    );
    let refused = run(&branch_build, &[with_policy(tags_only)]).expect_err("a branch build");
    assert!(
        refused
            .to_string()
            .contains("ref 'refs/heads/feature' matches none of refs/tags/v*"),
        "{refused}"
    );
    let hosted_only = crate::PublisherPolicy {
        allow_self_hosted_runners: false,
        ..crate::PublisherPolicy::default()
    };
    let refused = run(&claims(), &[with_policy(hosted_only.clone())]).expect_err("self-hosted");
    assert!(refused.to_string().contains("self-hosted"), "{refused}");
    let hosted = with(claims(), "runner_environment", json!("buildkite-hosted"));
    assert!(run(&hosted, &[with_policy(hosted_only)]).is_ok());
}
