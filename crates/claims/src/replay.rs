//! Replay protection keys and the clock leeway they depend on.
//!
//! An OIDC token may be exchanged once. The exchange records a [`ReplayKey`] with
//! `SET NX` until [`replay_expiry`]; a second exchange of the same token finds the record
//! and is refused. The record must outlive every instant at which the token could still
//! pass verification, which is why its lifetime is derived from [`JWT_LEEWAY_SECS`].

use sha2::{Digest, Sha256};

/// Clock leeway, in seconds, applied to `exp`, `nbf` and `iat`-in-the-future.
///
/// CI runners and this service do not share a clock; 30 s is PyPI's value
/// (`_JWT_LEEWAY`). **Security invariant:** a token stays acceptable until
/// `exp + JWT_LEEWAY_SECS`, so its replay record must live at least that long. If the
/// record expired earlier, the same JWT could be exchanged a second time in the gap
/// (this was Trail of Bits finding TOB-PYPI26-1 against PyPI, whose record lived only
/// until `exp + 5`). [`replay_expiry`] therefore adds the leeway *and* a margin.
pub const JWT_LEEWAY_SECS: i64 = 30;

/// Extra seconds a replay record outlives the last instant its token could verify,
/// covering clock skew between replicas and the store.
pub const REPLAY_MARGIN_SECS: i64 = 5;

/// Longest `jti` accepted, in bytes. Longer ones are rejected as invalid tokens so that
/// replay keys (and store keys built from them) stay small.
pub const MAX_JTI_BYTES: usize = 256;

/// Unix time at which the replay record of a token expiring at `exp` may be dropped:
/// `exp + JWT_LEEWAY_SECS + REPLAY_MARGIN_SECS` (saturating, never panics).
pub fn replay_expiry(exp: i64) -> i64 {
    exp.saturating_add(JWT_LEEWAY_SECS + REPLAY_MARGIN_SECS)
}

/// The one-time-use key of an OIDC token: `"<sha256 hex of iss>:<jti>"`.
///
/// Tokens without a `jti` (Google ID tokens have none) get
/// `"<sha256 hex of iss>:jwt-sha256:<sha256 hex of the raw JWT>"`, so a given JWT still
/// cannot be exchanged twice. The issuer is hashed so that keys have a fixed-size,
/// separator-free prefix whatever the issuer URL looks like. The key holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplayKey(String);

// === impl ReplayKey ===

impl ReplayKey {
    /// Builds the key for a verified token. `jti` must already be bounded by
    /// [`MAX_JTI_BYTES`] (the verifier rejects longer ones); an empty `jti` counts as
    /// absent.
    pub fn new(iss: &str, jti: Option<&str>, raw_jwt: &str) -> Self {
        let issuer_hash = sha256_hex(iss.as_bytes());
        match jti.filter(|jti| !jti.is_empty()) {
            Some(jti) => Self(format!("{issuer_hash}:{jti}")),
            None => Self(format!(
                "{issuer_hash}:jwt-sha256:{}",
                sha256_hex(raw_jwt.as_bytes())
            )),
        }
    }

    /// The key as stored (without any store prefix).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReplayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_record_outlives_the_leeway() {
        assert_eq!(replay_expiry(1_700_000_000), 1_700_000_035);
        assert!(replay_expiry(0) > JWT_LEEWAY_SECS);
    }

    #[test]
    fn replay_expiry_saturates() {
        assert_eq!(replay_expiry(i64::MAX), i64::MAX);
    }

    #[test]
    fn key_with_jti_is_issuer_hash_and_jti() {
        let key = ReplayKey::new(
            "https://token.actions.githubusercontent.com",
            Some("abc"),
            "x.y.z",
        );
        let expected_hash = sha256_hex(b"https://token.actions.githubusercontent.com");
        assert_eq!(key.as_str(), format!("{expected_hash}:abc"));
        assert_eq!(expected_hash.len(), 64);
    }

    #[test]
    fn key_without_jti_hashes_the_jwt() {
        let key = ReplayKey::new("https://accounts.google.com", None, "h.p.s");
        assert_eq!(
            key.as_str(),
            format!(
                "{}:jwt-sha256:{}",
                sha256_hex(b"https://accounts.google.com"),
                sha256_hex(b"h.p.s")
            )
        );
    }

    #[test]
    fn empty_jti_counts_as_absent() {
        assert_eq!(
            ReplayKey::new("https://i", Some(""), "a.b.c"),
            ReplayKey::new("https://i", None, "a.b.c")
        );
    }

    #[test]
    fn different_jwts_without_jti_get_different_keys() {
        assert_ne!(
            ReplayKey::new("https://i", None, "a.b.c"),
            ReplayKey::new("https://i", None, "a.b.d")
        );
    }

    #[test]
    fn sha256_hex_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
