//! Publisher policies: real signed GitHub and GitLab tokens. Each rule (refs,
//! require_protected_ref, allow_self_hosted_runners, GitLab
//! require_protected_environment) accepts and refuses with its exact reason, on
//! config-declared publishers and on pending publishers created through the use case;
//! creation refuses an unsafe policy naming it; get, list and verify report the policy.

use serde_json::{Value, json};
use trustmint_exchange::{Clock as _, NewPublisher};
use trustmint_publishers::PublisherPolicy;
use trustmint_testkit::claims::{GitHubClaims, GitLabClaims};
use trustmint_testkit::memory_exchange::{
    ExchangeBuilder, MemoryExchange, PROJECT, github_declaration, issuer_entry,
};

use crate::providers_support::{no_publisher, with};
use crate::support::{assert_allowed, assert_error, github_publisher};

const GITLAB_ISS: &str = "https://gitlab.com";

/// A GitHub JWT of the testkit's repository at `git_ref` with `extra` claims set.
fn github_jwt(fx: &MemoryExchange, git_ref: &str, extra: &[(&str, Value)]) -> String {
    let mut claims = GitHubClaims::new().git_ref(git_ref);
    for (name, value) in extra {
        claims = claims.claim(*name, value.clone());
    }
    fx.github_jwt(claims)
}

/// Asserts the refusal `invalid-publisher` with `reason` in the description.
async fn assert_refused(fx: &MemoryExchange, jwt: &str, reason: &str) {
    assert_error(
        fx.mint(jwt).await,
        "invalid-publisher",
        &no_publisher(reason),
    );
}

/// A policy with `refs`, `require_protected_ref` set to `protected`, self-hosted
/// runners allowed, and no environment rule.
fn policy(refs: &[&str], protected: bool) -> PublisherPolicy {
    PublisherPolicy {
        refs: refs.iter().map(|r| (*r).to_owned()).collect(),
        require_protected_ref: protected,
        ..PublisherPolicy::default()
    }
}

#[tokio::test]
async fn declared_github_policy() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let url = issuer.url();
    let fx = ExchangeBuilder::new(issuer)
        .publishers(vec![with(
            github_declaration(&url, &[PROJECT], ""),
            json!({
                "refs": ["refs/tags/v*", "refs/heads/release/**"],
                "require_protected_ref": true,
                "allow_self_hosted_runners": false,
            }),
        )])
        .build();

    // Allowed: a protected release tag on a GitHub-hosted runner; the token's
    // verification reports the policy with the publisher.
    let jwt = github_jwt(&fx, "refs/tags/v1.2.0", &[("ref_protected", json!("true"))]);
    let minted = fx.mint(&jwt).await.expect("a protected release tag mints");
    let verified = assert_allowed(fx.verify(minted.token.expose_secret(), PROJECT).await);
    assert_eq!(
        verified.publisher.policy,
        PublisherPolicy {
            refs: vec!["refs/tags/v*".into(), "refs/heads/release/**".into()],
            require_protected_ref: true,
            allow_self_hosted_runners: false,
            require_protected_environment: false,
        }
    );
    assert_eq!(
        verified.claims.get("ref").map(String::as_str),
        Some("refs/tags/v1.2.0")
    );

    // Allowed: a protected release branch, `**` across segments.
    let jwt = github_jwt(
        &fx,
        "refs/heads/release/2.x/final",
        &[("ref_protected", json!("true"))],
    );
    let minted = fx.mint(&jwt).await.expect("release branch mints");
    assert_eq!(
        minted.publisher().map(|p| p.policy.require_protected_ref),
        Some(true)
    );

    // Refused, one rule at a time.
    for (jwt, reason) in [
        (
            github_jwt(
                &fx,
                "refs/heads/feature",
                &[("ref_protected", json!("true"))],
            ),
            "ref 'refs/heads/feature' matches none of refs/tags/v*, refs/heads/release/**",
        ),
        (
            github_jwt(&fx, "refs/tags/v1.2.1", &[]),
            "require_protected_ref: the token's ref_protected is 'false', not 'true'",
        ),
        (
            github_jwt(
                &fx,
                "refs/tags/v1.2.2",
                &[
                    ("ref_protected", json!("true")),
                    ("runner_environment", json!("self-hosted")),
                ],
            ),
            "allow_self_hosted_runners = false: the token's runner_environment is 'self-hosted', and only 'github-hosted' runners are trusted",
        ),
        (
            fx.github_jwt(
                GitHubClaims::new()
                    .git_ref("refs/tags/v1.2.3")
                    .claim("ref_protected", json!(true))
                    .without("runner_environment"),
            ),
            "allow_self_hosted_runners = false: the token has no runner_environment, and only 'github-hosted' runners are trusted",
        ),
    ] {
        assert_refused(&fx, &jwt, reason).await;
    }
}

#[tokio::test]
async fn declared_gitlab_protected_environment() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let issuers = vec![
        issuer_entry(&issuer.url(), "github"),
        // `https://gitlab.com`'s keys come from the test issuer.
        json!({ "url": GITLAB_ISS, "kind": "gitlab", "jwks_uri": issuer.jwks_uri() }),
    ];
    let fx = ExchangeBuilder::new(issuer)
        .issuers(issuers)
        .publishers(vec![json!({
            "kind": "gitlab",
            "projects": [PROJECT],
            "namespace": "group",
            "project": "proj",
            "workflow_filepath": ".gitlab-ci.yml",
            "environment": "pypi",
            "refs": ["refs/tags/*"],
            "require_protected_environment": true,
        })])
        .build();
    let sign = |claims: GitLabClaims| fx.jwt_for(claims.build(GITLAB_ISS, "pypi", fx.clock.now()));
    let jwt = |tag: &str, environment_protected: &str| {
        sign(
            GitLabClaims::new()
                .project_path("group/proj")
                .tag(tag)
                .environment("pypi")
                .claim("environment_protected", json!(environment_protected)),
        )
    };
    fx.mint(&jwt("v3", "true"))
        .await
        .expect("a tag in a protected environment mints");
    assert_refused(
        &fx,
        &jwt("v4", "false"),
        "require_protected_environment: the token's environment_protected is 'false', not 'true'",
    )
    .await;
    let branch = GitLabClaims::new()
        .project_path("group/proj")
        .branch("main")
        .environment("pypi")
        .claim("environment_protected", json!("true"));
    assert_refused(
        &fx,
        &sign(branch),
        "ref_path 'refs/heads/main' matches none of refs/tags/*",
    )
    .await;
}

/// A pending publisher created with a policy: stored with it, reported by get and list,
/// and enforced at exchange time.
#[tokio::test]
async fn pending_publisher_policy() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let url = fx.issuer.url();
    let request = |policy: PublisherPolicy| NewPublisher {
        policy,
        ..github_publisher(&url, "sampleproject", &[PROJECT], true)
    };

    // Unsafe policies are refused, naming the rule.
    for (unsafe_policy, field, message) in [
        (
            policy(&["refs/**"], false),
            "refs[0]",
            "'refs/**' matches every ref, which restricts nothing: name the namespace and a fixed part of the ref ('refs/tags/v*', 'refs/heads/main'), or leave refs empty to allow any ref",
        ),
        (
            policy(&["v*"], false),
            "refs[0]",
            "'v*' must start with 'refs/' (a full git ref such as 'refs/tags/v*' or 'refs/heads/main'; a bare branch name would never match a token's ref)",
        ),
        (
            PublisherPolicy {
                require_protected_environment: true,
                ..PublisherPolicy::default()
            },
            "require_protected_environment",
            "GitHub tokens carry no claim saying the environment is protected, so this rule could never be checked; remove it",
        ),
    ] {
        assert_error(
            fx.exchange.create_publisher(request(unsafe_policy)).await,
            "invalid-argument",
            &format!("{field}: {message}"),
        );
    }

    let tags_only = policy(&["refs/tags/v*"], false);
    let created = fx
        .exchange
        .create_publisher(request(tags_only.clone()))
        .await
        .expect("created")
        .publisher;
    assert_eq!(created.policy, tags_only);
    assert!(created.policy.allow_self_hosted_runners);
    let fetched = fx
        .exchange
        .get_publisher(created.id.as_str())
        .await
        .expect("get");
    assert_eq!(fetched.policy, tags_only);
    let listed = fx.exchange.list_publishers(PROJECT).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].policy, tags_only);

    // Without a policy the same workflow is another publisher, not this one again.
    let laxer = fx
        .exchange
        .create_publisher(request(PublisherPolicy::default()))
        .await
        .expect("created")
        .publisher;
    assert_ne!(laxer.id, created.id);
    assert!(laxer.policy.is_default());
    fx.exchange
        .delete_publisher(laxer.id.as_str())
        .await
        .expect("deleted");

    assert_refused(
        &fx,
        &github_jwt(&fx, "refs/heads/main", &[]),
        "ref 'refs/heads/main' matches none of refs/tags/v*",
    )
    .await;
    let minted = fx
        .mint(&github_jwt(&fx, "refs/tags/v0.1", &[]))
        .await
        .expect("a tag mints for the pending publisher");
    assert_eq!(minted.publisher().map(|p| &p.id), Some(&created.id));
}
