//! Which publishers a GitHub token can reach at all: issuer isolation (enterprise
//! slugs, GHES), lookup keys, pending and expired publishers; and reason size.

use serde_json::json;

use super::tests::{OWN, github, run};
use crate::test_support::{
    NOW, assert_outcome, github_claims, github_publisher, github_spec, matched, outcome, project,
    refused, with,
};
use crate::{
    GITHUB_ISSUER_URL, GitHubPublisher, NoMatchKind, Provider, PublisherSpec, TokenClaims,
    lookup_key_for_claims,
};

/// GitHub Enterprise: a slug issuer or a GHES host is another issuer.
#[test]
fn enterprise_issuer_isolation() {
    const SLUG: &str = "https://token.actions.githubusercontent.com/octo-enterprise";
    const GHES: &str = "https://ghe.example.com/_services/token";
    let default = github_publisher("default");
    let slugged = github("slug", |p| p.issuer = SLUG.into());
    let ghes = github("ghes", |p| p.issuer = GHES.into());
    let token = |iss: &str| with(github_claims(), "iss", json!(iss));

    for (iss, candidates, expected) in [
        (SLUG, vec![slugged.clone()], matched(&["slug"])),
        (GHES, vec![ghes.clone()], matched(&["ghes"])),
        (
            GITHUB_ISSUER_URL,
            vec![default.clone()],
            matched(&["default"]),
        ),
        (
            SLUG,
            vec![default.clone()],
            refused(
                NoMatchKind::IssuerMismatch,
                &format!(
                    "JWT issuer '{SLUG}' does not match expected issuer '{GITHUB_ISSUER_URL}'"
                ),
            ),
        ),
        (
            GHES,
            vec![default.clone()],
            refused(
                NoMatchKind::IssuerMismatch,
                &format!(
                    "JWT issuer '{GHES}' does not match expected issuer '{GITHUB_ISSUER_URL}'"
                ),
            ),
        ),
        (
            GITHUB_ISSUER_URL,
            vec![slugged.clone(), ghes.clone()],
            refused(
                NoMatchKind::IssuerMismatch,
                &format!(
                    "JWT issuer '{GITHUB_ISSUER_URL}' does not match expected issuer '{GHES}'"
                ),
            ),
        ),
        // A trusting publisher makes foreign-issuer ones irrelevant (and unmentioned).
        (
            SLUG,
            vec![default.clone(), slugged.clone()],
            matched(&["slug"]),
        ),
    ] {
        let claims = token(iss);
        assert_outcome(iss, outcome(run(&claims, &candidates)), expected);
    }

    // Keys keep them apart before any check runs.
    let key = |iss: &str| {
        let claims = token(iss);
        lookup_key_for_claims(Provider::GitHub, &TokenClaims::new(iss, &claims))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(key(SLUG), slugged.spec.lookup_key());
    assert_eq!(key(GHES), ghes.spec.lookup_key());
    assert_eq!(key(GITHUB_ISSUER_URL), default.spec.lookup_key());
    assert_ne!(key(SLUG), default.spec.lookup_key());
    assert_ne!(key(GHES), default.spec.lookup_key());
}

/// lookup_key_for_claims agrees with the spec's key whatever the case of the names,
/// and a trailing `/` on either issuer does not matter.
#[test]
fn lookup_keys_agree_for_matching_pairs() {
    for (owner, name, repository_claim, issuer, iss) in [
        (
            "octo-org",
            "sampleproject",
            "octo-org/sampleproject",
            "",
            GITHUB_ISSUER_URL,
        ),
        (
            "Octo-Org",
            "SampleProject",
            "octo-org/sampleproject",
            "",
            GITHUB_ISSUER_URL,
        ),
        (
            "octo-org",
            "sampleproject",
            "OCTO-ORG/SampleProject",
            "",
            GITHUB_ISSUER_URL,
        ),
        (
            "octo-org",
            "sampleproject",
            "octo-org/sampleproject",
            "https://ghe.example.com/_services/token/",
            "https://ghe.example.com/_services/token",
        ),
        (
            "octo-org",
            "sampleproject",
            "octo-org/sampleproject",
            "",
            "https://token.actions.githubusercontent.com/",
        ),
    ] {
        let spec = PublisherSpec::GitHub(GitHubPublisher {
            repository_owner: owner.into(),
            repository_name: name.into(),
            issuer: issuer.into(),
            ..github_spec()
        });
        let claims = with(github_claims(), "repository", json!(repository_claim));
        let key = lookup_key_for_claims(Provider::GitHub, &TokenClaims::new(iss, &claims));
        assert_eq!(
            key,
            Ok(spec.lookup_key()),
            "{owner}/{name} vs {repository_claim}"
        );
    }
}

/// Pending and normal publishers together: normal first, expired pending ignored,
/// projects united.
#[test]
fn pending_and_normal_publishers() {
    let mut pending = github("0-pending", |_| {});
    pending.pending = true;
    pending.expires_at = Some(NOW + 60);
    pending.projects = vec![project("new-project")];
    let mut expired = github("1-expired", |_| {});
    expired.pending = true;
    expired.expires_at = Some(NOW);
    expired.projects = vec![project("stale-project")];
    let normal = github("9-normal", |_| {});

    let matched = run(
        &github_claims(),
        &[pending.clone(), expired.clone(), normal.clone()],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<&str> = matched.publishers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["9-normal", "0-pending"]);
    assert_eq!(matched.primary().id.as_str(), "9-normal");
    assert_eq!(
        matched.projects(),
        [project("new-project"), project("sampleproject")]
    );

    // An expired pending publisher alone is as good as none.
    assert_outcome(
        "only expired",
        outcome(run(&github_claims(), &[expired])),
        refused(
            NoMatchKind::NotFound,
            "Publisher with matching claims was not found; no publisher is registered for \
             repository 'octo-org/sampleproject' with issuer 'https://token.actions.githubusercontent.com'",
        ),
    );
}

/// Long claim values are cut before they are echoed.
#[test]
fn long_claims_are_truncated_in_reasons() {
    let long_ref = format!("refs/heads/{}", "x".repeat(500));
    let claims = with(
        with(github_claims(), "ref", json!(long_ref)),
        "job_workflow_ref",
        json!(format!("{OWN}/release.yml@refs/heads/main")),
    );
    let reason = run(&claims, &[github_publisher("a")])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        !reason.contains(&"x".repeat(crate::MAX_ECHOED_CHARS)),
        "{reason}"
    );
    assert!(reason.contains('…'), "{reason}");
    assert!(reason.len() < 2_000, "{}", reason.len());
}
