//! SIGTERM under load (issue 17 §4): two real `trustmint` processes behind one Redis and a
//! client-side load balancer that routes only to replicas whose `/readyz` answers 200,
//! as a Kubernetes Service does. Replica A gets SIGTERM while it serves the load and
//! while one slow exchange is in flight on it; A must report not-ready first, keep
//! serving through `[server] shutdown_drain_delay_ms`, let the slow request finish and
//! exit 0 — and no request of the load may fail.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::redis_setup::{SHARED_KEY_ID, SHARED_KEY_SECRET, unique_prefix};
use support::trustmint_process::{TrustmintProcess, grpc_verify};
use support::{PROJECT, now};
use tokio::sync::Mutex;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// Concurrent clients of the load.
const CLIENTS: usize = 4;
/// How often the balancer polls `/readyz` (a fast Kubernetes readiness probe).
const PROBE_INTERVAL: Duration = Duration::from_millis(100);
/// How long the slow issuer takes per response: the in-flight exchange on A outlives
/// the drain delay, so it is still running when A closes its listeners.
const SLOW_ISSUER_DELAY: Duration = Duration::from_millis(1_500);
/// `[server] shutdown_drain_delay_ms` of the replicas.
const DRAIN_DELAY_MS: &str = "1000";

fn config(issuer: &TestIssuer, slow_issuer: &TestIssuer, key_prefix: &str) -> String {
    let publisher = |issuer: &TestIssuer| {
        format!(
            r#"
[[issuers]]
url = "{url}"
kind = "github"

[[publishers]]
kind = "github"
issuer = "{url}"
projects = ["{PROJECT}"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "sampleproject"
workflow_filename = "release.yml"
"#,
            url = issuer.url()
        )
    };
    format!(
        r#"
[store]
backend = "redis"
redis_url = "redis://127.0.0.1:6379"
key_prefix = "{key_prefix}"

[rate_limit]
enabled = false

[keys]
current = "{SHARED_KEY_ID}"

[keys.secrets]
{SHARED_KEY_ID} = "{SHARED_KEY_SECRET}"
{}{}"#,
        publisher(issuer),
        publisher(slow_issuer)
    )
}

/// The replicas the balancer may route to, and what it saw of A's readiness.
struct Balancer {
    replicas: Vec<(String, std::net::SocketAddr)>,
    routable: Mutex<Vec<bool>>,
    next: AtomicUsize,
    a_reported_not_ready: AtomicBool,
}

impl Balancer {
    async fn pick(&self) -> Option<usize> {
        let routable = self.routable.lock().await;
        for _ in 0..routable.len() {
            let index = self.next.fetch_add(1, Ordering::Relaxed) % routable.len();
            if routable[index] {
                return Some(index);
            }
        }
        None
    }

    /// One probe round: a replica is routable while `/readyz` answers 200.
    async fn probe(&self, client: &reqwest::Client) {
        for (index, (http, _)) in self.replicas.iter().enumerate() {
            let status = client
                .get(format!("{http}/readyz"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .map(|response| response.status().as_u16());
            if index == 0 && matches!(status, Ok(503)) {
                self.a_reported_not_ready.store(true, Ordering::SeqCst);
            }
            self.routable.lock().await[index] = matches!(status, Ok(200));
        }
    }
}

/// Mints over HTTP on `http`; returns the token.
async fn mint(client: &reqwest::Client, http: &str, jwt: &str) -> Result<String, String> {
    let response = client
        .post(format!("{http}/_/oidc/mint-token"))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .send()
        .await
        .map_err(|error| format!("mint on {http}: {error}"))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|error| format!("mint on {http}: {error}"))?;
    let body: Value =
        serde_json::from_str(&text).map_err(|error| format!("mint on {http}: {error}: {text}"))?;
    if status != 200 {
        return Err(format!("mint on {http}: {status} {body}"));
    }
    Ok(body["token"].as_str().unwrap_or_default().to_owned())
}

/// Verifies `token` over gRPC at `grpc`.
async fn verify(grpc: std::net::SocketAddr, token: &str) -> Result<(), String> {
    let answer = grpc_verify(grpc, token, PROJECT)
        .await
        .map_err(|status| format!("VerifyToken on {grpc}: {status}"))?;
    if answer.allowed {
        Ok(())
    } else {
        Err(format!("VerifyToken on {grpc}: denied {answer:?}"))
    }
}

/// Mints over HTTP on a replica, then verifies the token over gRPC on the same one.
async fn exchange_and_verify(
    client: &reqwest::Client,
    (http, grpc): &(String, std::net::SocketAddr),
    jwt: &str,
) -> Result<(), String> {
    let token = mint(client, http, jwt).await?;
    verify(*grpc, &token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_drains_without_a_failed_request() {
    support::redis_setup::require_local_redis();
    let issuer = TestIssuer::start().await;
    let slow_issuer = TestIssuer::start().await;
    let config = config(&issuer, &slow_issuer, &unique_prefix());
    let env = [
        ("TRUSTMINT__SERVER__SHUTDOWN_DRAIN_DELAY_MS", DRAIN_DELAY_MS),
        ("TRUSTMINT__SERVER__SHUTDOWN_GRACE_SECS", "10"),
    ];
    let mut a = TrustmintProcess::start_with_env(&config, &env).await;
    let b = TrustmintProcess::start_with_env(&config, &env).await;
    let balancer = Arc::new(Balancer {
        replicas: vec![(a.http.clone(), a.grpc_addr), (b.http.clone(), b.grpc_addr)],
        routable: Mutex::new(vec![true, true]),
        next: AtomicUsize::new(0),
        a_reported_not_ready: AtomicBool::new(false),
    });
    let issuer = Arc::new(issuer);
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));

    let prober = {
        let (balancer, client, stop) = (balancer.clone(), client.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                balancer.probe(&client).await;
                tokio::time::sleep(PROBE_INTERVAL).await;
            }
        })
    };
    // Requests served per replica, and every failure.
    let served = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (balancer, client, stop) = (balancer.clone(), client.clone(), stop.clone());
        let (served, failures, issuer) = (served.clone(), failures.clone(), issuer.clone());
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let Some(index) = balancer.pick().await else {
                    failures.lock().await.push("no replica routable".to_owned());
                    tokio::time::sleep(PROBE_INTERVAL).await;
                    continue;
                };
                let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now()));
                match exchange_and_verify(&client, &balancer.replicas[index], &jwt).await {
                    Ok(()) => {
                        served[index].fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => failures.lock().await.push(error),
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(1_000)).await;
    // The slow exchange: the slow issuer's keys are not cached yet, and fetching them
    // takes longer than A's drain delay.
    slow_issuer.set_response_delay(SLOW_ISSUER_DELAY);
    let slow_jwt = slow_issuer.sign(&GitHubClaims::new().build(&slow_issuer.url(), "pypi", now()));
    let slow = {
        let (client, http) = (client.clone(), a.http.clone());
        tokio::spawn(async move { mint(&client, &http, &slow_jwt).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let served_by_a_before = served[0].load(Ordering::SeqCst);
    a.send_sigterm();
    let exit = a.wait_exit().await;
    let served_by_b_at_a_exit = served[1].load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("load client");
    }
    prober.await.expect("prober");

    let log = a.log();
    let exit = exit.unwrap_or_else(|| panic!("A did not exit after SIGTERM:\n{log}"));
    assert!(exit.success(), "A exited with {exit}:\n{log}");
    // The exchange in flight on A at SIGTERM finished, and its token is in Redis.
    let slow_token = slow
        .await
        .expect("slow request")
        .unwrap_or_else(|error| panic!("the exchange in flight on A at SIGTERM: {error}\n{log}"));
    assert_eq!(verify(b.grpc_addr, &slow_token).await, Ok(()));
    let failures = failures.lock().await;
    assert!(
        failures.is_empty(),
        "{} failed requests: {failures:#?}\nA:\n{log}",
        failures.len()
    );
    assert!(
        balancer.a_reported_not_ready.load(Ordering::SeqCst),
        "A's /readyz never answered 503 before its listener closed:\n{log}"
    );
    assert!(served_by_a_before > 0, "A served nothing before SIGTERM");
    assert!(
        served[1].load(Ordering::SeqCst) > served_by_b_at_a_exit,
        "B served nothing after A exited"
    );
    assert!(log.contains("shutdown complete"), "A's log:\n{log}");
    drop(b);
}
