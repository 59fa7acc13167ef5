//! Index authentication: every call carries `authorization: Bearer <token>` when a token
//! is configured. Checked in an interceptor, compared in constant time.

use std::sync::Arc;

use subtle::ConstantTimeEq as _;
use tonic::service::Interceptor;
use tonic::{Request, Status};
use trustmint_telemetry::IntCounter;

/// Rejects calls without the configured bearer token (UNAUTHENTICATED).
#[derive(Clone)]
pub struct BearerAuth {
    expected: Option<Arc<[u8]>>,
    refusals: Option<IntCounter>,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("enabled", &self.expected.is_some())
            .finish()
    }
}

impl BearerAuth {
    /// Requires `token` on every call; `None` (or empty) lets every call through.
    pub fn new(token: Option<&str>) -> Self {
        Self {
            expected: token
                .filter(|t| !t.is_empty())
                .map(|t| Arc::from(t.as_bytes())),
            refusals: None,
        }
    }

    /// Counts every refused call in `refusals`.
    pub fn counting(mut self, refusals: IntCounter) -> Self {
        self.refusals = Some(refusals);
        self
    }

    /// Whether calls must authenticate.
    pub fn enabled(&self) -> bool {
        self.expected.is_some()
    }

    fn check(&self, header: Option<&[u8]>) -> Result<(), Status> {
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        let Some(header) = header else {
            return Err(Status::unauthenticated(
                "missing authorization metadata: send 'authorization: Bearer <token>'",
            ));
        };
        let presented = strip_bearer(header).ok_or_else(|| {
            Status::unauthenticated("authorization metadata must be 'Bearer <token>'")
        })?;
        // Lengths differ → not equal; `ct_eq` on equal-length slices is constant time,
        // and the token length is not a secret worth hiding.
        if presented.len() == expected.len() && bool::from(presented.ct_eq(expected)) {
            Ok(())
        } else {
            Err(Status::unauthenticated("invalid bearer token"))
        }
    }
}

/// The token of `Bearer <token>` (scheme case-insensitive).
fn strip_bearer(header: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    if header.len() <= SCHEME.len() || !header[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    Some(header[SCHEME.len()..].trim_ascii())
}

impl Interceptor for BearerAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let header = request
            .metadata()
            .get("authorization")
            .map(|value| value.as_bytes());
        if let Err(status) = self.check(header) {
            if let Some(refusals) = &self.refusals {
                refusals.inc();
            }
            return Err(status);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn bearer_table() {
        let auth = BearerAuth::new(Some("s3cret-index-token"));
        let cases: [(Option<&[u8]>, Option<&str>); 7] = [
            (Some(b"Bearer s3cret-index-token"), None),
            (Some(b"bearer s3cret-index-token"), None),
            (
                None,
                Some("missing authorization metadata: send 'authorization: Bearer <token>'"),
            ),
            (Some(b"Bearer wrong"), Some("invalid bearer token")),
            (
                Some(b"Bearer s3cret-index-token-longer"),
                Some("invalid bearer token"),
            ),
            (
                Some(b"Basic s3cret-index-token"),
                Some("authorization metadata must be 'Bearer <token>'"),
            ),
            (
                Some(b"Bearer "),
                Some("authorization metadata must be 'Bearer <token>'"),
            ),
        ];
        for (header, expected_error) in cases {
            match (auth.check(header), expected_error) {
                (Ok(()), None) => {}
                (Err(status), Some(message)) => {
                    assert_eq!(status.code(), Code::Unauthenticated);
                    assert_eq!(status.message(), message);
                }
                (result, expected) => panic!("{header:?}: got {result:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn disabled_auth_lets_everything_through() {
        let auth = BearerAuth::new(None);
        assert!(!auth.enabled());
        assert!(auth.check(None).is_ok());
        assert!(!BearerAuth::new(Some("")).enabled());
    }
}
