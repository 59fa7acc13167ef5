//! PyPI's door on an instance with every other door enabled: only PyPI's audience,
//! only the PyPI publisher's project, and its tokens verify for PyPI only.

use trustmint_exchange::Ecosystem;
use trustmint_testkit::claims::GitHubClaims;

use super::{CRATES_AUDIENCE, NPM_PACKAGE, spawn_doors};
use crate::support::assert_token_error;

#[tokio::test]
async fn each_door_has_its_audience_and_pypi_is_unchanged() {
    let server = spawn_doors().await;
    let pypi_token = server.mint_pypi().await;
    assert!(pypi_token.starts_with("pypi-"), "{pypi_token}");
    let answer = server
        .mint(&server.jwt_for(GitHubClaims::new(), CRATES_AUDIENCE))
        .await;
    assert_token_error(&answer, 422, "invalid-token", "malformed or invalid token");
    assert_eq!(
        server
            .verify_in(&pypi_token, "sampleproject", Ecosystem::Pypi)
            .await,
        (true, String::new())
    );
    assert_eq!(
        server
            .verify_in(&pypi_token, NPM_PACKAGE, Ecosystem::Npm)
            .await,
        (
            false,
            "token was minted for pypi packages, not npm".to_owned()
        )
    );
}
