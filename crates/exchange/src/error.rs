//! The one error type of the use cases. Each variant carries the wire code that HTTP and
//! gRPC report; the adapters map it to a status in exactly one place each.

pub use trustmint_telemetry::ErrorCode;

/// PyPI's description for every `not-enabled` answer of the global switch.
pub const NOT_ENABLED_DESCRIPTION: &str = "Trusted publishing functionality not enabled";

/// Why a use case failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    /// The request body or token is not what the endpoint takes (PyPI `invalid-payload`).
    #[error("{0}")]
    InvalidPayload(String),
    /// Trusted publishing, or this issuer, is switched off (`not-enabled`).
    #[error("{0}")]
    NotEnabled(String),
    /// Signature or registered claims failed (`invalid-token`). The detail is for logs
    /// only: PyPI answers a fixed text so attackers learn nothing.
    #[error("malformed or invalid token")]
    InvalidToken {
        /// Why, for logs and debugging; never shown to the client.
        detail: String,
    },
    /// No publisher matches (`invalid-publisher`); the text says what to fix.
    #[error("valid token, but no corresponding publisher ({0})")]
    InvalidPublisher(String),
    /// The JWT was already exchanged (`invalid-reuse-token`).
    #[error("invalid token: already used")]
    InvalidReuseToken,
    /// A pending publisher cannot be used (`invalid-pending-publisher`).
    #[error("{0}")]
    InvalidPendingPublisher(String),
    /// Too many requests from this client (`rate-limited`).
    #[error("too many token requests from this client; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next request may succeed.
        retry_after_secs: u64,
    },
    /// A backend (store or issuer) is unreachable (`unavailable`); fail closed.
    #[error("{public}")]
    Unavailable {
        /// What the client is told.
        public: String,
        /// What the logs get.
        detail: String,
    },
    /// A management request names an invalid field (`invalid-argument`).
    #[error("{field}: {message}")]
    InvalidArgument {
        /// The offending field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The named publisher does not exist (`not-found`).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the state (`failed-precondition`), e.g. deleting a
    /// publisher declared in the config file.
    #[error("{0}")]
    FailedPrecondition(String),
}

impl ExchangeError {
    /// The stable wire code (HTTP `errors[].code`, gRPC detail and message prefix).
    pub fn code(&self) -> ErrorCode {
        match self {
            ExchangeError::InvalidPayload(_) => ErrorCode::InvalidPayload,
            ExchangeError::NotEnabled(_) => ErrorCode::NotEnabled,
            ExchangeError::InvalidToken { .. } => ErrorCode::InvalidToken,
            ExchangeError::InvalidPublisher(_) => ErrorCode::InvalidPublisher,
            ExchangeError::InvalidReuseToken => ErrorCode::InvalidReuseToken,
            ExchangeError::InvalidPendingPublisher(_) => ErrorCode::InvalidPendingPublisher,
            ExchangeError::RateLimited { .. } => ErrorCode::RateLimited,
            ExchangeError::Unavailable { .. } => ErrorCode::Unavailable,
            ExchangeError::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            ExchangeError::NotFound(_) => ErrorCode::NotFound,
            ExchangeError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
        }
    }

    /// The human description sent to the client.
    pub fn description(&self) -> String {
        self.to_string()
    }

    /// A backend failure with a generic public text.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        ExchangeError::Unavailable {
            public: "a backend trustmint depends on is unavailable; retry later".to_owned(),
            detail: detail.into(),
        }
    }

    /// Every code a mint can end with, as strings (see [`ErrorCode::MINT`]).
    pub const MINT_CODES: [&'static str; 8] = {
        let mut codes = [""; 8];
        let mut i = 0;
        while i < codes.len() {
            codes[i] = ErrorCode::MINT[i].as_str();
            i += 1;
        }
        codes
    };
}

impl From<trustmint_store::StoreError> for ExchangeError {
    fn from(error: trustmint_store::StoreError) -> Self {
        ExchangeError::unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_descriptions_are_pypis() {
        let cases = [
            (
                ExchangeError::InvalidPayload("malformed JWT".into()),
                "invalid-payload",
                "malformed JWT",
            ),
            (
                ExchangeError::InvalidToken {
                    detail: "kid not found".into(),
                },
                "invalid-token",
                "malformed or invalid token",
            ),
            (
                ExchangeError::InvalidPublisher(
                    "Publisher with matching claims was not found".into(),
                ),
                "invalid-publisher",
                "valid token, but no corresponding publisher (Publisher with matching claims was not found)",
            ),
            (
                ExchangeError::InvalidReuseToken,
                "invalid-reuse-token",
                "invalid token: already used",
            ),
            (
                ExchangeError::NotEnabled(
                    "github trusted publishing functionality not enabled".into(),
                ),
                "not-enabled",
                "github trusted publishing functionality not enabled",
            ),
        ];
        for (error, code, description) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.description(), description);
        }
    }

    #[test]
    fn unavailable_hides_the_detail() {
        let error = ExchangeError::unavailable("redis: connection refused (10.0.0.3:6379)");
        assert_eq!(error.code(), "unavailable");
        assert!(!error.description().contains("10.0.0.3"));
    }
}
