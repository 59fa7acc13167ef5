//! Rate limiting of mint-token per client IP, end to end: past the burst a client gets
//! 429 `rate-limited` in PyPI's body with an honest `Retry-After`; replicas on one Redis
//! share one budget per client, the memory backend limits per process; the client is the
//! socket peer unless `[rate_limit] trusted_proxies` says to believe its
//! `X-Forwarded-For`.

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use support::redis_setup::{TestCluster, replica_settings, spawn_replicas, use_local_redis};
use support::trustmint_process::token_client;
use support::{TestApp, spawn_app_with};
use trustmint::Settings;
use trustmint_grpc::pb;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// Requests a client may make at once.
const BURST: u32 = 3;
/// One request per two seconds once the burst is spent: a window wide enough that the
/// burst and the request past it land inside it even on a loaded machine.
const REQUESTS_PER_SECOND: f64 = 0.5;

/// A mint-token answer with the headers that matter here.
#[derive(Debug)]
struct Answer {
    jwt: String,
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

/// POSTs a mint-token request for `jwt` to `path`, optionally with `X-Forwarded-For`.
async fn mint_at(app: &TestApp, path: &str, jwt: String, forwarded_for: Option<&str>) -> Answer {
    let mut request = app
        .client
        .post(format!("{}{path}", app.http))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string());
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("x-forwarded-for", forwarded_for);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    Answer {
        jwt,
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        retry_after,
    }
}

/// A fresh JWT (signed by `signer`'s issuer) minted through `app`.
async fn mint(app: &TestApp, signer: &TestApp, forwarded_for: Option<&str>) -> Answer {
    let jwt = signer.github_jwt(GitHubClaims::new());
    mint_at(app, "/_/oidc/mint-token", jwt, forwarded_for).await
}

#[track_caller]
fn assert_minted(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 200, "{what}: {}", answer.body);
    assert_eq!(answer.body["success"], true, "{what}");
}

/// Asserts a 429 `rate-limited` in PyPI's body whose description and `Retry-After` agree;
/// returns the seconds to wait.
#[track_caller]
fn assert_rate_limited(answer: &Answer, what: &str) -> u64 {
    assert_eq!(answer.status, 429, "{what}: {}", answer.body);
    let retry_after: u64 = answer
        .retry_after
        .as_deref()
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in whole seconds");
    let interval = (1.0 / REQUESTS_PER_SECOND) as u64;
    assert!(
        (1..=interval).contains(&retry_after),
        "{what}: Retry-After {retry_after}"
    );
    let expected = json!({
        "message": "Token request failed",
        "errors": [{
            "code": "rate-limited",
            "description": format!(
                "too many token requests from this client; retry in {retry_after} s"
            ),
        }],
    });
    assert_eq!(answer.body, expected, "{what}");
    retry_after
}

/// Limits of `BURST` at `REQUESTS_PER_SECOND`, with `trusted_proxies`.
fn limit(settings: &mut Settings, trusted_proxies: &[&str]) {
    settings.rate_limit.enabled = true;
    settings.rate_limit.requests_per_second = REQUESTS_PER_SECOND;
    settings.rate_limit.burst = BURST;
    settings.rate_limit.trusted_proxies = trusted_proxies
        .iter()
        .map(|net| net.parse().expect("a network"))
        .collect();
}

/// An app with the limits on the local Redis (its own key prefix).
async fn spawn_limited_on_redis(trusted_proxies: &[&str]) -> TestApp {
    spawn_app_with(|settings, _| {
        use_local_redis(settings);
        limit(settings, trusted_proxies);
    })
    .await
}

#[tokio::test]
async fn the_mint_past_the_burst_is_429_with_an_honest_retry_after() {
    let app = spawn_limited_on_redis(&[]).await;
    for i in 1..=BURST {
        assert_minted(&mint(&app, &app, None).await, &format!("mint {i}"));
    }
    let limited = mint(&app, &app, None).await;
    let wait = assert_rate_limited(&limited, "the mint past the burst");
    // The legacy alias is the same endpoint and the same budget.
    let jwt = app.github_jwt(GitHubClaims::new());
    assert_rate_limited(
        &mint_at(&app, "/_/oidc/github/mint-token", jwt, None).await,
        "the legacy alias",
    );

    // The limit applies before the JWT is looked at, so the refused JWT is not burnt:
    // after Retry-After, the same JWT mints.
    tokio::time::sleep(Duration::from_secs(wait) + Duration::from_millis(50)).await;
    assert_minted(
        &mint_at(&app, "/_/oidc/mint-token", limited.jwt, None).await,
        "the refused JWT, after Retry-After",
    );
}

#[tokio::test]
async fn replicas_on_one_redis_share_one_budget_per_client() {
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    use_local_redis(&mut settings);
    limit(&mut settings, &[]);
    let (a, b) = spawn_replicas(issuer, &settings).await;

    assert_minted(&mint(&a, &a, None).await, "1st, on A");
    assert_minted(&mint(&b, &a, None).await, "2nd, on B");
    assert_minted(&mint(&a, &a, None).await, "3rd, on A");
    assert_rate_limited(&mint(&b, &a, None).await, "4th, on B");
    assert_rate_limited(&mint(&a, &a, None).await, "5th, on A");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_a_redis_cluster_share_one_budget_per_client() {
    let cluster = tokio::task::block_in_place(TestCluster::start);
    let issuer = TestIssuer::start().await;
    let mut settings = replica_settings(&issuer);
    support::redis_setup::use_cluster(&mut settings, cluster.urls());
    limit(&mut settings, &[]);
    let (a, b) = spawn_replicas(issuer, &settings).await;

    assert_minted(&mint(&a, &a, None).await, "1st, on A");
    assert_minted(&mint(&b, &a, None).await, "2nd, on B");
    assert_minted(&mint(&b, &a, None).await, "3rd, on B");
    assert_rate_limited(&mint(&a, &a, None).await, "4th, on A");
    drop((a, b));
    tokio::task::block_in_place(move || drop(cluster));
}

#[tokio::test]
async fn the_memory_backend_limits_each_process_on_its_own() {
    let a = spawn_app_with(|settings, _| limit(settings, &[])).await;
    let b = spawn_app_with(|settings, _| limit(settings, &[])).await;
    for i in 1..=BURST {
        assert_minted(&mint(&a, &a, None).await, &format!("mint {i} on A"));
    }
    assert_rate_limited(&mint(&a, &a, None).await, "past the burst on A");
    // B keeps its own budget for the same client.
    for i in 1..=BURST {
        assert_minted(&mint(&b, &b, None).await, &format!("mint {i} on B"));
    }
    assert_rate_limited(&mint(&b, &b, None).await, "past the burst on B");
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    // No trusted proxies: every request counts against the socket peer, 127.0.0.1, so
    // a client cannot pick a fresh bucket by inventing X-Forwarded-For.
    let app = spawn_limited_on_redis(&[]).await;
    for i in 1..=BURST {
        let forwarded = format!("198.51.100.{i}");
        assert_minted(
            &mint(&app, &app, Some(&forwarded)).await,
            &format!("as {forwarded}"),
        );
    }
    assert_rate_limited(
        &mint(&app, &app, Some("198.51.100.99")).await,
        "a new forwarded address from the same peer",
    );
    assert_rate_limited(&mint(&app, &app, None).await, "no header");
}

#[tokio::test]
async fn forwarded_for_from_a_trusted_proxy_picks_the_client_bucket() {
    let app = spawn_limited_on_redis(&["127.0.0.1/32"]).await;
    let client = "203.0.113.10";
    for i in 1..=BURST {
        assert_minted(
            &mint(&app, &app, Some(client)).await,
            &format!("mint {i} of {client}"),
        );
    }
    assert_rate_limited(&mint(&app, &app, Some(client)).await, "past the burst");
    // The same client behind a second trusted hop, and a client that prepends a made-up
    // address (the proxy appends the real one): both are still 203.0.113.10.
    assert_rate_limited(
        &mint(&app, &app, Some("203.0.113.10, 127.0.0.1")).await,
        "behind two proxies",
    );
    assert_rate_limited(
        &mint(&app, &app, Some("192.0.2.77, 203.0.113.10")).await,
        "with a spoofed first hop",
    );
    // Other clients behind the same proxy have their own budgets, and so has the proxy.
    assert_minted(
        &mint(&app, &app, Some("203.0.113.20")).await,
        "another client",
    );
    assert_minted(&mint(&app, &app, None).await, "the proxy itself");
}

#[tokio::test]
async fn grpc_mint_is_limited_per_client_ip_the_index_reports() {
    let app = spawn_limited_on_redis(&[]).await;
    let mut grpc = token_client(app.grpc_addr).await;
    let request = || pb::MintTokenRequest {
        oidc_token: app.github_jwt(GitHubClaims::new()),
        client_ip: "192.0.2.5".to_owned(),
    };
    for i in 1..=BURST {
        let minted = grpc
            .mint_token(request())
            .await
            .unwrap_or_else(|status| panic!("MintToken {i}: {status}"))
            .into_inner();
        assert_eq!(minted.projects, vec![support::PROJECT.to_owned()]);
    }
    let status = grpc
        .mint_token(request())
        .await
        .expect_err("past the burst");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status}");
    let retry = status
        .message()
        .strip_prefix("rate-limited: too many token requests from this client; retry in ")
        .and_then(|rest| rest.strip_suffix(" s"))
        .and_then(|secs| secs.parse::<u64>().ok());
    assert!(
        matches!(retry, Some(1..=2)),
        "message: {}",
        status.message()
    );
    // The index's own address (the HTTP peer) is a different client.
    assert_minted(&mint(&app, &app, None).await, "HTTP from 127.0.0.1");
}
