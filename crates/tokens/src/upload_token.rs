//! A presented upload token: the secret an index (verify) or a holder (revoke) hands
//! us. Same shape as [`crate::MintedToken`]: `Debug` shows only a SHA-256 prefix, there
//! is no `Display`, and equality runs in constant time.

use std::fmt;

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// An upload token as presented, not yet parsed or verified (see
/// [`crate::parse_token`]).
#[derive(Clone)]
pub struct UploadToken(String);

impl UploadToken {
    /// Wraps a presented token string.
    pub fn new(token: impl Into<String>) -> Self {
        UploadToken(token.into())
    }

    /// The token string, for parsing and nothing else.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256 of the token string: safe to log and to store.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl From<String> for UploadToken {
    fn from(token: String) -> Self {
        UploadToken(token)
    }
}

impl From<&str> for UploadToken {
    fn from(token: &str) -> Self {
        UploadToken(token.to_owned())
    }
}

impl fmt::Debug for UploadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UploadToken(sha256:{})", &self.sha256_hex()[..12])
    }
}

/// Constant time for equal lengths; the length of a token is not a secret.
impl PartialEq for UploadToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for UploadToken {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_a_hash_prefix() {
        let token = UploadToken::from("pypi-AgEIcHlwaS5vcmc-secret");
        let debug = format!("{token:?}");
        assert_eq!(
            debug,
            format!("UploadToken(sha256:{})", &token.sha256_hex()[..12])
        );
        assert!(!debug.contains("secret"));
        assert!(!debug.contains("pypi-"));
    }

    #[test]
    fn equality_compares_the_whole_string() {
        let token = UploadToken::from("pypi-abc");
        assert_eq!(token, UploadToken::from("pypi-abc".to_owned()));
        assert_ne!(token, UploadToken::from("pypi-abd"));
        assert_ne!(token, UploadToken::from("pypi-ab"));
        assert_eq!(token.sha256_hex(), hex::encode(Sha256::digest(b"pypi-abc")));
    }
}
