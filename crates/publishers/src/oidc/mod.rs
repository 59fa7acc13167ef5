//! Publishers of custom OIDC issuers (`kind = "oidc"`): an operator trusts any OIDC
//! issuer from config alone (`[[issuers]] kind = "oidc"` with `required_claims`,
//! `pattern_claims`, `replay_key`), and a publisher binds claims of its tokens, exactly
//! or by a `*` glob. The safety rails are in `validation.rs`.
//!
//! Lookup: publishers of an issuer are indexed by the value of the issuer's first
//! required claim, which every publisher binds exactly; the token side reads the same
//! claim (the rules come with the token's claims), so candidates are one tenant's
//! publishers, never a scan of the issuer.

mod spec;
mod validation;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::compare::star_matches;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer};
use crate::platform::{Platform, PlatformToken};
use crate::reasons::shown;
use crate::stored::StoredClaims;
use crate::validation::ValidationError;
use crate::verdict::{Problem, Verdict, plain};

pub use spec::{OidcIssuerRules, OidcPublisher};
pub(crate) use validation::validate_for_issuer;

/// Whether a bound value is a glob.
pub(crate) fn is_glob(value: &str) -> bool {
    value.contains('*')
}

/// A custom issuer's token, read once with its issuer's rules.
#[derive(Debug)]
pub(crate) struct OidcToken {
    issuer: String,
    rules: OidcIssuerRules,
    lookup_claim: String,
    lookup_value: String,
    claims: serde_json::Map<String, Value>,
    stored: BTreeMap<String, String>,
}

/// A claim as matching sees it: strings and numbers only.
enum ClaimText {
    Absent,
    Unusable(&'static str),
    Text(String),
}

fn claim_text(value: Option<&Value>) -> ClaimText {
    match value {
        None | Some(Value::Null) => ClaimText::Absent,
        Some(Value::String(text)) => ClaimText::Text(text.clone()),
        Some(Value::Number(number)) => ClaimText::Text(number.to_string()),
        Some(Value::Bool(_)) => ClaimText::Unusable("a boolean"),
        Some(Value::Array(_)) => ClaimText::Unusable("a list"),
        Some(Value::Object(_)) => ClaimText::Unusable("an object"),
    }
}

impl PlatformToken for OidcToken {
    type Spec = OidcPublisher;

    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        let rules = claims.oidc_rules.cloned().unwrap_or_default();
        let Some(lookup_claim) = rules.required_claims.first().cloned() else {
            return Err(NoMatch::malformed(
                "the issuer's [[issuers]] entry lists no required_claims",
            ));
        };
        if !rules.replay_by_hash {
            claims.require(&["jti"])?;
        }
        let names: Vec<&str> = rules.required_claims.iter().map(String::as_str).collect();
        claims.require(&names)?;
        let lookup_value = match claim_text(claims.raw(&lookup_claim)) {
            ClaimText::Text(text) => text,
            _ => {
                return Err(NoMatch::malformed(&format!(
                    "The {lookup_claim} claim must be a string or a number"
                )));
            }
        };
        let stored = StoredClaims::new(claims).keep(&names).into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            lookup_claim,
            lookup_value,
            rules,
            claims: claims.claims.clone(),
            stored,
        })
    }

    fn lookup_key(&self) -> LookupKey {
        LookupKey::for_platform(
            Provider::Oidc,
            &self.issuer,
            &[&self.lookup_claim, &self.lookup_value],
        )
    }

    fn subject(&self) -> String {
        format!("{} {}", self.lookup_claim, shown(&self.lookup_value))
    }

    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks every bound claim, in name order; the first mismatch is the reason.
    fn evaluate(&self, p: &OidcPublisher) -> Verdict {
        let specificity = u8::try_from(p.claims.len()).unwrap_or(u8::MAX);
        let mut problems: Vec<String> = Vec::new();
        for (name, expected) in &p.claims {
            let glob = is_glob(expected) && self.rules.pattern_claims.contains(name);
            let wanted = if glob {
                format!("a match of {}", shown(expected))
            } else {
                shown(expected)
            };
            let problem = match claim_text(self.claims.get(name)) {
                ClaimText::Absent => Some(format!(
                    "claim {name}: expected {wanted}, the token has none"
                )),
                ClaimText::Unusable(kind) => Some(format!(
                    "claim {name}: expected {wanted}, the token has {kind} (only strings and numbers compare)"
                )),
                ClaimText::Text(found) => {
                    let ok = if glob {
                        star_matches(expected, &found)
                    } else {
                        *expected == found
                    };
                    (!ok).then(|| {
                        format!(
                            "claim {name}: expected {wanted}, token has {}",
                            shown(&found)
                        )
                    })
                }
            };
            problems.extend(problem);
        }
        match problems.split_first() {
            None => Verdict::Pass { specificity },
            Some((reason, others)) => Verdict::check_failed(
                specificity,
                reason.clone(),
                others
                    .iter()
                    .map(|text| Problem::text(format!("also has {text}")))
                    .collect(),
            ),
        }
    }
}

/// The custom-issuer platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct Oidc;

impl Platform for Oidc {
    type Spec = OidcPublisher;
    type Token = OidcToken;

    const DISPLAY_NAME: &'static str = "OIDC";
    // Custom issuers have no public one: a publisher must name its issuer.
    const PUBLIC_ISSUER: &'static str = "";

    fn configured_issuer(spec: &OidcPublisher) -> Option<&str> {
        Some(&spec.issuer)
    }

    fn lookup_key(spec: &OidcPublisher, issuer: &str) -> LookupKey {
        let value = spec
            .claims
            .get(&spec.lookup_claim)
            .map(String::as_str)
            .unwrap_or_default();
        LookupKey::for_platform(Provider::Oidc, issuer, &[&spec.lookup_claim, value])
    }

    fn identity_parts(spec: &OidcPublisher) -> Vec<String> {
        spec.claims
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect()
    }

    fn validate(spec: &OidcPublisher) -> Result<(), ValidationError> {
        validation::validate(spec)
    }

    /// `OIDC https://ci.example.com repository_id=42, tenant_id=acme`.
    fn describe(p: &OidcPublisher) -> String {
        let parts: Vec<String> = p
            .claims
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        format!("OIDC {} {}", canonical_issuer(&p.issuer), parts.join(", "))
    }

    /// `claims repository_id='42', ref='refs/tags/v*'` without the lookup claim every
    /// candidate shares.
    fn label(p: &OidcPublisher) -> String {
        let parts: Vec<String> = p
            .claims
            .iter()
            .filter(|(name, _)| **name != p.lookup_claim)
            .map(|(name, value)| format!("{name}={}", plain(value)))
            .collect();
        format!("claims {}", parts.join(", "))
    }

    fn publisher_url(
        _spec: &OidcPublisher,
        _stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests;
