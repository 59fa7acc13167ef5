//! Fixtures for the rule tables: publishers and full claim sets per provider, each
//! matching the others by default, so a test states only what it changes.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::validation::ValidationError;
use crate::{
    ActiveStatePublisher, GitHubPublisher, GitLabPublisher, GooglePublisher, Match, NoMatch,
    Origin, ProjectName, Provider, Publisher, PublisherId, PublisherSpec, TokenClaims, find_match,
    lookup_key_for_claims,
};

pub(crate) const SHA: &str = "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4";
pub(crate) const NOW: i64 = 1_700_000_000;

/// A normal publisher with id `id` for project `sampleproject`.
pub(crate) fn publisher(id: &str, spec: PublisherSpec) -> Publisher {
    Publisher {
        id: PublisherId::from_raw(id),
        projects: vec![project("sampleproject")],
        pending: false,
        spec,
        policy: Default::default(),
        origin: Origin::Api,
        created_at: 0,
        expires_at: None,
        ecosystem: Default::default(),
    }
}

/// A publisher with id `id` whose spec is `spec` after `edit`, wrapped by `wrap`
/// (`PublisherSpec::Bitbucket`, …): the per-platform `bitbucket("a", |p| …)` fixtures.
pub(crate) fn edited<T>(
    id: &str,
    mut spec: T,
    wrap: fn(T) -> PublisherSpec,
    edit: impl FnOnce(&mut T),
) -> Publisher {
    edit(&mut spec);
    publisher(id, wrap(spec))
}

pub(crate) fn project(name: &str) -> ProjectName {
    ProjectName::parse(name).unwrap_or_else(|e| panic!("{e}"))
}

/// `octo-org/sampleproject`, owner id 647025, `release.yml`, any environment.
pub(crate) fn github_spec() -> GitHubPublisher {
    GitHubPublisher {
        repository_owner: "octo-org".into(),
        repository_owner_id: "647025".into(),
        repository_name: "sampleproject".into(),
        workflow_filename: "release.yml".into(),
        ..GitHubPublisher::default()
    }
}

pub(crate) fn github_publisher(id: &str) -> Publisher {
    publisher(id, PublisherSpec::GitHub(github_spec()))
}

/// A release run of `octo-org/sampleproject`'s `release.yml` at tag v1.0.0, no environment.
pub(crate) fn github_claims() -> Map<String, Value> {
    object(json!({
        "iss": crate::GITHUB_ISSUER_URL,
        "aud": "pypi",
        "jti": "0f6c1f4e-7d1a-4c55-9f5e-2f3e4a5b6c7d",
        "sub": "repo:octo-org/sampleproject:ref:refs/tags/v1.0.0",
        "repository": "octo-org/sampleproject",
        "repository_owner": "octo-org",
        "repository_owner_id": "647025",
        "repository_id": "1296269",
        "job_workflow_ref": "octo-org/sampleproject/.github/workflows/release.yml@refs/tags/v1.0.0",
        "workflow_ref": "octo-org/sampleproject/.github/workflows/release.yml@refs/tags/v1.0.0",
        "workflow": "Release",
        "ref": "refs/tags/v1.0.0",
        "sha": SHA,
        "event_name": "release",
        "run_id": "5678",
        "run_attempt": "1",
    }))
}

/// `group/sampleproject`, `.gitlab-ci.yml`, on gitlab.com.
pub(crate) fn gitlab_spec() -> GitLabPublisher {
    GitLabPublisher {
        namespace: "group".into(),
        project: "sampleproject".into(),
        workflow_filepath: ".gitlab-ci.yml".into(),
        ..GitLabPublisher::default()
    }
}

pub(crate) fn gitlab_publisher(id: &str) -> Publisher {
    publisher(id, PublisherSpec::GitLab(gitlab_spec()))
}

/// A pipeline of `group/sampleproject` on gitlab.com, branch main, no environment.
pub(crate) fn gitlab_claims() -> Map<String, Value> {
    object(json!({
        "iss": crate::GITLAB_ISSUER_URL,
        "aud": "pypi",
        "jti": "2b6d8a4c-1e3f-4a5b-8c7d-9e0f1a2b3c4d",
        "sub": "project_path:group/sampleproject:ref_type:branch:ref:main",
        "project_path": "group/sampleproject",
        "namespace_id": "1234567",
        "namespace_path": "group",
        "project_id": "12345678",
        "ci_config_ref_uri": "gitlab.com/group/sampleproject//.gitlab-ci.yml@refs/heads/main",
        "ci_config_sha": SHA,
        "ref_path": "refs/heads/main",
        "ref": "main",
        "sha": SHA,
        "pipeline_id": "987",
        "job_id": "654",
    }))
}

pub(crate) fn google_spec() -> GooglePublisher {
    GooglePublisher {
        email: "publisher@my-project.iam.gserviceaccount.com".into(),
        sub: String::new(),
    }
}

pub(crate) fn google_claims() -> Map<String, Value> {
    object(json!({
        "iss": crate::GOOGLE_ISSUER_URL,
        "aud": "pypi",
        "email": "publisher@my-project.iam.gserviceaccount.com",
        "email_verified": true,
        "sub": "112233445566778899000",
        "azp": "112233445566778899000",
    }))
}

pub(crate) fn activestate_spec() -> ActiveStatePublisher {
    ActiveStatePublisher {
        organization: "fakeorg".into(),
        project: "fakeproject".into(),
        actor: "fakeactor".into(),
        actor_id: "6f4b6f6e-0000-4000-8000-000000000001".into(),
    }
}

pub(crate) fn activestate_claims() -> Map<String, Value> {
    object(json!({
        "iss": crate::ACTIVESTATE_ISSUER_URL,
        "aud": "pypi",
        "sub": "org:fakeorg:project:fakeproject",
        "organization": "fakeorg",
        "project": "fakeproject",
        "actor": "fakeactor",
        "actor_id": "6f4b6f6e-0000-4000-8000-000000000001",
        "builder": "pypi-publisher",
        "organization_id": "o-1",
        "project_id": "p-1",
    }))
}

/// `claims` with `name` set to `value` (`Value::Null` removes nothing: it sets null).
pub(crate) fn with(mut claims: Map<String, Value>, name: &str, value: Value) -> Map<String, Value> {
    claims.insert(name.to_owned(), value);
    claims
}

/// `claims` without `name`.
pub(crate) fn without(mut claims: Map<String, Value>, name: &str) -> Map<String, Value> {
    claims.remove(name);
    claims
}

/// The `iss` of a claim set.
pub(crate) fn issuer_of(claims: &Map<String, Value>) -> &str {
    claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The object a `json!({...})` literal builds (an empty map for anything else).
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What a table row expects: the ids of the matched publishers, in order, or the exact
/// refusal.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Matched(Vec<String>),
    Refused(crate::NoMatchKind, String),
}

pub(crate) fn matched(ids: &[&str]) -> Outcome {
    Outcome::Matched(ids.iter().map(|id| (*id).to_owned()).collect())
}

pub(crate) fn refused(kind: crate::NoMatchKind, reason: &str) -> Outcome {
    Outcome::Refused(kind, reason.to_owned())
}

pub(crate) fn outcome(result: Result<crate::Match, crate::NoMatch>) -> Outcome {
    match result {
        Ok(found) => Outcome::Matched(found.publishers.iter().map(|p| p.id.to_string()).collect()),
        Err(no_match) => Outcome::Refused(no_match.kind(), no_match.reason().to_owned()),
    }
}

#[track_caller]
pub(crate) fn assert_outcome(description: &str, actual: Outcome, expected: Outcome) {
    assert!(
        actual == expected,
        "{description}:\n  actual:   {actual:?}\n  expected: {expected:?}"
    );
}

/// A matching-table row: (description, claims, candidates, outcome).
pub(crate) type MatchRow = (&'static str, Map<String, Value>, Vec<Publisher>, Outcome);

/// A validation-table row: (description, edit of a valid publisher, expected field and
/// message or `None` for valid).
pub(crate) type ValidationRow<T> = (
    &'static str,
    fn(&mut T),
    Option<(&'static str, &'static str)>,
);

/// A reference-claim row: (claim, ref, sha, outcome).
pub(crate) type RefClaimRow = (
    String,
    Option<&'static str>,
    Option<&'static str>,
    Result<(), String>,
);

/// `find_match` for `provider` at [`NOW`], the token verified under its own `iss`.
pub(crate) fn run_match(
    provider: Provider,
    claims: &Map<String, Value>,
    candidates: &[Publisher],
) -> Result<Match, NoMatch> {
    find_match(
        provider,
        &TokenClaims::new(issuer_of(claims), claims),
        candidates,
        NOW,
    )
}

/// Checks every row of a matching table against `provider`.
#[track_caller]
pub(crate) fn assert_match_table(provider: Provider, rows: Vec<MatchRow>) {
    for (description, claims, candidates, expected) in rows {
        assert_outcome(
            description,
            outcome(run_match(provider, &claims, &candidates)),
            expected,
        );
    }
}

/// The provenance stored for the match of `claims` against `candidates`; panics on a
/// refusal.
#[track_caller]
pub(crate) fn stored_claims_of(
    provider: Provider,
    claims: &Map<String, Value>,
    candidates: &[Publisher],
) -> BTreeMap<String, String> {
    run_match(provider, claims, candidates)
        .unwrap_or_else(|e| panic!("{e}"))
        .stored_claims
}

/// `pairs` as a stored-claims map.
pub(crate) fn claim_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The key the token selects under `issuer` is the publisher's own.
#[track_caller]
pub(crate) fn assert_token_selects(
    provider: Provider,
    issuer: &str,
    claims: &Map<String, Value>,
    spec: &PublisherSpec,
) {
    assert_eq!(
        lookup_key_for_claims(provider, &TokenClaims::new(issuer, claims)),
        Ok(spec.lookup_key())
    );
}

/// Checks every row of a validation table: each edit of `valid` is validated and must
/// fail with exactly the row's field and message (or pass, for `None`).
#[track_caller]
pub(crate) fn assert_validation_table<T: Clone>(
    valid: T,
    validate: fn(&T) -> Result<(), ValidationError>,
    rows: Vec<ValidationRow<T>>,
) {
    for (description, edit, expected) in rows {
        let mut p = valid.clone();
        edit(&mut p);
        let expected = expected.map(|(field, message)| ValidationError::new(field, message));
        assert_eq!(validate(&p).err(), expected, "{description}");
    }
}

/// PyPI's refusal of a `claim` (`job_workflow_ref`, `ci_config_ref_uri`) that names
/// `<base>` at neither `notrailingslash` nor `somesha`, the ref and sha of the reference
/// tables.
pub(crate) fn ref_mismatch(claim: &str, base: &str, got: &str) -> Result<(), String> {
    Err(format!(
        "The {claim} claim does not match, expecting one of \
         ['{base}@notrailingslash', '{base}@somesha'], got '{got}'"
    ))
}

/// The malformed-ref rows PyPI's GitHub and GitLab reference tables share: `<base>`
/// followed by a second `@…`, an empty ref, or `@@`, each refused by [`ref_mismatch`].
pub(crate) fn malformed_ref_rows(claim: &str, base: &str) -> Vec<RefClaimRow> {
    [
        format!("{base}@fake.yml@notrailingslash"),
        format!("{base}@"),
        format!("{base}@@"),
    ]
    .into_iter()
    .map(|got| {
        let expected = ref_mismatch(claim, base, &got);
        (got, Some("notrailingslash"), Some("somesha"), expected)
    })
    .collect()
}

/// A claim check table: each (configured, claim, passes) row passes, or fails with
/// exactly `failure` (PyPI's `Check failed for required claim '<claim>'`, …).
#[track_caller]
pub(crate) fn assert_check_table(
    failure: &str,
    check: fn(&str, Option<&str>) -> Result<(), String>,
    rows: &[(&str, Option<&str>, bool)],
) {
    for &(configured, value, ok) in rows {
        let expected = if ok { Ok(()) } else { Err(failure.to_owned()) };
        assert_eq!(check(configured, value), expected, "{configured} {value:?}");
    }
}

/// An environment-preference table: for each (environment claim or none, expected ids)
/// row, `claims` with that environment must match exactly those of `candidates`.
#[track_caller]
pub(crate) fn assert_environment_preference(
    provider: Provider,
    claims: fn() -> Map<String, Value>,
    candidates: &[Publisher],
    rows: &[(Option<&str>, &[&str])],
) {
    for &(environment, expected) in rows {
        let claims = match environment {
            Some(env) => with(claims(), "environment", json!(env)),
            None => claims(),
        };
        assert_outcome(
            &format!("{environment:?}"),
            outcome(run_match(provider, &claims, candidates)),
            matched(expected),
        );
    }
}

/// Each of `names`, absent or `null`, refuses the token with PyPI's `Missing claim
/// '<name>'`, both when matching `candidates` and when choosing the lookup key.
#[track_caller]
pub(crate) fn assert_missing_claims(
    provider: Provider,
    claims: fn() -> Map<String, Value>,
    candidates: &[Publisher],
    names: &[&str],
) {
    for &name in names {
        let expected = format!("Missing claim '{name}'");
        for claims in [without(claims(), name), with(claims(), name, Value::Null)] {
            assert_outcome(
                name,
                outcome(run_match(provider, &claims, candidates)),
                refused(crate::NoMatchKind::MissingClaim, &expected),
            );
            let key =
                lookup_key_for_claims(provider, &TokenClaims::new(issuer_of(&claims), &claims));
            assert_eq!(
                key.map_err(|e| e.to_string()),
                Err(expected.clone()),
                "{name}"
            );
        }
    }
}
