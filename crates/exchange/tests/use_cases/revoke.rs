//! Revoke: idempotent, answers the same for unknown and malformed tokens (no probing),
//! and only the holder of a genuine copy can revoke.

use trustmint_exchange::{REVOKED_OR_EXPIRED, Revocation};
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::support::{assert_allowed, assert_denied, attenuate, tamper};

#[tokio::test]
async fn revoke_is_idempotent_and_stops_verification() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    assert_allowed(fx.verify(token, PROJECT).await);
    assert_eq!(fx.revoke(token).await, Ok(Revocation::Revoked));
    assert_denied(fx.verify(token, PROJECT).await, REVOKED_OR_EXPIRED);
    assert_eq!(REVOKED_OR_EXPIRED, "token is expired or has been revoked");
    assert_eq!(fx.revoke(token).await, Ok(Revocation::NothingToRevoke));
    for unknown in ["pypi-garbage", "", "ghp_notours"] {
        assert_eq!(
            fx.revoke(unknown).await,
            Ok(Revocation::NothingToRevoke),
            "{unknown:?}"
        );
    }
}

#[tokio::test]
async fn an_attenuated_copy_revokes_the_token_but_a_forged_one_does_not() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    // Knowing the token id is not enough: the signature must verify.
    let forged = tamper(token, |m| m.signature = [0; 32]);
    assert_eq!(fx.revoke(&forged).await, Ok(Revocation::NothingToRevoke));
    assert_allowed(fx.verify(token, PROJECT).await);
    // Any genuine copy may revoke, attenuated ones included; the original dies with it.
    let narrowed = attenuate(token, &[r#"[1,["sampleproject"]]"#]);
    assert_eq!(fx.revoke(&narrowed).await, Ok(Revocation::Revoked));
    assert_denied(fx.verify(token, PROJECT).await, REVOKED_OR_EXPIRED);
}

#[tokio::test]
async fn a_token_of_another_keyring_revokes_nothing() {
    let first = ExchangeBuilder::start().await.build();
    let second = ExchangeBuilder::start().await.build();
    let minted = first.mint_default().await;
    let token = minted.token.expose_secret();
    assert_eq!(second.revoke(token).await, Ok(Revocation::NothingToRevoke));
    assert_allowed(first.verify(token, PROJECT).await);
}
