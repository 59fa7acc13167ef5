//! Publisher identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Identifies one publisher for its whole life. Publishers registered over the API get a
/// random UUID; publishers declared in the config file get an id derived from their
/// identity (see [`PublisherId::for_declared`]) so every replica, and every restart,
/// agrees on it and tokens minted for it keep verifying.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PublisherId(String);

impl PublisherId {
    /// A fresh random id (UUID v4).
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The stable id of a config-declared publisher: a UUID-shaped string built from the
    /// SHA-256 of its identity key, so it cannot collide with random v4 ids in practice
    /// and stays the same across processes.
    pub fn for_declared(identity_key: &str) -> Self {
        let digest = Sha256::digest(format!("trustmint-declared-publisher\0{identity_key}"));
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Self(
            uuid::Builder::from_sha1_bytes(bytes)
                .into_uuid()
                .to_string(),
        )
    }

    /// Wraps an id received from a client or a store. Ids are opaque; validation happens
    /// at lookup (an unknown id is simply not found).
    pub fn from_raw(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublisherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_ids_are_stable_and_distinct() {
        let a = PublisherId::for_declared("github|x");
        assert_eq!(a, PublisherId::for_declared("github|x"));
        assert_ne!(a, PublisherId::for_declared("github|y"));
        assert_eq!(a.as_str().len(), 36);
        assert!(uuid::Uuid::parse_str(a.as_str()).is_ok());
    }
}
