//! Index authentication: every call carries `authorization: Bearer <token>` when tokens
//! are configured. Checked in an interceptor against every accepted token, each in
//! constant time. The accepted set is an [`AcceptedTokens`] handle that a configuration
//! reload can replace while calls are running, so the index's token can be rotated
//! (accept old and new, move the index over, drop the old one) without a restart.

use std::sync::{Arc, PoisonError, RwLock};

use subtle::{Choice, ConstantTimeEq as _};
use tonic::service::Interceptor;
use tonic::{Request, Status};
use trustmint_telemetry::IntCounter;

/// The bearer tokens the gRPC API accepts, any one of them; none = no authentication.
/// Clones share one set: [`AcceptedTokens::replace`] on any clone is seen by every
/// interceptor from the next call on (a call in flight already passed its check).
/// `Debug` shows how many tokens there are, never a token.
#[derive(Clone, Default)]
pub struct AcceptedTokens {
    current: Arc<RwLock<TokenSet>>,
}

/// One set of accepted tokens, swapped whole; a check reads it once.
type TokenSet = Arc<[Box<[u8]>]>;

impl std::fmt::Debug for AcceptedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcceptedTokens")
            .field("count", &self.len())
            .finish()
    }
}

// === impl AcceptedTokens ===

impl AcceptedTokens {
    /// Accepts each of `tokens`; empty strings are left out, duplicates kept once.
    pub fn new<S: AsRef<str>>(tokens: impl IntoIterator<Item = S>) -> Self {
        let accepted = Self::default();
        accepted.replace(tokens);
        accepted
    }

    /// Puts `tokens` in force instead of the current set (empty strings left out).
    pub fn replace<S: AsRef<str>>(&self, tokens: impl IntoIterator<Item = S>) {
        let mut set: Vec<Box<[u8]>> = Vec::new();
        for token in tokens {
            let token = token.as_ref().as_bytes();
            if !token.is_empty() && !set.iter().any(|known| known.as_ref() == token) {
                set.push(Box::from(token));
            }
        }
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::from(set);
    }

    /// How many tokens are accepted.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// Whether no token is configured (calls need no credentials).
    pub fn is_empty(&self) -> bool {
        self.snapshot().is_empty()
    }

    /// Whether `presented` is one of the accepted tokens. Every accepted token is
    /// compared, each in constant time, whatever matched before; only the lengths are
    /// compared plainly (a token's length is not a secret worth hiding).
    pub fn accepts(&self, presented: &[u8]) -> bool {
        Self::matches(&self.snapshot(), presented)
    }

    fn matches(set: &[Box<[u8]>], presented: &[u8]) -> bool {
        let mut matched = Choice::from(0);
        for expected in set {
            if expected.len() == presented.len() {
                matched |= expected.as_ref().ct_eq(presented);
            }
        }
        bool::from(matched)
    }

    fn snapshot(&self) -> TokenSet {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Rejects calls without one of the accepted bearer tokens (UNAUTHENTICATED).
#[derive(Clone)]
pub struct BearerAuth {
    accepted: AcceptedTokens,
    refusals: Option<IntCounter>,
}

impl std::fmt::Debug for BearerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerAuth")
            .field("enabled", &self.enabled())
            .finish()
    }
}

// === impl BearerAuth ===

impl BearerAuth {
    /// Requires `token` on every call; `None` (or empty) lets every call through.
    pub fn new(token: Option<&str>) -> Self {
        Self::accepting(AcceptedTokens::new(token))
    }

    /// Requires one of the tokens `accepted` holds at the time of each call; while it
    /// holds none, every call gets through.
    pub fn accepting(accepted: AcceptedTokens) -> Self {
        Self {
            accepted,
            refusals: None,
        }
    }

    /// Counts every refused call in `refusals`.
    pub fn counting(mut self, refusals: IntCounter) -> Self {
        self.refusals = Some(refusals);
        self
    }

    /// Whether calls must authenticate (now: a reload may change it).
    pub fn enabled(&self) -> bool {
        !self.accepted.is_empty()
    }

    fn check(&self, header: Option<&[u8]>) -> Result<(), Status> {
        // One read per call: the whole check runs against one set.
        let accepted = self.accepted.snapshot();
        if accepted.is_empty() {
            return Ok(());
        }
        let Some(header) = header else {
            return Err(Status::unauthenticated(
                "missing authorization metadata: send 'authorization: Bearer <token>'",
            ));
        };
        let presented = strip_bearer(header).ok_or_else(|| {
            Status::unauthenticated("authorization metadata must be 'Bearer <token>'")
        })?;
        if AcceptedTokens::matches(&accepted, presented) {
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

    #[test]
    fn every_accepted_token_passes_and_a_replacement_is_seen_by_clones() {
        let accepted = AcceptedTokens::new(["token-a", "token-b", "token-a", ""]);
        assert_eq!(accepted.len(), 2, "duplicates and empty strings left out");
        let auth = BearerAuth::accepting(accepted.clone());
        assert!(auth.enabled());
        for (header, allowed) in [
            (&b"Bearer token-a"[..], true),
            (b"Bearer token-b", true),
            (b"Bearer token-c", false),
            (b"Bearer token-", false),
            (b"Bearer token-ab", false),
        ] {
            assert_eq!(auth.check(Some(header)).is_ok(), allowed, "{header:?}");
        }

        // Rotation's last step: only B from now on, seen through the interceptor's clone.
        accepted.replace(["token-b"]);
        let refused = auth
            .check(Some(b"Bearer token-a"))
            .expect_err("A was dropped");
        assert_eq!(refused.code(), Code::Unauthenticated);
        assert_eq!(refused.message(), "invalid bearer token");
        assert!(auth.check(Some(b"Bearer token-b")).is_ok());
        assert!(accepted.accepts(b"token-b"));
        assert!(!accepted.accepts(b"token-a"));

        // Emptied: authentication is off again, as at startup without tokens.
        accepted.replace(Vec::<String>::new());
        assert!(!auth.enabled());
        assert!(auth.check(None).is_ok());
    }

    #[test]
    fn debug_shows_the_count_only() {
        let accepted = AcceptedTokens::new(["s3cret-one", "s3cret-two"]);
        let printed = format!("{accepted:?} {:?}", BearerAuth::accepting(accepted.clone()));
        assert_eq!(
            printed,
            "AcceptedTokens { count: 2 } BearerAuth { enabled: true }"
        );
    }
}
