//! Why a token is not accepted: one human-readable reason for the index, plus a coarse
//! kind for metrics labels.

/// A token was refused. `Display` is the reason; it never contains the token or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Denial {
    kind: DenialKind,
    reason: String,
}

/// Coarse classes of denial, stable enough for a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenialKind {
    /// The string is not a well-formed token (prefix, size, base64, codec, identifier).
    Malformed,
    /// The token's key id is not in the keyring (retired, or never ours).
    UnknownKey,
    /// The HMAC chain does not reproduce the signature.
    BadSignature,
    /// The token is authentic but a caveat does not hold, cannot be parsed or cannot be
    /// evaluated, or a required caveat is missing.
    CaveatFailed,
}

// === impl Denial ===

impl Denial {
    /// A denial of the given kind.
    pub(crate) fn new(kind: DenialKind, reason: impl Into<String>) -> Denial {
        Denial {
            kind,
            reason: reason.into(),
        }
    }

    /// A [`DenialKind::Malformed`] denial; the reason is prefixed with "malformed token: ".
    pub(crate) fn malformed(detail: impl std::fmt::Display) -> Denial {
        Denial::new(DenialKind::Malformed, format!("malformed token: {detail}"))
    }

    /// The human-readable reason (also the `Display` text).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The class of denial.
    pub fn kind(&self) -> DenialKind {
        self.kind
    }
}

// === impl DenialKind ===

impl DenialKind {
    /// A short snake_case name for metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DenialKind::Malformed => "malformed",
            DenialKind::UnknownKey => "unknown_key",
            DenialKind::BadSignature => "bad_signature",
            DenialKind::CaveatFailed => "caveat_failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_reason() {
        let denial = Denial::new(DenialKind::CaveatFailed, "token is expired");
        assert_eq!(denial.to_string(), "token is expired");
        assert_eq!(denial.reason(), "token is expired");
        assert_eq!(denial.kind().as_str(), "caveat_failed");
    }

    #[test]
    fn malformed_prefixes_the_detail() {
        let denial = Denial::malformed("not base64");
        assert_eq!(denial.reason(), "malformed token: not base64");
        assert_eq!(denial.kind(), DenialKind::Malformed);
    }
}
