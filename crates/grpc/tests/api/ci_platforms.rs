//! The CI platforms of issue 13 on the wire (Buildkite, CircleCI, Bitbucket Pipelines,
//! Forgejo Actions): CreatePublisher takes each platform's publisher message and
//! GetPublisher / ListPublishers answer it field for field; MintToken and VerifyToken
//! name the publisher and carry the platform's provenance; a refusal is
//! `FAILED_PRECONDITION` with the use case's code and description; DeletePublisher
//! removes it. The use cases themselves (every refusal) are tested in the exchange crate.

use serde_json::{Value, json};
use tonic::Code;
use trustmint_exchange::Clock as _;
use trustmint_grpc::pb;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::{BitbucketClaims, BuildkiteClaims, CircleCIClaims, ForgejoClaims};
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::support::{TestServer, assert_error};

/// A token the platform's job would present, edited for the refused case.
type Edit = fn(&mut Value);

/// What one platform's wire scenario needs.
struct Platform {
    /// The `iss` of its tokens.
    iss: String,
    /// The `[[issuers]]` entry (without `jwks_uri`, which the scenario adds).
    issuer: Value,
    /// The publisher created over gRPC, for project `sampleproject`.
    publisher: pb::publisher::Kind,
    /// A real-shaped claim set for `iss` at `now`.
    claims: fn(&str, i64) -> Value,
    /// Provenance VerifyToken must return (a subset of its `claims`).
    provenance: Vec<(&'static str, String)>,
    /// One refused shape of the token, with the wire code and description.
    refused: (Edit, &'static str, String),
}

/// `valid token, but no corresponding publisher (<reason>)`.
fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// Creates, reads, lists, mints, verifies, is refused and deletes over gRPC.
async fn exercise(platform: Platform) {
    let keys = TestIssuer::start().await;
    let mut issuer = platform.issuer.clone();
    issuer["jwks_uri"] = json!(keys.jwks_uri());
    let builder = ExchangeBuilder::new(keys)
        .issuers(vec![issuer])
        .publishers(vec![]);
    let server = TestServer::with(builder, None).await;
    let clients = server.anonymous();
    let (mut publishers, mut tokens) = (clients.publishers, clients.tokens);

    // Every token of the scenario gets its own jti (replays are refused).
    let sign = |edit: Option<Edit>, jti: &str| {
        let mut claims = (platform.claims)(&platform.iss, server.fx.clock.now());
        claims["jti"] = json!(jti);
        if let Some(edit) = edit {
            edit(&mut claims);
        }
        server.fx.jwt_for(claims)
    };

    let created = publishers
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(pb::Publisher {
                projects: vec![PROJECT.to_owned()],
                kind: Some(platform.publisher.clone()),
                ..pb::Publisher::default()
            }),
        })
        .await
        .unwrap_or_else(|status| panic!("CreatePublisher: {status:?}"))
        .into_inner();
    assert_eq!(created.kind.as_ref(), Some(&platform.publisher));
    let fetched = publishers
        .get_publisher(pb::GetPublisherRequest {
            id: created.id.clone(),
        })
        .await
        .expect("GetPublisher")
        .into_inner();
    assert_eq!(fetched, created);
    let listed = publishers
        .list_publishers(pb::ListPublishersRequest {
            project: PROJECT.to_owned(),
        })
        .await
        .expect("ListPublishers")
        .into_inner();
    assert_eq!(listed.publishers, vec![created.clone()]);

    let minted = tokens
        .mint_token(pb::MintTokenRequest {
            oidc_token: sign(None, "jti-grpc"),
            client_ip: String::new(),
        })
        .await
        .unwrap_or_else(|status| panic!("MintToken: {status:?}"))
        .into_inner();
    assert_eq!(minted.projects, [PROJECT]);
    assert_eq!(minted.publisher.map(|p| p.id), Some(created.id.clone()));

    let verified = tokens
        .verify_token(pb::VerifyTokenRequest {
            token: minted.token,
            project: PROJECT.to_owned(),
            ecosystem: String::new(),
        })
        .await
        .expect("VerifyToken")
        .into_inner();
    assert!(verified.allowed, "{}", verified.reason);
    assert_eq!(verified.publisher.map(|p| p.id), Some(created.id.clone()));
    assert_eq!(verified.claims.get("issuer"), Some(&platform.iss));
    for (key, value) in &platform.provenance {
        assert_eq!(verified.claims.get(*key), Some(value), "claims[{key}]");
    }

    let (edit, code, description) = &platform.refused;
    let status = tokens
        .mint_token(pb::MintTokenRequest {
            oidc_token: sign(Some(*edit), "jti-refused-grpc"),
            client_ip: String::new(),
        })
        .await
        .expect_err("refused over gRPC");
    assert_error(&status, Code::FailedPrecondition, code, description);

    let deleted = publishers
        .delete_publisher(pb::DeletePublisherRequest {
            id: created.id.clone(),
        })
        .await
        .expect("DeletePublisher")
        .into_inner();
    assert!(deleted.deleted);
    let listed = publishers
        .list_publishers(pb::ListPublishersRequest {
            project: PROJECT.to_owned(),
        })
        .await
        .expect("ListPublishers")
        .into_inner();
    assert_eq!(listed.publishers, vec![]);
}

#[tokio::test]
async fn a_buildkite_publisher_round_trips_mints_and_is_refused_on_the_wire() {
    const ISS: &str = "https://agent.buildkite.com";
    exercise(Platform {
        iss: ISS.to_owned(),
        issuer: json!({ "url": ISS, "kind": "buildkite" }),
        publisher: pb::publisher::Kind::Buildkite(pb::BuildkitePublisher {
            organization_slug: "acme-inc".into(),
            pipeline_slug: "sampleproject".into(),
            organization_id: "0a1b2c3d-0000-4000-8000-000000000001".into(),
            step_key: "publish".into(),
            ..pb::BuildkitePublisher::default()
        }),
        claims: |iss, now| BuildkiteClaims::new().build(iss, "pypi", now),
        provenance: vec![
            ("ref", "refs/tags/v1.0.0".into()),
            ("sha", "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into()),
            ("build_number", "1234".into()),
            ("job_id", "0184990a-477b-4fa8-9968-496074483cee".into()),
            ("pipeline_slug", "sampleproject".into()),
            (
                "publisher_url",
                "https://buildkite.com/acme-inc/sampleproject/builds/1234".into(),
            ),
        ],
        refused: (
            |claims| {
                claims["organization_slug"] = json!("evil-corp");
                claims["organization_id"] = json!("9a1b2c3d-0000-4000-8000-000000000009");
            },
            "invalid-publisher",
            no_publisher(
                "Publisher with matching claims was not found; no publisher is registered for \
                 organization_slug 'evil-corp' pipeline_slug 'sampleproject' with issuer \
                 'https://agent.buildkite.com'",
            ),
        ),
    })
    .await;
}

#[tokio::test]
async fn a_circleci_publisher_round_trips_mints_and_is_refused_on_the_wire() {
    const ORG: &str = "b7c6d5e4-0000-4000-8000-000000000001";
    const PROJECT_ID: &str = "c8d7e6f5-0000-4000-8000-000000000002";
    exercise(Platform {
        iss: format!("https://oidc.circleci.com/org/{ORG}"),
        issuer: json!({
            "url_pattern": "https://oidc.circleci.com/org/*",
            "kind": "circleci",
            "audiences": ["{organization_id}"],
        }),
        publisher: pb::publisher::Kind::Circleci(pb::CircleCiPublisher {
            organization_id: ORG.into(),
            project_id: PROJECT_ID.into(),
            vcs_origin: "github.com/octo-org/sampleproject".into(),
            ..pb::CircleCiPublisher::default()
        }),
        claims: |iss, now| CircleCIClaims::new().build(iss, "pypi", now),
        provenance: vec![
            ("organization_id", ORG.into()),
            ("project_id", PROJECT_ID.into()),
            ("ref", "refs/tags/v1.0.0".into()),
            ("vcs_origin", "github.com/octo-org/sampleproject".into()),
            (
                "publisher_url",
                "https://github.com/octo-org/sampleproject".into(),
            ),
        ],
        refused: (
            |claims| claims["oidc.circleci.com/ssh-rerun"] = json!(true),
            "invalid-publisher",
            no_publisher(
                "SSH reruns may not publish: a person had a shell in the job that holds this token",
            ),
        ),
    })
    .await;
}

#[tokio::test]
async fn a_bitbucket_publisher_round_trips_mints_and_is_refused_on_the_wire() {
    const WORKSPACE_UUID: &str = "{8b1c2d3e-0000-4000-8000-00000000aaaa}";
    exercise(Platform {
        iss: BitbucketClaims::new().issuer(),
        issuer: json!({
            "url_pattern": "https://api.bitbucket.org/2.0/workspaces/*/pipelines-config/identity/oidc",
            "kind": "bitbucket",
            "audiences": ["ari:cloud:bitbucket::workspace/{workspace_uuid}"],
        }),
        publisher: pb::publisher::Kind::Bitbucket(pb::BitbucketPublisher {
            workspace: "octo-team".into(),
            workspace_uuid: WORKSPACE_UUID.into(),
            // Bare and upper case: answered as given, compared as UUIDs.
            repository_uuid: "9C2D3E4F-0000-4000-8000-00000000BBBB".into(),
            ..pb::BitbucketPublisher::default()
        }),
        claims: |iss, now| {
            let builder = BitbucketClaims::new();
            builder.build(iss, &builder.workspace_audience(), now)
        },
        provenance: vec![
            ("workspace", "octo-team".into()),
            (
                "repositoryUuid",
                "{9c2d3e4f-0000-4000-8000-00000000bbbb}".into(),
            ),
            ("ref", "refs/heads/main".into()),
            ("stepUuid", "{f0f1f2f3-0000-4000-8000-000000000006}".into()),
            (
                "pipelineUuid",
                "{a0a1a2a3-0000-4000-8000-000000000007}".into(),
            ),
            ("publisher_url", "https://bitbucket.org/octo-team".into()),
        ],
        refused: (
            |claims| {
                claims["repositoryUuid"] = json!("{99999999-0000-4000-8000-000000000009}");
            },
            "invalid-publisher",
            no_publisher(&format!(
                "Publisher with matching claims was not found; no publisher is registered for \
                 workspace_uuid '{WORKSPACE_UUID}' repository_uuid \
                 '{{99999999-0000-4000-8000-000000000009}}' with issuer \
                 'https://api.bitbucket.org/2.0/workspaces/octo-team/pipelines-config/identity/oidc'"
            )),
        ),
    })
    .await;
}

#[tokio::test]
async fn a_forgejo_publisher_round_trips_mints_and_is_refused_on_the_wire() {
    const ISS: &str = "https://codeberg.org/api/actions";
    exercise(Platform {
        iss: ISS.to_owned(),
        issuer: json!({ "url": ISS, "kind": "forgejo" }),
        publisher: pb::publisher::Kind::Forgejo(pb::ForgejoPublisher {
            repository_owner: "octo-org".into(),
            repository_owner_id: "1234".into(),
            repository_name: "sampleproject".into(),
            workflow_filename: "release.yml".into(),
            environment: "pypi".into(),
            issuer: ISS.into(),
        }),
        claims: |iss, now| ForgejoClaims::new().build(iss, "pypi", now),
        provenance: vec![
            ("repository", "octo-org/sampleproject".into()),
            ("ref", "refs/tags/v1.0.0".into()),
            ("sha", "d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into()),
            ("run_id", "301".into()),
            ("workflow", "release.yml".into()),
            (
                "publisher_url",
                "https://codeberg.org/octo-org/sampleproject/commit/d6e1f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4".into(),
            ),
        ],
        refused: (
            |claims| claims["event_name"] = json!("pull_request_target"),
            "invalid-publisher",
            no_publisher(
                "Forgejo Actions runs triggered by 'pull_request_target', or by 'pull_request' \
                 from another repository, may not publish; the publisher for repository \
                 'octo-org/sampleproject' refuses runs triggered by 'pull_request_target' from \
                 'an unnamed head repository'",
            ),
        ),
    })
    .await;
}
