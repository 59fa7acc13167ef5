//! `GET /metrics` end to end: the exposition is parsed and exact series are compared
//! before and after each request — a successful exchange, every failure code, verify
//! allowed/denied, revoke, gRPC calls, JWKS cache state, store calls and errors, build
//! info — and no label value ever carries request data (cardinality guard).

mod observability;
mod support;

use observability::metrics_text::{Scrape, parse};
use serde_json::{Value, json};
use support::{PROJECT, TestApp, now, spawn_app, spawn_app_with};
use trustmint_exchange::ExchangeError;
use trustmint_grpc::pb;
use trustmint_grpc::pb::token_service_client::TokenServiceClient;
use trustmint_testkit::claims::GitHubClaims;

const EXCHANGES: &str = "trustmint_exchanges_total";

async fn scrape(app: &TestApp) -> Scrape {
    let (status, text) = app.get("/metrics").await;
    assert_eq!(status, 200, "{text}");
    parse(&text)
}

/// The configured name of the app's one issuer (the `issuer` label of JWKS metrics).
fn issuer_name(app: &TestApp) -> String {
    app.app.verifier().registry().issuers()[0].name.clone()
}

async fn grpc(app: &TestApp) -> TokenServiceClient<tonic::transport::Channel> {
    TokenServiceClient::connect(format!("http://{}", app.grpc_addr))
        .await
        .expect("connect to the gRPC listener")
}

/// Every `trustmint_exchanges_total` series whose value differs between two scrapes.
fn moved_exchange_series(before: &Scrape, after: &Scrape) -> Vec<(Vec<(String, String)>, f64)> {
    after
        .series()
        .filter(|((name, _), _)| name == EXCHANGES)
        .filter_map(|((_, labels), value)| {
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let delta = value - before.get(EXCHANGES, &pairs).unwrap_or(0.0);
            (delta != 0.0).then(|| (labels.clone(), delta))
        })
        .collect()
}

fn exchange_labels<'a>(kind: &'a str, outcome: &'a str, code: &'a str) -> [(&'a str, &'a str); 3] {
    [("issuer_kind", kind), ("outcome", outcome), ("code", code)]
}

#[tokio::test]
async fn the_metrics_parser_reads_labels_escapes_and_plain_series() {
    let scrape = parse(
        "# HELP x help\n# TYPE x counter\nx{b=\"2\",a=\"q\\\"uote\\\\\"} 3\ny 1.5\nz_bucket{le=\"+Inf\"} 7\n",
    );
    assert_eq!(
        scrape.get("x", &[("a", "q\"uote\\"), ("b", "2")]),
        Some(3.0)
    );
    assert_eq!(scrape.get("y", &[]), Some(1.5));
    assert_eq!(scrape.get("z_bucket", &[("le", "+Inf")]), Some(7.0));
    assert_eq!(scrape.get("x", &[("a", "q\"uote\\")]), None);
}

#[tokio::test]
async fn a_successful_exchange_moves_exactly_its_series() {
    let app = spawn_app().await;
    let issuer = issuer_name(&app);
    let before = scrape(&app).await;

    // Every outcome is pre-registered at 0, for the configured kind and for `unknown`
    // (requests refused before routing).
    for code in ExchangeError::MINT_CODES {
        for kind in ["github", "unknown"] {
            assert_eq!(
                before.value(EXCHANGES, &exchange_labels(kind, "failure", code)),
                0.0
            );
        }
    }
    assert_eq!(
        before.value(EXCHANGES, &exchange_labels("github", "success", "")),
        0.0
    );
    assert_eq!(
        before.get("trustmint_jwks_keys", &[("issuer", &issuer)]),
        None,
        "no key set before the first token"
    );

    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let after = scrape(&app).await;

    assert_eq!(
        moved_exchange_series(&before, &after),
        vec![(
            vec![
                ("code".to_owned(), String::new()),
                ("issuer_kind".to_owned(), "github".to_owned()),
                ("outcome".to_owned(), "success".to_owned()),
            ],
            1.0
        )],
        "exactly the success series moved"
    );
    let count = |name: &str, labels: &[(&str, &str)]| after.delta(&before, name, labels);
    assert_eq!(
        count(
            "trustmint_exchange_duration_seconds_count",
            &[("issuer_kind", "github")]
        ),
        1.0
    );
    assert_eq!(count("trustmint_tokens_minted_total", &[]), 1.0);
    assert_eq!(
        count(
            "trustmint_http_requests_total",
            &[("route", "/_/oidc/mint-token"), ("status", "200")]
        ),
        1.0
    );
    assert_eq!(
        count(
            "trustmint_http_request_duration_seconds_count",
            &[("route", "/_/oidc/mint-token")]
        ),
        1.0
    );
    // One JWKS refresh for the configured issuer name; the cache holds its one key.
    assert_eq!(
        after.value(
            "trustmint_jwks_fetches_total",
            &[("issuer", &issuer), ("result", "ok")]
        ),
        1.0
    );
    assert_eq!(
        after.value("trustmint_jwks_keys", &[("issuer", &issuer)]),
        1.0
    );
    let age = after.value("trustmint_jwks_age_seconds", &[("issuer", &issuer)]);
    assert!((0.0..60.0).contains(&age), "key set age {age}");
    // Each store call of a mint is timed under its operation, and none failed.
    for op in [
        "rate_limit",
        "publisher_candidates",
        "replay_claim",
        "token_put",
    ] {
        assert_eq!(
            count("trustmint_store_duration_seconds_count", &[("op", op)]),
            1.0,
            "{op}"
        );
        assert_eq!(
            after
                .get("trustmint_store_errors_total", &[("op", op)])
                .unwrap_or(0.0),
            0.0,
            "{op}"
        );
    }
    assert_eq!(count("trustmint_replays_rejected_total", &[]), 0.0);
    assert_eq!(
        after.value(
            "trustmint_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    assert_eq!(after.value("trustmint_up", &[]), 1.0);
}

/// Sends one refused mint-token request and asserts its HTTP status and code, that
/// exactly `trustmint_exchanges_total{issuer_kind=kind,outcome="failure",code}` moved by
/// one, and returns the scrapes before and after.
async fn assert_refusal_counted(
    app: &TestApp,
    body: String,
    status: u16,
    kind: &str,
    code: &str,
) -> (Scrape, Scrape) {
    let before = scrape(app).await;
    assert_eq!(
        before.value(EXCHANGES, &exchange_labels(kind, "failure", code)),
        0.0,
        "{code} is pre-registered at 0"
    );
    let response = app.post("/_/oidc/mint-token", body).await;
    assert_eq!(response.0, status, "{code}: {}", response.1);
    assert_eq!(response.1["errors"][0]["code"], code, "{}", response.1);
    let after = scrape(app).await;
    assert_eq!(
        moved_exchange_series(&before, &after),
        vec![(
            vec![
                ("code".to_owned(), code.to_owned()),
                ("issuer_kind".to_owned(), kind.to_owned()),
                ("outcome".to_owned(), "failure".to_owned()),
            ],
            1.0
        )],
        "exactly the {kind}/{code} series moved"
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_http_requests_total",
            &[
                ("route", "/_/oidc/mint-token"),
                ("status", &status.to_string())
            ]
        ),
        1.0
    );
    (before, after)
}

fn token_body(jwt: &str) -> String {
    json!({ "token": jwt }).to_string()
}

#[tokio::test]
async fn every_refusal_is_counted_under_its_code() {
    let app = spawn_app().await;
    let url = app.issuer.url();

    // Refused before routing: no issuer kind is known.
    assert_refusal_counted(&app, "{}".to_owned(), 422, "unknown", "invalid-payload").await;
    let other_app = spawn_app().await;
    assert_refusal_counted(
        &other_app,
        token_body("not-a-jwt"),
        422,
        "unknown",
        "invalid-payload",
    )
    .await;
    let third_app = spawn_app().await;
    let unknown_issuer = third_app.issuer.sign(&GitHubClaims::new().build(
        "https://issuer.invalid/x",
        "pypi",
        now(),
    ));
    assert_refusal_counted(
        &third_app,
        token_body(&unknown_issuer),
        422,
        "unknown",
        "invalid-payload",
    )
    .await;

    // Routed to the configured GitHub issuer.
    let wrong_audience = app
        .issuer
        .sign(&GitHubClaims::new().build(&url, "not-pypi", now()));
    assert_refusal_counted(
        &app,
        token_body(&wrong_audience),
        422,
        "github",
        "invalid-token",
    )
    .await;
    let other_workflow = app.github_jwt(GitHubClaims::new().workflow("ci.yml"));
    assert_refusal_counted(
        &app,
        token_body(&other_workflow),
        422,
        "github",
        "invalid-publisher",
    )
    .await;
    let jwt = app.github_jwt(GitHubClaims::new());
    assert_eq!(app.mint(&jwt).await.0, 200);
    let (before, after) =
        assert_refusal_counted(&app, token_body(&jwt), 422, "github", "invalid-reuse-token").await;
    assert_eq!(
        after.delta(&before, "trustmint_replays_rejected_total", &[]),
        1.0
    );

    // A pending publisher whose project another (normal) publisher already lists.
    let declare = |repository: &str| {
        let mut entry = support::github_publisher(&url, &["brand-new-project"], "");
        entry["repository_name"] = json!(repository);
        trustmint_publishers::parse_declaration(&entry)
            .expect("declaration")
            .spec
    };
    for (repository, pending) in [("pending-repo", true), ("owner-repo", false)] {
        app.app
            .create_publisher(trustmint_exchange::NewPublisher {
                spec: declare(repository),
                projects: vec!["brand-new-project".to_owned()],
                pending,
            })
            .await
            .expect("create publisher");
    }
    let pending_jwt = app.github_jwt(GitHubClaims::new().repository("octo-org/pending-repo"));
    assert_refusal_counted(
        &app,
        token_body(&pending_jwt),
        422,
        "github",
        "invalid-pending-publisher",
    )
    .await;

    let disabled = spawn_app_with(|settings, _| settings.exchange.enabled = false).await;
    let jwt = disabled.github_jwt(GitHubClaims::new());
    assert_refusal_counted(&disabled, token_body(&jwt), 422, "github", "not-enabled").await;

    let limited = spawn_app_with(|settings, _| {
        settings.rate_limit.enabled = true;
        settings.rate_limit.burst = 1;
        settings.rate_limit.requests_per_second = 0.001;
    })
    .await;
    assert_eq!(
        limited
            .mint(&limited.github_jwt(GitHubClaims::new()))
            .await
            .0,
        200
    );
    let jwt = limited.github_jwt(GitHubClaims::new());
    let (before, after) =
        assert_refusal_counted(&limited, token_body(&jwt), 429, "unknown", "rate-limited").await;
    assert_eq!(
        after.delta(
            &before,
            "trustmint_rate_limited_total",
            &[("scope", "mint")]
        ),
        1.0
    );

    let keys_down = spawn_app().await;
    keys_down.issuer.set_failing(true);
    let jwt = keys_down.github_jwt(GitHubClaims::new());
    let (_, after) =
        assert_refusal_counted(&keys_down, token_body(&jwt), 503, "github", "unavailable").await;
    let issuer = issuer_name(&keys_down);
    assert_eq!(
        after.value(
            "trustmint_jwks_fetches_total",
            &[("issuer", &issuer), ("result", "error")]
        ),
        1.0
    );
    assert_eq!(
        after.value("trustmint_jwks_keys", &[("issuer", &issuer)]),
        0.0,
        "no key set loaded"
    );
}

#[tokio::test]
async fn verify_revoke_and_grpc_calls_move_their_series() {
    let app = spawn_app().await;
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let mut client = grpc(&app).await;
    let verify = |project: &str| pb::VerifyTokenRequest {
        token: token.clone(),
        project: project.to_owned(),
    };

    let before = scrape(&app).await;
    let allowed = client.verify_token(verify(PROJECT)).await.expect("verify");
    assert!(allowed.get_ref().allowed, "{:?}", allowed.get_ref());
    let after = scrape(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| after.delta(&before, name, labels);
    assert_eq!(
        moved("trustmint_verifications_total", &[("outcome", "allowed")]),
        1.0
    );
    assert_eq!(moved("trustmint_verify_duration_seconds_count", &[]), 1.0);
    assert_eq!(
        moved("trustmint_token_remaining_lifetime_seconds_count", &[]),
        1.0
    );
    let remaining = moved("trustmint_token_remaining_lifetime_seconds_sum", &[]);
    assert!(
        (880.0..=900.0).contains(&remaining),
        "remaining {remaining}"
    );
    assert_eq!(
        moved(
            "trustmint_grpc_requests_total",
            &[("method", "VerifyToken"), ("code", "OK")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "trustmint_grpc_request_duration_seconds_count",
            &[("method", "VerifyToken")]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "trustmint_store_duration_seconds_count",
            &[("op", "token_get")]
        ),
        1.0
    );

    // A denial: counted, but no remaining lifetime is observed.
    let before = after;
    let denied = client
        .verify_token(verify("another-project"))
        .await
        .expect("verify");
    assert!(!denied.get_ref().allowed);
    let after = scrape(&app).await;
    assert_eq!(
        after.delta(
            &before,
            "trustmint_verifications_total",
            &[("outcome", "denied")]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_token_remaining_lifetime_seconds_count",
            &[]
        ),
        0.0
    );

    // A malformed request is a gRPC status, counted by its code.
    let before = after;
    let status = client.verify_token(verify("")).await.expect_err("invalid");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    let bad_mint = client
        .mint_token(pb::MintTokenRequest {
            oidc_token: "not-a-jwt".to_owned(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let after = scrape(&app).await;
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "VerifyToken"), ("code", "INVALID_ARGUMENT")]
        ),
        1.0
    );
    let mint_code = grpc_code_label(bad_mint.code());
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "MintToken"), ("code", mint_code)]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            EXCHANGES,
            &exchange_labels("unknown", "failure", "invalid-payload")
        ),
        1.0,
        "gRPC mint refusals count as exchanges too"
    );

    // Revocation.
    let before = after;
    let revoked = client
        .revoke_token(pb::RevokeTokenRequest {
            token: token.clone(),
        })
        .await
        .expect("revoke");
    assert!(revoked.get_ref().revoked);
    let after = scrape(&app).await;
    assert_eq!(
        after.delta(&before, "trustmint_tokens_revoked_total", &[]),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "RevokeToken"), ("code", "OK")]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_store_duration_seconds_count",
            &[("op", "token_delete")]
        ),
        1.0
    );
}

/// The label `trustmint_grpc_requests_total` uses for a status code.
fn grpc_code_label(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
        tonic::Code::Unavailable => "UNAVAILABLE",
        other => panic!("unexpected code {other:?}"),
    }
}

#[tokio::test]
async fn store_errors_are_counted_per_operation() {
    // A Redis backend whose server is not there: every store call fails fast.
    let closed_port = observability::process::free_port();
    let app = spawn_app_with(|settings, _| {
        settings.store.backend = trustmint_store::Backend::Redis;
        settings.store.redis_url = format!("redis://127.0.0.1:{closed_port}");
        settings.store.timeout_ms = 200;
    })
    .await;
    let before = scrape(&app).await;

    let response = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(response.0, 503, "{}", response.1);
    let (status, _) = app.get("/readyz").await;
    assert_eq!(status, 503);
    // A well-formed token from elsewhere: verification needs its record, which the
    // store cannot read.
    let foreign = spawn_app().await;
    let (_, minted) = foreign.mint(&foreign.github_jwt(GitHubClaims::new())).await;
    let unavailable = grpc(&app)
        .await
        .verify_token(pb::VerifyTokenRequest {
            token: minted["token"].as_str().expect("token").to_owned(),
            project: PROJECT.to_owned(),
        })
        .await
        .expect_err("store down");
    assert_eq!(unavailable.code(), tonic::Code::Unavailable);

    let after = scrape(&app).await;
    // The gRPC health service pings the store every 5 s besides `/readyz`.
    assert!(
        after.delta(&before, "trustmint_store_errors_total", &[("op", "ping")]) >= 1.0,
        "{}",
        after.describe("trustmint_store_errors_total")
    );
    for op in ["publisher_candidates", "token_get"] {
        assert_eq!(
            after.delta(&before, "trustmint_store_errors_total", &[("op", op)]),
            1.0,
            "{op}"
        );
        assert_eq!(
            after.delta(
                &before,
                "trustmint_store_duration_seconds_count",
                &[("op", op)]
            ),
            1.0,
            "{op}"
        );
    }
    assert_eq!(
        after.delta(
            &before,
            EXCHANGES,
            &exchange_labels("github", "failure", "unavailable")
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_verifications_total",
            &[("outcome", "error")]
        ),
        1.0
    );
    assert_eq!(
        after.delta(
            &before,
            "trustmint_grpc_requests_total",
            &[("method", "VerifyToken"), ("code", "UNAVAILABLE")]
        ),
        1.0
    );
}

/// Every label value of every series.
fn label_values(scrape: &Scrape) -> Vec<String> {
    scrape
        .series()
        .flat_map(|((_, labels), _)| labels.iter().map(|(_, value)| value.clone()))
        .collect()
}

/// One round of hostile traffic, each request carrying fresh random data; returns the
/// strings no label may contain.
async fn hostile_round(app: &TestApp) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut client = grpc(app).await;
    for _ in 0..3 {
        let random = uuid::Uuid::new_v4().simple().to_string();
        // An unknown issuer (its `iss` is attacker-chosen).
        let iss = format!("https://{random}.issuer.invalid/{random}");
        let jwt = app
            .issuer
            .sign(&GitHubClaims::new().build(&iss, "pypi", now()));
        assert_eq!(app.mint(&jwt).await.0, 422);
        // A repository nobody registered, with a chosen jti.
        let repository = format!("attacker-{random}/repo-{random}");
        let jti = format!("jti-{random}");
        let jwt = app.github_jwt(GitHubClaims::new().repository(&repository).jti(&jti));
        assert_eq!(app.mint(&jwt).await.0, 422);
        // An unknown path, and a verify for a project nobody has.
        assert_eq!(app.get(&format!("/{random}")).await.0, 404);
        let _ = client
            .verify_token(pb::VerifyTokenRequest {
                token: format!("pypi-{random}"),
                project: format!("project-{random}"),
            })
            .await;
        secrets.extend([random, iss, repository, jti]);
    }
    // A successful exchange: its token and token id never become labels either.
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_owned();
    let parsed = trustmint_tokens::parse_token(&token, "pypi-").expect("parse");
    secrets.extend([token, parsed.identifier.token_id.clone()]);
    secrets
}

#[tokio::test]
async fn label_values_never_carry_request_data_and_stay_bounded() {
    let app = spawn_app().await;
    // A scrape counts itself only after it answered: scrape once so `/metrics`'s own
    // series exist before the comparison starts.
    scrape(&app).await;
    let mut secrets = hostile_round(&app).await;
    let first = scrape(&app).await;
    secrets.extend(hostile_round(&app).await);
    secrets.extend(hostile_round(&app).await);
    let last = scrape(&app).await;

    let (first_keys, last_keys) = (first.keys(), last.keys());
    let new_series: Vec<_> = last_keys
        .iter()
        .filter(|key| !first_keys.contains(key))
        .collect();
    assert!(
        new_series.is_empty(),
        "more hostile traffic created new series: {new_series:?}"
    );
    assert_eq!(first_keys.len(), last_keys.len());
    let values = label_values(&last);
    for secret in &secrets {
        for value in &values {
            assert!(
                !value.contains(secret.as_str()),
                "label value {value:?} carries request data {secret:?}"
            );
        }
    }
    // The label values that exist are the bounded sets the docs list.
    let issuer = issuer_name(&app);
    let allowed: Vec<Value> = last
        .series()
        .filter(|((name, _), _)| name.starts_with("trustmint_jwks_"))
        .flat_map(|((_, labels), _)| labels.iter().filter(|(k, _)| k == "issuer"))
        .map(|(_, v)| json!(v))
        .collect();
    assert!(
        allowed.iter().all(|v| v == &json!(issuer)),
        "JWKS issuer labels are the configured name only: {allowed:?}"
    );
    let routes: std::collections::BTreeSet<String> = last
        .series()
        .filter(|((name, _), _)| name == "trustmint_http_requests_total")
        .flat_map(|((_, labels), _)| labels.iter().filter(|(k, _)| k == "route"))
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(
        routes,
        ["/_/oidc/mint-token", "/metrics", "unmatched"]
            .map(str::to_owned)
            .into()
    );
    let kinds: std::collections::BTreeSet<String> = last
        .series()
        .filter(|((name, _), _)| name == EXCHANGES)
        .flat_map(|((_, labels), _)| labels.iter().filter(|(k, _)| k == "issuer_kind"))
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(kinds, ["github", "unknown"].map(str::to_owned).into());
}
