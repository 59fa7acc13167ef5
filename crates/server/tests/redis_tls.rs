//! Redis over TLS (issue 17 §3): a TLS-only `redis-server` (`--port 0 --tls-port`) with
//! a certificate for 127.0.0.1/localhost from a throwaway CA (rcgen), and the service on
//! `rediss://127.0.0.1:PORT` with `[store] redis_ca_file`:
//! - trusting that CA, it mints over HTTP and verifies over gRPC;
//! - trusting another CA, the handshake fails: `/readyz` answers 503 and a mint 503
//!   `unavailable`, within the store timeout (never a 500 or a hang), and the log reports
//!   the failed store calls without the Redis password or the JWT;
//! - an unreadable or empty CA file stops startup with a message naming the key.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rcgen::ExtendedKeyUsagePurpose;
use serde_json::json;
use support::redis_setup::{OwnedRedis, use_redis};
use support::test_ca::TestCa;
use support::trustmint_process::{TrustmintProcess, grpc_verify};
use support::{
    PROJECT, assert_token_error, base_settings, github_publisher_toml, spawn_with_settings,
};
use tokio::task::block_in_place;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::redis_processes::RedisTlsFiles;

/// What a client is told when the store is down.
const UNAVAILABLE: &str = "a backend trustmint depends on is unavailable; retry later";
/// `store.timeout_ms` of these tests.
const TIMEOUT_MS: u64 = 300;
/// Scheduling slack on a loaded 2-core machine.
const MARGIN: Duration = Duration::from_millis(250);
/// The Redis password of the wrong-CA test: it must never reach the log.
const REDIS_PASSWORD: &str = "tls-test-password-7f3a9c";

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write a PEM file");
    path
}

/// A started TLS-only Redis with a certificate for 127.0.0.1 and localhost that `ca`
/// signed, and the path of `ca`'s PEM.
fn tls_redis(dir: &Path, ca: &TestCa) -> (OwnedRedis, PathBuf) {
    tls_redis_named(dir, ca, &["127.0.0.1", "localhost"])
}

fn tls_redis_named(dir: &Path, ca: &TestCa, names: &[&str]) -> (OwnedRedis, PathBuf) {
    let server = ca.sign(names, ExtendedKeyUsagePurpose::ServerAuth);
    let ca_file = write(dir, "redis-ca.pem", &ca.pem);
    let files = RedisTlsFiles {
        cert_file: write(dir, "redis.pem", &server.cert),
        key_file: write(dir, "redis.key", &server.key),
        ca_file: ca_file.clone(),
    };
    let redis = OwnedRedis::tls_on_free_port(files);
    block_in_place(|| redis.server.start());
    (redis, ca_file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_mints_and_verifies_on_a_tls_redis_it_trusts_through_redis_ca_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("trustmint redis test CA");
    let (redis, ca_file) = tls_redis(dir.path(), &ca);
    let url = redis.server.url();
    assert!(url.starts_with("rediss://127.0.0.1:"), "{url}");

    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    use_redis(&mut settings, &url);
    settings.store.redis_ca_file = ca_file.display().to_string();
    let app = spawn_with_settings(issuer, &settings).await;

    assert_eq!(
        app.get("/readyz").await,
        (200, r#"{"status":"ready"}"#.to_owned())
    );
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token");
    let answer = grpc_verify(app.grpc_addr, token, PROJECT)
        .await
        .expect("VerifyToken");
    assert!(answer.allowed, "{answer:?}");
    assert_eq!(answer.reason, "");
    assert_eq!(answer.projects, vec![PROJECT.to_owned()]);
    // the record really is in that Redis (over TLS, as the CLI sees it)
    let keys = block_in_place(|| redis.server.cli(&["dbsize"])).expect("DBSIZE over TLS");
    assert_ne!(keys.trim(), "0", "nothing was written to the TLS Redis");
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_name_of_the_url_must_be_in_the_certificate() {
    // A certificate for `localhost` only: trusted at `rediss://localhost`, refused at
    // `rediss://127.0.0.1` although the CA is the right one.
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = TestCa::new("trustmint redis test CA");
    let (redis, ca_file) = tls_redis_named(dir.path(), &ca, &["localhost"]);
    let by_ip = redis.server.url();
    let by_name = by_ip.replace("127.0.0.1", "localhost");
    for (url, expected) in [
        (
            by_ip,
            (503, r#"{"status":"unavailable","code":"unavailable"}"#),
        ),
        (by_name, (200, r#"{"status":"ready"}"#)),
    ] {
        let issuer = TestIssuer::start().await;
        let mut settings = base_settings(&issuer);
        use_redis(&mut settings, &url);
        settings.store.timeout_ms = TIMEOUT_MS;
        settings.store.redis_ca_file = ca_file.display().to_string();
        let app = spawn_with_settings(issuer, &settings).await;
        // the first ping may race the background connection: allow it a second try
        let mut answer = app.get("/readyz").await;
        if answer.0 != expected.0 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            answer = app.get("/readyz").await;
        }
        assert_eq!(answer, (expected.0, expected.1.to_owned()), "{url}");
    }
}

/// The config of a `trustmint serve` on a TLS Redis (the URL, which carries the
/// password, comes from the environment).
fn process_config(issuer: &TestIssuer, ca_file: &Path) -> String {
    format!(
        r#"[store]
backend = "redis"
redis_ca_file = "{ca_file}"
key_prefix = "{prefix}"
timeout_ms = {TIMEOUT_MS}

[rate_limit]
enabled = false

{publisher}"#,
        ca_file = ca_file.display(),
        prefix = trustmint_testkit::redis_processes::unique_prefix(),
        publisher = github_publisher_toml(&issuer.url()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_certificate_from_another_ca_fails_closed_and_leaks_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (redis, _) = tls_redis(dir.path(), &TestCa::new("the CA Redis uses"));
    let reply = block_in_place(|| {
        redis
            .server
            .cli(&["config", "set", "requirepass", REDIS_PASSWORD])
    });
    assert_eq!(reply.as_deref().map(str::trim), Some("OK"));
    let wrong_ca = write(
        dir.path(),
        "other-ca.pem",
        &TestCa::new("a CA trustmint trusts").pem,
    );
    let port = redis
        .server
        .url()
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned();
    let url = format!("rediss://:{REDIS_PASSWORD}@127.0.0.1:{port}");

    let issuer = TestIssuer::start().await;
    let process = TrustmintProcess::start_with_env(
        &process_config(&issuer, &wrong_ca),
        &[("TRUSTMINT__STORE__REDIS_URL", &url)],
    )
    .await;
    let client = reqwest::Client::new();
    let bound = Duration::from_millis(TIMEOUT_MS) + MARGIN;

    // The handshake fails on every attempt: the store is down as far as callers know.
    let started = Instant::now();
    let readyz = client
        .get(format!("{}/readyz", process.http))
        .send()
        .await
        .expect("readyz answered");
    let took = started.elapsed();
    assert_eq!(readyz.status().as_u16(), 503);
    assert_eq!(
        readyz.text().await.expect("body"),
        r#"{"status":"unavailable","code":"unavailable"}"#
    );
    assert!(took <= bound, "/readyz took {took:?}");

    let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", support::now()));
    let started = Instant::now();
    let response = client
        .post(format!("{}/_/oidc/mint-token", process.http))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("mint answered");
    let took = started.elapsed();
    let status = response.status().as_u16();
    let body = serde_json::from_str(&response.text().await.expect("body")).expect("JSON body");
    assert_token_error(&(status, body), 503, "unavailable", UNAVAILABLE);
    assert!(took <= bound, "the refused mint took {took:?}");

    let log = without_ansi_colours(&process.stop().await);
    // The failed calls are logged, by operation; the reason is the TLS error
    // (`certificate verify failed`) when the call itself hit the handshake, a timeout
    // when it waited on the connection's background reconnection.
    for op in ["ping", "publisher_candidates"] {
        assert!(
            log.contains(&format!("store call failed op=\"{op}\"")),
            "the log does not report the failed {op}:\n{log}"
        );
    }
    assert!(
        !log.contains(REDIS_PASSWORD),
        "the Redis password was logged:\n{log}"
    );
    assert!(!log.contains(&jwt), "the JWT was logged");
    assert!(!log.contains("panicked"), "{log}");
    drop(redis);
}

/// `log` without the terminal colour sequences (`ESC [ … m`) of the text log format.
fn without_ansi_colours(log: &str) -> String {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[tokio::test]
async fn an_unusable_redis_ca_file_stops_startup_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.pem");
    let empty = write(dir.path(), "empty.pem", "");
    let garbled = write(
        dir.path(),
        "garbled.pem",
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    let issuer = TestIssuer::start().await;
    let mut settings = base_settings(&issuer);
    use_redis(&mut settings, "rediss://127.0.0.1:6380");
    for (file, expected) in [
        (
            &missing,
            format!("store.redis_ca_file: cannot read '{}'", missing.display()),
        ),
        (
            &empty,
            format!(
                "store.redis_ca_file: '{}' holds no PEM certificate",
                empty.display()
            ),
        ),
        (
            &garbled,
            "store.redis_ca_file: Unable to parse root certificate PEM".to_owned(),
        ),
    ] {
        settings.store.redis_ca_file = file.display().to_string();
        let error = match trustmint::Application::build(&settings).await {
            Err(error @ trustmint::StartupError::Config(_)) => error.to_string(),
            Err(other) => panic!("not a configuration error: {other}"),
            Ok(_) => panic!("{} was accepted", file.display()),
        };
        assert!(error.contains(&expected), "{error}");
    }
}
