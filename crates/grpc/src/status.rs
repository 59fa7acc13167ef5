//! The one mapping from use-case errors to gRPC statuses.

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt as _};
use trustmint_exchange::ExchangeError;

/// Domain of the `google.rpc.ErrorInfo` details.
pub const ERROR_DOMAIN: &str = "trustmint";
/// Trailing metadata key that carries the wire code.
pub const ERROR_CODE_METADATA: &str = "trustmint-error-code";

/// The gRPC code for each use-case error.
fn code_of(error: &ExchangeError) -> Code {
    match error {
        // A malformed request (the JWT is not a JWT): INVALID_ARGUMENT, as for every
        // other malformed request; the PyPI code still travels in message and details.
        ExchangeError::InvalidPayload(_) => Code::InvalidArgument,
        ExchangeError::InvalidToken { .. }
        | ExchangeError::InvalidPublisher(_)
        | ExchangeError::InvalidReuseToken
        | ExchangeError::InvalidPendingPublisher(_) => Code::FailedPrecondition,
        ExchangeError::NotEnabled(_) => Code::PermissionDenied,
        ExchangeError::RateLimited { .. } => Code::ResourceExhausted,
        ExchangeError::Unavailable { .. } => Code::Unavailable,
        ExchangeError::InvalidArgument { .. } => Code::InvalidArgument,
        ExchangeError::NotFound(_) => Code::NotFound,
        ExchangeError::FailedPrecondition(_) => Code::FailedPrecondition,
    }
}

/// Converts a use-case error: message `"<code>: <description>"`, trailing metadata
/// `trustmint-error-code`, and a `google.rpc.ErrorInfo` detail (reason = code).
pub fn status_from(error: &ExchangeError) -> Status {
    let code = error.code();
    let description = error.description();
    let mut details = ErrorDetails::with_error_info(
        code.as_str(),
        ERROR_DOMAIN,
        [("description".to_owned(), description.clone())],
    );
    if let ExchangeError::InvalidArgument { field, message } = error {
        details.add_bad_request_violation(field.clone(), message.clone());
    }
    if let ExchangeError::RateLimited { retry_after_secs } = error {
        details.set_retry_info(Some(std::time::Duration::from_secs(*retry_after_secs)));
    }
    let mut metadata = MetadataMap::new();
    metadata.insert(
        ERROR_CODE_METADATA,
        MetadataValue::from_static(code.as_str()),
    );
    Status::with_error_details_and_metadata(
        code_of(error),
        format!("{code}: {description}"),
        details,
        metadata,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_carries_code_in_message_metadata_and_details() {
        let status = status_from(&ExchangeError::InvalidReuseToken);
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(
            status.message(),
            "invalid-reuse-token: invalid token: already used"
        );
        assert_eq!(
            status.metadata().get(ERROR_CODE_METADATA).unwrap(),
            "invalid-reuse-token"
        );
        let details = status.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, "invalid-reuse-token");
        assert_eq!(info.domain, ERROR_DOMAIN);
    }

    #[test]
    fn codes_by_kind() {
        let cases = [
            (ExchangeError::unavailable("x"), Code::Unavailable),
            (
                ExchangeError::InvalidArgument {
                    field: "projects".into(),
                    message: "m".into(),
                },
                Code::InvalidArgument,
            ),
            (ExchangeError::NotFound("n".into()), Code::NotFound),
            (
                ExchangeError::RateLimited {
                    retry_after_secs: 3,
                },
                Code::ResourceExhausted,
            ),
            (
                ExchangeError::NotEnabled("n".into()),
                Code::PermissionDenied,
            ),
            (
                ExchangeError::InvalidPayload("malformed JWT".into()),
                Code::InvalidArgument,
            ),
            (
                ExchangeError::InvalidPendingPublisher("p".into()),
                Code::FailedPrecondition,
            ),
            (
                ExchangeError::FailedPrecondition("declared".into()),
                Code::FailedPrecondition,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(status_from(&error).code(), code, "{error:?}");
        }
    }
}
