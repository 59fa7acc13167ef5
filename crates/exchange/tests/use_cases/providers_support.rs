//! What the provider, custom-issuer and policy tests share: the invalid-publisher
//! description, a successful exchange checked through verify, publishers declared the
//! way the server's wiring declares them, and JSON entries with keys added.

use serde_json::Value;
use trustmint_claims::{IssuerRegistry, IssuerSettings};
use trustmint_exchange::{Allowed, ExchangeError, Minted, bind_to_served_issuer};
use trustmint_publishers::parse_declaration;
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

/// Replaces `fx`'s declared publishers with `declarations` bound to the issuers of
/// `issuers` (the `[[issuers]]` entries `fx` was built with), as the server's wiring
/// does: a custom issuer's publisher gets the claim its tokens are looked up by, which
/// the builder's plain declarations leave empty.
pub fn declare_as_configured(fx: &MemoryExchange, issuers: &[Value], declarations: &[Value]) {
    let issuers: Vec<IssuerSettings> = issuers
        .iter()
        .map(|entry| serde_json::from_value(entry.clone()).expect("an [[issuers]] entry"))
        .collect();
    let registry = IssuerRegistry::new(&issuers).expect("a valid issuer registry");
    let declared = declarations
        .iter()
        .map(|entry| {
            let mut declaration = parse_declaration(entry).expect("a valid [[publishers]] entry");
            declaration.spec =
                bind_to_served_issuer(&registry, declaration.spec).expect("a served issuer");
            declaration.into_declared_publisher()
        })
        .collect();
    fx.exchange.replace_declared_publishers(declared);
}
