//! The libmacaroons HMAC-SHA256 signature chain.
//!
//! ```text
//! derived = HMAC-SHA256(key = "macaroons-key-generator", msg = root_key)
//! sig_0   = HMAC-SHA256(derived, identifier)
//! sig_i   = HMAC-SHA256(sig_{i-1}, predicate_i)                          first-party
//! sig_i   = HMAC(sig_{i-1}, HMAC(sig_{i-1}, vid) ‖ HMAC(sig_{i-1}, cid))  third-party
//! ```
//!
//! The key-generator step is what pymacaroons and libmacaroons `macaroon_create` apply
//! to the key they are given, so `pymacaroons.Verifier().verify(m, root_key)` accepts a
//! macaroon signed here from the same `root_key`. Third-party links are computed only so
//! that the chain of a macaroon carrying one can be checked before it is denied.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::macaroon::{Macaroon, RawCaveat, SIGNATURE_LEN};

/// The fixed HMAC key of the libmacaroons root-key derivation.
const KEY_GENERATOR: &[u8] = b"macaroons-key-generator";

/// `HMAC-SHA256(key = "macaroons-key-generator", msg = root_key)`: the key a macaroon is
/// really signed with, given the root key a caller holds (libmacaroons/pymacaroons).
pub fn derive_macaroon_key(root_key: &[u8]) -> [u8; 32] {
    hmac_sha256(KEY_GENERATOR, root_key)
}

/// The signature a macaroon with this identifier and these caveats must carry when it
/// was minted from `root_key` (before the key-generator derivation).
pub fn chain_signature(
    root_key: &[u8],
    identifier: &[u8],
    caveats: &[RawCaveat],
) -> [u8; SIGNATURE_LEN] {
    let initial = hmac_sha256(&derive_macaroon_key(root_key), identifier);
    caveats
        .iter()
        .fold(initial, |signature, caveat| extend(&signature, caveat))
}

/// Whether `macaroon`'s signature is the one its contents and `root_key` produce,
/// compared in constant time.
pub(crate) fn signature_matches(macaroon: &Macaroon, root_key: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    let expected = chain_signature(root_key, &macaroon.identifier, &macaroon.caveats);
    expected.ct_eq(&macaroon.signature).into()
}

/// One link of the chain.
fn extend(signature: &[u8; SIGNATURE_LEN], caveat: &RawCaveat) -> [u8; SIGNATURE_LEN] {
    match &caveat.verification_id {
        None => hmac_sha256(signature, &caveat.identifier),
        Some(vid) => {
            let mut pair = [0u8; 2 * SIGNATURE_LEN];
            pair[..SIGNATURE_LEN].copy_from_slice(&hmac_sha256(signature, vid));
            pair[SIGNATURE_LEN..].copy_from_slice(&hmac_sha256(signature, &caveat.identifier));
            hmac_sha256(signature, &pair)
        }
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length (longer ones are hashed), so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's hmac/hashlib, e.g.
    //   hmac.new(b"macaroons-key-generator", b"this is our super secret key; only we should know it", hashlib.sha256).hexdigest()

    /// The root key of the pymacaroons README example.
    const README_KEY: &[u8] = b"this is our super secret key; only we should know it";

    #[test]
    fn key_generator_matches_python() {
        assert_eq!(
            hex::encode(derive_macaroon_key(README_KEY)),
            "a96173391e6bfa0356bbf095621b8af1510968e770e4d27d62109b7dc374814b"
        );
    }

    #[test]
    fn chain_matches_pymacaroons() {
        // pymacaroons:
        //   m = Macaroon(location="http://mybank/", identifier="we used our secret key", key=README_KEY, version=MACAROON_V2)
        //   m.add_first_party_caveat("account = 3735928559")
        //   m.signature
        let signature = chain_signature(
            README_KEY,
            b"we used our secret key",
            &[RawCaveat::first_party(&b"account = 3735928559"[..])],
        );
        assert_eq!(
            hex::encode(signature),
            "1efe4763f290dbce0c1d08477367e11f4eee456a64933cf662d79772dbb82128"
        );
    }

    #[test]
    fn third_party_link_is_hash2() {
        let sig0 = [1u8; 32];
        let caveat = RawCaveat {
            location: Some(b"https://auth.example".to_vec()),
            identifier: b"cid".to_vec(),
            verification_id: Some(vec![9; 72]),
        };
        let mut pair = hmac_sha256(&sig0, &[9; 72]).to_vec();
        pair.extend_from_slice(&hmac_sha256(&sig0, b"cid"));
        assert_eq!(extend(&sig0, &caveat), hmac_sha256(&sig0, &pair));
    }

    #[test]
    fn signature_matches_detects_any_change() {
        let caveats = vec![
            RawCaveat::first_party(&b"a"[..]),
            RawCaveat::first_party(&b"b"[..]),
        ];
        let mut macaroon = Macaroon {
            location: b"loc".to_vec(),
            identifier: b"id".to_vec(),
            signature: chain_signature(b"root", b"id", &caveats),
            caveats,
        };
        assert!(signature_matches(&macaroon, b"root"));
        assert!(!signature_matches(&macaroon, b"other root"));
        macaroon.caveats.swap(0, 1);
        assert!(!signature_matches(&macaroon, b"root"));
    }
}
