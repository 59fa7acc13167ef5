//! The one error type of JWT routing and verification.

/// Why a JWT was not turned into verified claims. Each variant maps to one wire outcome;
/// the `String`s are details for logs and debugging, never shown to clients verbatim,
/// and never contain the JWT itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsError {
    /// Not a JWT (size, segments, base64, JSON), or no string `iss`.
    /// Wire: `invalid-payload` "malformed JWT".
    #[error("malformed JWT: {0}")]
    Malformed(String),
    /// `iss` is not a configured issuer. Wire: `invalid-payload`
    /// "unknown trusted publishing issuer".
    #[error("unknown trusted publishing issuer")]
    UnknownIssuer,
    /// Bad signature, disallowed algorithm or header, unknown `kid`, or a failed
    /// registered-claim check. Wire: `invalid-token` "malformed or invalid token".
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The `kid` is not cached and the issuer's key set could not be fetched.
    /// Wire: HTTP 503 `unavailable` (the client may retry).
    #[error("issuer keys unavailable: {0}")]
    KeysUnavailable(String),
}
