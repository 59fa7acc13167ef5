//! What a minted token holds: exactly PyPI's three caveats (DESIGN §3), in PyPI's
//! order, and the exchange's location, so Warehouse can verify it unchanged.

use trustmint_exchange::Clock as _;
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};
use trustmint_tokens::{Caveat, parse_token};

#[tokio::test]
async fn a_minted_token_holds_expiration_project_and_publisher_caveats_and_the_location() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let expires = minted.expires_at;
    assert_eq!(expires, fx.clock.now() + 900);

    let parsed = parse_token(minted.token.expose_secret(), "pypi-").expect("a pypi- token");
    let caveats: Vec<Caveat> = parsed
        .macaroon
        .caveats
        .iter()
        .map(|raw| Caveat::parse(&raw.identifier).expect("a caveat trustmint wrote"))
        .collect();
    // The publisher the token names is the one registered for the project.
    let publisher_id = fx
        .exchange
        .list_publishers(PROJECT)
        .await
        .expect("the project's publishers")[0]
        .id
        .to_string();
    assert_eq!(
        caveats,
        vec![
            Caveat::Expiration {
                expires_at: expires,
                not_before: expires - 900
            },
            Caveat::ProjectName(vec![PROJECT.to_owned()]),
            Caveat::OidcPublisher { publisher_id },
        ]
    );
    assert_eq!(parsed.macaroon.location, b"https://upload.example.org");
}
