//! GitHub matching tables: PyPI's behaviours (reference §7.2 item 37, §7.3 item 38,
//! §7.4 items 44–51), reusable workflows, and the diagnostics for each differing field.

use serde_json::{Map, Value, json};

use crate::test_support::{
    MatchRow, NOW, SHA, assert_outcome, github_claims, github_publisher, github_spec, issuer_of,
    matched, outcome, project, publisher, refused, with, without,
};
use crate::{
    GITHUB_ISSUER_URL, GitHubPublisher, Match, NoMatch, NoMatchKind, Provider, Publisher,
    PublisherSpec, TokenClaims, find_match, lookup_key_for_claims,
};

fn run(claims: &Map<String, Value>, candidates: &[Publisher]) -> Result<Match, NoMatch> {
    find_match(
        Provider::GitHub,
        &TokenClaims::new(issuer_of(claims), claims),
        candidates,
        NOW,
    )
}

/// A publisher `id` built from the default spec with `edit` applied.
fn github(id: &str, edit: impl FnOnce(&mut GitHubPublisher)) -> Publisher {
    let mut spec = github_spec();
    edit(&mut spec);
    publisher(id, PublisherSpec::GitHub(spec))
}

const NOT_FOUND: &str = "Publisher with matching claims was not found";
const OWN: &str = "octo-org/sampleproject/.github/workflows";
const SHARED_JWR: &str = "shared-org/workflows/.github/workflows/publish.yml@refs/heads/main";
const REUSABLE_HINT: &str = "the token comes from the reusable workflow \
    'shared-org/workflows/.github/workflows/publish.yml' called from 'octo-org/sampleproject', \
    and no publisher trusts it: set workflow_repository = 'shared-org/workflows' and \
    workflow_filename = 'publish.yml' on the publisher to trust it";

/// A token from `shared-org/workflows`' `publish.yml`, called by octo-org/sampleproject's
/// `release.yml` on tag v1.0.0.
fn reusable_claims() -> Map<String, Value> {
    with(github_claims(), "job_workflow_ref", json!(SHARED_JWR))
}

/// Reference §7.3 item 38 and §7.2 item 37: environment preference.
#[test]
fn environment_preference_table() {
    let candidates = [
        github("a", |_| {}),
        github("b", |p| p.environment = "some_environment".into()),
    ];
    for (environment, expected) in [
        (None, &["a"][..]),
        (Some("some_other_environment"), &["a"]),
        (Some("some_environment"), &["b"]),
        (Some("sOmE_eNvIrOnMeNt"), &["b"]),
    ] {
        let claims = match environment {
            Some(env) => with(github_claims(), "environment", json!(env)),
            None => github_claims(),
        };
        assert_outcome(
            &format!("{environment:?}"),
            outcome(run(&claims, &candidates)),
            matched(expected),
        );
    }
}

/// Reference §7.4 item 50: every required claim, absent or null.
#[test]
fn missing_claim_table() {
    for name in [
        "repository",
        "repository_owner",
        "repository_owner_id",
        "job_workflow_ref",
        "jti",
        "event_name",
        "ref",
        "sha",
    ] {
        let expected = format!("Missing claim '{name}'");
        for claims in [
            without(github_claims(), name),
            with(github_claims(), name, Value::Null),
        ] {
            assert_outcome(
                name,
                outcome(run(&claims, &[github_publisher("a")])),
                refused(NoMatchKind::MissingClaim, &expected),
            );
            let key = lookup_key_for_claims(
                Provider::GitHub,
                &TokenClaims::new(GITHUB_ISSUER_URL, &claims),
            );
            assert_eq!(
                key.map_err(|e| e.to_string()),
                Err(expected.clone()),
                "{name}"
            );
        }
    }
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
    for (description, claims, candidates, expected) in rows {
        assert_outcome(description, outcome(run(&claims, &candidates)), expected);
    }
}

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
