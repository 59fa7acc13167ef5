//! What the provider, custom-issuer and policy tests share: the invalid-publisher
//! description, a successful exchange checked through verify, and JSON entries with
//! keys added.

use serde_json::Value;
use trustmint_exchange::{Allowed, ExchangeError, Minted};
use trustmint_testkit::memory_exchange::MemoryExchange;

use crate::support::assert_allowed;

/// `valid token, but no corresponding publisher (<reason>)`.
pub fn no_publisher(reason: &str) -> String {
    format!("valid token, but no corresponding publisher ({reason})")
}

/// The JSON object `base` with `extra`'s members added (replacing those it had).
pub fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// Asserts a successful exchange (a `pypi-` token), then verifies the token for
/// `project` and returns what the index would learn: the publisher, the projects, the
/// provenance.
pub async fn assert_minted_for(
    fx: &MemoryExchange,
    minted: Result<Minted, ExchangeError>,
    project: &str,
) -> Allowed {
    let minted = minted.expect("the exchange mints");
    let token = minted.token.expose_secret();
    assert!(token.starts_with("pypi-"), "the token has the pypi- prefix");
    assert_allowed(fx.verify(token, project).await)
}
