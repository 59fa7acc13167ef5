//! TokenService.MintToken: the response an index gets (token, expiry, projects, the
//! publisher as a message, the claims) and the client-address rate limit.

use std::collections::HashMap;
use std::time::Duration;

use tonic::Code;
use tonic_types::StatusExt as _;
use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_store::RateLimitSettings;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};
use trustmint_tokens::parse_token;

use crate::calls::{OWNER, OWNER_ID, REPOSITORY, SHA, WORKFLOW};
use crate::support::{TestServer, assert_error, assert_invalid_argument};

#[tokio::test]
async fn mint_token_returns_token_projects_publisher_and_claims() {
    let server = TestServer::start().await;
    let fx = &server.fx;
    let minted = server
        .anonymous()
        .mint_ok(&fx.github_jwt(GitHubClaims::new()))
        .await;

    assert!(minted.token.starts_with("pypi-"), "{:.12}…", minted.token);
    assert_eq!(minted.expires_at, fx.clock.now() + 900, "the default TTL");
    assert_eq!(minted.projects, vec![PROJECT.to_owned()]);
    let parsed = parse_token(&minted.token, "pypi-").expect("a well-formed token");
    assert_eq!(minted.token_id, parsed.identifier.token_id);

    let declared_id = fx.exchange.list_publishers(PROJECT).await.expect("list")[0]
        .id
        .to_string();
    let expected_publisher = pb::Publisher {
        id: declared_id,
        projects: vec![PROJECT.to_owned()],
        pending: false,
        expires_at: 0,
        created_at: 0,
        origin: "config".to_owned(),
        ecosystem: "pypi".to_owned(),
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: OWNER.to_owned(),
            repository_owner_id: OWNER_ID.to_owned(),
            repository_name: REPOSITORY.to_owned(),
            workflow_filename: WORKFLOW.to_owned(),
            environment: String::new(),
            issuer: fx.issuer.url(),
            workflow_repository: String::new(),
        })),
        policy: None,
    };
    assert_eq!(minted.publisher, Some(expected_publisher.clone()));
    assert_eq!(minted.publishers, vec![expected_publisher]);

    let repository = format!("{OWNER}/{REPOSITORY}");
    let workflow_ref = format!("{repository}/.github/workflows/{WORKFLOW}@refs/heads/main");
    let expected_claims: HashMap<String, String> = [
        ("issuer", fx.issuer.url()),
        ("subject", format!("repo:{repository}:ref:refs/heads/main")),
        ("repository", repository.clone()),
        ("repository_owner", OWNER.to_owned()),
        ("repository_owner_id", OWNER_ID.to_owned()),
        ("workflow", WORKFLOW.to_owned()),
        ("job_workflow_ref", workflow_ref.clone()),
        ("workflow_ref", workflow_ref),
        ("ref", "refs/heads/main".to_owned()),
        ("sha", SHA.to_owned()),
        ("event_name", "push".to_owned()),
        ("run_id", "9876543210".to_owned()),
        ("run_attempt", "1".to_owned()),
        (
            "publisher_url",
            format!("{}/{repository}/commit/{SHA}", fx.issuer.url()),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect();
    assert_eq!(minted.claims, expected_claims);
}

#[tokio::test]
async fn client_ip_is_rate_limited_with_retry_info() {
    let builder = ExchangeBuilder::start()
        .await
        .rate_limit(RateLimitSettings {
            enabled: true,
            requests_per_second: 0.01,
            burst: 1,
            trusted_proxies: Vec::new(),
        });
    let server = TestServer::with(builder, None).await;
    let grpc = server.anonymous();
    let jwt = || server.fx.github_jwt(GitHubClaims::new());
    grpc.mint_from(&jwt(), "203.0.113.7")
        .await
        .expect("the burst allows one");
    let status = grpc
        .mint_from(&jwt(), "203.0.113.7")
        .await
        .expect_err("over the limit");
    assert_error(
        &status,
        Code::ResourceExhausted,
        "rate-limited",
        "too many token requests from this client; retry in 100 s",
    );
    let retry = status.get_error_details();
    assert_eq!(
        retry.retry_info().and_then(|info| info.retry_delay),
        Some(Duration::from_secs(100))
    );
    // Another client is not affected; an unparsable client_ip is INVALID_ARGUMENT.
    grpc.mint_from(&jwt(), "203.0.113.8")
        .await
        .expect("another client");
    let status = grpc
        .mint_from(&jwt(), "not-an-ip")
        .await
        .expect_err("bad client_ip");
    assert_invalid_argument(&status, "client_ip", "'not-an-ip' is not an IP address");
}
