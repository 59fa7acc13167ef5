//! A publisher can only ever match tokens of an issuer trustmint is configured to
//! trust. Config-declared and API-registered publishers are both checked with this rule,
//! so a publisher that could never match is refused with the key to change instead of
//! failing silently at exchange time.

use serde_json::Value;
use trustmint_claims::IssuerRegistry;
use trustmint_publishers::{Publisher, PublisherSpec, ValidationError, parse_declaration};

/// `Ok` when a configured issuer of the publisher's kind serves the issuer it trusts;
/// otherwise the field to change (`issuer`, or `kind` for Google and ActiveState, which
/// have no issuer field) and why.
pub fn check_issuer_served(
    registry: &IssuerRegistry,
    spec: &PublisherSpec,
) -> Result<(), ValidationError> {
    let issuer_url = spec.issuer();
    let issuer_url = issuer_url.as_str();
    if let Some(issuer) = registry
        .resolve(issuer_url)
        .filter(|issuer| issuer.kind == spec.provider())
    {
        return match &issuer.oidc_rules {
            Some(rules) => spec.validate_for_issuer(rules),
            None => Ok(()),
        };
    }
    let kind = spec.provider().as_str();
    let unserved = format!("no [[issuers]] entry of kind {kind} serves '{issuer_url}'");
    let (field, message) = match spec.configured_issuer() {
        Some(configured) if !configured.is_empty() => (
            "issuer",
            format!("{unserved}, so this publisher could never match"),
        ),
        Some(_) => (
            "issuer",
            format!(
                "not set, so the publisher trusts {kind}'s public issuer, but {unserved}; set issuer to the instance the CI runs on, or add an [[issuers]] entry for '{issuer_url}'"
            ),
        ),
        None => (
            "kind",
            format!(
                "{kind} publishers trust only '{issuer_url}', but {unserved}; add an [[issuers]] entry with url = '{issuer_url}' and kind = '{kind}'"
            ),
        ),
    };
    Err(ValidationError {
        field: field.to_owned(),
        message,
    })
}

/// [`check_issuer_served`], then the spec as registered under that issuer (a custom
/// issuer's publisher gets the claim its tokens are looked up by).
pub fn bind_to_served_issuer(
    registry: &IssuerRegistry,
    spec: PublisherSpec,
) -> Result<PublisherSpec, ValidationError> {
    check_issuer_served(registry, &spec)?;
    Ok(
        match registry
            .resolve(&spec.issuer())
            .and_then(|issuer| issuer.oidc_rules.clone())
        {
            Some(rules) => spec.bound_to_issuer(&rules),
            None => spec,
        },
    )
}

/// A `[[publishers]]` entry as it is put in force: parsed, validated, and bound to the
/// configured issuer that serves it ([`bind_to_served_issuer`]). The server's wiring and
/// the testkit's memory exchange both declare publishers through this.
pub fn declared_publisher(
    registry: &IssuerRegistry,
    entry: &Value,
) -> Result<Publisher, ValidationError> {
    let mut declaration = parse_declaration(entry)?;
    declaration.spec = bind_to_served_issuer(registry, declaration.spec)?;
    Ok(declaration.into_declared_publisher())
}
