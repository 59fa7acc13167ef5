//! Several replicas on one Redis (DESIGN §5): two `Application`s in this process, or two
//! real `trustmint` processes, sharing Redis and the minting keyring behave as one
//! service — a token minted on one verifies on the other, a JWT exchanged on one is a
//! replay on the other, publishers and revocations are seen by both at once.
//!
//! Standalone tests use the machine's Redis at 127.0.0.1:6379 under a key prefix of their
//! own; the Cluster test starts a 3-master Cluster it owns.

use crate::support;

use serde_json::json;
use support::redis_setup::{
    SHARED_KEY_ID, SHARED_KEY_SECRET, TestCluster, replica_settings, spawn_replicas, unique_prefix,
    use_cluster, use_local_redis,
};
use support::trustmint_process::{TrustmintProcess, grpc_verify};
use support::{PROJECT, TestApp, assert_token_error, github_publisher, github_publisher_toml};
use trustmint_exchange::{NewPublisher, REVOKED_OR_EXPIRED, Verification, VerifyRequest};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::{Caveat, parse_token};

const ALREADY_USED: &str = "invalid token: already used";

/// Mints over HTTP on `app` and returns the token and its `expires`.
async fn mint_ok(app: &TestApp, jwt: &str) -> (String, i64) {
    let (status, body) = app.mint(jwt).await;
    assert_eq!(status, 200, "mint on {}: {body}", app.http);
    (
        body["token"].as_str().expect("token").to_owned(),
        body["expires"].as_i64().expect("expires"),
    )
}

/// Verifies `token` for the default project through `app`'s use case.
async fn verify(app: &TestApp, token: &str) -> Verification {
    app.app
        .verify(VerifyRequest {
            token: token.into(),
            project: PROJECT.to_owned(),
        })
        .await
        .expect("verify runs")
}

/// The publisher id named in the token's OIDCPublisher caveat, and the token's key id.
fn publisher_and_key_of(token: &str) -> (String, String) {
    let parsed = parse_token(token, "pypi-").expect("a pypi- token");
    let publisher = parsed
        .macaroon
        .caveats
        .iter()
        .find_map(|raw| match Caveat::parse(&raw.identifier) {
            Ok(Caveat::OidcPublisher { publisher_id }) => Some(publisher_id),
            _ => None,
        })
        .expect("an OIDCPublisher caveat");
    (publisher, parsed.identifier.key_id)
}

/// Asserts `token` verifies on `app` for the default project, minted for `publisher_id`
/// with `expires`.
async fn assert_allowed(app: &TestApp, token: &str, publisher_id: &str, expires: i64) {
    match verify(app, token).await {
        Verification::Allowed(allowed) => {
            assert_eq!(allowed.publisher.id.as_str(), publisher_id);
            assert_eq!(allowed.projects, vec![PROJECT.to_owned()]);
            assert_eq!(allowed.expires_at, expires);
            assert_eq!(
                allowed.claims.get("token_id"),
                Some(&allowed.token_id),
                "{:?}",
                allowed.claims
            );
        }
        denied => panic!("token minted on the other replica does not verify: {denied:?}"),
    }
}

#[tokio::test]
async fn a_token_minted_on_one_replica_verifies_on_the_other() {
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    use_local_redis(&mut settings);
    let (a, b) = spawn_replicas(issuer, &settings).await;

    let (token, expires) = mint_ok(&a, &a.github_jwt(GitHubClaims::new())).await;
    let (publisher_id, key_id) = publisher_and_key_of(&token);
    assert_eq!(key_id, SHARED_KEY_ID, "minted with the shared keyring");
    assert_allowed(&b, &token, &publisher_id, expires).await;
    // and the other way round, over gRPC as an index would ask
    let (token, expires) = mint_ok(&b, &a.github_jwt(GitHubClaims::new())).await;
    let answer = grpc_verify(a.grpc_addr, &token, PROJECT)
        .await
        .expect("VerifyToken on A");
    assert!(answer.allowed, "{answer:?}");
    assert_eq!(answer.reason, "");
    assert_eq!(answer.expires_at, expires);
    assert_eq!(answer.projects, vec![PROJECT.to_owned()]);
    assert_eq!(answer.publisher.expect("publisher").id, publisher_id);

    // A replica with the same Redis but its own (ephemeral) keyring finds the record yet
    // cannot check the signature: replicas must share `[keys]`.
    let mut foreign = settings.clone();
    foreign.keys = trustmint::KeySettings::default();
    let c = support::spawn_with_settings(TestIssuer::start().await, &foreign).await;
    assert_eq!(
        verify(&c, &token).await,
        Verification::Denied {
            reason: format!("token signing key '{SHARED_KEY_ID}' is unknown or retired")
        }
    );
}

#[tokio::test]
async fn a_jwt_exchanged_on_one_replica_is_a_replay_on_the_other() {
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    use_local_redis(&mut settings);
    let (a, b) = spawn_replicas(issuer, &settings).await;

    let jwt = a.github_jwt(GitHubClaims::new());
    mint_ok(&a, &jwt).await;
    assert_token_error(
        &b.mint(&jwt).await,
        422,
        "invalid-reuse-token",
        ALREADY_USED,
    );
    assert_token_error(
        &a.mint(&jwt).await,
        422,
        "invalid-reuse-token",
        ALREADY_USED,
    );

    let jwt = a.github_jwt(GitHubClaims::new());
    mint_ok(&b, &jwt).await;
    assert_token_error(
        &a.mint(&jwt).await,
        422,
        "invalid-reuse-token",
        ALREADY_USED,
    );

    // Racing replicas: of eight concurrent exchanges of one JWT, split over both, exactly
    // one mints.
    let jwt = a.github_jwt(GitHubClaims::new());
    let results = futures::future::join_all((0..8).map(|i| {
        if i % 2 == 0 {
            a.mint(&jwt)
        } else {
            b.mint(&jwt)
        }
    }))
    .await;
    let minted = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(minted, 1, "{results:?}");
    for result in results.iter().filter(|(status, _)| *status != 200) {
        assert_token_error(result, 422, "invalid-reuse-token", ALREADY_USED);
    }
}

#[tokio::test]
async fn a_publisher_created_through_one_replica_is_matched_by_the_other() {
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    settings.publishers.clear();
    use_local_redis(&mut settings);
    let (a, b) = spawn_replicas(issuer, &settings).await;

    let jwt = a.github_jwt(GitHubClaims::new());
    assert_token_error(
        &b.mint(&jwt).await,
        422,
        "invalid-publisher",
        &format!(
            "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'octo-org/sampleproject' with issuer '{}')",
            a.issuer.url()
        ),
    );

    let spec =
        trustmint_publishers::parse_declaration(&github_publisher(&a.issuer.url(), &[PROJECT], ""))
            .expect("publisher declaration")
            .spec;
    let created = a
        .app
        .create_publisher(NewPublisher {
            spec,
            projects: vec![PROJECT.to_owned()],
            pending: false,
            policy: Default::default(),
        })
        .await
        .expect("create on A");
    assert!(created.created);
    let id = created.publisher.id.to_string();
    assert_eq!(
        b.app.get_publisher(&id).await.expect("B reads it"),
        created.publisher
    );

    // The same JWT (not burnt by the failed exchange) now mints on B, for that publisher.
    let (token, expires) = mint_ok(&b, &jwt).await;
    assert_eq!(publisher_and_key_of(&token).0, id);
    assert_allowed(&a, &token, &id, expires).await;

    // Deleting the publisher on B stops its token on A at once.
    let deleted = b.app.delete_publisher(&id).await.expect("delete on B");
    assert_eq!(deleted.map(|p| p.id.to_string()), Some(id));
    assert_eq!(
        verify(&a, &token).await,
        Verification::Denied {
            reason: "the trusted publisher this token was minted for no longer exists".to_owned()
        }
    );
}

#[tokio::test]
async fn a_publisher_deleted_through_one_replica_is_not_matched_by_the_other_that_cached_it() {
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    settings.publishers.clear();
    use_local_redis(&mut settings);
    let (a, b) = spawn_replicas(issuer, &settings).await;
    let spec =
        trustmint_publishers::parse_declaration(&github_publisher(&a.issuer.url(), &[PROJECT], ""))
            .expect("publisher declaration")
            .spec;
    let new_publisher = || NewPublisher {
        spec: spec.clone(),
        projects: vec![PROJECT.to_owned()],
        pending: false,
        policy: Default::default(),
    };
    let created = b
        .app
        .create_publisher(new_publisher())
        .await
        .expect("create on B");
    let id = created.publisher.id.to_string();

    // A mints twice: the second from the publisher candidates A cached.
    for _ in 0..2 {
        let (token, _) = mint_ok(&a, &a.github_jwt(GitHubClaims::new())).await;
        assert_eq!(publisher_and_key_of(&token).0, id);
    }

    // B removes the publisher; A's cache has not heard of it, A's next mint must.
    b.app.delete_publisher(&id).await.expect("delete on B");
    let jwt = a.github_jwt(GitHubClaims::new());
    assert_token_error(
        &a.mint(&jwt).await,
        422,
        "invalid-publisher",
        &format!(
            "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'octo-org/sampleproject' with issuer '{}')",
            a.issuer.url()
        ),
    );

    // The refused JWT was not burnt: registered again on B, it mints on A.
    let again = b
        .app
        .create_publisher(new_publisher())
        .await
        .expect("create again on B");
    let (token, _) = mint_ok(&a, &jwt).await;
    assert_eq!(
        publisher_and_key_of(&token).0,
        again.publisher.id.to_string()
    );
}

#[tokio::test]
async fn a_revocation_on_one_replica_denies_on_the_other_at_once() {
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    use_local_redis(&mut settings);
    let (a, b) = spawn_replicas(issuer, &settings).await;

    let (token, _) = mint_ok(&a, &a.github_jwt(GitHubClaims::new())).await;
    assert!(matches!(verify(&a, &token).await, Verification::Allowed(_)));
    let revoke = json!({ "token": token }).to_string();
    assert_eq!(b.post("/_/oidc/revoke-token", revoke.clone()).await.0, 204);
    let revoked = Verification::Denied {
        reason: REVOKED_OR_EXPIRED.to_owned(),
    };
    assert_eq!(verify(&a, &token).await, revoked);
    assert_eq!(verify(&b, &token).await, revoked);
    // idempotent on the replica that minted it
    assert_eq!(a.post("/_/oidc/revoke-token", revoke).await.0, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_a_redis_cluster_share_tokens_and_the_replay_guard() {
    let cluster = tokio::task::block_in_place(TestCluster::start);
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    use_cluster(&mut settings, cluster.urls());
    let (a, b) = spawn_replicas(issuer, &settings).await;

    // Several tokens and JWTs, so keys land on every shard.
    for _ in 0..4 {
        let jwt = a.github_jwt(GitHubClaims::new());
        let (token, expires) = mint_ok(&a, &jwt).await;
        let (publisher_id, _) = publisher_and_key_of(&token);
        assert_allowed(&b, &token, &publisher_id, expires).await;
        assert_token_error(
            &b.mint(&jwt).await,
            422,
            "invalid-reuse-token",
            ALREADY_USED,
        );
    }

    let (token, _) = mint_ok(&b, &a.github_jwt(GitHubClaims::new())).await;
    let revoke = json!({ "token": token }).to_string();
    assert_eq!(b.post("/_/oidc/revoke-token", revoke).await.0, 204);
    assert_eq!(
        verify(&a, &token).await,
        Verification::Denied {
            reason: REVOKED_OR_EXPIRED.to_owned()
        }
    );
    drop((a, b));
    tokio::task::block_in_place(move || drop(cluster));
}

/// The config of one `trustmint` process of a two-replica deployment on the local Redis.
fn process_config(issuer: &TestIssuer, key_prefix: &str) -> String {
    format!(
        r#"[store]
backend = "redis"
redis_url = "redis://127.0.0.1:6379"
key_prefix = "{key_prefix}"

[rate_limit]
enabled = false

[keys]
current = "{SHARED_KEY_ID}"

[keys.secrets]
{SHARED_KEY_ID} = "{SHARED_KEY_SECRET}"

{publisher}"#,
        publisher = github_publisher_toml(&issuer.url()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_trustmint_processes_on_one_redis_act_as_one_service() {
    support::redis_setup::require_local_redis();
    let issuer = TestIssuer::start().await;
    let config = process_config(&issuer, &unique_prefix());
    let a = TrustmintProcess::start(&config).await;
    let b = TrustmintProcess::start(&config).await;
    let client = reqwest::Client::new();
    let mint = async |process: &TrustmintProcess, jwt: &str| {
        let response = client
            .post(format!("{}/_/oidc/mint-token", process.http))
            .header("content-type", "application/json")
            .body(json!({ "token": jwt }).to_string())
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str::<serde_json::Value>(&text).expect("JSON body"),
        )
    };

    let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", support::now()));
    let (status, body) = mint(&a, &jwt).await;
    assert_eq!(status, 200, "{body}\n{}", a.log());
    let token = body["token"].as_str().expect("token").to_owned();
    let expires = body["expires"].as_i64().expect("expires");

    let replay = mint(&b, &jwt).await;
    assert_token_error(&replay, 422, "invalid-reuse-token", ALREADY_USED);

    let (publisher_id, _) = publisher_and_key_of(&token);
    for (name, process) in [("B", &b), ("A", &a)] {
        let answer = grpc_verify(process.grpc_addr, &token, PROJECT)
            .await
            .unwrap_or_else(|status| panic!("VerifyToken on {name}: {status}"));
        assert!(answer.allowed, "{name}: {answer:?}");
        assert_eq!(answer.expires_at, expires, "{name}");
        assert_eq!(answer.projects, vec![PROJECT.to_owned()], "{name}");
        assert_eq!(
            answer.publisher.expect("publisher").id,
            publisher_id,
            "{name}"
        );
        assert_eq!(
            answer.claims.get("token_id"),
            Some(&answer.token_id),
            "{name}"
        );
    }
    for (name, process) in [("A", &a), ("B", &b)] {
        let log = process.log();
        assert!(!log.contains("panicked"), "{name} panicked:\n{log}");
        assert!(!log.contains(&token), "{name} logged the minted token");
        assert!(!log.contains(&jwt), "{name} logged the JWT");
    }
}
