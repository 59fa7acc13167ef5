//! `GET /metrics` cardinality guard: tokens with unknown issuers, random repositories and
//! `jti`s, unknown paths and random projects never become label values, and more such
//! traffic creates no new series; the label values that exist are the bounded sets
//! docs/operations.md lists.

use crate::observability;
use crate::support;

use observability::metrics_text::Scrape;
use observability::scrape::{EXCHANGES, grpc, issuer_name, scrape};
use serde_json::{Value, json};
use support::{TestApp, now, spawn_app};
use trustmint_grpc::pb;
use trustmint_testkit::claims::GitHubClaims;

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
                ecosystem: String::new(),
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
