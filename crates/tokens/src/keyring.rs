//! Minting secrets by key id, and the per-token root key derived from them.
//!
//! Redis holds no key material: the root key of a token is
//! `HKDF-SHA256(IKM = master secret of its key id, salt = none, info = identifier, L = 32)`,
//! so the store alone cannot forge a token. Several key ids allow rotation: `current`
//! names the minting key, the others keep verifying until an operator removes them.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::token::TokenIdentifier;

/// Shortest accepted master secret, in bytes (after base64 decoding).
pub const MIN_SECRET_LEN: usize = 32;

/// Longest accepted key id.
pub const MAX_KEY_ID_LEN: usize = 32;

/// Key id of [`Keyring::ephemeral`].
pub const EPHEMERAL_KEY_ID: &str = "ephemeral";

/// Master secrets by key id. `Debug` prints key ids only.
#[derive(Clone)]
pub struct Keyring {
    current_key_id: String,
    /// Also in `secrets`; kept here so minting needs no fallible lookup.
    current_secret: MasterSecret,
    secrets: BTreeMap<String, MasterSecret>,
}

/// Why a keyring configuration is unusable. Every variant names the key id concerned
/// and none carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    /// A key id is not 1–32 characters of `[A-Za-z0-9_-]`.
    #[error("key id {key_id:?} is invalid: use 1-32 characters of A-Z, a-z, 0-9, '_' and '-'")]
    InvalidKeyId {
        /// The offending key id.
        key_id: String,
    },
    /// A secret is not base64 (standard or URL-safe, padding optional).
    #[error("secret of key id {key_id:?} is not valid base64")]
    InvalidBase64 {
        /// The key id whose secret is malformed.
        key_id: String,
    },
    /// A secret decodes to fewer than [`MIN_SECRET_LEN`] bytes.
    #[error("secret of key id {key_id:?} is {len} bytes long; at least 32 are required")]
    SecretTooShort {
        /// The key id whose secret is too short.
        key_id: String,
        /// Decoded length.
        len: usize,
    },
    /// `current` names a key id that has no secret.
    #[error("current key id {key_id:?} has no secret")]
    CurrentKeyMissing {
        /// The current key id.
        key_id: String,
    },
}

/// A master secret; never printed.
#[derive(Clone)]
struct MasterSecret(Vec<u8>);

// === impl Keyring ===

impl Keyring {
    /// Builds a keyring from base64 secrets by key id (standard or URL-safe alphabet,
    /// padding optional, surrounding whitespace ignored), each at least 32 bytes;
    /// `current` must be one of the key ids.
    pub fn new(
        current: &str,
        secrets_base64: &BTreeMap<String, String>,
    ) -> Result<Keyring, KeyringError> {
        let mut secrets = BTreeMap::new();
        for (key_id, encoded) in secrets_base64 {
            if !is_valid_key_id(key_id) {
                return Err(KeyringError::InvalidKeyId {
                    key_id: key_id.clone(),
                });
            }
            let secret = decode_base64_lenient(encoded.trim()).ok_or_else(|| {
                KeyringError::InvalidBase64 {
                    key_id: key_id.clone(),
                }
            })?;
            if secret.len() < MIN_SECRET_LEN {
                return Err(KeyringError::SecretTooShort {
                    key_id: key_id.clone(),
                    len: secret.len(),
                });
            }
            secrets.insert(key_id.clone(), MasterSecret(secret));
        }
        if !is_valid_key_id(current) {
            return Err(KeyringError::InvalidKeyId {
                key_id: current.to_owned(),
            });
        }
        let current_secret =
            secrets
                .get(current)
                .cloned()
                .ok_or_else(|| KeyringError::CurrentKeyMissing {
                    key_id: current.to_owned(),
                })?;
        Ok(Keyring {
            current_key_id: current.to_owned(),
            current_secret,
            secrets,
        })
    }

    /// A keyring with one random 32-byte secret under the id `"ephemeral"`, for
    /// `serve` without `[keys]`: its tokens stop verifying when the process exits.
    pub fn ephemeral() -> Keyring {
        let mut secret = vec![0u8; MIN_SECRET_LEN];
        rand::fill(&mut secret[..]);
        let secret = MasterSecret(secret);
        Keyring {
            current_key_id: EPHEMERAL_KEY_ID.to_owned(),
            current_secret: secret.clone(),
            secrets: BTreeMap::from([(EPHEMERAL_KEY_ID.to_owned(), secret)]),
        }
    }

    /// The key id new tokens are minted with.
    pub fn current_key_id(&self) -> &str {
        &self.current_key_id
    }

    /// Every key id that still verifies, sorted.
    pub fn key_ids(&self) -> Vec<String> {
        self.secrets.keys().cloned().collect()
    }

    /// The root key of the token with this identifier, or `None` when its key id is not
    /// (or no longer) in the keyring.
    pub fn root_key(&self, identifier: &TokenIdentifier) -> Option<[u8; 32]> {
        let secret = self.secrets.get(&identifier.key_id)?;
        Some(derive_root_key(
            &secret.0,
            identifier.to_string().as_bytes(),
        ))
    }

    /// A fresh identifier under the current key id, with its root key. Total: the
    /// current key's secret is held apart from the map, so no lookup can fail.
    pub(crate) fn new_identifier_with_root_key(&self) -> (TokenIdentifier, [u8; 32]) {
        let identifier = TokenIdentifier::generate(&self.current_key_id);
        let root_key = derive_root_key(&self.current_secret.0, identifier.to_string().as_bytes());
        (identifier, root_key)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current_key_id", &self.current_key_id)
            .field("key_ids", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether `key_id` is 1–32 characters of `[A-Za-z0-9_-]` (so it cannot contain the
/// `:` that separates it from the token id).
pub(crate) fn is_valid_key_id(key_id: &str) -> bool {
    (1..=MAX_KEY_ID_LEN).contains(&key_id.len())
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `HKDF-SHA256(IKM = master_secret, salt = none, info = identifier, L = 32)`.
fn derive_root_key(master_secret: &[u8], identifier: &[u8]) -> [u8; 32] {
    let mut root_key = [0u8; 32];
    Hkdf::<Sha256>::new(None, master_secret)
        .expand(identifier, &mut root_key)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
    root_key
}

/// Decodes standard or URL-safe base64 with or without padding. The alphabets are tried
/// one after the other, so mixing them in one string is rejected.
pub(crate) fn decode_base64_lenient(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
    URL_SAFE
        .decode(text)
        .or_else(|_| STANDARD.decode(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 bytes 0x00..=0x1f, standard base64.
    const SECRET_0_31: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn secrets(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
        entries
            .iter()
            .map(|(id, secret)| (id.to_string(), secret.to_string()))
            .collect()
    }

    fn identifier(key_id: &str) -> TokenIdentifier {
        TokenIdentifier {
            key_id: key_id.into(),
            token_id: "3b0e4a7c-9d7f-4f0e-8a47-5f2c1e9b6d10".into(),
        }
    }

    #[test]
    fn root_key_matches_python_hkdf() {
        // Computed independently with Python's hmac/hashlib (RFC 5869 by hand):
        //   prk = hmac.new(b"\0" * 32, bytes(range(32)), hashlib.sha256).digest()
        //   okm = hmac.new(prk, b"k1:3b0e4a7c-9d7f-4f0e-8a47-5f2c1e9b6d10" + b"\x01", hashlib.sha256).hexdigest()
        let keyring = Keyring::new("k1", &secrets(&[("k1", SECRET_0_31)])).expect("valid");
        let root_key = keyring.root_key(&identifier("k1")).expect("known key id");
        assert_eq!(
            hex::encode(root_key),
            "973133c2d16804ff38deafd232079cbf6bc66dad1aaaf3e173e45ea51bf2da12"
        );
    }

    #[test]
    fn root_key_depends_on_the_identifier_and_the_key_id() {
        let other_secret = "//////////////////////////////////////////8";
        let keyring = Keyring::new("k2", &secrets(&[("k1", SECRET_0_31), ("k2", other_secret)]))
            .expect("valid");
        let k1 = keyring.root_key(&identifier("k1"));
        let k2 = keyring.root_key(&identifier("k2"));
        assert!(k1.is_some() && k2.is_some());
        assert_ne!(k1, k2);
        let mut other_token = identifier("k1");
        other_token.token_id = "0b0e4a7c-9d7f-4f0e-8a47-5f2c1e9b6d10".into();
        assert_ne!(keyring.root_key(&other_token), k1);
    }

    #[test]
    fn unknown_key_id_has_no_root_key() {
        let keyring = Keyring::new("k1", &secrets(&[("k1", SECRET_0_31)])).expect("valid");
        assert_eq!(keyring.root_key(&identifier("k0")), None);
    }

    #[test]
    fn accepts_url_safe_unpadded_and_whitespace() {
        // the same secret in three spellings
        for spelling in [
            SECRET_0_31,
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            "  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        ] {
            let keyring = Keyring::new("k1", &secrets(&[("k1", spelling)])).expect("valid");
            let reference = Keyring::new("k1", &secrets(&[("k1", SECRET_0_31)])).expect("valid");
            assert_eq!(
                keyring.root_key(&identifier("k1")),
                reference.root_key(&identifier("k1"))
            );
        }
        // '-' and '_' (URL-safe) and '+' and '/' (standard) for the same bytes
        let url = Keyring::new(
            "k",
            &secrets(&[("k", "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_8")]),
        )
        .expect("url-safe");
        let std = Keyring::new(
            "k",
            &secrets(&[("k", "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/8=")]),
        )
        .expect("standard");
        assert_eq!(
            url.root_key(&identifier("k")),
            std.root_key(&identifier("k"))
        );
    }

    #[test]
    fn rejects_invalid_key_ids() {
        for bad in ["", "has:colon", "has space", "é", &"x".repeat(33)] {
            assert_eq!(
                Keyring::new("k1", &secrets(&[("k1", SECRET_0_31), (bad, SECRET_0_31)])).err(),
                Some(KeyringError::InvalidKeyId { key_id: bad.into() }),
                "{bad:?}"
            );
        }
        let max = "A-z_09".repeat(5) + "ab";
        let keyring = Keyring::new(&max, &secrets(&[(&max, SECRET_0_31)])).expect("32 chars");
        assert_eq!(keyring.current_key_id(), max);
    }

    #[test]
    fn rejects_invalid_base64_naming_the_key() {
        assert_eq!(
            Keyring::new("k1", &secrets(&[("k1", "not base64!")])).err(),
            Some(KeyringError::InvalidBase64 {
                key_id: "k1".into()
            })
        );
        // mixed alphabets
        assert_eq!(
            Keyring::new(
                "k1",
                &secrets(&[("k1", "+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_+_8")])
            )
            .err(),
            Some(KeyringError::InvalidBase64 {
                key_id: "k1".into()
            })
        );
    }

    #[test]
    fn rejects_short_secret_naming_the_key() {
        // 31 bytes
        assert_eq!(
            Keyring::new(
                "k1",
                &secrets(&[("k1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg")])
            )
            .err(),
            Some(KeyringError::SecretTooShort {
                key_id: "k1".into(),
                len: 31
            })
        );
    }

    #[test]
    fn rejects_missing_current_key() {
        let error =
            Keyring::new("k2", &secrets(&[("k1", SECRET_0_31)])).expect_err("k2 has no secret");
        assert_eq!(
            error,
            KeyringError::CurrentKeyMissing {
                key_id: "k2".into()
            }
        );
        assert_eq!(error.to_string(), "current key id \"k2\" has no secret");
    }

    #[test]
    fn lists_key_ids_and_current() {
        let keyring = Keyring::new("k2", &secrets(&[("k2", SECRET_0_31), ("k1", SECRET_0_31)]))
            .expect("valid");
        assert_eq!(keyring.current_key_id(), "k2");
        assert_eq!(keyring.key_ids(), vec!["k1".to_string(), "k2".to_string()]);
    }

    #[test]
    fn ephemeral_keyrings_are_random() {
        let a = Keyring::ephemeral();
        let b = Keyring::ephemeral();
        assert_eq!(a.current_key_id(), "ephemeral");
        assert_eq!(a.key_ids(), vec!["ephemeral".to_string()]);
        let id = identifier("ephemeral");
        assert!(a.root_key(&id).is_some());
        assert_ne!(a.root_key(&id), b.root_key(&id));
    }

    #[test]
    fn debug_redacts_secrets() {
        let keyring = Keyring::new("k1", &secrets(&[("k1", SECRET_0_31)])).expect("valid");
        let text = format!("{keyring:?}");
        assert_eq!(
            text,
            r#"Keyring { current_key_id: "k1", key_ids: ["k1"], .. }"#
        );
    }
}
