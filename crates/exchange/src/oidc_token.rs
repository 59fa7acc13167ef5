//! The OIDC JWT a CI job presents: a bearer secret until it expires (anyone holding it
//! could exchange it first). Same shape as `MintedToken`: `Debug` shows only a SHA-256
//! prefix, there is no `Display`, and equality runs in constant time.

use std::fmt;

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// A presented OIDC token, not yet verified.
#[derive(Clone)]
pub struct OidcToken(String);

impl OidcToken {
    /// Wraps a presented JWT.
    pub fn new(jwt: impl Into<String>) -> Self {
        OidcToken(jwt.into())
    }

    /// The JWT, for verification and the replay key, nothing else.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Lowercase hex SHA-256 of the JWT: safe to log.
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl From<String> for OidcToken {
    fn from(jwt: String) -> Self {
        OidcToken(jwt)
    }
}

impl From<&str> for OidcToken {
    fn from(jwt: &str) -> Self {
        OidcToken(jwt.to_owned())
    }
}

impl fmt::Debug for OidcToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OidcToken(sha256:{})", &self.sha256_hex()[..12])
    }
}

/// Constant time for equal lengths; the length of a JWT is not a secret.
impl PartialEq for OidcToken {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for OidcToken {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_a_hash_prefix() {
        let jwt = OidcToken::from("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvIn0.c2lnbmF0dXJl");
        let debug = format!("{jwt:?}");
        assert_eq!(
            debug,
            format!("OidcToken(sha256:{})", &jwt.sha256_hex()[..12])
        );
        assert!(!debug.contains("eyJ"));
    }

    #[test]
    fn equality_compares_the_whole_jwt() {
        let jwt = OidcToken::from("a.b.c");
        assert_eq!(jwt, OidcToken::from("a.b.c".to_owned()));
        assert_ne!(jwt, OidcToken::from("a.b.d"));
        assert_ne!(jwt, OidcToken::from("a.b"));
    }
}
