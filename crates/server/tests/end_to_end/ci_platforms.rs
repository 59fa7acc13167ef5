//! The CI platforms of issue 13 (Buildkite, CircleCI, Bitbucket Pipelines, Forgejo
//! Actions) on Redis: the store wiring. One app trusts the four platforms' issuers; for
//! each, a publisher created over gRPC is stored in Redis, read back and listed; a token
//! mints over HTTP and over gRPC; VerifyToken finds the stored publisher and the
//! platform's provenance; the exchange is counted under the platform's kind; once
//! deleted, the next token finds nothing.
//!
//! Every refusal of each platform, on the memory store, is a use-case test
//! (`crates/exchange/tests/use_cases/ci_platforms`); the publisher messages and the
//! refusal status on the wire are gRPC adapter tests (`crates/grpc/tests/api/ci_platforms.rs`).
//!
//! Tokens carry the platform's real `iss`; the app fetches keys from the test issuer
//! through a configured `jwks_uri`, as an operator behind an egress proxy would.

use serde_json::{Value, json};
use tonic::transport::Endpoint;
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::{BitbucketClaims, BuildkiteClaims, CircleCIClaims, ForgejoClaims};

use crate::support::redis_setup::use_local_redis;
use crate::support::{PROJECT, base_settings, now, spawn_with_settings};

/// One platform as the app sees it.
struct Platform {
    /// The `[[issuers]]` kind, which also labels the exchange metric.
    kind: &'static str,
    /// The `iss` of its tokens.
    iss: String,
    /// The `[[issuers]]` entry (without `jwks_uri`, which the test adds).
    issuer: Value,
    /// The publisher created over gRPC, for project `sampleproject`.
    publisher: pb::publisher::Kind,
    /// A real-shaped claim set for `iss` at `now`.
    claims: fn(&str, i64) -> Value,
    /// The provenance link VerifyToken must return.
    publisher_url: &'static str,
}

fn platforms() -> Vec<Platform> {
    let circleci_org = "b7c6d5e4-0000-4000-8000-000000000001";
    vec![
        Platform {
            kind: "buildkite",
            iss: "https://agent.buildkite.com".to_owned(),
            issuer: json!({ "url": "https://agent.buildkite.com", "kind": "buildkite" }),
            publisher: pb::publisher::Kind::Buildkite(pb::BuildkitePublisher {
                organization_slug: "acme-inc".into(),
                pipeline_slug: "sampleproject".into(),
                organization_id: "0a1b2c3d-0000-4000-8000-000000000001".into(),
                step_key: "publish".into(),
                ..pb::BuildkitePublisher::default()
            }),
            claims: |iss, now| BuildkiteClaims::new().build(iss, "pypi", now),
            publisher_url: "https://buildkite.com/acme-inc/sampleproject/builds/1234",
        },
        Platform {
            kind: "circleci",
            iss: format!("https://oidc.circleci.com/org/{circleci_org}"),
            issuer: json!({
                "url_pattern": "https://oidc.circleci.com/org/*",
                "kind": "circleci",
                "audiences": ["{organization_id}"],
            }),
            publisher: pb::publisher::Kind::Circleci(pb::CircleCiPublisher {
                organization_id: circleci_org.into(),
                project_id: "c8d7e6f5-0000-4000-8000-000000000002".into(),
                vcs_origin: "github.com/octo-org/sampleproject".into(),
                ..pb::CircleCiPublisher::default()
            }),
            claims: |iss, now| CircleCIClaims::new().build(iss, "pypi", now),
            publisher_url: "https://github.com/octo-org/sampleproject",
        },
        Platform {
            kind: "bitbucket",
            iss: BitbucketClaims::new().issuer(),
            issuer: json!({
                "url_pattern": "https://api.bitbucket.org/2.0/workspaces/*/pipelines-config/identity/oidc",
                "kind": "bitbucket",
                "audiences": ["ari:cloud:bitbucket::workspace/{workspace_uuid}"],
            }),
            publisher: pb::publisher::Kind::Bitbucket(pb::BitbucketPublisher {
                workspace: "octo-team".into(),
                workspace_uuid: "{8b1c2d3e-0000-4000-8000-00000000aaaa}".into(),
                // Bare and upper case: stored as given, compared as UUIDs.
                repository_uuid: "9C2D3E4F-0000-4000-8000-00000000BBBB".into(),
                ..pb::BitbucketPublisher::default()
            }),
            claims: |iss, now| {
                let builder = BitbucketClaims::new();
                builder.build(iss, &builder.workspace_audience(), now)
            },
            publisher_url: "https://bitbucket.org/octo-team",
        },
        Platform {
            kind: "forgejo",
            iss: "https://codeberg.org/api/actions".to_owned(),
            issuer: json!({ "url": "https://codeberg.org/api/actions", "kind": "forgejo" }),
            publisher: pb::publisher::Kind::Forgejo(pb::ForgejoPublisher {
                repository_owner: "octo-org".into(),
                repository_owner_id: "1234".into(),
                repository_name: "sampleproject".into(),
                workflow_filename: "release.yml".into(),
                environment: "pypi".into(),
                issuer: "https://codeberg.org/api/actions".into(),
            }),
            claims: |iss, now| ForgejoClaims::new().build(iss, "pypi", now),
            publisher_url: "https://codeberg.org/octo-org/sampleproject/commit/d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4",
        },
    ]
}

#[tokio::test]
async fn the_four_ci_platforms_on_redis() {
    let platforms = platforms();
    let keys = TestIssuer::start().await;
    let mut settings = base_settings(&keys);
    settings.issuers = platforms
        .iter()
        .map(|platform| {
            let mut issuer = platform.issuer.clone();
            issuer["jwks_uri"] = json!(keys.jwks_uri());
            serde_json::from_value(issuer).expect("issuer entry")
        })
        .collect();
    settings.publishers = Vec::new();
    use_local_redis(&mut settings);
    let app = spawn_with_settings(keys, &settings).await;
    let channel = Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .expect("endpoint")
        .connect_lazy();
    let mut publishers = PublisherServiceClient::new(channel.clone());
    let mut tokens = TokenServiceClient::new(channel);

    for platform in &platforms {
        let kind = platform.kind;
        // Every token gets its own jti (replays are refused).
        let sign = |jti: &str| {
            let mut claims = (platform.claims)(&platform.iss, now());
            claims["jti"] = json!(format!("{kind}-{jti}"));
            app.issuer.sign(&claims)
        };

        // Create, get, list: the publisher is stored in Redis.
        let created = publishers
            .create_publisher(pb::CreatePublisherRequest {
                publisher: Some(pb::Publisher {
                    projects: vec![PROJECT.to_owned()],
                    kind: Some(platform.publisher.clone()),
                    ..pb::Publisher::default()
                }),
            })
            .await
            .unwrap_or_else(|status| panic!("{kind}: CreatePublisher: {status:?}"))
            .into_inner();
        assert_eq!(created.kind.as_ref(), Some(&platform.publisher), "{kind}");
        let fetched = publishers
            .get_publisher(pb::GetPublisherRequest {
                id: created.id.clone(),
            })
            .await
            .expect("GetPublisher")
            .into_inner();
        assert_eq!(fetched, created, "{kind}");
        let listed = publishers
            .list_publishers(pb::ListPublishersRequest {
                project: PROJECT.to_owned(),
            })
            .await
            .expect("ListPublishers")
            .into_inner();
        assert_eq!(listed.publishers, vec![created.clone()], "{kind}");

        // HTTP mint (the token stored in Redis), then what the index learns over gRPC.
        let response = app.mint(&sign("http")).await;
        let allowed = app.assert_minted_for(&response, PROJECT).await;
        assert_eq!(allowed.projects, [PROJECT], "{kind}");
        let token = response.1["token"].as_str().unwrap_or_default().to_owned();
        let verified = tokens
            .verify_token(pb::VerifyTokenRequest {
                token,
                project: PROJECT.to_owned(),
                ecosystem: String::new(),
            })
            .await
            .expect("VerifyToken")
            .into_inner();
        assert!(verified.allowed, "{kind}: {}", verified.reason);
        assert_eq!(verified.publisher.map(|p| p.id), Some(created.id.clone()));
        assert_eq!(verified.claims.get("issuer"), Some(&platform.iss), "{kind}");
        assert_eq!(
            verified.claims.get("publisher_url").map(String::as_str),
            Some(platform.publisher_url),
            "{kind}"
        );

        // gRPC mint of another token of the same job.
        let minted = tokens
            .mint_token(pb::MintTokenRequest {
                oidc_token: sign("grpc"),
                client_ip: String::new(),
            })
            .await
            .unwrap_or_else(|status| panic!("{kind}: MintToken: {status:?}"))
            .into_inner();
        assert_eq!(minted.projects, [PROJECT], "{kind}");
        assert_eq!(minted.publisher.map(|p| p.id), Some(created.id.clone()));

        // Delete: the next token of the job finds nothing.
        publishers
            .delete_publisher(pb::DeletePublisherRequest {
                id: created.id.clone(),
            })
            .await
            .expect("DeletePublisher");
        let after = app.mint(&sign("after-delete")).await;
        assert_eq!(after.0, 422, "{kind}: {}", after.1);
        assert_eq!(after.1["errors"][0]["code"], "invalid-publisher", "{kind}");
    }

    // Metrics label the exchanges with each platform's kind.
    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, 200);
    for platform in &platforms {
        let label = format!("issuer_kind=\"{}\"", platform.kind);
        assert!(
            metrics.lines().any(
                |line| line.starts_with("trustmint_exchanges_total{") && line.contains(&label)
            ),
            "no trustmint_exchanges_total with {label}"
        );
    }
}
