//! Burn (PyPI's `burn-token`, which uv calls after an upload): the same revocation as
//! revoke, so a burnt token stops verifying, and burning again, burning an unknown
//! token or burning a revoked one does nothing, with the same answer.

use trustmint_exchange::{REVOKED_OR_EXPIRED, Revocation};
use trustmint_testkit::memory_exchange::{ExchangeBuilder, PROJECT};

use crate::support::{assert_allowed, assert_denied};

#[tokio::test]
async fn burn_revokes_a_live_token_and_nothing_else() {
    let fx = ExchangeBuilder::start().await.build();
    let minted = fx.mint_default().await;
    let token = minted.token.expose_secret();
    assert_allowed(fx.verify(token, PROJECT).await);
    assert_eq!(
        fx.exchange.burn(&token.into(), None).await,
        Ok(Revocation::Revoked)
    );
    assert_denied(fx.verify(token, PROJECT).await, REVOKED_OR_EXPIRED);
    assert_eq!(
        fx.exchange.burn(&token.into(), None).await,
        Ok(Revocation::NothingToRevoke),
        "already burnt"
    );
    assert_eq!(
        fx.exchange.burn(&"pypi-garbage".into(), None).await,
        Ok(Revocation::NothingToRevoke),
        "unknown"
    );

    let second = fx.mint_default().await;
    let second = second.token.expose_secret();
    assert_eq!(fx.revoke(second).await, Ok(Revocation::Revoked));
    assert_eq!(
        fx.exchange.burn(&second.into(), None).await,
        Ok(Revocation::NothingToRevoke),
        "revoked, then burnt"
    );
}
