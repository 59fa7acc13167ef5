//! GitHub matching tables: PyPI's behaviours (reference §7.2 item 37, §7.3 item 38,
//! §7.4 items 44–51) and the diagnostics for each differing field. Reusable workflows
//! are in `reusable_tests.rs`, candidate scoping (issuers, keys, pending) in
//! `scoping_tests.rs`.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, SHA, assert_environment_preference, assert_match_table, assert_missing_claims,
    assert_outcome, edited, github_claims, github_publisher, github_spec, matched, outcome,
    refused, run_match, with, without,
};
use crate::{GitHubPublisher, Match, NoMatch, NoMatchKind, Provider, Publisher, PublisherSpec};

pub(super) fn run(claims: &Map<String, Value>, candidates: &[Publisher]) -> Result<Match, NoMatch> {
    run_match(Provider::GitHub, claims, candidates)
}

/// A publisher `id` built from the default spec with `edit` applied.
pub(super) fn github(id: &str, edit: impl FnOnce(&mut GitHubPublisher)) -> Publisher {
    edited(id, github_spec(), PublisherSpec::GitHub, edit)
}

pub(super) const NOT_FOUND: &str = "Publisher with matching claims was not found";
pub(super) const OWN: &str = "octo-org/sampleproject/.github/workflows";
pub(super) const SHARED_JWR: &str =
    "shared-org/workflows/.github/workflows/publish.yml@refs/heads/main";
pub(super) const REUSABLE_HINT: &str = "the token comes from the reusable workflow \
    'shared-org/workflows/.github/workflows/publish.yml' called from 'octo-org/sampleproject', \
    and no publisher trusts it: set workflow_repository = 'shared-org/workflows' and \
    workflow_filename = 'publish.yml' on the publisher to trust it";

/// A token from `shared-org/workflows`' `publish.yml`, called by octo-org/sampleproject's
/// `release.yml` on tag v1.0.0.
pub(super) fn reusable_claims() -> Map<String, Value> {
    with(github_claims(), "job_workflow_ref", json!(SHARED_JWR))
}

/// Reference §7.3 item 38 and §7.2 item 37: environment preference.
#[test]
fn environment_preference_table() {
    let candidates = [
        github("a", |_| {}),
        github("b", |p| p.environment = "some_environment".into()),
    ];
    assert_environment_preference(
        Provider::GitHub,
        github_claims,
        &candidates,
        &[
            (None, &["a"]),
            (Some("some_other_environment"), &["a"]),
            (Some("some_environment"), &["b"]),
            (Some("sOmE_eNvIrOnMeNt"), &["b"]),
        ],
    );
}

/// Reference §7.4 item 50: every required claim, absent or null.
#[test]
fn missing_claim_table() {
    assert_missing_claims(
        Provider::GitHub,
        github_claims,
        &[github_publisher("a")],
        &[
            "repository",
            "repository_owner",
            "repository_owner_id",
            "job_workflow_ref",
            "jti",
            "event_name",
            "ref",
            "sha",
        ],
    );
    // PyPI reports the first missing claim in its order.
    let claims = without(without(github_claims(), "sha"), "repository_owner");
    assert_outcome(
        "two missing",
        outcome(run(&claims, &[])),
        refused(
            NoMatchKind::MissingClaim,
            "Missing claim 'repository_owner'",
        ),
    );
}

/// One row per case: (description, claims, candidates, outcome).
#[test]
fn matching_table() {
    let tag_ref = format!("{OWN}/release.yml@refs/tags/v1.0.0");
    let rows: Vec<MatchRow> = vec![
        (
            "full claims match an unconstrained publisher (§7.2 item 37)",
            with(github_claims(), "environment", json!("fake")),
            vec![github("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "job_workflow_ref at the sha",
            with(
                github_claims(),
                "job_workflow_ref",
                json!(format!("{OWN}/release.yml@{SHA}")),
            ),
            vec![github("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "empty ref, job_workflow_ref at the sha",
            with(
                with(github_claims(), "ref", json!("")),
                "job_workflow_ref",
                json!(format!("{OWN}/release.yml@{SHA}")),
            ),
            vec![github("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "owner and repository spelled differently in the config",
            github_claims(),
            vec![github("a", |p| {
                p.repository_owner = "Octo-Org".into();
                p.repository_name = "SampleProject".into();
            })],
            matched(&["a"]),
        ),
        (
            "no owner id configured",
            github_claims(),
            vec![github("a", |p| p.repository_owner_id.clear())],
            matched(&["a"]),
        ),
        (
            "workflow file not extractable (§7.4 item 44)",
            with(
                github_claims(),
                "job_workflow_ref",
                json!(format!("{OWN}/release@refs/tags/v1.0.0")),
            ),
            vec![github("a", |_| {})],
            refused(
                NoMatchKind::MalformedClaim,
                "Could not job extract workflow filename from OIDC claims",
            ),
        ),
        (
            "pull_request_target (§7.4 item 48)",
            with(github_claims(), "event_name", json!("pull_request_target")),
            vec![github("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "Publishing from a workflow invoked via 'pull_request_target' is not supported.",
            ),
        ),
        (
            "both ref and sha empty",
            with(with(github_claims(), "ref", json!("")), "sha", json!("")),
            vec![github("a", |_| {})],
            refused(NoMatchKind::CheckFailed, "The ref and sha claims are empty"),
        ),
        (
            "no publisher for the repository",
            github_claims(),
            vec![],
            refused(
                NoMatchKind::NotFound,
                "Publisher with matching claims was not found; no publisher is registered for \
                 repository 'octo-org/sampleproject' with issuer 'https://token.actions.githubusercontent.com'",
            ),
        ),
        (
            "workflow_filename differs",
            github_claims(),
            vec![github("a", |p| p.workflow_filename = "publish.yml".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     workflow_filename 'publish.yml' but the token's job_workflow_ref names 'release.yml'"
                ),
            ),
        ),
        (
            "workflow_filename differs only in case",
            github_claims(),
            vec![github("a", |p| p.workflow_filename = "Release.yml".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     workflow_filename 'Release.yml' but the token's job_workflow_ref names 'release.yml' \
                     (only the letter case differs: workflow file names are case-sensitive)"
                ),
            ),
        ),
        (
            "`_` and `%` are literal (§7.4 item 45)",
            github_claims(),
            vec![
                github("a", |p| p.workflow_filename = "release_yml.yml".into()),
                github("b", |p| p.workflow_filename = "release%.yml".into()),
                github("c", |p| p.workflow_filename = "release.yml".into()),
            ],
            matched(&["c"]),
        ),
        (
            "environment required, token has none",
            github_claims(),
            vec![github("a", |p| p.environment = "pypi".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     environment 'pypi' but the token has no environment"
                ),
            ),
        ),
        (
            "environment differs",
            with(github_claims(), "environment", json!("testpypi")),
            vec![github("a", |p| p.environment = "pypi".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     environment 'pypi' but the token's environment is 'testpypi'"
                ),
            ),
        ),
        (
            "owner id differs (resurrected account)",
            with(github_claims(), "repository_owner_id", json!("999")),
            vec![github("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     repository_owner_id '647025' but the token's repository_owner_id is '999' \
                     (account ids never change: another account now owns this name, or the configured id is wrong)"
                ),
            ),
        ),
        (
            "two fields differ",
            github_claims(),
            vec![github("a", |p| {
                p.workflow_filename = "publish.yml".into();
                p.environment = "pypi".into();
            })],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     workflow_filename 'publish.yml' but the token's job_workflow_ref names 'release.yml', \
                     and expects environment 'pypi' but the token has no environment"
                ),
            ),
        ),
        (
            "several publishers, each explained in a stable order",
            github_claims(),
            vec![
                github("b", |p| p.environment = "pypi".into()),
                github("a", |p| p.workflow_filename = "publish.yml".into()),
            ],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; 2 publishers for repository 'octo-org/sampleproject' did not match: \
                     #1 (publish.yml) expects workflow_filename 'publish.yml' but the token's \
                     job_workflow_ref names 'release.yml'; #2 (release.yml, environment pypi) expects \
                     environment 'pypi' but the token has no environment"
                ),
            ),
        ),
        (
            "same-repository reusable workflow called at another ref",
            with(
                with(
                    github_claims(),
                    "job_workflow_ref",
                    json!(format!("{OWN}/release.yml@refs/heads/main")),
                ),
                "workflow_ref",
                json!(format!("{OWN}/ci.yml@refs/tags/v1.0.0")),
            ),
            vec![github("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "The job_workflow_ref claim does not match, expecting one of ['{OWN}/release.yml@{SHA}', \
                     '{tag_ref}'], got '{OWN}/release.yml@refs/heads/main'; the publisher for repository \
                     'octo-org/sampleproject' expects the workflow at this run's ref 'refs/tags/v1.0.0' or \
                     sha '{SHA}', but the token's job_workflow_ref is at 'refs/heads/main' (a reusable \
                     workflow of the same repository must be called at the run's own ref: uses: \
                     ./.github/workflows/release.yml)"
                ),
            ),
        ),
        (
            "same-repository reusable workflow at the run's ref (PyPI's accidental support)",
            with(
                with(
                    github_claims(),
                    "job_workflow_ref",
                    json!(format!("{OWN}/publish.yml@refs/tags/v1.0.0")),
                ),
                "workflow_ref",
                json!(tag_ref.clone()),
            ),
            vec![github("a", |p| p.workflow_filename = "publish.yml".into())],
            matched(&["a"]),
        ),
    ];
    assert_match_table(Provider::GitHub, rows);
}
