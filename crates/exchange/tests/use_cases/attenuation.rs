//! Attenuation: a holder appends caveats and gets a token valid only within the
//! narrower scope; removing or reordering caveats breaks the chain; a caveat trustmint
//! does not understand denies.

use trustmint_exchange::Clock as _;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT, github_declaration};
use trustmint_tokens::RawCaveat;

use crate::support::{assert_allowed, assert_denied, attenuate, tamper};

const OTHER: &str = "otherproject";

#[tokio::test]
async fn a_narrower_project_list_verifies_only_for_those_projects() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let url = issuer.url();
    let fx = ExchangeBuilder::new(issuer)
        .publishers(vec![github_declaration(&url, &[PROJECT, OTHER], "")])
        .build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    for project in [PROJECT, OTHER] {
        assert_allowed(fx.verify(token, project).await);
    }
    let narrowed = attenuate(token, &[r#"[1,["otherproject"]]"#]);
    let allowed = assert_allowed(fx.verify(&narrowed, OTHER).await);
    assert!(allowed.attenuated);
    assert_eq!(allowed.projects, vec![OTHER.to_owned()]);
    assert_eq!(allowed.token_id, minted.token_id);
    assert_denied(
        fx.verify(&narrowed, PROJECT).await,
        "project-scoped token is not valid for project: 'sampleproject'",
    );
    // Attenuation cannot widen: every project caveat must hold.
    let widened = attenuate(token, &[r#"[1,["sampleproject","evil"]]"#]);
    assert_denied(
        fx.verify(&widened, "evil").await,
        "project-scoped token is not valid for project: 'evil'",
    );
}

#[tokio::test]
async fn an_earlier_expiry_shortens_the_token_and_a_later_one_does_not_extend_it() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    let now = fx.clock.now();
    let short = attenuate(token, &[&format!("[0,{},{}]", now + 60, now)]);
    let allowed = assert_allowed(fx.verify(&short, PROJECT).await);
    assert_eq!(allowed.expires_at, now + 60);
    assert!(allowed.attenuated);
    let long = attenuate(
        token,
        &[&format!("[0,{},{}]", minted.expires_at + 3600, now)],
    );
    assert_eq!(
        assert_allowed(fx.verify(&long, PROJECT).await).expires_at,
        minted.expires_at
    );
    let past = attenuate(token, &[&format!("[0,{},{}]", now - 1, now - 100)]);
    assert_denied(fx.verify(&past, PROJECT).await, "token is expired");
}

#[tokio::test]
async fn removing_or_reordering_caveats_breaks_the_signature() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    let narrowed = attenuate(token, &[r#"[1,["otherproject"]]"#]);
    let cases: Vec<(&str, String)> = vec![
        (
            "the appended caveat removed",
            tamper(&narrowed, |m| {
                m.caveats.pop();
            }),
        ),
        (
            "the minted project caveat removed",
            tamper(token, |m| {
                m.caveats.remove(1);
            }),
        ),
        (
            "the minted expiry removed",
            tamper(token, |m| {
                m.caveats.remove(0);
            }),
        ),
        (
            "minted caveats swapped",
            tamper(token, |m| m.caveats.swap(0, 1)),
        ),
        (
            "appended caveat moved to the front",
            tamper(&narrowed, |m| m.caveats.rotate_right(1)),
        ),
        (
            "a caveat rewritten",
            tamper(token, |m| {
                m.caveats[1] = RawCaveat::first_party(&br#"[1,["evil"]]"#[..]);
            }),
        ),
    ];
    for (name, forged) in cases {
        match fx.verify(&forged, PROJECT).await.expect(name) {
            trustmint_exchange::Verification::Denied { reason } => {
                assert_eq!(reason, "signatures do not match", "{name}");
            }
            allowed => panic!("{name}: {allowed:?}"),
        }
    }
}

#[tokio::test]
async fn a_caveat_trustmint_does_not_understand_denies() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    for (predicate, reason) in [
        (r#"[9,"anything"]"#, "caveat has unknown tag: 9"),
        ("account = alice", "caveat is not valid JSON"),
        (
            r#"{"version":1,"permissions":"user"}"#,
            "caveat must be an array",
        ),
        (
            r#"[2,["4a6c7d3e"]]"#,
            "token with project ID restriction cannot be verified by this service",
        ),
        (
            r#"[3,"user-1"]"#,
            "token with user restriction without a user",
        ),
    ] {
        let attenuated = attenuate(minted.token.expose_secret(), &[predicate]);
        assert_denied(fx.verify(&attenuated, PROJECT).await, reason);
    }
}
