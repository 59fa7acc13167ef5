//! The audit trail read back from the Redis stream `<prefix>audit` (XRANGE) on the
//! Redis at 127.0.0.1:6379, each test under its own key prefix: one event per exchange
//! (success and refusal), verification denial, revocation and publisher change, with
//! every field asserted; and the stream's `MAXLEN ~` cap. (The JSON log line of the same
//! events, in-memory store, is checked by `no_secrets_in_logs.rs`.)

use crate::observability;
use crate::support;

use std::collections::BTreeMap;

use observability::audit_stream::{
    StoredEvent, delete_prefix, local_redis, read_events, stream_len, unique_prefix,
};
use observability::sha256_hex;
use serde_json::json;
use support::{PROJECT, TestApp, now, spawn_app_with};
use trustmint_exchange::{NewPublisher, Verification, VerifyRequest};
use trustmint_grpc::pb;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::claims::GitHubClaims;

/// An app on the local Redis under `prefix`, with the audit stream capped at `maxlen`.
async fn spawn_on_redis(prefix: &str, maxlen: u64) -> TestApp {
    let prefix = prefix.to_owned();
    spawn_app_with(move |settings, _| {
        settings.store.backend = trustmint_store::Backend::Redis;
        settings.store.redis_url = observability::audit_stream::LOCAL_REDIS_URL.to_owned();
        settings.store.key_prefix = prefix;
        settings.store.audit_stream_maxlen = maxlen;
    })
    .await
}

/// `event` has exactly `expected` fields (besides `time`, which must lie in
/// `[from, to]`).
#[track_caller]
fn assert_event(event: &StoredEvent, expected: &[(&str, &str)], from: i64, to: i64) {
    let time: i64 = event
        .get("time")
        .and_then(|time| time.parse().ok())
        .unwrap_or_else(|| panic!("no time in {event:?}"));
    assert!(
        (from..=to).contains(&time),
        "time {time} not in [{from}, {to}]"
    );
    let actual: BTreeMap<&str, &str> = event
        .iter()
        .filter(|(name, _)| name.as_str() != "time")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let expected: BTreeMap<&str, &str> = expected.iter().copied().collect();
    for (name, value) in &expected {
        assert_eq!(
            actual.get(name),
            Some(value),
            "field {name}; the event: {event:#?}"
        );
    }
    let unexpected: Vec<&&str> = actual
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected fields {unexpected:?} in {event:#?}"
    );
}

#[tokio::test]
async fn every_kind_of_event_is_in_the_stream_field_by_field() {
    let mut redis = local_redis().await;
    let prefix = unique_prefix();
    let app = spawn_on_redis(&prefix, 1000).await;
    let issuer_url = app.issuer.url();
    let issuer = app.app.verifier().registry().issuers()[0].clone();
    let declared_id = app.app.list_publishers(PROJECT).await.expect("list")[0]
        .id
        .to_string();
    let started = now();

    // 1. A successful exchange.
    let claims = GitHubClaims::new()
        .environment("pypi")
        .git_ref("refs/tags/v1.2.3")
        .sha("0123456789abcdef0123456789abcdef01234567");
    let (status, body) = app.mint(&app.github_jwt(claims)).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let expires = body["expires"].as_i64().expect("expires").to_string();
    let token_id = trustmint_tokens::parse_token(&token, "pypi-")
        .expect("parse")
        .identifier
        .token_id;
    let token_sha256 = sha256_hex(&token);

    // 2. A refused exchange (no publisher for that workflow).
    let refused = app
        .mint(&app.github_jwt(GitHubClaims::new().workflow("ci.yml")))
        .await;
    assert_eq!(refused.0, 422, "{}", refused.1);
    let refusal_reason = refused.1["errors"][0]["description"]
        .as_str()
        .expect("description")
        .to_owned();

    // 3. A denied verification (over gRPC, as the index calls it).
    let mut client = TokenServiceClient::connect(format!("http://{}", app.grpc_addr))
        .await
        .expect("connect");
    let denied = client
        .verify_token(pb::VerifyTokenRequest {
            ecosystem: String::new(),
            token: token.clone(),
            project: "another-project".to_owned(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(!denied.allowed);
    // An allowed verification is not an audit event.
    let allowed = client
        .verify_token(pb::VerifyTokenRequest {
            ecosystem: String::new(),
            token: token.clone(),
            project: PROJECT.to_owned(),
        })
        .await
        .expect("verify")
        .into_inner();
    assert!(allowed.allowed, "{allowed:?}");

    // 4. A revocation.
    let (status, _) = app
        .post(
            "/_/oidc/revoke-token",
            json!({ "token": token }).to_string(),
        )
        .await;
    assert_eq!(status, 204);

    // 5. Publisher changes: create (pending), confirm, delete.
    let mut entry = support::github_publisher(&issuer_url, &["new-project"], "release");
    entry["repository_name"] = json!("other-repo");
    let spec = trustmint_publishers::parse_declaration(&entry)
        .expect("declaration")
        .spec;
    let created = app
        .app
        .create_publisher(NewPublisher {
            spec: spec.clone(),
            projects: vec!["New.Project".to_owned()],
            pending: true,
            policy: Default::default(),
        })
        .await
        .expect("create")
        .publisher;
    let publisher_id = created.id.to_string();
    app.app
        .confirm_publisher(&publisher_id)
        .await
        .expect("confirm");
    app.app
        .delete_publisher(&publisher_id)
        .await
        .expect("delete")
        .expect("deleted");
    let finished = now();

    let events = read_events(&mut redis, &prefix).await;
    delete_prefix(&mut redis, &prefix).await;
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "exchange",
            "exchange",
            "verify_denied",
            "revoke",
            "publisher_create",
            "publisher_confirm",
            "publisher_delete"
        ],
        "{events:#?}"
    );
    assert_event(
        &events[0],
        &[
            ("action", "exchange"),
            ("door", "pypi"),
            ("outcome", "success"),
            ("client_ip", "127.0.0.1"),
            ("issuer", &issuer_url),
            ("issuer_name", &issuer.name),
            ("subject", "repo:octo-org/sampleproject:environment:pypi"),
            ("repository", "octo-org/sampleproject"),
            ("workflow", "release.yml"),
            ("environment", "pypi"),
            ("ref", "refs/tags/v1.2.3"),
            ("sha", "0123456789abcdef0123456789abcdef01234567"),
            ("publisher_id", &declared_id),
            ("projects", PROJECT),
            ("token_id", &token_id),
            ("token_sha256", &token_sha256),
            ("expires_at", &expires),
        ],
        started,
        finished,
    );
    assert_event(
        &events[1],
        &[
            ("action", "exchange"),
            ("door", "pypi"),
            ("outcome", "failure"),
            ("code", "invalid-publisher"),
            ("reason", &refusal_reason),
            ("client_ip", "127.0.0.1"),
            ("issuer", &issuer_url),
            ("issuer_name", &issuer.name),
            ("subject", "repo:octo-org/sampleproject:ref:refs/heads/main"),
            // A refusal is attributed from the token's own claims.
            ("repository", "octo-org/sampleproject"),
            (
                "workflow",
                "octo-org/sampleproject/.github/workflows/ci.yml@refs/heads/main",
            ),
            ("ref", "refs/heads/main"),
            ("sha", "2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80"),
        ],
        started,
        finished,
    );
    assert_event(
        &events[2],
        &[
            ("action", "verify_denied"),
            ("outcome", "failure"),
            ("code", "denied"),
            ("reason", &denied.reason),
            ("projects", "another-project"),
            ("token_id", &token_id),
            ("token_sha256", &token_sha256),
        ],
        started,
        finished,
    );
    assert_event(
        &events[3],
        &[
            ("action", "revoke"),
            ("outcome", "success"),
            ("client_ip", "127.0.0.1"),
            ("token_id", &token_id),
            ("token_sha256", &token_sha256),
        ],
        started,
        finished,
    );
    for (event, action) in
        events[4..]
            .iter()
            .zip(["publisher_create", "publisher_confirm", "publisher_delete"])
    {
        assert_event(
            event,
            &[
                ("action", action),
                ("outcome", "success"),
                ("publisher_id", &publisher_id),
                ("issuer", &issuer_url),
                ("repository", &spec.describe()),
                ("projects", "new-project"),
            ],
            started,
            finished,
        );
    }
    // No event holds the token itself.
    for event in &events {
        for value in event.values() {
            assert!(!value.contains(&token), "token in {event:?}");
        }
    }
}

#[tokio::test]
async fn the_stream_is_capped_near_its_maxlen() {
    let mut redis = local_redis().await;
    let prefix = unique_prefix();
    const MAXLEN: u64 = 10;
    const EVENTS: usize = 250;
    let app = spawn_on_redis(&prefix, MAXLEN).await;
    // `MAXLEN ~` trims whole stream nodes only, so up to one node's worth of entries
    // beyond the cap may remain.
    let node_size: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("stream-node-max-entries")
        .query_async(&mut redis)
        .await
        .expect("CONFIG GET");
    let node_size: u64 = node_size[1].parse().expect("number");

    let mut last_token = String::new();
    for index in 0..EVENTS {
        // Denied verifications: each is one audit event.
        last_token = format!("pypi-not-a-token-{index}");
        let verification = app
            .app
            .verify(VerifyRequest {
                token: last_token.clone().into(),
                project: PROJECT.to_owned(),
            })
            .await
            .expect("verify runs");
        assert!(matches!(verification, Verification::Denied { .. }));
    }
    let length = stream_len(&mut redis, &prefix).await;
    let newest: Vec<(String, StoredEvent)> = redis::cmd("XREVRANGE")
        .arg(format!("{prefix}audit"))
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(&mut redis)
        .await
        .expect("XREVRANGE");
    delete_prefix(&mut redis, &prefix).await;

    assert!(
        (MAXLEN..=MAXLEN + node_size).contains(&length),
        "stream length {length} with MAXLEN ~ {MAXLEN} (node size {node_size}) after {EVENTS} events"
    );
    assert_eq!(
        newest[0].1.get("token_sha256"),
        Some(&sha256_hex(&last_token)),
        "the newest events are kept"
    );
}

#[tokio::test]
async fn a_burned_token_is_one_burn_event() {
    let mut redis = local_redis().await;
    let prefix = unique_prefix();
    let app = spawn_on_redis(&prefix, 1000).await;
    let (_, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    let token = body["token"].as_str().expect("token").to_owned();
    let token_id = trustmint_tokens::parse_token(&token, "pypi-")
        .expect("parse")
        .identifier
        .token_id;
    let started = now();
    let burn = json!({ "token": token }).to_string();
    assert_eq!(app.post("/_/oidc/burn-token", burn.clone()).await.0, 202);
    // A second burn finds nothing to revoke: no second event.
    assert_eq!(app.post("/_/oidc/burn-token", burn).await.0, 202);
    let finished = now();
    let events = read_events(&mut redis, &prefix).await;
    delete_prefix(&mut redis, &prefix).await;
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["exchange", "burn"], "{events:#?}");
    assert_event(
        &events[1],
        &[
            ("action", "burn"),
            ("outcome", "success"),
            ("client_ip", "127.0.0.1"),
            ("token_id", &token_id),
            ("token_sha256", &sha256_hex(&token)),
        ],
        started,
        finished,
    );
}
