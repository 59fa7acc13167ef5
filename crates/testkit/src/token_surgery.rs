//! What a token holder (or an attacker) can do to a minted token without the key:
//! append caveats the way pymacaroons does, or edit the macaroon without re-signing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use trustmint_tokens::{Macaroon, parse_token};

/// Re-encodes `macaroon` as a token with the default prefix.
pub fn encode(macaroon: &Macaroon) -> String {
    format!("pypi-{}", URL_SAFE_NO_PAD.encode(macaroon.encode_v2()))
}

/// `token` with `predicates` appended as first-party caveats (what a holder may do).
pub fn attenuate(token: &str, predicates: &[&str]) -> String {
    let mut macaroon = parse_token(token, "pypi-")
        .expect("a minted token")
        .macaroon;
    for predicate in predicates {
        macaroon.add_first_party_caveat(predicate.as_bytes());
    }
    encode(&macaroon)
}

/// `token` edited *without* re-signing (what an attacker can do).
pub fn tamper(token: &str, edit: impl FnOnce(&mut Macaroon)) -> String {
    let mut macaroon = parse_token(token, "pypi-")
        .expect("a minted token")
        .macaroon;
    edit(&mut macaroon);
    encode(&macaroon)
}
