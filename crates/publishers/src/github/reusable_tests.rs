//! Reusable GitHub workflows (PyPI #11096): `workflow_repository`, the
//! `reusable_workflow_used` flag, provenance, and the hint when nothing trusts one.

use serde_json::json;

use super::tests::{NOT_FOUND, OWN, REUSABLE_HINT, SHARED_JWR, github, reusable_claims, run};
use crate::test_support::{
    MatchRow, SHA, assert_outcome, github_claims, github_publisher, matched, outcome, refused,
    with, without,
};
use crate::{GITHUB_ISSUER_URL, NoMatchKind};

/// Reusable workflows from another repository (PyPI #11096), with and without
/// `workflow_repository`.
#[test]
fn reusable_workflow_table() {
    let shared = |id: &'static str, repository: &'static str| {
        github(id, move |p| {
            p.workflow_filename = "publish.yml".into();
            p.workflow_repository = repository.into();
        })
    };
    let rows: Vec<MatchRow> = vec![
        (
            "trusted via workflow_repository",
            reusable_claims(),
            vec![shared("a", "shared-org/workflows")],
            matched(&["a"]),
        ),
        (
            "trusted via workflow_repository, case-insensitive",
            reusable_claims(),
            vec![shared("a", "Shared-Org/Workflows")],
            matched(&["a"]),
        ),
        (
            "caller's workflow configured, as on PyPI",
            reusable_claims(),
            vec![github("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     workflow_filename 'release.yml' but the token's job_workflow_ref names 'publish.yml'; \
                     {REUSABLE_HINT}"
                ),
            ),
        ),
        (
            "called workflow configured without workflow_repository (PyPI fails the same way)",
            reusable_claims(),
            vec![github("a", |p| p.workflow_filename = "publish.yml".into())],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "The job_workflow_ref claim does not match, expecting one of ['{OWN}/publish.yml@{SHA}', \
                     '{OWN}/publish.yml@refs/tags/v1.0.0'], got '{SHARED_JWR}'; the publisher for repository \
                     'octo-org/sampleproject' trusts only workflows of the repository itself, but the \
                     token's job_workflow_ref is a reusable workflow from 'shared-org/workflows'; {REUSABLE_HINT}"
                ),
            ),
        ),
        (
            "no publisher at all",
            reusable_claims(),
            vec![],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; no publisher is registered for repository 'octo-org/sampleproject' \
                     with issuer 'https://token.actions.githubusercontent.com'; {REUSABLE_HINT}"
                ),
            ),
        ),
        (
            "another workflow repository trusted",
            reusable_claims(),
            vec![shared("a", "other-org/workflows")],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "The job_workflow_ref claim does not match, expecting the reusable workflow \
                     'other-org/workflows/.github/workflows/publish.yml' at any ref, got '{SHARED_JWR}'; \
                     {REUSABLE_HINT}"
                ),
            ),
        ),
        (
            "workflow_repository set, token from the repository's own workflow",
            with(
                github_claims(),
                "job_workflow_ref",
                json!(format!("{OWN}/publish.yml@refs/tags/v1.0.0")),
            ),
            vec![shared("a", "shared-org/workflows")],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "The job_workflow_ref claim does not match, expecting the reusable workflow \
                     'shared-org/workflows/.github/workflows/publish.yml' at any ref, got \
                     '{OWN}/publish.yml@refs/tags/v1.0.0'"
                ),
            ),
        ),
        (
            "a shared-workflow publisher of another repository is not a candidate",
            with(
                with(reusable_claims(), "repository", json!("evil-org/app")),
                "repository_owner",
                json!("evil-org"),
            ),
            vec![shared("a", "shared-org/workflows")],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; no publisher is registered for repository 'evil-org/app' with issuer \
                     'https://token.actions.githubusercontent.com'; the token comes from the reusable \
                     workflow 'shared-org/workflows/.github/workflows/publish.yml' called from \
                     'evil-org/app', and no publisher trusts it: set workflow_repository = \
                     'shared-org/workflows' and workflow_filename = 'publish.yml' on the publisher to trust it"
                ),
            ),
        ),
    ];
    for (description, claims, candidates, expected) in rows {
        assert_outcome(description, outcome(run(&claims, &candidates)), expected);
    }
}

#[test]
fn reusable_flag_and_stored_claims() {
    let publisher = github("a", |p| {
        p.workflow_filename = "publish.yml".into();
        p.workflow_repository = "shared-org/workflows".into();
    });
    let claims = with(reusable_claims(), "environment", json!("pypi"));
    let matched = run(&claims, &[publisher]).unwrap_or_else(|e| panic!("{e}"));
    assert!(matched.reusable_workflow_used);
    let expected: Vec<(&str, String)> = vec![
        ("environment", "pypi".into()),
        ("event_name", "release".into()),
        ("issuer", GITHUB_ISSUER_URL.into()),
        ("job_workflow_ref", SHARED_JWR.into()),
        (
            "publisher_url",
            format!("https://github.com/octo-org/sampleproject/commit/{SHA}"),
        ),
        ("ref", "refs/tags/v1.0.0".into()),
        ("repository", "octo-org/sampleproject".into()),
        ("repository_owner", "octo-org".into()),
        ("repository_owner_id", "647025".into()),
        ("run_attempt", "1".into()),
        ("run_id", "5678".into()),
        ("sha", SHA.into()),
        (
            "subject",
            "repo:octo-org/sampleproject:ref:refs/tags/v1.0.0".into(),
        ),
        ("workflow", "publish.yml".into()),
        (
            "workflow_ref",
            format!("{OWN}/release.yml@refs/tags/v1.0.0"),
        ),
    ];
    let expected = expected
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(matched.stored_claims, expected);

    let direct = run(&github_claims(), &[github_publisher("a")]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!direct.reusable_workflow_used);
    let no_workflow_ref = without(github_claims(), "workflow_ref");
    let direct = run(&no_workflow_ref, &[github_publisher("a")]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!direct.reusable_workflow_used);
    assert!(!direct.stored_claims.contains_key("workflow_ref"));
}
