//! One scenario every platform runs on the use cases: publisher management, mints,
//! verify's provenance, the exchange metric's issuer kind, and the platform's refusals.

use serde_json::{Value, json};
use trustmint_exchange::Clock as _;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, MemoryExchange, PROJECT};

use crate::providers_support::assert_minted_for;
use crate::support::{assert_error, code_of, names, new_publisher_with_spec};

/// A token the platform's job would present, edited for one case.
pub type Edit = fn(&mut Value);

/// One refusal: the token edit and the exact wire code and description.
pub struct Refusal {
    pub case: &'static str,
    pub edit: Edit,
    pub code: &'static str,
    pub description: String,
}

/// What a platform's scenario needs.
pub struct Platform {
    /// The `iss` of its tokens.
    pub iss: String,
    /// The `[[issuers]]` entry (without `jwks_uri`, which the harness adds).
    pub issuer: Value,
    /// The publisher spec registered through the manage use cases, for project
    /// `sampleproject`.
    pub publisher: Value,
    /// A real-shaped claim set for `iss`, audience `pypi`, at `now`.
    pub claims: fn(&str, i64) -> Value,
    /// Provenance verify must return (a subset of its `claims`).
    pub provenance: Vec<(&'static str, String)>,
    /// Other shapes of the job's token that must mint too (audiences, optional claims).
    pub accepted: Vec<(&'static str, Edit)>,
    /// Refusals, each asserted with its exact code and description.
    pub refusals: Vec<Refusal>,
}

/// An exchange trusting only `platform`'s issuer (keys from a fresh test issuer's JWKS)
/// and declaring no publisher.
async fn exchange_for(platform: &Platform) -> MemoryExchange {
    let keys = TestIssuer::start().await;
    let mut issuer = platform.issuer.clone();
    issuer["jwks_uri"] = json!(keys.jwks_uri());
    ExchangeBuilder::new(keys)
        .issuers(vec![issuer])
        .publishers(vec![])
        .build()
}

/// Runs the whole scenario for `platform`.
pub async fn exercise(platform: Platform) {
    let fx = exchange_for(&platform).await;

    // Every token of the scenario gets its own jti (replays are refused).
    let sign = |edit: Option<Edit>, jti: &str| {
        let mut claims = (platform.claims)(&platform.iss, fx.clock.now());
        claims["jti"] = json!(jti);
        if let Some(edit) = edit {
            edit(&mut claims);
        }
        fx.jwt_for(claims)
    };

    // Create, get, list.
    let request = new_publisher_with_spec(platform.publisher.clone(), &[PROJECT], false);
    let spec = request.spec.clone();
    let created = fx
        .exchange
        .create_publisher(request)
        .await
        .unwrap_or_else(|error| panic!("create_publisher: {error:?}"));
    assert!(created.created);
    let created = created.publisher;
    assert_eq!(created.spec, spec, "the publisher is stored as given");
    let id = created.id.as_str().to_owned();
    assert_eq!(fx.exchange.get_publisher(&id).await, Ok(created.clone()));
    assert_eq!(
        fx.exchange.list_publishers(PROJECT).await,
        Ok(vec![created.clone()])
    );

    // Mint, then what the index learns through verify.
    let allowed = assert_minted_for(&fx, fx.mint(&sign(None, "jti-first")).await, PROJECT).await;
    assert_eq!(allowed.projects, [PROJECT]);
    assert_eq!(allowed.publisher.id, created.id);
    assert_eq!(allowed.claims.get("issuer"), Some(&platform.iss));
    for (key, value) in &platform.provenance {
        assert_eq!(allowed.claims.get(*key), Some(value), "claims[{key}]");
    }

    // Another token of the same job mints too, for the same publisher.
    let minted = fx
        .mint(&sign(None, "jti-second"))
        .await
        .expect("another token of the job mints");
    assert_eq!(names(&minted.projects), [PROJECT]);
    assert_eq!(minted.publisher().map(|p| &p.id), Some(&created.id));

    for (index, (case, edit)) in platform.accepted.iter().enumerate() {
        let minted = fx
            .mint(&sign(Some(*edit), &format!("jti-accepted-{index}")))
            .await;
        if let Err(error) = minted {
            panic!("{case}: {error:?}");
        }
    }

    // Refusals.
    for (index, refusal) in platform.refusals.iter().enumerate() {
        let jwt = sign(Some(refusal.edit), &format!("jti-refused-{index}"));
        let refused = fx.mint(&jwt).await;
        // The minted token is a secret: name the case, print nothing of it.
        assert!(refused.is_err(), "{}: minted", refusal.case);
        assert_error(refused, refusal.code, &refusal.description);
    }

    // Metrics label the exchanges with the platform's kind.
    let kind = platform.issuer["kind"].as_str().unwrap_or_default();
    let label = format!("issuer_kind=\"{kind}\"");
    assert!(
        fx.exchange
            .render_metrics()
            .lines()
            .any(|line| line.starts_with("trustmint_exchanges_total{") && line.contains(&label)),
        "no trustmint_exchanges_total with {label}"
    );

    // Delete: the next token of the job finds nothing.
    assert_eq!(fx.exchange.delete_publisher(&id).await, Ok(Some(created)));
    assert_eq!(
        code_of(fx.mint(&sign(None, "jti-after-delete")).await),
        "invalid-publisher"
    );
}
