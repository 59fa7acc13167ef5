//! SIGHUP reloads a running `trustmint serve` (issue 17 §4), all or nothing, without
//! dropping a request: `[keys]` (a new current key mints from then on while tokens of
//! older keys keep verifying; a removed key id stops verifying), the gRPC bearer tokens
//! (several accepted at once, so the index's token can be rotated), `[[publishers]]`
//! (publishers registered over gRPC are not affected) and `[[issuers]]` (the JWKS cache
//! of an issuer that stays is kept). An invalid configuration is refused, logged and
//! counted, and the previous one stays in force entirely.
//! `trustmint_config_reloads_total{result}` counts each reload.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::trustmint_process::{TrustmintProcess, grpc_verify};
use support::{PROJECT, assert_token_error, now};
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use trustmint_grpc::pb;
use trustmint_grpc::pb::publisher_service_client::PublisherServiceClient;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_tokens::parse_token;

/// 32-byte secrets, base64 (`trustmint-replica-test-secret-32`, `trustmint-reload-test-secret-k2!`).
const SECRET_K1: &str = "dHJ1c3RtaW50LXJlcGxpY2EtdGVzdC1zZWNyZXQtMzI=";
const SECRET_K2: &str = "dHJ1c3RtaW50LXJlbG9hZC10ZXN0LXNlY3JldC1rMiE=";
/// Two gRPC bearer tokens of the index, and a third for the token-file step.
const TOKEN_A: &str = "index-token-a-4f0c1d2e3b4a59687766";
const TOKEN_B: &str = "index-token-b-0a1b2c3d4e5f60718293";
const TOKEN_C: &str = "index-token-c-99aa88bb77cc66dd55ee";
const DEADLINE: Duration = Duration::from_secs(20);
/// What the gRPC interceptor answers to a token it does not accept.
const INVALID_BEARER: &str = "invalid bearer token";
/// The publisher the default claims of the testkit match (`octo-org/sampleproject`).
const DEFAULT_REPOSITORY: &str = "sampleproject";
/// A publisher not declared at first.
const OTHER_REPOSITORY: &str = "otherproject";

fn keys(current: &str, secrets: &[(&str, &str)]) -> String {
    let mut text = format!("[keys]\ncurrent = \"{current}\"\n\n[keys.secrets]\n");
    for (id, secret) in secrets {
        text.push_str(&format!("{id} = \"{secret}\"\n"));
    }
    text
}

/// `[keys]` with only k1, current.
fn only_k1() -> String {
    keys("k1", &[("k1", SECRET_K1)])
}

/// `[keys]` with k1 and k2, k2 current.
fn k2_current() -> String {
    keys("k2", &[("k1", SECRET_K1), ("k2", SECRET_K2)])
}

/// An `[[issuers]]` entry trusting `issuer` as a GitHub issuer.
fn issuer_entry(issuer: &TestIssuer) -> String {
    format!(
        "[[issuers]]\nurl = \"{}\"\nkind = \"github\"\n",
        issuer.url()
    )
}

/// A `[[publishers]]` entry for `octo-org/<repository>` (release.yml) trusting `issuer`,
/// for the project named like the repository.
fn publisher_entry(issuer: &TestIssuer, repository: &str) -> String {
    format!(
        r#"[[publishers]]
kind = "github"
issuer = "{url}"
projects = ["{repository}"]
repository_owner = "octo-org"
repository_owner_id = "92345678"
repository_name = "{repository}"
workflow_filename = "release.yml"
"#,
        url = issuer.url()
    )
}

/// `[grpc]` accepting `tokens` (nothing when there are none).
fn grpc_tokens(tokens: &[&str]) -> String {
    if tokens.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = tokens.iter().map(|token| format!("\"{token}\"")).collect();
    format!("[grpc]\nauth_tokens = [{}]\n", quoted.join(", "))
}

/// A whole configuration (without `[server]`, which the process adds) from its parts.
fn config(parts: &[String]) -> String {
    let mut text = "[rate_limit]\nenabled = false\n".to_owned();
    for part in parts {
        text.push('\n');
        text.push_str(part);
    }
    text
}

/// The `[keys]` test's configuration: the test issuer and the default publisher.
fn keys_config(issuer: &TestIssuer, keys: &str) -> String {
    config(&[
        issuer_entry(issuer),
        publisher_entry(issuer, DEFAULT_REPOSITORY),
        keys.to_owned(),
    ])
}

/// Rewrites the `[keys]` part of the running process's config file.
fn rewrite_keys(process: &TrustmintProcess, old: &str, new: &str) {
    let path = process.config_path();
    let text = std::fs::read_to_string(&path).expect("config");
    assert!(text.contains(old), "config holds the old [keys]");
    std::fs::write(&path, text.replace(old, new)).expect("write config");
}

/// Replaces everything after the `[server]` section of the process's config file.
fn rewrite_config(process: &TrustmintProcess, body: &str) {
    let path = process.config_path();
    let text = std::fs::read_to_string(&path).expect("config");
    let server_end = text.find("\n\n").expect("the [server] section ends") + 2;
    std::fs::write(&path, format!("{}{body}", &text[..server_end])).expect("write config");
}

/// Rewrites the configuration to `body`, sends SIGHUP and waits until the reload is
/// counted as `result` for the `count`th time.
async fn reload(process: &TrustmintProcess, body: &str, result: &str, count: u64) {
    rewrite_config(process, body);
    process.send_signal("HUP");
    wait_for_reloads(process, result, count).await;
}

/// A fresh JWT of `issuer` for the workflow `release.yml` of `octo-org/<repository>`.
fn jwt(issuer: &TestIssuer, repository: &str) -> String {
    issuer.sign(
        &GitHubClaims::new()
            .repository(format!("octo-org/{repository}"))
            .build(&issuer.url(), "pypi", now()),
    )
}

/// POSTs `{"token": jwt}` to `/_/oidc/mint-token`; the status and the JSON body.
async fn exchange(client: &reqwest::Client, process: &TrustmintProcess, jwt: &str) -> (u16, Value) {
    let response = client
        .post(format!("{}/_/oidc/mint-token", process.http))
        .header("content-type", "application/json")
        .body(json!({ "token": jwt }).to_string())
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The token and key id of a successful exchange.
#[track_caller]
fn minted(response: &(u16, Value)) -> (String, String) {
    assert_eq!(response.0, 200, "{}", response.1);
    let token = response.1["token"].as_str().expect("token").to_owned();
    let key_id = parse_token(&token, "pypi-")
        .expect("a pypi- token")
        .identifier
        .key_id;
    (token, key_id)
}

/// Mints over HTTP; returns the token and the key id it was minted with.
async fn mint(
    process: &TrustmintProcess,
    issuer: &TestIssuer,
    repository: &str,
) -> (String, String) {
    minted(&exchange(&reqwest::Client::new(), process, &jwt(issuer, repository)).await)
}

/// Asserts the refusal of a JWT no declared or stored publisher matches.
#[track_caller]
fn assert_no_publisher(response: &(u16, Value), issuer: &TestIssuer, repository: &str) {
    assert_token_error(
        response,
        422,
        "invalid-publisher",
        &format!(
            "valid token, but no corresponding publisher (Publisher with matching claims was not found; no publisher is registered for repository 'octo-org/{repository}' with issuer '{}')",
            issuer.url()
        ),
    );
}

/// Asserts the refusal of a JWT whose issuer is not configured.
#[track_caller]
fn assert_unknown_issuer(response: &(u16, Value)) {
    assert_token_error(
        response,
        422,
        "invalid-payload",
        "unknown trusted publishing issuer",
    );
}

async fn allowed(process: &TrustmintProcess, token: &str) -> bool {
    grpc_verify(process.grpc_addr, token, PROJECT)
        .await
        .expect("VerifyToken answers")
        .allowed
}

fn channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_lazy()
}

/// `VerifyToken(token, project)` over `channel`, sending `Bearer <bearer>`.
async fn verify_as(
    channel: &Channel,
    bearer: &str,
    token: &str,
    project: &str,
) -> Result<pb::VerifyTokenResponse, tonic::Status> {
    let mut request = tonic::Request::new(pb::VerifyTokenRequest {
        ecosystem: String::new(),
        token: token.to_owned(),
        project: project.to_owned(),
    });
    let value: MetadataValue<_> = format!("Bearer {bearer}").parse().expect("ascii");
    request.metadata_mut().insert("authorization", value);
    TokenServiceClient::new(channel.clone())
        .verify_token(request)
        .await
        .map(tonic::Response::into_inner)
}

/// Asserts that `bearer` is accepted: VerifyToken answers (a made-up token is denied).
async fn assert_accepted(channel: &Channel, bearer: &str) {
    let verified = verify_as(channel, bearer, "pypi-not-a-token", PROJECT)
        .await
        .unwrap_or_else(|status| panic!("{bearer} refused: {status:?}"));
    assert!(!verified.allowed);
}

/// Asserts that `bearer` is refused with UNAUTHENTICATED.
async fn assert_refused(channel: &Channel, bearer: &str) {
    let status = verify_as(channel, bearer, "pypi-not-a-token", PROJECT)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated, "{bearer}: {status:?}");
    assert_eq!(status.message(), INVALID_BEARER);
}

/// The `/metrics` text.
async fn metrics(process: &TrustmintProcess) -> String {
    reqwest::get(format!("{}/metrics", process.http))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// Waits until `/metrics` shows `trustmint_config_reloads_total{result}` at `count`.
async fn wait_for_reloads(process: &TrustmintProcess, result: &str, count: u64) {
    let series = format!("trustmint_config_reloads_total{{result=\"{result}\"}} {count}");
    let started = Instant::now();
    loop {
        let metrics = metrics(process).await;
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

/// The value of `trustmint_config_reloads_total{result}` (0 when absent).
async fn reloads(process: &TrustmintProcess, result: &str) -> u64 {
    let prefix = format!("trustmint_config_reloads_total{{result=\"{result}\"}} ");
    metrics(process)
        .await
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .map_or(0, |value| value.parse().expect("a count"))
}

/// Stops `process` and asserts that none of `secrets` reached its output.
async fn stop_without_leaking(process: TrustmintProcess, secrets: &[&str]) {
    let output = process.stop().await;
    for secret in secrets {
        assert!(!output.contains(secret), "a secret was logged:\n{output}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rotates_the_minting_key_and_refuses_an_invalid_config() {
    let issuer = TestIssuer::start().await;
    let only_k1 = only_k1();
    let process = TrustmintProcess::start(&keys_config(&issuer, &only_k1)).await;
    let (old_token, key_id) = mint(&process, &issuer, DEFAULT_REPOSITORY).await;
    assert_eq!(key_id, "k1");

    // Rotation step 2 and 1 at once: k2 added and made current.
    let k2_current = k2_current();
    rewrite_keys(&process, &only_k1, &k2_current);
    process.send_signal("HUP");
    wait_for_reloads(&process, "ok", 1).await;
    let (new_token, key_id) = mint(&process, &issuer, DEFAULT_REPOSITORY).await;
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
    let (_, key_id) = mint(&process, &issuer, DEFAULT_REPOSITORY).await;
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

    stop_without_leaking(process, &[SECRET_K1, SECRET_K2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_rotates_the_grpc_bearer_tokens() {
    let issuer = TestIssuer::start().await;
    let base = |tokens: String| {
        config(&[
            issuer_entry(&issuer),
            publisher_entry(&issuer, DEFAULT_REPOSITORY),
            only_k1(),
            tokens,
        ])
    };
    let process = TrustmintProcess::start(&base(grpc_tokens(&[TOKEN_A]))).await;
    // One channel for the whole test: the reloads must not need a new connection.
    let channel = channel(process.grpc_addr);
    assert_accepted(&channel, TOKEN_A).await;
    assert_refused(&channel, TOKEN_B).await;

    // Rotation, step 1: the new token is accepted as well as the old one.
    reload(&process, &base(grpc_tokens(&[TOKEN_A, TOKEN_B])), "ok", 1).await;
    assert_accepted(&channel, TOKEN_A).await;
    assert_accepted(&channel, TOKEN_B).await;

    // Step 2, once the index sends B: A is dropped.
    reload(&process, &base(grpc_tokens(&[TOKEN_B])), "ok", 2).await;
    assert_refused(&channel, TOKEN_A).await;
    assert_accepted(&channel, TOKEN_B).await;

    // The same through `auth_token_file`, one token per line, re-read on SIGHUP.
    let token_file = process.config_path().with_file_name("grpc-tokens");
    std::fs::write(&token_file, format!("{TOKEN_B}\n{TOKEN_C}\n")).expect("token file");
    let with_file = format!("[grpc]\nauth_token_file = \"{}\"\n", token_file.display());
    reload(&process, &base(with_file.clone()), "ok", 3).await;
    assert_accepted(&channel, TOKEN_B).await;
    assert_accepted(&channel, TOKEN_C).await;
    assert_refused(&channel, TOKEN_A).await;
    std::fs::write(&token_file, format!("{TOKEN_C}\n")).expect("token file");
    process.send_signal("HUP");
    wait_for_reloads(&process, "ok", 4).await;
    assert_refused(&channel, TOKEN_B).await;
    assert_accepted(&channel, TOKEN_C).await;
    const RESTART_WARNING: &str = "these changed sections take effect only after a restart";
    assert!(
        !process.log().contains(RESTART_WARNING),
        "only reloadable parts changed so far:\n{}",
        process.log()
    );

    // A section a reload cannot apply: the tokens still go in, and the log says which
    // section waits for a restart.
    let with_exchange = format!("{with_file}\n[exchange]\ntoken_ttl_secs = 600\n");
    reload(&process, &base(with_exchange), "ok", 5).await;
    assert_accepted(&channel, TOKEN_C).await;
    let log = process.log();
    assert!(
        log.lines()
            .any(|line| line.contains(RESTART_WARNING) && line.contains(r#"["exchange"]"#)),
        "the warning names [exchange]:\n{log}"
    );

    stop_without_leaking(process, &[TOKEN_A, TOKEN_B, TOKEN_C, SECRET_K1]).await;
}

/// A GitHub publisher message for `octo-org/<repository>` (release.yml) trusting
/// `issuer`, for the project named like the repository.
fn stored_publisher(issuer: &TestIssuer, repository: &str) -> pb::Publisher {
    pb::Publisher {
        projects: vec![repository.to_owned()],
        kind: Some(pb::publisher::Kind::Github(pb::GitHubPublisher {
            repository_owner: "octo-org".to_owned(),
            repository_owner_id: "92345678".to_owned(),
            repository_name: repository.to_owned(),
            workflow_filename: "release.yml".to_owned(),
            issuer: issuer.url(),
            ..pb::GitHubPublisher::default()
        })),
        ..pb::Publisher::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_and_removes_declared_publishers_and_keeps_stored_ones() {
    let issuer = TestIssuer::start().await;
    let declaring = |repositories: &[&str]| {
        let mut parts = vec![issuer_entry(&issuer), only_k1()];
        parts.extend(repositories.iter().map(|r| publisher_entry(&issuer, r)));
        config(&parts)
    };
    let process = TrustmintProcess::start(&declaring(&[DEFAULT_REPOSITORY])).await;
    let client = reqwest::Client::new();
    // A publisher registered over gRPC lives in the store: no reload touches it.
    let stored_repository = "storedproject";
    let created = PublisherServiceClient::new(channel(process.grpc_addr))
        .create_publisher(pb::CreatePublisherRequest {
            publisher: Some(stored_publisher(&issuer, stored_repository)),
        })
        .await
        .expect("CreatePublisher")
        .into_inner();
    assert_eq!(created.projects, [stored_repository]);

    assert_no_publisher(
        &exchange(&client, &process, &jwt(&issuer, OTHER_REPOSITORY)).await,
        &issuer,
        OTHER_REPOSITORY,
    );

    // Declared: it matches from the reload on.
    reload(
        &process,
        &declaring(&[DEFAULT_REPOSITORY, OTHER_REPOSITORY]),
        "ok",
        1,
    )
    .await;
    let (other_token, _) =
        minted(&exchange(&client, &process, &jwt(&issuer, OTHER_REPOSITORY)).await);
    let verified = grpc_verify(process.grpc_addr, &other_token, OTHER_REPOSITORY)
        .await
        .expect("VerifyToken answers");
    assert!(verified.allowed, "{verified:?}");
    minted(&exchange(&client, &process, &jwt(&issuer, stored_repository)).await);
    minted(&exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await);

    // Removed: a fresh JWT is refused again, and its live token stops verifying (as
    // after deleting a publisher); the default and the stored publisher still mint.
    reload(&process, &declaring(&[DEFAULT_REPOSITORY]), "ok", 2).await;
    assert_no_publisher(
        &exchange(&client, &process, &jwt(&issuer, OTHER_REPOSITORY)).await,
        &issuer,
        OTHER_REPOSITORY,
    );
    let verified = grpc_verify(process.grpc_addr, &other_token, OTHER_REPOSITORY)
        .await
        .expect("VerifyToken answers");
    assert!(!verified.allowed, "{verified:?}");
    minted(&exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await);

    // Even with no declared publisher left, the stored one matches.
    reload(&process, &declaring(&[]), "ok", 3).await;
    minted(&exchange(&client, &process, &jwt(&issuer, stored_repository)).await);
    assert_no_publisher(
        &exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await,
        &issuer,
        DEFAULT_REPOSITORY,
    );

    stop_without_leaking(process, &[SECRET_K1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_and_removes_an_issuer_and_keeps_the_jwks_of_the_others() {
    let first = TestIssuer::start().await;
    let second = TestIssuer::start().await;
    let second_repository = "secondissuer";
    let only_first = config(&[
        issuer_entry(&first),
        publisher_entry(&first, DEFAULT_REPOSITORY),
        only_k1(),
    ]);
    let both = config(&[
        issuer_entry(&first),
        issuer_entry(&second),
        publisher_entry(&first, DEFAULT_REPOSITORY),
        publisher_entry(&second, second_repository),
        only_k1(),
    ]);
    let process = TrustmintProcess::start(&only_first).await;
    let client = reqwest::Client::new();
    minted(&exchange(&client, &process, &jwt(&first, DEFAULT_REPOSITORY)).await);
    let first_fetches = first.jwks_fetch_count();
    assert_eq!(first_fetches, 1, "one JWKS fetch before the reload");
    assert_unknown_issuer(&exchange(&client, &process, &jwt(&second, second_repository)).await);
    assert_eq!(second.jwks_fetch_count(), 0, "unknown: never fetched");

    reload(&process, &both, "ok", 1).await;
    minted(&exchange(&client, &process, &jwt(&second, second_repository)).await);
    minted(&exchange(&client, &process, &jwt(&first, DEFAULT_REPOSITORY)).await);
    assert_eq!(
        first.jwks_fetch_count(),
        first_fetches,
        "the unchanged issuer's cached keys were kept"
    );
    assert_eq!(second.jwks_fetch_count(), 1);

    reload(&process, &only_first, "ok", 2).await;
    assert_unknown_issuer(&exchange(&client, &process, &jwt(&second, second_repository)).await);
    minted(&exchange(&client, &process, &jwt(&first, DEFAULT_REPOSITORY)).await);
    assert_eq!(first.jwks_fetch_count(), first_fetches);

    stop_without_leaking(process, &[SECRET_K1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_config_changes_nothing_at_all() {
    let issuer = TestIssuer::start().await;
    let start = config(&[
        issuer_entry(&issuer),
        publisher_entry(&issuer, DEFAULT_REPOSITORY),
        only_k1(),
        grpc_tokens(&[TOKEN_A]),
    ]);
    let process = TrustmintProcess::start(&start).await;
    let client = reqwest::Client::new();
    let channel = channel(process.grpc_addr);
    let (k1_token, key_id) =
        minted(&exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await);
    assert_eq!(key_id, "k1");

    // Every part changes validly (k2 current, token B only, the other publisher instead
    // of the default one) except one, which is broken: the whole reload is refused.
    let changed = |issuers: String, publishers: String, keys: String| {
        config(&[issuers, publishers, keys, grpc_tokens(&[TOKEN_B])])
    };
    let valid_publishers = publisher_entry(&issuer, OTHER_REPOSITORY);
    let broken_publisher = publisher_entry(&issuer, "brokenproject").replace(
        "workflow_filename = \"release.yml\"",
        "workflow_filename = \"release.txt\"",
    );
    let rows = [
        (
            "a publisher with a bad field",
            changed(
                issuer_entry(&issuer),
                format!("{valid_publishers}\n{broken_publisher}"),
                k2_current(),
            ),
            "publishers[1].workflow_filename: must end in '.yml' or '.yaml', e.g. 'release.yml'",
        ),
        (
            "a key too short",
            changed(
                issuer_entry(&issuer),
                valid_publishers.clone(),
                keys("k2", &[("k1", SECRET_K1), ("k2", "c2hvcnQ=")]),
            ),
            "keys.secrets.k2:",
        ),
        (
            "an issuer without https",
            changed(
                format!(
                    "{}\n[[issuers]]\nurl = \"http://issuer.example.com\"\nkind = \"gitlab\"\n",
                    issuer_entry(&issuer)
                ),
                valid_publishers.clone(),
                k2_current(),
            ),
            "issuers[1].url:",
        ),
    ];
    for (count, (what, body, names)) in (1..).zip(rows) {
        reload(&process, &body, "error", count).await;
        let log = process.log();
        assert!(
            log.contains("configuration reload refused") && log.contains(names),
            "{what}: the refusal names `{names}`:\n{log}"
        );
        // Tokens: A still in, B still out.
        assert_accepted(&channel, TOKEN_A).await;
        assert_refused(&channel, TOKEN_B).await;
        // Keys: k1 still mints; its tokens verify.
        let (_, key_id) =
            minted(&exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await);
        assert_eq!(key_id, "k1", "{what}");
        assert!(
            verify_as(&channel, TOKEN_A, &k1_token, PROJECT)
                .await
                .expect("VerifyToken")
                .allowed,
            "{what}"
        );
        // Publishers: the default one still matches, the other one still does not.
        assert_no_publisher(
            &exchange(&client, &process, &jwt(&issuer, OTHER_REPOSITORY)).await,
            &issuer,
            OTHER_REPOSITORY,
        );
    }
    assert_eq!(reloads(&process, "ok").await, 0, "no reload went in");

    // The same changes without the broken part go in, all of them.
    let valid = changed(issuer_entry(&issuer), valid_publishers, k2_current());
    reload(&process, &valid, "ok", 1).await;
    assert_refused(&channel, TOKEN_A).await;
    assert_accepted(&channel, TOKEN_B).await;
    let (_, key_id) = minted(&exchange(&client, &process, &jwt(&issuer, OTHER_REPOSITORY)).await);
    assert_eq!(key_id, "k2");
    assert_no_publisher(
        &exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await,
        &issuer,
        DEFAULT_REPOSITORY,
    );
    assert_eq!(reloads(&process, "error").await, 3);

    stop_without_leaking(process, &[TOKEN_A, TOKEN_B, SECRET_K1, SECRET_K2]).await;
}

/// What one load task did: successful rounds, and every failure in words.
#[derive(Debug, Default)]
struct Load {
    rounds: u64,
    failures: Vec<String>,
}

/// Exchanges fresh JWTs and verifies each new token over gRPC (sending `TOKEN_A`) until
/// `stop` is set.
async fn steady_load(
    process: Arc<TrustmintProcess>,
    issuer: Arc<TestIssuer>,
    client: reqwest::Client,
    channel: Channel,
    stop: Arc<AtomicBool>,
) -> Load {
    let mut load = Load::default();
    while !stop.load(Ordering::Relaxed) {
        let response = exchange(&client, &process, &jwt(&issuer, DEFAULT_REPOSITORY)).await;
        let Some(token) = response.1["token"].as_str().filter(|_| response.0 == 200) else {
            load.failures
                .push(format!("exchange: {} {}", response.0, response.1));
            continue;
        };
        match verify_as(&channel, TOKEN_A, token, PROJECT).await {
            Ok(verified) if verified.allowed => load.rounds += 1,
            Ok(verified) => load.failures.push(format!("verify: denied {verified:?}")),
            Err(status) => load.failures.push(format!("verify: {status:?}")),
        }
    }
    load
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_fails_while_sighup_reloads() {
    const TASKS: usize = 3;
    const RELOADS: u64 = 6;
    let issuer = Arc::new(TestIssuer::start().await);
    // Every variant keeps what the load needs (token A, the default publisher, k1
    // verifying) and changes something else.
    let variant = |reload: u64| {
        let mut parts = vec![
            issuer_entry(&issuer),
            publisher_entry(&issuer, DEFAULT_REPOSITORY),
        ];
        if reload % 2 == 1 {
            parts.push(publisher_entry(&issuer, OTHER_REPOSITORY));
            parts.push(k2_current());
            parts.push(grpc_tokens(&[TOKEN_A, TOKEN_B]));
        } else {
            parts.push(keys("k1", &[("k1", SECRET_K1), ("k2", SECRET_K2)]));
            parts.push(grpc_tokens(&[TOKEN_A]));
        }
        config(&parts)
    };
    let process = Arc::new(TrustmintProcess::start(&variant(0)).await);
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let channel = channel(process.grpc_addr);
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            tokio::spawn(steady_load(
                process.clone(),
                issuer.clone(),
                client.clone(),
                channel.clone(),
                stop.clone(),
            ))
        })
        .collect();

    for count in 1..=RELOADS {
        tokio::time::sleep(Duration::from_millis(150)).await;
        reload(&process, &variant(count), "ok", count).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.store(true, Ordering::Relaxed);
    let mut rounds = 0;
    for task in tasks {
        let load = task.await.expect("load task");
        assert_eq!(load.failures, Vec::<String>::new(), "failed requests");
        assert!(load.rounds > 0, "every task ran: {load:?}");
        rounds += load.rounds;
    }
    assert!(
        rounds > RELOADS,
        "the load ran across the reloads ({rounds} rounds)"
    );
    assert_eq!(reloads(&process, "error").await, 0);

    let process = Arc::into_inner(process).expect("the tasks are done");
    stop_without_leaking(process, &[TOKEN_A, TOKEN_B, SECRET_K1, SECRET_K2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_config_poll_secs_a_changed_file_is_reloaded_without_a_signal() {
    let issuer = TestIssuer::start().await;
    let only_k1 = only_k1();
    let process = TrustmintProcess::start_with_env(
        &keys_config(&issuer, &only_k1),
        &[("TRUSTMINT__SERVER__CONFIG_POLL_SECS", "1")],
    )
    .await;
    let (old_token, key_id) = mint(&process, &issuer, DEFAULT_REPOSITORY).await;
    assert_eq!(key_id, "k1");
    // Unchanged files: the poll reloads nothing.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(reloads(&process, "ok").await, 0);

    let k2_current = k2_current();
    rewrite_keys(&process, &only_k1, &k2_current);
    wait_for_reloads(&process, "ok", 1).await;
    let (_, key_id) = mint(&process, &issuer, DEFAULT_REPOSITORY).await;
    assert_eq!(key_id, "k2", "the rewritten file's current key mints");
    assert!(
        allowed(&process, &old_token).await,
        "k1 tokens still verify"
    );

    // An invalid file is refused once, not at every poll, and k2 stays in force.
    let broken = keys("k3", &[("k1", SECRET_K1), ("k2", SECRET_K2)]);
    rewrite_keys(&process, &k2_current, &broken);
    wait_for_reloads(&process, "error", 1).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(reloads(&process, "error").await, 1, "refused once");
    assert_eq!(reloads(&process, "ok").await, 1);
    let (_, key_id) = mint(&process, &issuer, DEFAULT_REPOSITORY).await;
    assert_eq!(key_id, "k2");
    stop_without_leaking(process, &[SECRET_K1, SECRET_K2]).await;
}
