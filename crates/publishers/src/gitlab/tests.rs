//! GitLab matching tables: PyPI's behaviours (reference §7.3 items 39 and 42, §7.4
//! items 53–58), the #18797 fix, id pinning and diagnostics. Issuer isolation, keys and
//! provenance are in `scoping_tests.rs`.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, SHA, assert_environment_preference, assert_match_table, assert_missing_claims,
    edited, gitlab_claims, gitlab_publisher, gitlab_spec, matched, refused, run_match, with,
    without,
};
use crate::{
    GITLAB_ISSUER_URL, GitLabPublisher, Match, NoMatch, NoMatchKind, Provider, Publisher,
    PublisherSpec,
};

pub(super) const NOT_FOUND: &str = "Publisher with matching claims was not found";
pub(super) const CUSTOM: &str = "https://gitlab.custom-company.com";

pub(super) fn run(claims: &Map<String, Value>, candidates: &[Publisher]) -> Result<Match, NoMatch> {
    run_match(Provider::GitLab, claims, candidates)
}

pub(super) fn gitlab(id: &str, edit: impl FnOnce(&mut GitLabPublisher)) -> Publisher {
    edited(id, gitlab_spec(), PublisherSpec::GitLab, edit)
}

/// Claims of a pipeline of `project_path` on `issuer` (host derived from it).
pub(super) fn claims_for(issuer: &str, project_path: &str) -> Map<String, Value> {
    let host = issuer.trim_start_matches("https://");
    let claims = with(gitlab_claims(), "iss", json!(issuer));
    let claims = with(claims, "project_path", json!(project_path));
    let claims = with(
        claims,
        "sub",
        json!(format!(
            "project_path:{project_path}:ref_type:branch:ref:main"
        )),
    );
    with(
        claims,
        "ci_config_ref_uri",
        json!(format!(
            "{host}/{project_path}//.gitlab-ci.yml@refs/heads/main"
        )),
    )
}

/// Reference §7.3 item 39 and §7.4 item 57: environment preference, case-sensitive.
#[test]
fn environment_preference_table() {
    let candidates = [
        gitlab("a", |_| {}),
        gitlab("b", |p| p.environment = "some_environment".into()),
        gitlab("c", |p| p.environment = "SomeEnvironment".into()),
    ];
    assert_environment_preference(
        Provider::GitLab,
        gitlab_claims,
        &candidates,
        &[
            (None, &["a"]),
            (Some("some_other_environment"), &["a"]),
            (Some("some_environment"), &["b"]),
            (Some("sOmE_eNvIrOnMeNt"), &["a"]),
            (Some("SomeEnvironment"), &["c"]),
        ],
    );
}

/// Reference §3.3: every required claim, absent or null.
#[test]
fn missing_claim_table() {
    assert_missing_claims(
        Provider::GitLab,
        gitlab_claims,
        &[gitlab_publisher("a")],
        &[
            "sub",
            "project_path",
            "ci_config_ref_uri",
            "jti",
            "ref_path",
            "sha",
        ],
    );
}

/// One row per case: (description, claims, candidates, outcome).
#[test]
fn matching_table() {
    let uri = "gitlab.com/group/sampleproject//.gitlab-ci.yml";
    let rows: Vec<MatchRow> = vec![
        (
            "full claims",
            gitlab_claims(),
            vec![gitlab("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "custom issuer (§7.3 item 42)",
            claims_for(CUSTOM, "group/sampleproject"),
            vec![gitlab("a", |p| p.issuer = CUSTOM.into())],
            matched(&["a"]),
        ),
        (
            "subgroups: the project is after the last '/'",
            claims_for(GITLAB_ISSUER_URL, "group/sub/sampleproject"),
            vec![gitlab("a", |p| p.namespace = "group/sub".into())],
            matched(&["a"]),
        ),
        (
            "stored Foo/Bar, token foo/bar (§7.4 item 58)",
            claims_for(GITLAB_ISSUER_URL, "foo/bar"),
            vec![gitlab("a", |p| {
                p.namespace = "Foo".into();
                p.project = "Bar".into();
            })],
            matched(&["a"]),
        ),
        (
            "stored foo/bar, token Foo/Bar (§7.4 item 58)",
            claims_for(GITLAB_ISSUER_URL, "Foo/Bar"),
            vec![gitlab("a", |p| {
                p.namespace = "foo".into();
                p.project = "bar".into();
            })],
            matched(&["a"]),
        ),
        (
            "stored coBib/cobib, token cobib/cobib (#18797)",
            claims_for(GITLAB_ISSUER_URL, "cobib/cobib"),
            vec![gitlab("a", |p| {
                p.namespace = "coBib".into();
                p.project = "cobib".into();
            })],
            matched(&["a"]),
        ),
        (
            "ids pinned and equal",
            gitlab_claims(),
            vec![gitlab("a", |p| {
                p.namespace_id = "1234567".into();
                p.project_id = "12345678".into();
            })],
            matched(&["a"]),
        ),
        (
            "ids as JSON numbers in the token",
            with(
                with(gitlab_claims(), "namespace_id", json!(1234567)),
                "project_id",
                json!(12345678),
            ),
            vec![gitlab("a", |p| {
                p.namespace_id = "1234567".into();
                p.project_id = "12345678".into();
            })],
            matched(&["a"]),
        ),
        (
            "pipeline path not extractable",
            with(
                gitlab_claims(),
                "ci_config_ref_uri",
                json!("gitlab.com/group/sampleproject//ci/.yml@refs/heads/main"),
            ),
            vec![gitlab("a", |_| {})],
            refused(
                NoMatchKind::MalformedClaim,
                "Could not extract workflow filename from OIDC claims",
            ),
        ),
        (
            "namespace_id differs (resurrected namespace)",
            with(gitlab_claims(), "namespace_id", json!("7654321")),
            vec![gitlab("a", |p| p.namespace_id = "1234567".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'group/sampleproject' expects namespace_id \
                     '1234567' but the token's namespace_id is '7654321' (ids never change: this path now \
                     belongs to another namespace or project, or the configured id is wrong)"
                ),
            ),
        ),
        (
            "project_id differs",
            with(gitlab_claims(), "project_id", json!("99")),
            vec![gitlab("a", |p| p.project_id = "12345678".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'group/sampleproject' expects project_id \
                     '12345678' but the token's project_id is '99' (ids never change: this path now \
                     belongs to another namespace or project, or the configured id is wrong)"
                ),
            ),
        ),
        (
            "project_id pinned, token without one",
            without(gitlab_claims(), "project_id"),
            vec![gitlab("a", |p| p.project_id = "12345678".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'group/sampleproject' expects project_id \
                     '12345678' but the token has no project_id (ids never change: this path now \
                     belongs to another namespace or project, or the configured id is wrong)"
                ),
            ),
        ),
        (
            "environment differs only in case (§7.4 item 57)",
            with(gitlab_claims(), "environment", json!("SomeEnvironment")),
            vec![gitlab("a", |p| p.environment = "someenvironment".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'group/sampleproject' expects environment \
                     'someenvironment' but the token's environment is 'SomeEnvironment' (only the letter \
                     case differs: GitLab environments are case-sensitive)"
                ),
            ),
        ),
        (
            "environment required, token has none",
            gitlab_claims(),
            vec![gitlab("a", |p| p.environment = "pypi".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'group/sampleproject' expects environment \
                     'pypi' but the token has no environment"
                ),
            ),
        ),
        (
            "pipeline path differs",
            gitlab_claims(),
            vec![gitlab("a", |p| {
                p.workflow_filepath = "ci/release.yml".into()
            })],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for project 'group/sampleproject' expects workflow_filepath \
                     'ci/release.yml' but the token's ci_config_ref_uri names '.gitlab-ci.yml'"
                ),
            ),
        ),
        (
            "sub names another project",
            with(
                gitlab_claims(),
                "sub",
                json!("project_path:other/project:ref_type:branch:ref:main"),
            ),
            vec![gitlab("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'sub'",
            ),
        ),
        (
            "ci_config_ref_uri at another ref",
            with(
                gitlab_claims(),
                "ci_config_ref_uri",
                json!(format!("{uri}@refs/heads/other")),
            ),
            vec![gitlab("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "The ci_config_ref_uri claim does not match, expecting one of ['{uri}@{SHA}', \
                     '{uri}@refs/heads/main'], got '{uri}@refs/heads/other'"
                ),
            ),
        ),
        (
            "ref_path empty (GitLab needs both)",
            with(gitlab_claims(), "ref_path", json!("")),
            vec![gitlab("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "The ref_path and sha claims are empty",
            ),
        ),
        (
            "no publisher for the project",
            gitlab_claims(),
            vec![],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; no publisher is registered for project 'group/sampleproject' with \
                     issuer 'https://gitlab.com'"
                ),
            ),
        ),
        (
            "several publishers",
            with(gitlab_claims(), "environment", json!("staging")),
            vec![
                gitlab("b", |p| p.environment = "pypi".into()),
                gitlab("a", |p| {
                    p.workflow_filepath = "release.yml".into();
                    p.namespace_id = "1".into();
                }),
            ],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; 2 publishers for project 'group/sampleproject' did not match: #1 \
                     (release.yml, namespace_id 1) expects workflow_filepath 'release.yml' but the \
                     token's ci_config_ref_uri names '.gitlab-ci.yml', and expects namespace_id '1' but \
                     the token's namespace_id is '1234567' (ids never change: this path now belongs to \
                     another namespace or project, or the configured id is wrong); #2 (.gitlab-ci.yml, \
                     environment pypi) expects environment 'pypi' but the token's environment is 'staging'"
                ),
            ),
        ),
    ];
    assert_match_table(Provider::GitLab, rows);
}
