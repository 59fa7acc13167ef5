//! The safety rails of custom-issuer publishers. An operator can trust any OIDC issuer
//! from config alone, so the rules that keep one publisher from matching another
//! tenant's or another repository's tokens are enforced when a publisher is written
//! down, with the reason in the error:
//!
//! - at least two claims bound, at least one exactly: one claim (or only globs) is
//!   too easy to satisfy from an unrelated job of the same issuer;
//! - `sub`, when bound by a glob, has a fixed prefix: `*` alone or `*:main` would match
//!   every subject;
//! - with the issuer's rules (`validate_for_issuer`): every required claim is bound
//!   exactly (a shared issuer's tenant), and `*` appears only in the issuer's
//!   `pattern_claims`, so a literal `*` is never mistaken for a glob or the reverse.
//!
//! That an absent claim never matches, and only strings and numbers compare, is the
//! matcher's side (`mod.rs`).

use crate::validation::{MAX_FIELD_LEN, ValidationError, bounded, ensure, issuer_url, required};

use super::{OidcIssuerRules, OidcPublisher, is_glob};

/// Most claims one publisher binds.
pub(crate) const MAX_BOUND_CLAIMS: usize = 32;

/// Registered JWT claims the verifier already checks (or that change every run):
/// binding them would decide nothing or never match twice.
const UNBINDABLE: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// The rules that need no issuer config.
pub(crate) fn validate(p: &OidcPublisher) -> Result<(), ValidationError> {
    required("issuer", &p.issuer)?;
    issuer_url("issuer", &p.issuer)?;
    ensure(
        p.claims.len() <= MAX_BOUND_CLAIMS,
        "claims",
        &format!("binds at most {MAX_BOUND_CLAIMS} claims"),
    )?;
    for (name, value) in &p.claims {
        let field = format!("claims.{name}");
        ensure(
            !name.is_empty() && name.chars().count() <= MAX_FIELD_LEN,
            "claims",
            "claim names must be 1 to 255 characters",
        )?;
        ensure(
            !name.chars().any(|c| c.is_whitespace() || c.is_control()),
            "claims",
            "claim names must not contain whitespace or control characters",
        )?;
        ensure(
            !UNBINDABLE.contains(&name.as_str()),
            &field,
            "is checked by the verifier (iss, aud, exp, iat, nbf) or unique to each run (jti); bind claims that name the tenant, repository and workflow",
        )?;
        required(&field, value)?;
        bounded(&field, value)?;
        ensure(
            !value.chars().any(char::is_control),
            &field,
            "must not contain control characters",
        )?;
    }
    ensure(
        p.claims.len() >= 2,
        "claims",
        "must bind at least two claims (e.g. the tenant and the repository): a single claim is too easily satisfied by another job of the same issuer",
    )?;
    ensure(
        p.claims.values().any(|value| !is_glob(value)),
        "claims",
        "must bind at least one claim exactly (without '*'): globs alone can match jobs of other repositories",
    )?;
    if let Some(sub) = p.claims.get("sub") {
        ensure(
            !sub.starts_with('*'),
            "claims.sub",
            "a sub glob must start with a fixed prefix ('repo:acme/app:*'): a leading '*' matches subjects of any repository",
        )?;
    }
    if !p.lookup_claim.is_empty() {
        ensure(
            p.claims
                .get(&p.lookup_claim)
                .is_some_and(|value| !is_glob(value)),
            "lookup_claim",
            "must name a claim the publisher binds exactly",
        )?;
    }
    Ok(())
}

/// The rules that need the issuer's `[[issuers]]` entry.
pub(crate) fn validate_for_issuer(
    p: &OidcPublisher,
    rules: &OidcIssuerRules,
) -> Result<(), ValidationError> {
    for name in &rules.required_claims {
        match p.claims.get(name) {
            Some(value) if !is_glob(value) => {}
            Some(_) => {
                return Err(ValidationError::new(
                    format!("claims.{name}"),
                    "is a required claim of the issuer and must be bound exactly (without '*'): it keeps the issuer's tenants apart",
                ));
            }
            None => {
                return Err(ValidationError::new(
                    "claims",
                    format!(
                        "must bind the issuer's required claim {name}: it keeps the issuer's tenants apart (required_claims = {})",
                        rules.required_claims.join(", ")
                    ),
                ));
            }
        }
    }
    for (name, value) in &p.claims {
        if is_glob(value) && !rules.pattern_claims.contains(name) {
            return Err(ValidationError::new(
                format!("claims.{name}"),
                format!(
                    "'*' is allowed only in claims the issuer lists in pattern_claims ({}); bind this claim exactly",
                    if rules.pattern_claims.is_empty() {
                        "none".to_owned()
                    } else {
                        rules.pattern_claims.join(", ")
                    }
                ),
            ));
        }
    }
    let key = rules
        .required_claims
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    ensure(
        p.lookup_claim.is_empty() || p.lookup_claim == key,
        "lookup_claim",
        &format!("must be the issuer's first required claim '{key}' (or left empty)"),
    )
}
