//! Forgejo matching tables: a real-shaped Codeberg token, each field wrong, the refused
//! triggers, instance isolation.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, SHA, assert_match_table, assert_token_selects, edited, matched, object, refused,
    stored_claims_of, with, without,
};
use crate::{
    CODEBERG_ISSUER_URL, ForgejoPublisher, NoMatchKind, Provider, Publisher, PublisherSpec,
};

const NOT_FOUND: &str = "Publisher with matching claims was not found";
const REFUSED: &str = "Forgejo Actions runs triggered by 'pull_request_target', or by \
     'pull_request' from another repository, may not publish";

fn spec() -> ForgejoPublisher {
    ForgejoPublisher {
        repository_owner: "octo-org".into(),
        repository_owner_id: "1234".into(),
        repository_name: "sampleproject".into(),
        workflow_filename: "release.yml".into(),
        issuer: CODEBERG_ISSUER_URL.into(),
        ..ForgejoPublisher::default()
    }
}

fn forgejo(id: &str, edit: impl FnOnce(&mut ForgejoPublisher)) -> Publisher {
    edited(id, spec(), PublisherSpec::Forgejo, edit)
}

/// A tag push run of `.forgejo/workflows/release.yml` on Codeberg, environment `pypi`.
fn claims() -> Map<String, Value> {
    object(json!({
        "iss": CODEBERG_ISSUER_URL,
        "aud": "pypi",
        "sub": "repo:octo-org-1234/sampleproject-5678:ref:refs/tags/v1.0.0",
        "repository": "octo-org/sampleproject",
        "repository_owner": "octo-org",
        "repository_owner_id": "1234",
        "repository_id": "5678",
        "actor": "octocat",
        "actor_id": "42",
        "workflow": "release.yml",
        "workflow_ref": "octo-org/sampleproject/.forgejo/workflows/release.yml@refs/tags/v1.0.0",
        "ref": "refs/tags/v1.0.0",
        "ref_type": "tag",
        "sha": SHA,
        "event_name": "push",
        "environment": "pypi",
        "run_id": "301",
        "run_number": "12",
        "run_attempt": "1",
    }))
}

fn pull_request(head: Option<&str>) -> Map<String, Value> {
    let claims = with(claims(), "event_name", json!("pull_request"));
    match head {
        Some(head) => with(claims, "head_repository", json!(head)),
        None => claims,
    }
}

#[test]
fn matching_table() {
    let rows: Vec<MatchRow> = vec![
        (
            "real-shaped token",
            claims(),
            vec![forgejo("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "owner and repository in another case, environment pinned",
            claims(),
            vec![forgejo("a", |p| {
                p.repository_owner = "Octo-Org".into();
                p.repository_name = "SampleProject".into();
                p.environment = "PyPI".into();
            })],
            matched(&["a"]),
        ),
        (
            "an instance without owner ids: the name decides",
            without(claims(), "repository_owner_id"),
            vec![forgejo("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "job_workflow_ref wins over workflow_ref",
            with(
                claims(),
                "job_workflow_ref",
                json!("octo-org/sampleproject/.gitea/workflows/release.yml@refs/tags/v1.0.0"),
            ),
            vec![forgejo("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "a pull request from the repository itself",
            pull_request(Some("octo-org/sampleproject")),
            vec![forgejo("a", |_| {})],
            matched(&["a"]),
        ),
        (
            "pull_request_target",
            with(claims(), "event_name", json!("pull_request_target")),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "{REFUSED}; the publisher for repository 'octo-org/sampleproject' refuses runs \
                     triggered by 'pull_request_target' from 'an unnamed head repository'"
                ),
            ),
        ),
        (
            "a pull request from a fork",
            pull_request(Some("evil/sampleproject")),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "{REFUSED}; the publisher for repository 'octo-org/sampleproject' refuses runs \
                     triggered by 'pull_request' from 'evil/sampleproject'"
                ),
            ),
        ),
        (
            "a pull request that does not say where its head is",
            pull_request(None),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                &format!(
                    "{REFUSED}; the publisher for repository 'octo-org/sampleproject' refuses runs \
                     triggered by 'pull_request' from 'an unnamed head repository'"
                ),
            ),
        ),
        (
            "owner id of another account",
            with(claims(), "repository_owner_id", json!("9999")),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     repository_owner_id '1234' but the token's repository_owner_id is '9999' \
                     (account ids never change: another account now owns this name, or the \
                     configured id is wrong)"
                ),
            ),
        ),
        (
            "another workflow",
            with(
                claims(),
                "workflow_ref",
                json!("octo-org/sampleproject/.forgejo/workflows/ci.yml@refs/heads/main"),
            ),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     workflow_filename 'release.yml' but the token's workflow_ref names 'ci.yml'"
                ),
            ),
        ),
        (
            "another environment",
            with(claims(), "environment", json!("test")),
            vec![forgejo("a", |p| p.environment = "pypi".into())],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; the publisher for repository 'octo-org/sampleproject' expects \
                     environment 'pypi' but the token's environment is 'test'"
                ),
            ),
        ),
        (
            "owner claim disagreeing with the repository",
            with(claims(), "repository_owner", json!("evil")),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::CheckFailed,
                "Check failed for required claim 'repository_owner'",
            ),
        ),
        (
            "another repository",
            with(claims(), "repository", json!("octo-org/other")),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::NotFound,
                &format!(
                    "{NOT_FOUND}; no publisher is registered for repository 'octo-org/other' with \
                     issuer 'https://codeberg.org/api/actions'"
                ),
            ),
        ),
        (
            "the same repository on another instance",
            with(
                claims(),
                "iss",
                json!("https://git.example.org/api/actions"),
            ),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::IssuerMismatch,
                "JWT issuer 'https://git.example.org/api/actions' does not match expected issuer \
                 'https://codeberg.org/api/actions'",
            ),
        ),
        (
            "no workflow reference",
            without(claims(), "workflow_ref"),
            vec![forgejo("a", |_| {})],
            refused(
                NoMatchKind::MalformedClaim,
                "Could not extract workflow filename from the token's workflow_ref or job_workflow_ref",
            ),
        ),
        (
            "missing sha",
            without(claims(), "sha"),
            vec![forgejo("a", |_| {})],
            refused(NoMatchKind::MissingClaim, "Missing claim 'sha'"),
        ),
    ];
    assert_match_table(Provider::Forgejo, rows);
}

#[test]
fn key_and_provenance() {
    let spec = PublisherSpec::Forgejo(spec());
    assert_eq!(spec.issuer(), CODEBERG_ISSUER_URL);
    assert_token_selects(Provider::Forgejo, CODEBERG_ISSUER_URL, &claims(), &spec);
    let stored = stored_claims_of(Provider::Forgejo, &claims(), &[forgejo("a", |_| {})]);
    let get = |key: &str| stored.get(key).map(String::as_str);
    assert_eq!(get("workflow"), Some("release.yml"));
    assert_eq!(get("ref"), Some("refs/tags/v1.0.0"));
    assert_eq!(get("run_id"), Some("301"));
    assert_eq!(
        get("publisher_url"),
        Some(format!("https://codeberg.org/octo-org/sampleproject/commit/{SHA}").as_str())
    );
}
