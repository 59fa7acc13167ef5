//! SIGHUP reloads `[keys]` in a running `trustmint serve` (issue 17 §4): a new current
//! key mints from then on while tokens of the older key keep verifying; an invalid
//! configuration is refused, logged and counted, and the keyring in force stays; a
//! removed key id stops verifying. `trustmint_config_reloads_total{result}` counts each.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::trustmint_process::{TrustmintProcess, grpc_verify};
use support::{PROJECT, now};
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::parse_token;

/// 32-byte secrets, base64 (`trustmint-replica-test-secret-32`, `trustmint-reload-test-secret-k2!`).
const SECRET_K1: &str = "dHJ1c3RtaW50LXJlcGxpY2EtdGVzdC1zZWNyZXQtMzI=";
const SECRET_K2: &str = "dHJ1c3RtaW50LXJlbG9hZC10ZXN0LXNlY3JldC1rMiE=";
const DEADLINE: Duration = Duration::from_secs(20);

fn keys(current: &str, secrets: &[(&str, &str)]) -> String {
    let mut text = format!("[keys]\ncurrent = \"{current}\"\n\n[keys.secrets]\n");
    for (id, secret) in secrets {
        text.push_str(&format!("{id} = \"{secret}\"\n"));
    }
    text
}

fn config(issuer: &TestIssuer, keys: &str) -> String {
    format!(
        r#"[rate_limit]
enabled = false

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

{keys}"#,
        url = issuer.url()
    )
}

/// Rewrites the `[keys]` part of the running process's config file.
fn rewrite_keys(process: &TrustmintProcess, old: &str, new: &str) {
    let path = process.config_path();
    let text = std::fs::read_to_string(&path).expect("config");
    assert!(text.contains(old), "config holds the old [keys]");
    std::fs::write(&path, text.replace(old, new)).expect("write config");
}

/// Mints over HTTP; returns the token and the key id it was minted with.
async fn mint(process: &TrustmintProcess, issuer: &TestIssuer) -> (String, String) {
    let jwt = issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now()));
    let response = reqwest::Client::new()
        .post(format!("{}/_/oidc/mint-token", process.http))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let body: serde_json::Value =
        serde_json::from_str(&response.text().await.expect("body")).expect("JSON");
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let key_id = parse_token(&token, "pypi-")
        .expect("a pypi- token")
        .identifier
        .key_id;
    (token, key_id)
}

async fn allowed(process: &TrustmintProcess, token: &str) -> bool {
    grpc_verify(process.grpc_addr, token, PROJECT)
        .await
        .expect("VerifyToken answers")
        .allowed
}

/// Waits until `/metrics` shows `trustmint_config_reloads_total{result}` at `count`.
async fn wait_for_reloads(process: &TrustmintProcess, result: &str, count: u64) {
    let series = format!("trustmint_config_reloads_total{{result=\"{result}\"}} {count}");
    let started = Instant::now();
    loop {
        let metrics = reqwest::get(format!("{}/metrics", process.http))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        if metrics.lines().any(|line| line == series) {
            return;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "no `{series}` within {DEADLINE:?}:\n{metrics}\n{}",
            process.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rotates_the_minting_key_and_refuses_an_invalid_config() {
    let issuer = TestIssuer::start().await;
    let only_k1 = keys("k1", &[("k1", SECRET_K1)]);
    let process = TrustmintProcess::start(&config(&issuer, &only_k1)).await;
    let (old_token, key_id) = mint(&process, &issuer).await;
    assert_eq!(key_id, "k1");

    // Rotation step 2 and 1 at once: k2 added and made current.
    let k2_current = keys("k2", &[("k1", SECRET_K1), ("k2", SECRET_K2)]);
    rewrite_keys(&process, &only_k1, &k2_current);
    process.send_signal("HUP");
    wait_for_reloads(&process, "ok", 1).await;
    let (new_token, key_id) = mint(&process, &issuer).await;
    assert_eq!(key_id, "k2", "the new current key mints");
    assert!(allowed(&process, &new_token).await);
    assert!(
        allowed(&process, &old_token).await,
        "k1 tokens still verify"
    );

    // An invalid config (current key without a secret) is refused; k2 stays in force.
    let broken = keys("k3", &[("k1", SECRET_K1), ("k2", SECRET_K2)]);
    rewrite_keys(&process, &k2_current, &broken);
    process.send_signal("HUP");
    wait_for_reloads(&process, "error", 1).await;
    let (_, key_id) = mint(&process, &issuer).await;
    assert_eq!(key_id, "k2", "the refused reload changed nothing");
    assert!(allowed(&process, &old_token).await);
    let log = process.log();
    let names_the_key = log.contains(r#"current key id "k3" has no secret"#)
        || log.contains(r#"current key id \"k3\" has no secret"#);
    assert!(
        log.contains("configuration reload refused") && names_the_key,
        "the refusal names the key:\n{log}"
    );

    // Rotation step 3: k1 removed; its tokens stop verifying, k2's do not.
    let only_k2 = keys("k2", &[("k2", SECRET_K2)]);
    rewrite_keys(&process, &broken, &only_k2);
    process.send_signal("HUP");
    wait_for_reloads(&process, "ok", 2).await;
    assert!(!allowed(&process, &old_token).await, "k1 was removed");
    assert!(allowed(&process, &new_token).await);

    let output = process.stop().await;
    for secret in [SECRET_K1, SECRET_K2] {
        assert!(!output.contains(secret), "a key secret was logged");
    }
}
