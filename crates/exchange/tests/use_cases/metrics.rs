//! What the use cases count, read from the Prometheus exposition (the metric names and
//! labels are interface contract): one `trustmint_exchanges_total` series per outcome
//! and code, verifications by outcome, publisher changes by action.

use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, MemoryExchange, PROJECT};

use crate::support::github_publisher;

/// The value of the series `line` (`name{labels}`) in the exposition, if present.
fn sample(fx: &MemoryExchange, series: &str) -> Option<f64> {
    fx.exchange.render_metrics().lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(value.parse().expect("a number"))
    })
}

#[tokio::test]
async fn every_mint_outcome_is_counted_under_its_issuer_kind_and_code() {
    let fx = ExchangeBuilder::start().await.build();
    let failure = |kind: &str, code: &str| {
        format!(
            r#"trustmint_exchanges_total{{code="{code}",issuer_kind="{kind}",outcome="failure"}}"#
        )
    };
    let success = r#"trustmint_exchanges_total{code="",issuer_kind="github",outcome="success"}"#;
    // Pre-registered: zeros, not missing series.
    assert_eq!(sample(&fx, success), Some(0.0));
    assert_eq!(
        sample(&fx, &failure("github", "invalid-reuse-token")),
        Some(0.0)
    );
    assert_eq!(
        sample(&fx, &failure("unknown", "invalid-payload")),
        Some(0.0)
    );

    let jwt = fx.github_jwt(GitHubClaims::new());
    fx.mint(&jwt).await.expect("mints");
    let _ = fx.mint(&jwt).await;
    let _ = fx.mint("not-a-jwt").await;
    assert_eq!(sample(&fx, success), Some(1.0));
    assert_eq!(
        sample(&fx, &failure("github", "invalid-reuse-token")),
        Some(1.0)
    );
    assert_eq!(
        sample(&fx, &failure("unknown", "invalid-payload")),
        Some(1.0)
    );
}

#[tokio::test]
async fn verifications_are_counted_by_outcome() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    fx.verify(token, PROJECT).await.expect("allowed");
    fx.verify(token, "otherproject").await.expect("denied");
    let _ = fx.verify(token, "-bad-").await;
    let outcome = |outcome: &str| {
        sample(
            &fx,
            &format!(r#"trustmint_verifications_total{{outcome="{outcome}"}}"#),
        )
    };
    assert_eq!(outcome("allowed"), Some(1.0));
    assert_eq!(outcome("denied"), Some(1.0));
    // A malformed request (the project name) is refused before it is a verification:
    // `error` counts backend failures only, and none happened.
    assert_eq!(outcome("error"), None);
}

#[tokio::test]
async fn publisher_changes_are_counted_by_action() {
    let fx = ExchangeBuilder::start().await.publishers(vec![]).build();
    let url = fx.issuer.url();
    let created = fx
        .exchange
        .create_publisher(github_publisher(&url, "sampleproject", &["new-one"], true))
        .await
        .expect("created");
    // An identical request changes nothing and counts nothing.
    fx.exchange
        .create_publisher(github_publisher(&url, "sampleproject", &["new-one"], true))
        .await
        .expect("the same publisher");
    let id = created.publisher.id.as_str();
    fx.exchange.confirm_publisher(id).await.expect("confirmed");
    fx.exchange.confirm_publisher(id).await.expect("already");
    fx.exchange.delete_publisher(id).await.expect("deleted");
    fx.exchange
        .delete_publisher(id)
        .await
        .expect("nothing left");
    for action in ["create", "confirm", "delete"] {
        assert_eq!(
            sample(
                &fx,
                &format!(r#"trustmint_publisher_changes_total{{action="{action}"}}"#)
            ),
            Some(1.0),
            "{action}"
        );
    }
}
