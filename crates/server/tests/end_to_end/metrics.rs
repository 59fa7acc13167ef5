//! `GET /metrics` end to end, exchanges: the exposition is parsed and exact series are
//! compared before and after a successful exchange (exchange, duration, tokens minted,
//! HTTP request, JWKS cache state, store calls, build info) and after each refusal, one
//! per wire code (every code is pre-registered at 0 and exactly its series moves).
//! Verification, revocation, gRPC and store errors: `metrics_verify.rs`; label
//! cardinality: `metrics_cardinality.rs`.

use crate::observability;
use crate::support;

use observability::metrics_text::{Scrape, parse};
use observability::scrape::{
    EXCHANGES, exchange_labels, issuer_name, moved_exchange_series, scrape,
};
use serde_json::json;
use support::{TestApp, now, spawn_app, spawn_app_with};
use trustmint_exchange::ExchangeError;
use trustmint_testkit::claims::GitHubClaims;

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
async fn with_rate_limiting_off_an_exchange_makes_no_rate_check_call() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let (status, body) = app.mint(&app.github_jwt(GitHubClaims::new())).await;
    assert_eq!(status, 200, "{body}");
    let after = scrape(&app).await;
    let store_calls = "trustmint_store_duration_seconds_count";
    assert_eq!(after.get(store_calls, &[("op", "rate_check")]), None);
    assert_eq!(
        after.delta(&before, store_calls, &[("op", "replay_claim")]),
        1.0
    );
}

#[tokio::test]
async fn a_successful_exchange_moves_exactly_its_series() {
    // With rate limiting on, so its store call is one of the series that move.
    let app = spawn_app_with(|settings, _| settings.rate_limit.enabled = true).await;
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
        "rate_check",
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
                policy: Default::default(),
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
