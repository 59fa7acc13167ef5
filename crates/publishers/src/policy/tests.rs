//! Rule tables for publisher policies: the ref globs, validation per platform, and
//! each rule's refusal text.

use super::ref_pattern::matches;
use super::*;

#[test]
fn ref_globs() {
    for (pattern, git_ref, expected) in [
        ("refs/tags/v*", "refs/tags/v1.2.3", true),
        ("refs/tags/v*", "refs/tags/v", true),
        ("refs/tags/v*", "refs/tags/1.0", false),
        ("refs/tags/v*", "refs/tags/v1/extra", false),
        ("refs/heads/main", "refs/heads/main", true),
        ("refs/heads/main", "refs/heads/main2", false),
        ("refs/heads/main", "refs/heads/Main", false),
        (
            "refs/heads/release/**",
            "refs/heads/release/1.x/hotfix",
            true,
        ),
        ("refs/heads/release/**", "refs/heads/release", true),
        ("refs/heads/release/**", "refs/heads/releases/1", false),
        ("refs/**/v1", "refs/tags/v1", true),
        ("refs/**/v1", "refs/heads/a/b/v1", true),
        ("refs/*/main", "refs/heads/main", true),
        ("refs/*/main", "refs/heads/x/main", false),
        ("refs/tags/v*.*-rc*", "refs/tags/v1.2-rc3", true),
        ("refs/tags/v*.*-rc*", "refs/tags/v12-rc3", false),
        ("refs/tags/*a", "refs/tags/a", true),
        ("refs/tags/a*a", "refs/tags/a", false),
        ("refs/tags/[v]1", "refs/tags/v1", false),
    ] {
        assert_eq!(
            matches(pattern, git_ref),
            expected,
            "{pattern} vs {git_ref}"
        );
    }
}

fn with_refs(refs: &[&str]) -> PublisherPolicy {
    PublisherPolicy {
        refs: refs.iter().map(|r| (*r).to_owned()).collect(),
        ..PublisherPolicy::default()
    }
}

#[test]
fn validation_refuses_unsafe_and_malformed_refs() {
    for (refs, expected) in [
        (
            vec!["main"],
            "refs[0]: 'main' must start with 'refs/' (a full git ref such as 'refs/tags/v*' or 'refs/heads/main'; a bare branch name would never match a token's ref)",
        ),
        (
            vec!["refs/tags/v*", "refs/**"],
            "refs[1]: 'refs/**' matches every ref, which restricts nothing: name the namespace and a fixed part of the ref ('refs/tags/v*', 'refs/heads/main'), or leave refs empty to allow any ref",
        ),
        (
            vec!["refs/*/*"],
            "refs[0]: 'refs/*/*' matches every ref, which restricts nothing: name the namespace and a fixed part of the ref ('refs/tags/v*', 'refs/heads/main'), or leave refs empty to allow any ref",
        ),
        (
            vec!["refs/heads/a**"],
            "refs[0]: 'refs/heads/a**': '**' must be a whole path segment ('refs/heads/**'); use '*' within a segment",
        ),
        (
            vec!["refs//main"],
            "refs[0]: 'refs//main' has an empty path segment",
        ),
        (
            vec!["refs/heads/ main"],
            "refs[0]: must not contain whitespace or control characters",
        ),
    ] {
        let error = with_refs(&refs)
            .validate(Provider::GitHub)
            .map_err(|e| e.to_string());
        assert_eq!(error, Err(expected.to_owned()), "{refs:?}");
    }
    let too_many: Vec<String> = (0..=MAX_REF_PATTERNS)
        .map(|i| format!("refs/tags/v{i}"))
        .collect();
    let policy = PublisherPolicy {
        refs: too_many,
        ..PublisherPolicy::default()
    };
    assert_eq!(
        policy.validate(Provider::GitHub).map_err(|e| e.to_string()),
        Err(format!("refs: lists at most {MAX_REF_PATTERNS} patterns"))
    );
    for fine in [
        &["refs/tags/v*", "refs/heads/main"][..],
        &["refs/heads/**"],
        &["refs/*/main"],
    ] {
        assert_eq!(
            with_refs(fine).validate(Provider::GitLab),
            Ok(()),
            "{fine:?}"
        );
    }
}

/// A rule whose claim the platform lacks is refused, naming the platform; each rule is
/// accepted where the claim exists.
#[test]
fn validation_refuses_rules_the_platform_cannot_check() {
    let protected_ref = PublisherPolicy {
        require_protected_ref: true,
        ..PublisherPolicy::default()
    };
    let hosted_only = PublisherPolicy {
        allow_self_hosted_runners: false,
        ..PublisherPolicy::default()
    };
    let protected_environment = PublisherPolicy {
        require_protected_environment: true,
        ..PublisherPolicy::default()
    };
    let refs = with_refs(&["refs/tags/v*"]);
    for (policy, provider, expected) in [
        (&refs, Provider::GitHub, Ok(())),
        (&refs, Provider::GitLab, Ok(())),
        (&refs, Provider::Buildkite, Ok(())),
        (&refs, Provider::CircleCI, Ok(())),
        (&refs, Provider::Bitbucket, Ok(())),
        (&refs, Provider::Forgejo, Ok(())),
        (&hosted_only, Provider::Buildkite, Ok(())),
        (
            &protected_ref,
            Provider::Bitbucket,
            Err(
                "require_protected_ref: Bitbucket tokens carry no claim saying the ref is protected, so this rule could never be checked; remove it",
            ),
        ),
        (
            &refs,
            Provider::Google,
            Err(
                "refs: Google tokens carry no git ref, so this rule could never be checked; remove it",
            ),
        ),
        (&protected_ref, Provider::GitHub, Ok(())),
        (&protected_ref, Provider::GitLab, Ok(())),
        (
            &protected_ref,
            Provider::ActiveState,
            Err(
                "require_protected_ref: ActiveState tokens carry no claim saying the ref is protected, so this rule could never be checked; remove it",
            ),
        ),
        (&hosted_only, Provider::GitHub, Ok(())),
        (&hosted_only, Provider::GitLab, Ok(())),
        (
            &hosted_only,
            Provider::Google,
            Err(
                "allow_self_hosted_runners: Google tokens carry no claim telling hosted from self-hosted runners, so this rule could never be checked; remove it",
            ),
        ),
        (&protected_environment, Provider::GitLab, Ok(())),
        (
            &protected_environment,
            Provider::GitHub,
            Err(
                "require_protected_environment: GitHub tokens carry no claim saying the environment is protected, so this rule could never be checked; remove it",
            ),
        ),
    ] {
        assert_eq!(
            policy.validate(provider).map_err(|e| e.to_string()),
            expected.map_err(str::to_owned),
            "{policy:?} on {provider}"
        );
    }
    assert_eq!(
        PublisherPolicy::default().validate(Provider::Google),
        Ok(())
    );
}

#[test]
fn each_rule_accepts_and_refuses_with_the_tokens_value() {
    let claims = Provider::GitLab.policy_claims();
    let facts = |git_ref: Option<&str>,
                 protected: Option<&str>,
                 runner: Option<&str>,
                 env: Option<&str>| PolicyFacts {
        git_ref: git_ref.map(str::to_owned),
        ref_protected: protected.map(str::to_owned),
        runner_environment: runner.map(str::to_owned),
        environment_protected: env.map(str::to_owned),
    };
    let good = facts(
        Some("refs/tags/v1"),
        Some("true"),
        Some("gitlab-hosted"),
        Some("true"),
    );
    let strict = PublisherPolicy {
        refs: vec!["refs/tags/v*".into(), "refs/heads/main".into()],
        require_protected_ref: true,
        allow_self_hosted_runners: false,
        require_protected_environment: true,
    };
    assert_eq!(strict.check(&claims, &good), Ok(()));
    assert_eq!(
        PublisherPolicy::default().check(&claims, &PolicyFacts::default()),
        Ok(())
    );
    for (token, expected) in [
        (
            facts(
                Some("refs/heads/feature"),
                Some("true"),
                Some("gitlab-hosted"),
                Some("true"),
            ),
            "ref_path 'refs/heads/feature' matches none of refs/tags/v*, refs/heads/main",
        ),
        (
            facts(None, Some("true"), Some("gitlab-hosted"), Some("true")),
            "the token has no ref_path, and the publisher allows only refs refs/tags/v*, refs/heads/main",
        ),
        (
            facts(
                Some("refs/heads/main"),
                Some("false"),
                Some("gitlab-hosted"),
                Some("true"),
            ),
            "require_protected_ref: the token's ref_protected is 'false', not 'true'",
        ),
        (
            facts(
                Some("refs/heads/main"),
                None,
                Some("gitlab-hosted"),
                Some("true"),
            ),
            "require_protected_ref: the token has no ref_protected, not 'true'",
        ),
        (
            facts(
                Some("refs/heads/main"),
                Some("true"),
                Some("self-hosted"),
                Some("true"),
            ),
            "allow_self_hosted_runners = false: the token's runner_environment is 'self-hosted', and only 'gitlab-hosted' runners are trusted",
        ),
        (
            facts(Some("refs/heads/main"), Some("true"), None, Some("true")),
            "allow_self_hosted_runners = false: the token has no runner_environment, and only 'gitlab-hosted' runners are trusted",
        ),
        (
            facts(
                Some("refs/heads/main"),
                Some("true"),
                Some("gitlab-hosted"),
                Some("false"),
            ),
            "require_protected_environment: the token's environment_protected is 'false', not 'true'",
        ),
    ] {
        assert_eq!(
            strict.check(&claims, &token),
            Err(expected.to_owned()),
            "{token:?}"
        );
    }
}

/// Publishers without a policy keep their identity key (and so their declared ids).
#[test]
fn default_policy_adds_nothing_to_identity() {
    assert!(PublisherPolicy::default().identity_parts().is_empty());
    let a = with_refs(&["refs/tags/v*", "refs/heads/main"]).identity_parts();
    let b = with_refs(&["refs/heads/main", "refs/tags/v*"]).identity_parts();
    assert_eq!(a, b, "order of patterns does not make another publisher");
    assert_ne!(a, with_refs(&["refs/tags/v*"]).identity_parts());
}

mod matching {
    //! The rules through `find_match`, on real GitHub and GitLab claim sets: a policy
    //! failure is a failed check (`invalid-publisher`) with the rule as the reason, a
    //! sibling without the policy still matches, and pending publishers obey it too.

    use serde_json::json;

    use crate::test_support::{
        MatchRow, NOW, assert_outcome, github_claims, github_publisher, gitlab_claims,
        gitlab_publisher, issuer_of, matched, outcome, refused, with, without,
    };
    use crate::{NoMatchKind, Provider, Publisher, PublisherPolicy, TokenClaims, find_match};

    fn with_policy(mut publisher: Publisher, policy: PublisherPolicy) -> Publisher {
        publisher.policy = policy;
        publisher
    }

    fn tags_only() -> PublisherPolicy {
        PublisherPolicy {
            refs: vec!["refs/tags/v*".into()],
            ..PublisherPolicy::default()
        }
    }

    fn protected_ref() -> PublisherPolicy {
        PublisherPolicy {
            require_protected_ref: true,
            ..PublisherPolicy::default()
        }
    }

    fn hosted_only() -> PublisherPolicy {
        PublisherPolicy {
            allow_self_hosted_runners: false,
            ..PublisherPolicy::default()
        }
    }

    fn run(provider: Provider, rows: Vec<MatchRow>) {
        for (description, claims, candidates, expected) in rows {
            let token = TokenClaims::new(issuer_of(&claims), &claims);
            assert_outcome(
                description,
                outcome(find_match(provider, &token, &candidates, NOW)),
                expected,
            );
        }
    }

    #[test]
    fn github_rules() {
        let feature = with(github_claims(), "ref", json!("refs/heads/feature"));
        let feature = with(
            feature,
            "job_workflow_ref",
            json!("octo-org/sampleproject/.github/workflows/release.yml@refs/heads/feature"),
        );
        let mut pending = with_policy(github_publisher("p"), tags_only());
        pending.pending = true;
        run(
            Provider::GitHub,
            vec![
                (
                    "a tag matches refs/tags/v*",
                    github_claims(),
                    vec![with_policy(github_publisher("a"), tags_only())],
                    matched(&["a"]),
                ),
                (
                    "a branch does not",
                    feature.clone(),
                    vec![with_policy(github_publisher("a"), tags_only())],
                    refused(
                        NoMatchKind::CheckFailed,
                        "ref 'refs/heads/feature' matches none of refs/tags/v*",
                    ),
                ),
                (
                    "a pending publisher obeys its policy",
                    feature.clone(),
                    vec![pending],
                    refused(
                        NoMatchKind::CheckFailed,
                        "ref 'refs/heads/feature' matches none of refs/tags/v*",
                    ),
                ),
                (
                    "a sibling without the policy still matches",
                    feature,
                    vec![
                        with_policy(github_publisher("a"), tags_only()),
                        github_publisher("b"),
                    ],
                    matched(&["b"]),
                ),
                (
                    "ref_protected as GitHub sends it (a string)",
                    with(github_claims(), "ref_protected", json!("true")),
                    vec![with_policy(github_publisher("a"), protected_ref())],
                    matched(&["a"]),
                ),
                (
                    "ref_protected as a JSON bool",
                    with(github_claims(), "ref_protected", json!(true)),
                    vec![with_policy(github_publisher("a"), protected_ref())],
                    matched(&["a"]),
                ),
                (
                    "an unprotected ref",
                    with(github_claims(), "ref_protected", json!("false")),
                    vec![with_policy(github_publisher("a"), protected_ref())],
                    refused(
                        NoMatchKind::CheckFailed,
                        "require_protected_ref: the token's ref_protected is 'false', not 'true'",
                    ),
                ),
                (
                    "no ref_protected claim",
                    without(github_claims(), "ref_protected"),
                    vec![with_policy(github_publisher("a"), protected_ref())],
                    refused(
                        NoMatchKind::CheckFailed,
                        "require_protected_ref: the token has no ref_protected, not 'true'",
                    ),
                ),
                (
                    "a GitHub-hosted runner",
                    with(
                        github_claims(),
                        "runner_environment",
                        json!("github-hosted"),
                    ),
                    vec![with_policy(github_publisher("a"), hosted_only())],
                    matched(&["a"]),
                ),
                (
                    "a self-hosted runner",
                    with(github_claims(), "runner_environment", json!("self-hosted")),
                    vec![with_policy(github_publisher("a"), hosted_only())],
                    refused(
                        NoMatchKind::CheckFailed,
                        "allow_self_hosted_runners = false: the token's runner_environment is 'self-hosted', and only 'github-hosted' runners are trusted",
                    ),
                ),
                (
                    "a self-hosted runner, allowed by default",
                    with(github_claims(), "runner_environment", json!("self-hosted")),
                    vec![github_publisher("a")],
                    matched(&["a"]),
                ),
                (
                    "the platform's own checks come first",
                    with(github_claims(), "repository_owner_id", json!("1")),
                    vec![with_policy(github_publisher("a"), hosted_only())],
                    refused(
                        NoMatchKind::NotFound,
                        "Publisher with matching claims was not found; the publisher for repository 'octo-org/sampleproject' expects repository_owner_id '647025' but the token's repository_owner_id is '1' (account ids never change: another account now owns this name, or the configured id is wrong)",
                    ),
                ),
            ],
        );
    }

    #[test]
    fn gitlab_rules() {
        let protected_environment = PublisherPolicy {
            require_protected_environment: true,
            ..PublisherPolicy::default()
        };
        let at_ref = |git_ref: &str| {
            let claims = with(gitlab_claims(), "ref_path", json!(git_ref));
            with(
                claims,
                "ci_config_ref_uri",
                json!(format!(
                    "gitlab.com/group/sampleproject//.gitlab-ci.yml@{git_ref}"
                )),
            )
        };
        let branch = at_ref("refs/heads/feature");
        run(
            Provider::GitLab,
            vec![
                (
                    "ref_path matches",
                    at_ref("refs/tags/v2.0"),
                    vec![with_policy(gitlab_publisher("a"), tags_only())],
                    matched(&["a"]),
                ),
                (
                    "ref_path does not",
                    branch,
                    vec![with_policy(gitlab_publisher("a"), tags_only())],
                    refused(
                        NoMatchKind::CheckFailed,
                        "ref_path 'refs/heads/feature' matches none of refs/tags/v*",
                    ),
                ),
                (
                    "a protected environment",
                    with(gitlab_claims(), "environment_protected", json!("true")),
                    vec![with_policy(
                        gitlab_publisher("a"),
                        protected_environment.clone(),
                    )],
                    matched(&["a"]),
                ),
                (
                    "an unprotected environment",
                    with(gitlab_claims(), "environment_protected", json!("false")),
                    vec![with_policy(gitlab_publisher("a"), protected_environment)],
                    refused(
                        NoMatchKind::CheckFailed,
                        "require_protected_environment: the token's environment_protected is 'false', not 'true'",
                    ),
                ),
                (
                    "a GitLab-hosted runner",
                    with(
                        gitlab_claims(),
                        "runner_environment",
                        json!("gitlab-hosted"),
                    ),
                    vec![with_policy(gitlab_publisher("a"), hosted_only())],
                    matched(&["a"]),
                ),
                (
                    "a self-hosted GitLab runner",
                    with(gitlab_claims(), "runner_environment", json!("self-hosted")),
                    vec![with_policy(gitlab_publisher("a"), hosted_only())],
                    refused(
                        NoMatchKind::CheckFailed,
                        "allow_self_hosted_runners = false: the token's runner_environment is 'self-hosted', and only 'gitlab-hosted' runners are trusted",
                    ),
                ),
            ],
        );
    }
}

/// Stored publishers written before policies existed read back with the default
/// policy, and a publisher without a policy is stored exactly as it was before.
#[test]
fn stored_publishers_without_a_policy_still_read() {
    let publisher = crate::test_support::github_publisher("a");
    let mut stored = serde_json::to_value(&publisher).unwrap_or_default();
    assert!(stored.get("policy").is_none(), "{stored}");
    let read: crate::Publisher =
        serde_json::from_value(stored.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.policy, PublisherPolicy::default());
    stored["policy"] = serde_json::json!({"refs": ["refs/tags/v*"]});
    let read: crate::Publisher = serde_json::from_value(stored).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.policy, with_refs(&["refs/tags/v*"]));
    assert!(
        read.policy.allow_self_hosted_runners,
        "absent keys keep their defaults"
    );
}
