//! Which publishers a GitLab token can reach at all (issuer isolation between
//! gitlab.com, self-managed instances and other providers), lookup keys, provenance.

use serde_json::{Map, Value, json};

use super::tests::{CUSTOM, NOT_FOUND, claims_for, gitlab, run};
use crate::test_support::{
    NOW, SHA, assert_outcome, github_claims, github_publisher, gitlab_claims, gitlab_publisher,
    gitlab_spec, issuer_of, matched, outcome, refused, with,
};
use crate::{
    GITHUB_ISSUER_URL, GITLAB_ISSUER_URL, GitLabPublisher, NoMatchKind, Provider, PublisherSpec,
    TokenClaims, find_match, lookup_key_for_claims,
};

/// A publisher trusts one issuer: gitlab.com and a self-managed instance with the same
/// path are different publishers; a GitHub publisher never sees a GitLab token.
#[test]
fn issuer_isolation() {
    let on_gitlab_com = gitlab_publisher("com");
    let self_managed = gitlab("custom", |p| p.issuer = CUSTOM.into());
    let custom_token = claims_for(CUSTOM, "group/sampleproject");

    assert_outcome(
        "self-managed token, gitlab.com publisher",
        outcome(run(&custom_token, std::slice::from_ref(&on_gitlab_com))),
        refused(
            NoMatchKind::IssuerMismatch,
            &format!("JWT issuer '{CUSTOM}' does not match expected issuer 'https://gitlab.com'"),
        ),
    );
    assert_outcome(
        "gitlab.com token, self-managed publisher",
        outcome(run(&gitlab_claims(), std::slice::from_ref(&self_managed))),
        refused(
            NoMatchKind::IssuerMismatch,
            &format!("JWT issuer 'https://gitlab.com' does not match expected issuer '{CUSTOM}'"),
        ),
    );
    assert_outcome(
        "self-managed token, both publishers",
        outcome(run(
            &custom_token,
            &[on_gitlab_com.clone(), self_managed.clone()],
        )),
        matched(&["custom"]),
    );
    let key = |claims: &Map<String, Value>| {
        lookup_key_for_claims(
            Provider::GitLab,
            &TokenClaims::new(issuer_of(claims), claims),
        )
    };
    assert_eq!(key(&custom_token), Ok(self_managed.spec.lookup_key()));
    assert_ne!(key(&custom_token), Ok(on_gitlab_com.spec.lookup_key()));

    // A GitHub publisher among GitLab candidates is not a candidate at all.
    assert_outcome(
        "GitLab token, GitHub publisher",
        outcome(run(&gitlab_claims(), &[github_publisher("gh")])),
        refused(
            NoMatchKind::NotFound,
            &format!(
                "{NOT_FOUND}; no publisher is registered for project 'group/sampleproject' with issuer \
                 'https://gitlab.com'"
            ),
        ),
    );
    // A GitLab-issued token routed as GitHub (a misconfigured `kind`) cannot use a
    // github.com publisher (TOB-PYPI26-12).
    let forged = with(github_claims(), "iss", json!(GITLAB_ISSUER_URL));
    let result = find_match(
        Provider::GitHub,
        &TokenClaims::new(GITLAB_ISSUER_URL, &forged),
        &[github_publisher("gh")],
        NOW,
    );
    assert_outcome(
        "GitLab issuer, GitHub publisher",
        outcome(result),
        refused(
            NoMatchKind::IssuerMismatch,
            &format!(
                "JWT issuer 'https://gitlab.com' does not match expected issuer '{GITHUB_ISSUER_URL}'"
            ),
        ),
    );
}

#[test]
fn lookup_keys_agree_for_matching_pairs() {
    for (namespace, project, project_path, issuer, iss) in [
        (
            "group",
            "sampleproject",
            "group/sampleproject",
            "",
            GITLAB_ISSUER_URL,
        ),
        ("coBib", "cobib", "cobib/cobib", "", GITLAB_ISSUER_URL),
        ("group/Sub", "Proj", "GROUP/sub/proj", "", GITLAB_ISSUER_URL),
        (
            "group",
            "sampleproject",
            "group/sampleproject",
            "https://gitlab.custom-company.com/",
            CUSTOM,
        ),
        (
            "group",
            "sampleproject",
            "group/sampleproject",
            CUSTOM,
            "https://gitlab.custom-company.com/",
        ),
    ] {
        let spec = PublisherSpec::GitLab(GitLabPublisher {
            namespace: namespace.into(),
            project: project.into(),
            issuer: issuer.into(),
            ..gitlab_spec()
        });
        let claims = with(gitlab_claims(), "project_path", json!(project_path));
        let key = lookup_key_for_claims(Provider::GitLab, &TokenClaims::new(iss, &claims));
        assert_eq!(
            key,
            Ok(spec.lookup_key()),
            "{namespace}/{project} vs {project_path}"
        );
    }
}

#[test]
fn stored_claims_of_a_match() {
    let claims = with(gitlab_claims(), "environment", json!("pypi"));
    let found = run(&claims, &[gitlab_publisher("a")]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!found.reusable_workflow_used);
    let expected: Vec<(&str, String)> = vec![
        (
            "ci_config_ref_uri",
            "gitlab.com/group/sampleproject//.gitlab-ci.yml@refs/heads/main".into(),
        ),
        ("environment", "pypi".into()),
        ("issuer", GITLAB_ISSUER_URL.into()),
        ("job_id", "654".into()),
        ("namespace_id", "1234567".into()),
        ("pipeline_id", "987".into()),
        ("project_id", "12345678".into()),
        ("project_path", "group/sampleproject".into()),
        (
            "publisher_url",
            format!("https://gitlab.com/group/sampleproject/commit/{SHA}"),
        ),
        ("ref_path", "refs/heads/main".into()),
        ("sha", SHA.into()),
        (
            "subject",
            "project_path:group/sampleproject:ref_type:branch:ref:main".into(),
        ),
        ("workflow_filepath", ".gitlab-ci.yml".into()),
    ];
    let expected = expected
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(found.stored_claims, expected);
}
