//! Around the services: bearer-token authentication, grpc.health.v1, server
//! reflection (what grpcurl needs) and the loud warning of an open, unauthenticated
//! listener.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use trustmint_testkit::claims::GitHubClaims;

use super::support::{PROJECT, spawn_app, spawn_app_with};
use super::{Bearer, Grpc, channel};

const INDEX_TOKEN: &str = "index-s3cret-bearer";

#[tokio::test]
async fn every_call_needs_the_bearer_token_when_one_is_configured() {
    let app = spawn_app_with(|settings, _| settings.grpc.auth_token = INDEX_TOKEN.into()).await;
    let cases = [
        (
            Bearer::none(),
            "missing authorization metadata: send 'authorization: Bearer <token>'",
        ),
        (Bearer::token("wrong-token"), "invalid bearer token"),
        (
            Bearer::token(&format!("{INDEX_TOKEN}x")),
            "invalid bearer token",
        ),
        (
            Bearer::raw(&format!("Basic {INDEX_TOKEN}")),
            "authorization metadata must be 'Bearer <token>'",
        ),
    ];
    for (bearer, message) in cases {
        let grpc = Grpc::with(channel(&app), bearer);
        let token_status = grpc
            .try_verify("pypi-x", PROJECT)
            .await
            .expect_err("TokenService refused");
        let publisher_status = grpc
            .publishers
            .clone()
            .list_publishers(trustmint_grpc::pb::ListPublishersRequest {
                project: PROJECT.to_owned(),
            })
            .await
            .expect_err("PublisherService refused");
        for status in [token_status, publisher_status] {
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            assert_eq!(status.message(), message);
        }
    }
    // Refused before any method runs, yet counted: 4 credentials × 2 services.
    assert_eq!(app.app.metrics().grpc_unauthenticated.get(), 8);

    let grpc = Grpc::with(channel(&app), Bearer::token(INDEX_TOKEN));
    let minted = grpc.mint_ok(&app.github_jwt(GitHubClaims::new())).await;
    assert!(grpc.verify(&minted.token, PROJECT).await.allowed);
    // The scheme is case-insensitive, as HTTP's is.
    let lower = Grpc::with(channel(&app), Bearer::raw(&format!("bearer {INDEX_TOKEN}")));
    assert!(lower.verify(&minted.token, PROJECT).await.allowed);
}

#[tokio::test]
async fn the_bearer_token_can_come_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("grpc-token");
    std::fs::write(&path, format!("  {INDEX_TOKEN}\n")).expect("token file");
    let app = spawn_app_with(|settings, _| {
        settings.grpc.auth_token = "ignored-when-a-file-is-set".into();
        settings.grpc.auth_token_file = path.display().to_string();
    })
    .await;
    let refused = Grpc::with(channel(&app), Bearer::token("ignored-when-a-file-is-set"))
        .try_verify("pypi-x", PROJECT)
        .await
        .expect_err("the file wins");
    assert_eq!(refused.code(), Code::Unauthenticated);
    let verified = Grpc::with(channel(&app), Bearer::token(INDEX_TOKEN))
        .verify("pypi-x", PROJECT)
        .await;
    assert_eq!(verified.reason, "malformed token: not base64");
}

#[tokio::test]
async fn health_reports_serving_without_credentials() {
    let app = spawn_app_with(|settings, _| settings.grpc.auth_token = INDEX_TOKEN.into()).await;
    let mut health = HealthClient::new(channel(&app));
    let check = |service: &str| HealthCheckRequest {
        service: service.to_owned(),
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    for service in [
        "",
        "trustmint.v1.TokenService",
        "trustmint.v1.PublisherService",
    ] {
        // The health task publishes the per-service statuses right after start.
        loop {
            match health.check(check(service)).await {
                Ok(response) => {
                    assert_eq!(
                        response.into_inner().status,
                        ServingStatus::Serving as i32,
                        "{service}"
                    );
                    break;
                }
                Err(status) if status.code() == Code::NotFound && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(status) => panic!("{service}: {status:?}"),
            }
        }
    }
    let unknown = health
        .check(check("no.such.Service"))
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);
}

/// One v1 reflection request on a fresh stream; returns the response.
async fn reflect(app: &super::support::TestApp, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(channel(app));
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut responses = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection stream")
        .into_inner();
    responses
        .next()
        .await
        .expect("one response")
        .expect("reflection answers")
        .message_response
        .expect("a message response")
}

#[tokio::test]
async fn reflection_lists_the_services_and_serves_their_descriptors() {
    let app = spawn_app().await;
    let MessageResponse::ListServicesResponse(listed) =
        reflect(&app, MessageRequest::ListServices(String::new())).await
    else {
        panic!("expected a service list");
    };
    let mut names: Vec<String> = listed.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "trustmint.v1.PublisherService",
            "trustmint.v1.TokenService",
        ]
    );

    let MessageResponse::FileDescriptorResponse(files) = reflect(
        &app,
        MessageRequest::FileContainingSymbol("trustmint.v1.TokenService".to_owned()),
    )
    .await
    else {
        panic!("expected a file descriptor");
    };
    // A serialized FileDescriptorProto: field 1 (name) comes first.
    let file = &files.file_descriptor_proto[0];
    let name = b"trustmint/v1/trustmint.proto";
    assert_eq!(file[0], 0x0a, "field 1, length-delimited");
    assert_eq!(usize::from(file[1]), name.len());
    assert_eq!(&file[2..2 + name.len()], name);
}

/// Runs `trustmint serve` with `grpc_addr` and auth token, and returns the log lines
/// up to (and including) the "trustmint serving" line.
fn startup_log(grpc_addr: &str, auth_token: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("trustmint.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nhttp_addr = \"127.0.0.1:0\"\ngrpc_addr = \"{grpc_addr}\"\n\
             [grpc]\nauth_token = \"{auth_token}\"\n[telemetry]\nlog_format = \"text\"\n"
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustmint"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("trustmint serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("log line");
        let done = line.contains("trustmint serving");
        lines.push(line);
        if done || lines.len() > 200 {
            break;
        }
    }
    child.kill().expect("stop trustmint");
    child.wait().expect("reaped");
    lines
}

const LOUD_WARNING: &str = "!!! gRPC listens on a non-loopback address WITHOUT authentication";

#[test]
fn serve_warns_loudly_about_an_open_unauthenticated_grpc_listener() {
    let open = startup_log("0.0.0.0:0", "");
    assert!(
        open.iter()
            .any(|line| line.contains("WARN") && line.contains(LOUD_WARNING)),
        "{open:#?}"
    );
    for (addr, token) in [("0.0.0.0:0", "an-index-token"), ("127.0.0.1:0", "")] {
        let quiet = startup_log(addr, token);
        assert!(
            quiet.iter().any(|line| line.contains("trustmint serving")),
            "{quiet:#?}"
        );
        assert!(
            !quiet.iter().any(|line| line.contains(LOUD_WARNING)),
            "{addr} with token '{token}': {quiet:#?}"
        );
    }
}
