//! One scenario every platform runs: gRPC publisher management, HTTP and gRPC mints,
//! VerifyToken provenance, and the platform's refusals, on a chosen store.

use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Endpoint;
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;

use crate::support::redis_setup::use_local_redis;
use crate::support::{PROJECT, assert_token_error, base_settings, now, spawn_with_settings};

/// Where the app keeps its publishers and tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Store {
    Memory,
    Redis,
}

/// A token the platform's job would present, edited for one case.
pub(crate) type Edit = fn(&mut Value);

/// One refusal: the token edit and the exact HTTP error.
pub(crate) struct Refusal {
    pub(crate) case: &'static str,
    pub(crate) edit: Edit,
    pub(crate) code: &'static str,
    pub(crate) description: String,
}

/// What a platform's scenario needs.
pub(crate) struct Platform {
    /// The `iss` of its tokens.
    pub(crate) iss: String,
    /// The `[[issuers]]` entry (without `jwks_uri`, which the harness adds).
    pub(crate) issuer: Value,
    /// The publisher created over gRPC, for project `sampleproject`.
    pub(crate) publisher: pb::publisher::Kind,
    /// A real-shaped claim set for `iss`, audience `pypi`, at `now`.
    pub(crate) claims: fn(&str, i64) -> Value,
    /// Provenance VerifyToken must return (a subset of its `claims`).
    pub(crate) provenance: Vec<(&'static str, String)>,
    /// Other shapes of the job's token that must mint too (audiences, optional claims).
    pub(crate) accepted: Vec<(&'static str, Edit)>,
    /// Refusals, each asserted over HTTP; the first also over gRPC.
    pub(crate) refusals: Vec<Refusal>,
}

/// `valid token, but no corresponding publisher (<reason>)`.
pub(crate) fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// Runs the whole scenario for `platform` on `store`.
pub(crate) async fn exercise(platform: Platform, store: Store) {
    let keys = TestIssuer::start().await;
    let mut settings = base_settings(&keys);
    let mut issuer = platform.issuer.clone();
    issuer["jwks_uri"] = json!(keys.jwks_uri());
    settings.issuers = vec![serde_json::from_value(issuer).expect("issuer entry")];
    settings.publishers = Vec::new();
    if let Store::Redis = store {
        use_local_redis(&mut settings);
    }
    let app = spawn_with_settings(keys, &settings).await;
    let channel = Endpoint::from_shared(format!("http://{}", app.grpc_addr))
        .expect("endpoint")
        .connect_lazy();
    let mut publishers = PublisherServiceClient::new(channel.clone());
    let mut tokens = TokenServiceClient::new(channel);

    // Every token of the scenario gets its own jti (replays are refused).
    let sign = |edit: Option<Edit>, jti: &str| {
        let mut claims = (platform.claims)(&platform.iss, now());
        claims["jti"] = json!(jti);
        if let Some(edit) = edit {
            edit(&mut claims);
        }
        app.issuer.sign(&claims)
    };

    // Create, get, list over gRPC.
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

    // HTTP mint, then what the index learns over gRPC.
    let response = app.mint(&sign(None, "jti-http")).await;
    let allowed = app.assert_minted_for(&response, PROJECT).await;
    assert_eq!(allowed.projects, [PROJECT]);
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
    assert!(verified.allowed, "{}", verified.reason);
    assert_eq!(verified.publisher.map(|p| p.id), Some(created.id.clone()));
    assert_eq!(verified.claims.get("issuer"), Some(&platform.iss));
    for (key, value) in &platform.provenance {
        assert_eq!(verified.claims.get(*key), Some(value), "claims[{key}]");
    }

    // gRPC mint of another token of the same job.
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

    for (index, (case, edit)) in platform.accepted.iter().enumerate() {
        let response = app
            .mint(&sign(Some(*edit), &format!("jti-accepted-{index}")))
            .await;
        assert_eq!(response.0, 200, "{case}: {}", response.1);
    }

    // Refusals.
    for (index, refusal) in platform.refusals.iter().enumerate() {
        let jwt = sign(Some(refusal.edit), &format!("jti-refused-{index}"));
        let response = app.mint(&jwt).await;
        assert_eq!(
            response.1["errors"][0]["description"], refusal.description,
            "{}: {}",
            refusal.case, response.1
        );
        assert_token_error(&response, 422, refusal.code, &refusal.description);
        if index == 0 {
            let status = tokens
                .mint_token(pb::MintTokenRequest {
                    oidc_token: sign(Some(refusal.edit), "jti-refused-grpc"),
                    client_ip: String::new(),
                })
                .await
                .expect_err("refused over gRPC too");
            assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
            assert_eq!(
                status.message(),
                format!("{}: {}", refusal.code, refusal.description)
            );
        }
    }

    // Metrics label the exchanges with the platform's kind.
    let kind = platform.issuer["kind"].as_str().unwrap_or_default();
    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, 200);
    let label = format!("issuer_kind=\"{kind}\"");
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("trustmint_exchanges_total{") && line.contains(&label)),
        "no trustmint_exchanges_total with {label}"
    );

    // Delete: the next token of the job finds nothing.
    publishers
        .delete_publisher(pb::DeletePublisherRequest {
            id: created.id.clone(),
        })
        .await
        .expect("DeletePublisher");
    let after = app.mint(&sign(None, "jti-after-delete")).await;
    assert_eq!(after.0, 422, "{}", after.1);
    assert_eq!(after.1["errors"][0]["code"], "invalid-publisher");
}
