//! Publisher policies end to end: real apps on the memory store and on the machine's
//! Redis, real signed GitHub and GitLab tokens, exchanged over HTTP and gRPC. Each rule
//! (refs, require_protected_ref, allow_self_hosted_runners, GitLab
//! require_protected_environment) accepts and refuses with its exact reason, on
//! config-declared publishers and on pending publishers created over gRPC; CreatePublisher
//! refuses an unsafe policy naming it; Get/List/VerifyToken report the policy.

use crate::support;

use serde_json::{Value, json};
use support::redis_setup::use_local_redis;
use support::{TestApp, assert_token_error, base_settings, now, spawn_with_settings};
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::{GitHubClaims, GitLabClaims};

const PROJECT: &str = "sampleproject";
const GITLAB_ISS: &str = "https://gitlab.com";

/// The stores every scenario runs on.
#[derive(Clone, Copy, Debug)]
enum Store {
    Memory,
    Redis,
}

const STORES: [Store; 2] = [Store::Memory, Store::Redis];

fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// The testkit's GitHub repository, with `policy` keys added to the entry.
fn github_entry(issuer: &str, projects: &[&str], policy: Value) -> Value {
    let mut entry = support::github_publisher(issuer, projects, "");
    if let (Some(entry), Value::Object(policy)) = (entry.as_object_mut(), policy) {
        entry.extend(policy);
    }
    entry
}

/// An app on `store` declaring exactly `publishers`, trusting the test issuer as GitHub
/// (and as `https://gitlab.com`'s keys when `gitlab` is set).
async fn spawn(store: Store, publishers: Vec<Value>, gitlab: bool) -> TestApp {
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    if gitlab {
        settings.issuers.push(support::issuer_entry(json!({
            "url": GITLAB_ISS, "kind": "gitlab", "jwks_uri": issuer.jwks_uri()
        })));
    }
    settings.publishers = publishers;
    if let Store::Redis = store {
        use_local_redis(&mut settings);
    }
    spawn_with_settings(issuer, &settings).await
}

fn channel(app: &TestApp) -> Channel {
    Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .expect("endpoint")
        .connect_lazy()
}

/// A GitHub JWT of the testkit's repository at `git_ref` with `extra` claims set.
fn github_jwt(app: &TestApp, git_ref: &str, extra: &[(&str, Value)]) -> String {
    let mut claims = GitHubClaims::new().git_ref(git_ref);
    for (name, value) in extra {
        claims = claims.claim(*name, value.clone());
    }
    app.github_jwt(claims)
}

async fn grpc_mint(app: &TestApp, jwt: &str) -> Result<pb::MintTokenResponse, tonic::Status> {
    TokenServiceClient::new(channel(app))
        .mint_token(pb::MintTokenRequest {
            oidc_token: jwt.to_owned(),
            client_ip: String::new(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn grpc_verify(app: &TestApp, token: &str) -> pb::VerifyTokenResponse {
    TokenServiceClient::new(channel(app))
        .verify_token(pb::VerifyTokenRequest {
            token: token.to_owned(),
            project: PROJECT.to_owned(),
            ecosystem: String::new(),
        })
        .await
        .expect("VerifyToken answers OK")
        .into_inner()
}

/// The refusal over both transports: HTTP 422 `invalid-publisher` and gRPC
/// FAILED_PRECONDITION `invalid-publisher`, with `reason` in the description.
async fn assert_refused(app: &TestApp, jwt: &str, reason: &str, context: &str) {
    let description = no_publisher(reason);
    assert_token_error(&app.mint(jwt).await, 422, "invalid-publisher", &description);
    let status = grpc_mint(app, jwt).await.expect_err(context);
    assert_eq!(
        status.code(),
        Code::FailedPrecondition,
        "{context}: {status:?}"
    );
    assert_eq!(
        status.message(),
        format!("invalid-publisher: {description}"),
        "{context}"
    );
}

fn policy_message(
    refs: &[&str],
    protected: bool,
    self_hosted: Option<bool>,
) -> pb::PublisherPolicy {
    pb::PublisherPolicy {
        refs: refs.iter().map(|r| (*r).to_owned()).collect(),
        require_protected_ref: protected,
        allow_self_hosted_runners: self_hosted,
        require_protected_environment: false,
    }
}

#[tokio::test]
async fn declared_github_policy_on_every_store() {
    for store in STORES {
        let issuer = TestIssuer::start().await;
        let mut settings = base_settings(&issuer);
        settings.publishers = vec![github_entry(
            &issuer.url(),
            &[PROJECT],
            json!({
                "refs": ["refs/tags/v*", "refs/heads/release/**"],
                "require_protected_ref": true,
                "allow_self_hosted_runners": false,
            }),
        )];
        if let Store::Redis = store {
            use_local_redis(&mut settings);
        }
        let app = spawn_with_settings(issuer, &settings).await;

        // Allowed: a protected release tag on a GitHub-hosted runner, over HTTP; the
        // token's verification reports the policy with the publisher.
        let jwt = github_jwt(
            &app,
            "refs/tags/v1.2.0",
            &[("ref_protected", json!("true"))],
        );
        let response = app.mint(&jwt).await;
        assert_eq!(response.0, 200, "{store:?}: {}", response.1);
        let token = response.1["token"].as_str().expect("token").to_owned();
        let verified = grpc_verify(&app, &token).await;
        assert!(verified.allowed, "{store:?}: {}", verified.reason);
        assert_eq!(
            verified.publisher.and_then(|p| p.policy),
            Some(pb::PublisherPolicy {
                refs: vec!["refs/tags/v*".into(), "refs/heads/release/**".into()],
                require_protected_ref: true,
                allow_self_hosted_runners: Some(false),
                require_protected_environment: false,
            }),
            "{store:?}"
        );
        assert_eq!(
            verified.claims.get("ref").map(String::as_str),
            Some("refs/tags/v1.2.0")
        );

        // Allowed over gRPC: a protected release branch, `**` across segments.
        let jwt = github_jwt(
            &app,
            "refs/heads/release/2.x/final",
            &[("ref_protected", json!("true"))],
        );
        let minted = grpc_mint(&app, &jwt).await.expect("release branch mints");
        assert_eq!(
            minted
                .publisher
                .and_then(|p| p.policy)
                .map(|p| p.require_protected_ref),
            Some(true)
        );

        // Refused, one rule at a time.
        for (context, jwt, reason) in [
            (
                "a branch outside refs",
                github_jwt(
                    &app,
                    "refs/heads/feature",
                    &[("ref_protected", json!("true"))],
                ),
                "ref 'refs/heads/feature' matches none of refs/tags/v*, refs/heads/release/**",
            ),
            (
                "an unprotected tag",
                github_jwt(&app, "refs/tags/v1.2.1", &[]),
                "require_protected_ref: the token's ref_protected is 'false', not 'true'",
            ),
            (
                "a self-hosted runner",
                github_jwt(
                    &app,
                    "refs/tags/v1.2.2",
                    &[
                        ("ref_protected", json!("true")),
                        ("runner_environment", json!("self-hosted")),
                    ],
                ),
                "allow_self_hosted_runners = false: the token's runner_environment is 'self-hosted', and only 'github-hosted' runners are trusted",
            ),
            (
                "no runner_environment at all",
                app.github_jwt(
                    GitHubClaims::new()
                        .git_ref("refs/tags/v1.2.3")
                        .claim("ref_protected", json!(true))
                        .without("runner_environment"),
                ),
                "allow_self_hosted_runners = false: the token has no runner_environment, and only 'github-hosted' runners are trusted",
            ),
        ] {
            assert_refused(&app, &jwt, reason, &format!("{store:?}: {context}")).await;
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn declared_gitlab_protected_environment_on_every_store() {
    for store in STORES {
        let entry = json!({
            "kind": "gitlab",
            "projects": [PROJECT],
            "namespace": "group",
            "project": "proj",
            "workflow_filepath": ".gitlab-ci.yml",
            "environment": "pypi",
            "refs": ["refs/tags/*"],
            "require_protected_environment": true,
        });
        let app = spawn(store, vec![entry], true).await;
        let jwt = |tag: &str, environment_protected: &str| {
            let claims = GitLabClaims::new()
                .project_path("group/proj")
                .tag(tag)
                .environment("pypi")
                .claim("environment_protected", json!(environment_protected));
            app.issuer.sign(&claims.build(GITLAB_ISS, "pypi", now()))
        };
        let response = app.mint(&jwt("v3", "true")).await;
        assert_eq!(response.0, 200, "{store:?}: {}", response.1);
        assert_refused(
            &app,
            &jwt("v4", "false"),
            "require_protected_environment: the token's environment_protected is 'false', not 'true'",
            &format!("{store:?}: unprotected environment"),
        )
        .await;
        let branch = GitLabClaims::new()
            .project_path("group/proj")
            .branch("main")
            .environment("pypi")
            .claim("environment_protected", json!("true"));
        assert_refused(
            &app,
            &app.issuer.sign(&branch.build(GITLAB_ISS, "pypi", now())),
            "ref_path 'refs/heads/main' matches none of refs/tags/*",
            &format!("{store:?}: a branch"),
        )
        .await;
        app.stop().await;
    }
}

/// A pending publisher created over gRPC with a policy: stored with it (memory and
/// Redis), reported by Get and List, and enforced at exchange time.
#[tokio::test]
async fn pending_publisher_policy_over_grpc_on_every_store() {
    for store in STORES {
        let app = spawn(store, vec![], false).await;
        let mut publishers = PublisherServiceClient::new(channel(&app));
        let kind = pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: "octo-org".into(),
            repository_owner_id: "92345678".into(),
            repository_name: "sampleproject".into(),
            workflow_filename: "release.yml".into(),
            issuer: app.issuer.url(),
            ..pb::GitHubPublisher::default()
        });
        let request = |policy: Option<pb::PublisherPolicy>| pb::CreatePublisherRequest {
            publisher: Some(pb::Publisher {
                projects: vec![PROJECT.to_owned()],
                pending: true,
                kind: Some(kind.clone()),
                policy,
                ..pb::Publisher::default()
            }),
        };

        // Unsafe policies are refused, naming the rule.
        for (policy, field, message) in [
            (
                policy_message(&["refs/**"], false, None),
                "refs[0]",
                "'refs/**' matches every ref, which restricts nothing: name the namespace and a fixed part of the ref ('refs/tags/v*', 'refs/heads/main'), or leave refs empty to allow any ref",
            ),
            (
                policy_message(&["v*"], false, None),
                "refs[0]",
                "'v*' must start with 'refs/' (a full git ref such as 'refs/tags/v*' or 'refs/heads/main'; a bare branch name would never match a token's ref)",
            ),
            (
                pb::PublisherPolicy {
                    require_protected_environment: true,
                    ..pb::PublisherPolicy::default()
                },
                "require_protected_environment",
                "GitHub tokens carry no claim saying the environment is protected, so this rule could never be checked; remove it",
            ),
        ] {
            let status = publishers
                .create_publisher(request(Some(policy)))
                .await
                .expect_err("unsafe policy refused");
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{store:?}: {status:?}"
            );
            assert_eq!(
                status.message(),
                format!("invalid-argument: {field}: {message}"),
                "{store:?}"
            );
        }

        let policy = policy_message(&["refs/tags/v*"], false, None);
        let created = publishers
            .create_publisher(request(Some(policy.clone())))
            .await
            .expect("created")
            .into_inner();
        let reported = pb::PublisherPolicy {
            allow_self_hosted_runners: Some(true),
            ..policy
        };
        assert_eq!(created.policy.as_ref(), Some(&reported), "{store:?}");
        let fetched = publishers
            .get_publisher(pb::GetPublisherRequest {
                id: created.id.clone(),
            })
            .await
            .expect("get")
            .into_inner();
        assert_eq!(fetched.policy.as_ref(), Some(&reported), "{store:?}");
        let listed = publishers
            .list_publishers(pb::ListPublishersRequest {
                project: PROJECT.to_owned(),
            })
            .await
            .expect("list")
            .into_inner()
            .publishers;
        assert_eq!(listed.len(), 1, "{store:?}");
        assert_eq!(listed[0].policy.as_ref(), Some(&reported), "{store:?}");

        // Without a policy the same workflow is another publisher, not this one again.
        let laxer = publishers
            .create_publisher(request(None))
            .await
            .expect("created")
            .into_inner();
        assert_ne!(laxer.id, created.id, "{store:?}");
        assert_eq!(laxer.policy, None, "{store:?}");
        publishers
            .delete_publisher(pb::DeletePublisherRequest { id: laxer.id })
            .await
            .expect("deleted");

        assert_refused(
            &app,
            &github_jwt(&app, "refs/heads/main", &[]),
            "ref 'refs/heads/main' matches none of refs/tags/v*",
            &format!("{store:?}: pending publisher, a branch"),
        )
        .await;
        let minted = grpc_mint(&app, &github_jwt(&app, "refs/tags/v0.1", &[]))
            .await
            .expect("a tag mints for the pending publisher");
        assert_eq!(
            minted.publisher.map(|p| p.id),
            Some(created.id),
            "{store:?}"
        );
        app.stop().await;
    }
}
