//! The token as a string: its identifier, the secret newtype handed to the CI runner,
//! and the parser that turns a presented string back into a macaroon.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::denial::Denial;
use crate::keyring::{decode_base64_lenient, is_valid_key_id};
use crate::macaroon::Macaroon;

/// Longest token string [`parse_token`] looks at. A minted token is a few hundred
/// bytes; the cap bounds the work an anonymous caller can cause.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The prefix of tokens when the configuration does not set one (PyPI's, which secret
/// scanners know).
pub const DEFAULT_TOKEN_PREFIX: &str = "pypi-";

/// A macaroon identifier: `<key id>:<uuid>`. The key id selects the master secret; the
/// UUID (canonical lowercase hyphenated form) is the token id the store knows it by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenIdentifier {
    /// Keyring key id (`[A-Za-z0-9_-]{1,32}`).
    pub key_id: String,
    /// The token id: a UUID, lowercase hyphenated.
    pub token_id: String,
}

/// Why a string is not a [`TokenIdentifier`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenIdentifierError {
    /// No `:` between key id and token id.
    #[error("identifier has no ':' separator")]
    MissingSeparator,
    /// The key id part is not a valid key id.
    #[error("identifier has an invalid key id")]
    InvalidKeyId,
    /// The token id part is not a canonical (lowercase, hyphenated) UUID.
    #[error("identifier's token id is not a UUID")]
    InvalidTokenId,
}

/// A minted token: the secret the CI runner uploads with. `Debug` shows only a SHA-256
/// prefix; there is no `Display`, so reading it takes [`MintedToken::expose_secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct MintedToken(String);

/// A presented token, decoded but **not verified**: pass it to [`crate::verify`].
/// `Debug` does not print the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    /// The decoded macaroon.
    pub macaroon: Macaroon,
    /// Its parsed identifier.
    pub identifier: TokenIdentifier,
}

// === impl TokenIdentifier ===

impl TokenIdentifier {
    /// A fresh identifier for `key_id` with a random (v4) token id.
    pub fn generate(key_id: &str) -> TokenIdentifier {
        TokenIdentifier {
            key_id: key_id.to_owned(),
            token_id: Uuid::new_v4().hyphenated().to_string(),
        }
    }

    /// Parses the wire form `<key id>:<uuid>`.
    pub fn parse(text: &str) -> Result<TokenIdentifier, TokenIdentifierError> {
        let (key_id, token_id) = text
            .split_once(':')
            .ok_or(TokenIdentifierError::MissingSeparator)?;
        if !is_valid_key_id(key_id) {
            return Err(TokenIdentifierError::InvalidKeyId);
        }
        // Only the canonical form, so one token id has one spelling (and one store key).
        let canonical = Uuid::try_parse(token_id)
            .map(|uuid| uuid.hyphenated().to_string())
            .map_err(|_| TokenIdentifierError::InvalidTokenId)?;
        if canonical != token_id {
            return Err(TokenIdentifierError::InvalidTokenId);
        }
        Ok(TokenIdentifier {
            key_id: key_id.to_owned(),
            token_id: canonical,
        })
    }
}

impl fmt::Display for TokenIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.key_id, self.token_id)
    }
}

impl FromStr for TokenIdentifier {
    type Err = TokenIdentifierError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TokenIdentifier::parse(text)
    }
}

// === impl MintedToken ===

impl MintedToken {
    /// Wraps the encoded token (`prefix` + base64url of the V2 macaroon).
    pub(crate) fn new(prefix: &str, macaroon: &Macaroon) -> MintedToken {
        MintedToken(format!(
            "{prefix}{}",
            URL_SAFE_NO_PAD.encode(macaroon.encode_v2())
        ))
    }

    /// The token string, to hand to the CI runner and nowhere else.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256 of the token string: safe to log and to store.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MintedToken(sha256:{})", &self.sha256_hex()[..12])
    }
}

// === parse_token ===

/// Decodes a presented token: size cap ([`MAX_TOKEN_LEN`]), `prefix`, base64 (URL-safe
/// or standard alphabet, padding optional), the V2 macaroon and its identifier. Nothing
/// is trimmed: a token with surrounding whitespace is malformed. Every failure is a
/// [`crate::DenialKind::Malformed`] denial.
pub fn parse_token(raw: &str, prefix: &str) -> Result<ParsedToken, Denial> {
    if raw.len() > MAX_TOKEN_LEN {
        return Err(Denial::malformed(format_args!(
            "longer than {MAX_TOKEN_LEN} bytes"
        )));
    }
    let encoded = raw
        .strip_prefix(prefix)
        .ok_or_else(|| Denial::malformed(format_args!("missing prefix '{prefix}'")))?;
    if encoded.is_empty() {
        return Err(Denial::malformed("empty"));
    }
    let bytes = decode_base64_lenient(encoded).ok_or_else(|| Denial::malformed("not base64"))?;
    let macaroon = Macaroon::decode_v2(&bytes).map_err(Denial::malformed)?;
    let identifier = std::str::from_utf8(&macaroon.identifier)
        .map_err(|_| Denial::malformed("identifier is not UTF-8"))
        .and_then(|text| TokenIdentifier::parse(text).map_err(Denial::malformed))?;
    Ok(ParsedToken {
        macaroon,
        identifier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::macaroon::RawCaveat;

    const TOKEN_ID: &str = "3b0e4a7c-9d7f-4f0e-8a47-5f2c1e9b6d10";

    fn macaroon(identifier: &[u8]) -> Macaroon {
        Macaroon {
            location: b"https://upload.example.org".to_vec(),
            identifier: identifier.to_vec(),
            caveats: vec![RawCaveat::first_party(&b"[0,2,1]"[..])],
            signature: [0x5a; 32],
        }
    }

    fn encoded(macaroon: &Macaroon) -> String {
        URL_SAFE_NO_PAD.encode(macaroon.encode_v2())
    }

    fn reason(raw: &str) -> String {
        parse_token(raw, "pypi-")
            .expect_err("must be malformed")
            .reason()
            .to_owned()
    }

    #[test]
    fn identifier_round_trips() {
        let text = format!("k1:{TOKEN_ID}");
        let identifier: TokenIdentifier = text.parse().expect("valid");
        assert_eq!(identifier.key_id, "k1");
        assert_eq!(identifier.token_id, TOKEN_ID);
        assert_eq!(identifier.to_string(), text);
    }

    #[test]
    fn generated_identifiers_are_v4_and_parse() {
        let identifier = TokenIdentifier::generate("k1");
        let uuid = Uuid::parse_str(&identifier.token_id).expect("uuid");
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(
            TokenIdentifier::parse(&identifier.to_string()),
            Ok(identifier.clone())
        );
        assert_ne!(TokenIdentifier::generate("k1"), identifier);
    }

    #[test]
    fn identifier_rejections() {
        assert_eq!(
            TokenIdentifier::parse(TOKEN_ID),
            Err(TokenIdentifierError::MissingSeparator)
        );
        assert_eq!(
            TokenIdentifier::parse(&format!(":{TOKEN_ID}")),
            Err(TokenIdentifierError::InvalidKeyId)
        );
        assert_eq!(
            TokenIdentifier::parse("k1:not-a-uuid"),
            Err(TokenIdentifierError::InvalidTokenId)
        );
        // non-canonical spellings of a valid UUID
        for spelling in [
            TOKEN_ID.to_uppercase(),
            TOKEN_ID.replace('-', ""),
            format!("{{{TOKEN_ID}}}"),
            format!("urn:uuid:{TOKEN_ID}"),
        ] {
            assert_eq!(
                TokenIdentifier::parse(&format!("k1:{spelling}")),
                Err(TokenIdentifierError::InvalidTokenId),
                "{spelling}"
            );
        }
    }

    #[test]
    fn minted_token_debug_shows_only_a_hash_prefix() {
        let token = MintedToken::new("pypi-", &macaroon(format!("k1:{TOKEN_ID}").as_bytes()));
        let debug = format!("{token:?}");
        assert_eq!(
            debug,
            format!("MintedToken(sha256:{})", &token.sha256_hex()[..12])
        );
        assert!(!debug.contains(token.expose_secret()));
        assert!(!debug.contains("pypi-"));
        assert_eq!(token.sha256_hex().len(), 64);
        assert!(token.expose_secret().starts_with("pypi-AgE"));
    }

    #[test]
    fn sha256_hex_is_sha256_of_the_string() {
        let token = MintedToken("pypi-abc".into());
        // python3 -c 'import hashlib; print(hashlib.sha256(b"pypi-abc").hexdigest())'
        assert_eq!(token.sha256_hex(), hex::encode(Sha256::digest(b"pypi-abc")));
    }

    #[test]
    fn parses_url_safe_and_standard_with_or_without_padding() {
        let original = macaroon(format!("k1:{TOKEN_ID}").as_bytes());
        let bytes = original.encode_v2();
        let spellings = [
            URL_SAFE_NO_PAD.encode(&bytes),
            base64::engine::general_purpose::URL_SAFE.encode(&bytes),
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes),
        ];
        for spelling in spellings {
            let parsed = parse_token(&format!("pypi-{spelling}"), "pypi-").expect("parses");
            assert_eq!(parsed.macaroon, original);
            assert_eq!(parsed.identifier.to_string(), format!("k1:{TOKEN_ID}"));
        }
    }

    #[test]
    fn parsed_token_debug_has_no_signature() {
        let parsed = parse_token(
            &format!(
                "pypi-{}",
                encoded(&macaroon(format!("k1:{TOKEN_ID}").as_bytes()))
            ),
            "pypi-",
        )
        .expect("parses");
        let debug = format!("{parsed:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(!debug.contains("90, 90"), "{debug}");
        assert!(!debug.contains("5a5a"), "{debug}");
    }

    #[test]
    fn rejects_oversized_input() {
        let raw = format!("pypi-{}", "A".repeat(MAX_TOKEN_LEN));
        assert_eq!(reason(&raw), "malformed token: longer than 8192 bytes");
    }

    #[test]
    fn rejects_wrong_or_missing_prefix() {
        let body = encoded(&macaroon(format!("k1:{TOKEN_ID}").as_bytes()));
        assert_eq!(reason(&body), "malformed token: missing prefix 'pypi-'");
        assert_eq!(
            reason(&format!("testpypi-{body}")),
            "malformed token: missing prefix 'pypi-'"
        );
        assert_eq!(reason("pypi-"), "malformed token: empty");
    }

    #[test]
    fn rejects_bad_base64_and_whitespace() {
        let body = encoded(&macaroon(format!("k1:{TOKEN_ID}").as_bytes()));
        assert_eq!(reason("pypi-!!!"), "malformed token: not base64");
        assert_eq!(
            reason(&format!("pypi-{body}\n")),
            "malformed token: not base64"
        );
    }

    #[test]
    fn rejects_codec_errors() {
        assert_eq!(
            reason("pypi-AQ"),
            "malformed token: unsupported macaroon version byte 0x01 (expected 0x02)"
        );
    }

    #[test]
    fn rejects_bad_identifiers() {
        let raw = format!("pypi-{}", encoded(&macaroon(b"not-an-identifier")));
        assert_eq!(
            reason(&raw),
            "malformed token: identifier has no ':' separator"
        );
        let raw = format!("pypi-{}", encoded(&macaroon(b"k1:\xff")));
        assert_eq!(reason(&raw), "malformed token: identifier is not UTF-8");
        let upper = format!("k1:{}", TOKEN_ID.to_uppercase());
        let raw = format!("pypi-{}", encoded(&macaroon(upper.as_bytes())));
        assert_eq!(
            reason(&raw),
            "malformed token: identifier's token id is not a UUID"
        );
    }
}
