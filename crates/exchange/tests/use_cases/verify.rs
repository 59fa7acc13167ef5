//! Verify: an upload token is allowed for a project its publisher lists, with the
//! provenance stored at mint time; otherwise denied with PyPI's reason.

use std::collections::BTreeMap;

use trustmint_exchange::Clock as _;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT, github_declaration};

use crate::support::{assert_allowed, assert_denied, assert_error, attenuate, tamper};

#[tokio::test]
async fn allowed_carries_the_publisher_the_claims_the_expiry_and_the_scope() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let allowed = assert_allowed(fx.verify(minted.token.expose_secret(), PROJECT).await);
    assert_eq!(Some(&allowed.publisher), minted.publisher());
    assert_eq!(allowed.expires_at, minted.expires_at);
    assert_eq!(allowed.projects, vec![PROJECT.to_owned()]);
    assert_eq!(allowed.token_id, minted.token_id);
    assert!(!allowed.attenuated);
    let mut expected: BTreeMap<String, String> = minted.claims.clone();
    expected.insert("token_id".to_owned(), minted.token_id.clone());
    assert_eq!(allowed.claims, expected);
    assert_eq!(
        allowed.claims.get("publisher_url").map(String::as_str),
        Some(
            format!(
                "{}/octo-org/sampleproject/commit/2f9a6d1f8e1c3b7a5d4e6f80912a3b4c5d6e7f80",
                fx.issuer.url()
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn another_project_is_denied_with_pypis_text() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    assert_denied(
        fx.verify(minted.token.expose_secret(), "otherproject")
            .await,
        "project-scoped token is not valid for project: 'otherproject'",
    );
}

#[tokio::test]
async fn a_changed_signature_does_not_match() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let forged = tamper(minted.token.expose_secret(), |m| m.signature[31] ^= 0x01);
    assert_denied(fx.verify(&forged, PROJECT).await, "signatures do not match");
}

#[tokio::test]
async fn a_token_past_its_expiry_by_the_clock_is_gone() {
    let fx = ExchangeBuilder::start()
        .await
        .settings(|settings| settings.token_ttl_secs = 60)
        .build();
    let minted = fx.mint_default().await;
    fx.clock.advance(59);
    assert_allowed(fx.verify(minted.token.expose_secret(), PROJECT).await);
    fx.clock.advance(1);
    assert_denied(
        fx.verify(minted.token.expose_secret(), PROJECT).await,
        "token is expired",
    );
}

#[tokio::test]
async fn malformed_tokens_are_denied_and_bad_projects_are_invalid_arguments() {
    let fx = ExchangeBuilder::start().await.build();
    for (token, reason) in [
        ("", "malformed token: missing prefix 'pypi-'"),
        ("ghp_notours", "malformed token: missing prefix 'pypi-'"),
        ("pypi-", "malformed token: empty"),
        ("pypi-!!!", "malformed token: not base64"),
    ] {
        assert_denied(fx.verify(token, PROJECT).await, reason);
    }
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    assert_error(
        fx.verify(token, "").await,
        "invalid-argument",
        "project: project name is empty",
    );
    assert_error(
        fx.verify(token, "-bad-").await,
        "invalid-argument",
        "project: project name '-bad-' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
    );
}

#[tokio::test]
async fn project_names_are_compared_pep_503_normalised() {
    let issuer = trustmint_testkit::TestIssuer::start().await;
    let url = issuer.url();
    let fx = ExchangeBuilder::new(issuer)
        .publishers(vec![github_declaration(
            &url,
            &[PROJECT, "Sample_Project"],
            "",
        )])
        .build();
    let minted = fx.mint_default().await;
    let both = vec!["sample-project".to_owned(), PROJECT.to_owned()];
    assert_eq!(crate::support::names(&minted.projects), both);
    for asked in [
        "SampleProject",
        "SAMPLEPROJECT",
        "Sample_Project",
        "sample.project",
        "SAMPLE__-.project",
    ] {
        let allowed = assert_allowed(fx.verify(minted.token.expose_secret(), asked).await);
        assert_eq!(allowed.projects, both, "{asked}");
    }
    let narrowed = attenuate(minted.token.expose_secret(), &[r#"[1,["sampleproject"]]"#]);
    assert_denied(
        fx.verify(&narrowed, "Sample_Project").await,
        "project-scoped token is not valid for project: 'sample-project'",
    );
}

#[tokio::test]
async fn not_before_gets_the_configured_skew_allowance() {
    for (skew, allowed) in [(5, true), (0, false)] {
        let fx = ExchangeBuilder::start()
            .await
            .settings(|settings| settings.not_before_skew_secs = skew)
            .build();
        let minted = fx.mint_default().await;
        let ahead = attenuate(
            minted.token.expose_secret(),
            &[&format!("[0,{},{}]", minted.expires_at, fx.clock.now() + 3)],
        );
        let verification = fx.verify(&ahead, PROJECT).await;
        if allowed {
            assert!(assert_allowed(verification).attenuated, "skew {skew}");
        } else {
            assert_denied(verification, "token is expired");
        }
    }
}

#[tokio::test]
async fn a_token_another_exchange_minted_is_unknown_here() {
    // Two exchanges, two stores and ephemeral keyrings: the record is looked up first,
    // so a foreign token reads as gone, whatever its signature.
    let first = ExchangeBuilder::start().await.build();
    let second = ExchangeBuilder::start().await.build();
    let minted = first.mint_default().await;
    assert_denied(
        second.verify(minted.token.expose_secret(), PROJECT).await,
        trustmint_exchange::REVOKED_OR_EXPIRED,
    );
}
