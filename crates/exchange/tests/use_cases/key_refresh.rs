//! The issuer's signing keys: a token signed with a key the exchange has not seen
//! fetches the issuer's key set again, but at most once per refresh cooldown, so a
//! flood of unknown `kid`s cannot make the exchange hammer the issuer.

use std::time::Duration;

use tokio::time::Instant;
use trustmint_testkit::claims::GitHubClaims;
use trustmint_testkit::memory_exchange::ExchangeBuilder;

use crate::support::{INVALID_TOKEN, assert_error};

/// Long enough that generating the rotated key and the next mint surely fit in it on a
/// loaded machine (one second did not), short enough to wait out.
const COOLDOWN: Duration = Duration::from_secs(3);

#[tokio::test]
async fn a_rotated_key_is_fetched_once_the_configured_refresh_cooldown_has_passed() {
    let fx = ExchangeBuilder::start()
        .await
        .keystore(|keystore| keystore.refresh_cooldown = COOLDOWN)
        .build();
    fx.mint(&fx.github_jwt(GitHubClaims::new()))
        .await
        .expect("the first key mints");
    // The cooldown began at the fetch inside that mint, so no later than now.
    let cooldown_over = Instant::now() + COOLDOWN + Duration::from_millis(100);
    assert_eq!(fx.issuer.jwks_fetch_count(), 1);

    fx.issuer.rotate_key();
    // Within the cooldown the unknown kid is refused without a fetch…
    assert_error(
        fx.mint(&fx.github_jwt(GitHubClaims::new())).await,
        "invalid-token",
        INVALID_TOKEN,
    );
    assert_eq!(fx.issuer.jwks_fetch_count(), 1);
    // …and once it has passed, the next token with that kid fetches the new key set.
    // The keystore times its cooldown on tokio's clock, not the exchange's: real time
    // must pass (the exchange's clock stands still, so the JWTs stay fresh).
    tokio::time::sleep_until(cooldown_over).await;
    fx.mint(&fx.github_jwt(GitHubClaims::new()))
        .await
        .expect("the rotated key mints");
    assert_eq!(fx.issuer.jwks_fetch_count(), 2);
}
