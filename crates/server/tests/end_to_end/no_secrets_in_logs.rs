//! Secrets never reach the logs. A real `trustmint serve` process logs JSON at
//! `RUST_LOG=trace` (every crate, dependencies included) through a full exchange, gRPC
//! verifications (allowed and denied), a revocation, a tampered JWT, a replay and a
//! wrong gRPC credential; its whole stdout and stderr must hold none of the JWTs (nor
//! their signature or claims segments), the minted token (nor its body or macaroon
//! signature), the minting key, or the gRPC auth tokens — while the audit lines, with
//! the token's SHA-256, prove that logging happened. The audit line of the exchange is
//! checked field by field (in-memory store: the log is the only audit record).

use crate::observability;
use crate::support;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use observability::github_issuer_config;
use observability::sha256_hex;
use serde_json::{Value, json};
use support::trustmint_process::TrustmintProcess;
use support::{PROJECT, now};
use trustmint_grpc::pb;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;

/// Base64 of 32 bytes that appear nowhere else.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    STANDARD.encode(bytes)
}

/// The same JWT with one character of its signature changed.
fn tampered(jwt: &str) -> String {
    let split = jwt.rfind('.').expect("a JWT") + 10;
    let (head, tail) = jwt.split_at(split);
    let replacement = if tail.starts_with('A') { "B" } else { "A" };
    format!("{head}{replacement}{}", &tail[1..])
}

fn with_auth<T>(message: T, auth_token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {auth_token}").parse().expect("metadata"),
    );
    request
}

/// The `event` JSON of every audit line in `output`.
fn audit_events(output: &str) -> Vec<Value> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["target"] == "trustmint::audit")
        .map(|line| {
            serde_json::from_str(line["event"].as_str().expect("event field")).expect("event JSON")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_exchange_at_trace_level_logs_no_secret() {
    let issuer = TestIssuer::start().await;
    let key_secret = random_secret();
    let auth_token = format!("grpc-auth-{}", uuid::Uuid::new_v4().simple());
    let wrong_auth_token = format!("wrong-auth-{}", uuid::Uuid::new_v4().simple());
    let config = format!(
        "[telemetry]\nlog_format = \"json\"\n\n[keys]\ncurrent = \"k1\"\n\n[keys.secrets]\nk1 = \"{key_secret}\"\n\n\
         [grpc]\nauth_token = \"{auth_token}\"\n\n{}",
        github_issuer_config(&issuer.url())
    );
    let process = TrustmintProcess::start_with_env(&config, &[("RUST_LOG", "trace")]).await;
    let http = reqwest::Client::new();
    let mint = |jwt: String| {
        let request = http
            .post(format!("{}/_/oidc/mint-token", process.http))
            .body(json!({ "token": jwt }).to_string());
        async move {
            let response = request.send().await.expect("mint-token");
            let status = response.status().as_u16();
            let body: Value =
                serde_json::from_str(&response.text().await.expect("body")).expect("JSON body");
            (status, body)
        }
    };

    let claims = GitHubClaims::new()
        .environment("pypi")
        .git_ref("refs/tags/v2.0.0");
    let started = now();
    let jwt = issuer.sign(&claims.build(&issuer.url(), "pypi", now()));
    let (status, body) = mint(jwt.clone()).await;
    assert_eq!(status, 200, "{body}\n{}", process.log());
    let token = body["token"].as_str().expect("token").to_owned();

    let mut client = TokenServiceClient::connect(format!("http://{}", process.grpc_addr))
        .await
        .expect("connect");
    let verify = |project: &str| pb::VerifyTokenRequest {
        ecosystem: String::new(),
        token: token.clone(),
        project: project.to_owned(),
    };
    let allowed = client
        .verify_token(with_auth(verify(PROJECT), &auth_token))
        .await
        .expect("verify")
        .into_inner();
    assert!(allowed.allowed, "{allowed:?}");
    let denied = client
        .verify_token(with_auth(verify("another-project"), &auth_token))
        .await
        .expect("verify")
        .into_inner();
    assert!(!denied.allowed);
    let unauthenticated = client
        .verify_token(with_auth(verify(PROJECT), &wrong_auth_token))
        .await
        .expect_err("wrong credential");
    assert_eq!(unauthenticated.code(), tonic::Code::Unauthenticated);
    let revoked = client
        .revoke_token(with_auth(
            pb::RevokeTokenRequest {
                token: token.clone(),
                client_ip: String::new(),
            },
            &auth_token,
        ))
        .await
        .expect("revoke")
        .into_inner();
    assert!(revoked.revoked);

    let forged = tampered(&issuer.sign(&GitHubClaims::new().build(&issuer.url(), "pypi", now())));
    let (status, body) = mint(forged.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["code"], "invalid-token");
    let (status, body) = mint(jwt.clone()).await;
    assert_eq!(
        body["errors"][0]["code"], "invalid-reuse-token",
        "{status} {body}"
    );
    let finished = now();

    let output = process.stop().await;

    // Secrets, and every part of them that identifies them.
    let macaroon = trustmint_tokens::parse_token(&token, "pypi-")
        .expect("parse")
        .macaroon;
    let token_body = &token["pypi-".len()..];
    let jwt_parts: Vec<&str> = jwt.split('.').collect();
    let forged_signature = forged.rsplit('.').next().expect("signature");
    let key_bytes = STANDARD.decode(&key_secret).expect("base64");
    let secrets: Vec<(&str, String)> = vec![
        ("JWT", jwt.clone()),
        ("JWT claims segment", jwt_parts[1].to_owned()),
        ("JWT signature segment", jwt_parts[2].to_owned()),
        ("tampered JWT", forged.clone()),
        ("tampered JWT signature", forged_signature.to_owned()),
        ("minted token", token.clone()),
        ("minted token body", token_body.to_owned()),
        ("macaroon signature (hex)", hex::encode(macaroon.signature)),
        (
            "macaroon signature (base64)",
            URL_SAFE_NO_PAD.encode(macaroon.signature),
        ),
        (
            "macaroon signature (std base64)",
            STANDARD.encode(macaroon.signature),
        ),
        ("minting key", key_secret.clone()),
        ("minting key (hex)", hex::encode(&key_bytes)),
        (
            "minting key (url-safe base64)",
            URL_SAFE_NO_PAD.encode(&key_bytes),
        ),
        ("gRPC auth token", auth_token.clone()),
        ("wrong gRPC auth token", wrong_auth_token.clone()),
    ];
    for (what, secret) in &secrets {
        if let Some(at) = output.find(secret.as_str()) {
            let line_start = output[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = output[at..].find('\n').map_or(output.len(), |i| at + i);
            panic!(
                "the {what} appears in the log:\n{}",
                &output[line_start..line_end]
            );
        }
    }

    // Logging happened, at trace level, as JSON: the audit lines name the token by hash.
    let token_sha256 = sha256_hex(&token);
    assert!(
        output.contains(&token_sha256),
        "no audit line with the token hash"
    );
    assert!(
        output
            .lines()
            .filter(|line| line.contains("\"TRACE\""))
            .count()
            > 10,
        "RUST_LOG=trace produced no trace lines"
    );
    let unparsable: Vec<&str> = output
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter(|line| serde_json::from_str::<Value>(line).is_err())
        .collect();
    assert!(unparsable.is_empty(), "non-JSON log lines: {unparsable:#?}");

    let events = audit_events(&output);
    let actions: Vec<&str> = events
        .iter()
        .map(|event| event["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "exchange",
            "verify_denied",
            "revoke",
            "exchange",
            "exchange"
        ],
        "{events:#?}"
    );
    let exchange = &events[0];
    let time = exchange["time"].as_i64().expect("time");
    assert!((started..=finished).contains(&time), "time {time}");
    let token_id = trustmint_tokens::parse_token(&token, "pypi-")
        .expect("parse")
        .identifier
        .token_id;
    for (field, expected) in [
        ("outcome", json!("success")),
        ("code", json!("")),
        ("client_ip", json!("127.0.0.1")),
        ("issuer", json!(issuer.url())),
        (
            "subject",
            json!("repo:octo-org/sampleproject:environment:pypi"),
        ),
        ("repository", json!("octo-org/sampleproject")),
        ("workflow", json!("release.yml")),
        ("environment", json!("pypi")),
        ("ref", json!("refs/tags/v2.0.0")),
        ("sha", json!("2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80")),
        ("projects", json!(PROJECT)),
        ("token_id", json!(token_id)),
        ("token_sha256", json!(token_sha256)),
        ("expires_at", body_expiry(&events[0])),
    ] {
        assert_eq!(exchange[field], expected, "field {field}: {exchange:#}");
    }
    assert!(
        !exchange["publisher_id"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{exchange:#}"
    );
    assert_eq!(events[3]["code"], "invalid-token");
    assert_eq!(events[4]["code"], "invalid-reuse-token");
}

/// `expires_at` must be the token's lifetime (900 s) after the event's time.
fn body_expiry(event: &Value) -> Value {
    json!(event["time"].as_i64().unwrap_or_default() + 900)
}
