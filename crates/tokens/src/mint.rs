//! Minting: a fresh identifier under the keyring's current key, the three caveats
//! PyPI-style upload tokens carry, the HMAC chain, and the prefixed string.

use crate::caveat::Caveat;
use crate::chain;
use crate::keyring::Keyring;
use crate::macaroon::{Macaroon, RawCaveat};
use crate::token::{MintedToken, TokenIdentifier};

/// Number of caveats [`mint`] writes; anything after them was appended by a holder.
pub const MINTED_CAVEAT_COUNT: usize = 3;

/// What to mint. The caller has already matched the publisher and decided the window.
#[derive(Debug, Clone, Copy)]
pub struct MintRequest<'a> {
    /// Macaroon location (`server.location`), e.g. `https://upload.example.org`.
    pub location: &'a str,
    /// Token prefix (`exchange.token_prefix`, default [`crate::DEFAULT_TOKEN_PREFIX`]).
    pub prefix: &'a str,
    /// The matched publisher's id (the OIDCPublisher caveat).
    pub publisher_id: &'a str,
    /// Projects the token may upload to, already PEP 503-normalised.
    pub projects: &'a [String],
    /// First valid instant (unix seconds).
    pub not_before: i64,
    /// First expired instant (unix seconds).
    pub expires_at: i64,
}

/// Mints a token: identifier `<current key id>:<uuid v4>`, caveats
/// `[0,expires_at,not_before]`, `[1,[projects…]]`, `[4,"publisher id",null]` in that
/// order, V2 binary, URL-safe base64 without padding, behind `request.prefix`.
///
/// Returns the secret token and its identifier (whose `token_id` is the store key).
pub fn mint(keyring: &Keyring, request: &MintRequest<'_>) -> (MintedToken, TokenIdentifier) {
    mint_for_ecosystem(keyring, request, None)
}

/// [`mint`], plus an `[10, "<ecosystem>"]` caveat after the three when `ecosystem` is
/// given: the token of a non-PyPI door, which verifies for that ecosystem only.
pub fn mint_for_ecosystem(
    keyring: &Keyring,
    request: &MintRequest<'_>,
    ecosystem: Option<&str>,
) -> (MintedToken, TokenIdentifier) {
    let (identifier, root_key) = keyring.new_identifier_with_root_key();
    let door = ecosystem.map(|ecosystem| Caveat::Ecosystem(ecosystem.to_owned()));
    let caveats: Vec<RawCaveat> = [
        Caveat::Expiration {
            expires_at: request.expires_at,
            not_before: request.not_before,
        },
        Caveat::ProjectName(request.projects.to_vec()),
        Caveat::OidcPublisher {
            publisher_id: request.publisher_id.to_owned(),
        },
    ]
    .iter()
    .chain(door.as_ref())
    .map(|caveat| RawCaveat::first_party(caveat.to_predicate()))
    .collect();
    let identifier_bytes = identifier.to_string().into_bytes();
    let macaroon = Macaroon {
        location: request.location.as_bytes().to_vec(),
        signature: chain::chain_signature(&root_key, &identifier_bytes, &caveats),
        identifier: identifier_bytes,
        caveats,
    };
    (MintedToken::new(request.prefix, &macaroon), identifier)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::token::parse_token;

    fn keyring() -> Keyring {
        let secrets = BTreeMap::from([
            (
                "k1".to_string(),
                "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8".to_string(),
            ),
            (
                "k2".to_string(),
                "//////////////////////////////////////////8".to_string(),
            ),
        ]);
        Keyring::new("k2", &secrets).expect("valid keyring")
    }

    fn request<'a>(projects: &'a [String]) -> MintRequest<'a> {
        MintRequest {
            location: "https://upload.example.org",
            prefix: "pypi-",
            publisher_id: "8c1b1bd3-5dc4-4a5e-9d0b-2f1d38e8d5a1",
            projects,
            not_before: 1_700_000_000,
            expires_at: 1_700_000_900,
        }
    }

    #[test]
    fn a_door_token_carries_its_ecosystem_after_the_three_caveats() {
        let projects = vec!["@octo-org/sampleproject".to_string()];
        let keyring = keyring();
        let mut npm = request(&projects);
        npm.prefix = "npm_";
        let (token, identifier) = mint_for_ecosystem(&keyring, &npm, Some("npm"));
        let parsed = parse_token(token.expose_secret(), "npm_").expect("parses");
        let last = parsed.macaroon.caveats.last().expect("caveats");
        assert_eq!(parsed.macaroon.caveats.len(), MINTED_CAVEAT_COUNT + 1);
        assert_eq!(last.identifier, br#"[10,"npm"]"#);
        assert_eq!(
            Caveat::parse(&last.identifier),
            Ok(Caveat::Ecosystem("npm".to_owned()))
        );
        let root_key = keyring.root_key(&identifier).expect("current key");
        assert!(chain::signature_matches(&parsed.macaroon, &root_key));
    }

    #[test]
    fn mints_the_documented_layout() {
        let projects = vec!["sampleproject".to_string(), "other-project".to_string()];
        let keyring = keyring();
        let (token, identifier) = mint(&keyring, &request(&projects));

        assert!(token.expose_secret().starts_with("pypi-AgE"));
        assert!(!token.expose_secret().contains('='));
        assert_eq!(identifier.key_id, "k2");

        let parsed = parse_token(token.expose_secret(), "pypi-").expect("parses");
        assert_eq!(parsed.identifier, identifier);
        assert_eq!(parsed.macaroon.location, b"https://upload.example.org");
        assert_eq!(
            parsed.macaroon.identifier,
            identifier.to_string().as_bytes()
        );
        let predicates: Vec<&[u8]> = parsed
            .macaroon
            .caveats
            .iter()
            .map(|c| c.identifier.as_slice())
            .collect();
        assert_eq!(
            predicates,
            vec![
                &b"[0,1700000900,1700000000]"[..],
                &br#"[1,["sampleproject","other-project"]]"#[..],
                &br#"[4,"8c1b1bd3-5dc4-4a5e-9d0b-2f1d38e8d5a1",null]"#[..],
            ]
        );
        assert_eq!(parsed.macaroon.caveats.len(), MINTED_CAVEAT_COUNT);
        let root_key = keyring.root_key(&identifier).expect("current key");
        assert!(chain::signature_matches(&parsed.macaroon, &root_key));
    }

    #[test]
    fn honours_the_prefix_and_fresh_identifiers() {
        let projects = vec!["p".to_string()];
        let keyring = keyring();
        let mut custom = request(&projects);
        custom.prefix = "testpypi-";
        let (first, first_id) = mint(&keyring, &custom);
        let (second, second_id) = mint(&keyring, &custom);
        assert!(first.expose_secret().starts_with("testpypi-AgE"));
        assert_ne!(first_id, second_id);
        assert_ne!(first.expose_secret(), second.expose_secret());
        assert_eq!(second_id.key_id, "k2");
    }
}
