//! The wire error codes: the one vocabulary HTTP bodies, gRPC statuses, metric labels
//! and audit events share. The strings are interface contract (PyPI's codes plus
//! trustmint's management codes); [`ErrorCode::as_str`] is the only place they are
//! spelled.

use std::fmt;

use serde::Serialize;

/// A stable wire code (HTTP `errors[].code`, gRPC message prefix and `ErrorInfo.reason`,
/// the `code` label of `trustmint_exchanges_total`, the audit event's `code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The request body or token is not what the endpoint takes.
    InvalidPayload,
    /// Trusted publishing, or this issuer, is switched off.
    NotEnabled,
    /// Signature or registered claims failed.
    InvalidToken,
    /// No publisher matches.
    InvalidPublisher,
    /// The JWT was already exchanged.
    InvalidReuseToken,
    /// A pending publisher cannot be used.
    InvalidPendingPublisher,
    /// Too many requests from this client.
    RateLimited,
    /// A backend (store or issuer) is unreachable.
    Unavailable,
    /// A management request names an invalid field.
    InvalidArgument,
    /// The named publisher (or endpoint) does not exist.
    NotFound,
    /// The request conflicts with the state.
    FailedPrecondition,
}

impl ErrorCode {
    /// Every code a mint can end with, for pre-registering metric series.
    pub const MINT: [ErrorCode; 8] = [
        ErrorCode::InvalidPayload,
        ErrorCode::NotEnabled,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidPublisher,
        ErrorCode::InvalidReuseToken,
        ErrorCode::InvalidPendingPublisher,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
    ];

    /// Every code.
    pub const ALL: [ErrorCode; 11] = [
        ErrorCode::InvalidPayload,
        ErrorCode::NotEnabled,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidPublisher,
        ErrorCode::InvalidReuseToken,
        ErrorCode::InvalidPendingPublisher,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::InvalidArgument,
        ErrorCode::NotFound,
        ErrorCode::FailedPrecondition,
    ];

    /// The contract string.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPayload => "invalid-payload",
            ErrorCode::NotEnabled => "not-enabled",
            ErrorCode::InvalidToken => "invalid-token",
            ErrorCode::InvalidPublisher => "invalid-publisher",
            ErrorCode::InvalidReuseToken => "invalid-reuse-token",
            ErrorCode::InvalidPendingPublisher => "invalid-pending-publisher",
            ErrorCode::RateLimited => "rate-limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::InvalidArgument => "invalid-argument",
            ErrorCode::NotFound => "not-found",
            ErrorCode::FailedPrecondition => "failed-precondition",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// So tests and callers holding a wire string can compare without spelling the enum.
impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_display_and_serde_agree_on_the_contract_strings() {
        let expected = [
            "invalid-payload",
            "not-enabled",
            "invalid-token",
            "invalid-publisher",
            "invalid-reuse-token",
            "invalid-pending-publisher",
            "rate-limited",
            "unavailable",
            "invalid-argument",
            "not-found",
            "failed-precondition",
        ];
        for (code, text) in ErrorCode::ALL.into_iter().zip(expected) {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            assert_eq!(
                serde_json::to_value(code).expect("serialise"),
                serde_json::json!(text)
            );
        }
        assert_eq!(ErrorCode::MINT[..], ErrorCode::ALL[..8]);
    }
}
