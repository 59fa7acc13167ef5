//! The front doors as use cases (`Exchange::mint_through`), without their wires: each
//! door takes its own audience only, mints its ecosystem's tokens, which verify in
//! that ecosystem only, and a narrowing to projects no publisher lists is refused
//! without burning the JWT.

use trustmint_exchange::{
    Clock as _, Door, Ecosystem, ExchangeError, MintRequest, Minted, Verification, VerifyRequest,
};
use trustmint_publishers::ProjectName;
use trustmint_testkit::TestIssuer;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::{
    ExchangeBuilder, MemoryExchange, PROJECT, github_declaration,
};

use crate::support::{INVALID_TOKEN, assert_error};

const CRATES_AUDIENCE: &str = "crates.example.org";
const NPM_AUDIENCE: &str = "npm:registry.example.org";
const NPM_PACKAGE: &str = "@octo-org/sampleproject";

/// crates.io's and npm's doors on; the default identity publishes `sampleproject` on
/// PyPI, `Serde-Json` as a crate and `@octo-org/sampleproject` on npm.
async fn every_door() -> MemoryExchange {
    let issuer = TestIssuer::start().await;
    let url = issuer.url();
    let in_ecosystem = |ecosystem: &str, projects: &[&str]| {
        let mut entry = github_declaration(&url, projects, "");
        entry["ecosystem"] = ecosystem.into();
        entry
    };
    ExchangeBuilder::new(issuer)
        .doors(|doors| {
            doors.crates.enabled = true;
            doors.crates.audience = CRATES_AUDIENCE.into();
            doors.npm.enabled = true;
            doors.npm.audience = NPM_AUDIENCE.into();
        })
        .publishers(vec![
            in_ecosystem("pypi", &[PROJECT]),
            in_ecosystem("crates", &["Serde-Json"]),
            in_ecosystem("npm", &[NPM_PACKAGE]),
        ])
        .build()
}

/// A JWT of the default claims for `audience`, issued now by the exchange's clock.
fn jwt_for(fx: &MemoryExchange, audience: &str) -> String {
    fx.jwt_for(GitHubClaims::new().build(&fx.issuer.url(), audience, fx.clock.now()))
}

// `into()`: the request's token type is the OIDC token's own (a secret newtype).
#[allow(clippy::useless_conversion)]
async fn through(
    fx: &MemoryExchange,
    door: Door,
    jwt: &str,
    only_projects: Option<&[ProjectName]>,
) -> Result<Minted, ExchangeError> {
    let request = MintRequest {
        oidc_token: jwt.to_owned().into(),
        client_ip: None,
    };
    fx.exchange.mint_through(door, request, only_projects).await
}

/// (allowed, denial reason) of `token` for `project` in an index of `ecosystem`.
async fn verify_in(
    fx: &MemoryExchange,
    token: &str,
    project: &str,
    ecosystem: Ecosystem,
) -> (bool, String) {
    let request = VerifyRequest {
        token: token.into(),
        project: project.to_owned(),
    };
    match fx.exchange.verify_in(request, ecosystem).await {
        Ok(Verification::Allowed(_)) => (true, String::new()),
        Ok(Verification::Denied { reason }) => (false, reason),
        Err(error) => panic!("verify answers: {error:?}"),
    }
}

#[tokio::test]
async fn each_door_takes_its_own_audience_only() {
    let fx = every_door().await;
    let pypi_jwt = fx.github_jwt(GitHubClaims::new());
    assert_error(
        through(&fx, Door::Crates, &pypi_jwt, None).await,
        "invalid-token",
        INVALID_TOKEN,
    );
    assert_error(
        through(&fx, Door::Npm, &pypi_jwt, None).await,
        "invalid-token",
        INVALID_TOKEN,
    );
    assert_error(
        through(&fx, Door::Pypi, &jwt_for(&fx, CRATES_AUDIENCE), None).await,
        "invalid-token",
        INVALID_TOKEN,
    );
    // None of those refusals burnt the PyPI JWT.
    assert!(through(&fx, Door::Pypi, &pypi_jwt, None).await.is_ok());
}

#[tokio::test]
async fn a_door_mints_its_ecosystems_tokens_which_verify_there_only() {
    let fx = every_door().await;
    let minted = through(&fx, Door::Crates, &jwt_for(&fx, CRATES_AUDIENCE), None)
        .await
        .expect("the crates door mints");
    let token = minted.token.expose_secret();
    assert!(token.starts_with("cio_tp_"), "{token}");
    // `Serde-Json`, `serde_json` and `serde-json` are one crate.
    for spelling in ["serde_json", "Serde-Json", "serde-json"] {
        assert_eq!(
            verify_in(&fx, token, spelling, Ecosystem::Crates).await,
            (true, String::new()),
            "{spelling}"
        );
    }
    assert_eq!(
        verify_in(&fx, token, "serde-json", Ecosystem::Pypi).await,
        (
            false,
            "token was minted for crates packages, not pypi".to_owned()
        )
    );
    assert!(
        !verify_in(&fx, token, "other_crate", Ecosystem::Crates)
            .await
            .0
    );

    let pypi = fx.mint_default().await;
    let pypi = pypi.token.expose_secret();
    assert!(pypi.starts_with("pypi-"), "{pypi}");
    assert_eq!(
        verify_in(&fx, pypi, NPM_PACKAGE, Ecosystem::Npm).await,
        (
            false,
            "token was minted for pypi packages, not npm".to_owned()
        )
    );
}

#[tokio::test]
async fn a_narrowing_to_an_unlisted_package_keeps_the_jwt_for_a_retry() {
    let fx = every_door().await;
    let jwt = jwt_for(&fx, NPM_AUDIENCE);
    let left_pad = [Ecosystem::Npm.project("left-pad").expect("an npm name")];
    assert_error(
        through(&fx, Door::Npm, &jwt, Some(&left_pad)).await,
        "invalid-publisher",
        "valid token, but no corresponding publisher (the trusted publisher matching this token is not a publisher of 'left-pad')",
    );
    let package = [Ecosystem::Npm.project(NPM_PACKAGE).expect("an npm name")];
    let minted = through(&fx, Door::Npm, &jwt, Some(&package))
        .await
        .expect("the refusal did not burn the JWT");
    let token = minted.token.expose_secret();
    assert!(token.starts_with("npm_"), "{token}");
    assert_eq!(
        verify_in(&fx, token, NPM_PACKAGE, Ecosystem::Npm).await,
        (true, String::new())
    );
    // Now it is burnt: the same JWT again is a replay.
    assert_error(
        through(&fx, Door::Npm, &jwt, Some(&package)).await,
        "invalid-reuse-token",
        "invalid token: already used",
    );
}
