//! Reading a verified token's claims the way PyPI does: a claim is *missing* when it is
//! absent or JSON `null`; a present claim may still be empty (`""`), which individual
//! checks treat as they see fit.

use std::fmt;

use serde_json::{Map, Value};

use crate::OidcIssuerRules;
use crate::diagnostics::NoMatch;

/// A verified token's claims as the matcher sees them. `issuer` is the token's real
/// `iss` (already verified by the claims layer); `claims` is the whole payload.
#[derive(Clone, Copy)]
pub struct TokenClaims<'a> {
    /// The token's `iss`, exactly as signed.
    pub issuer: &'a str,
    /// Every claim of the token.
    pub claims: &'a Map<String, Value>,
    /// The rules of the token's `[[issuers]]` entry when it is of kind `oidc` (which
    /// claim indexes publishers, which may be globs, whether `jti` is required).
    pub oidc_rules: Option<&'a OidcIssuerRules>,
}

impl<'a> TokenClaims<'a> {
    /// Wraps a verified payload and its issuer.
    pub fn new(issuer: &'a str, claims: &'a Map<String, Value>) -> Self {
        Self {
            issuer,
            claims,
            oidc_rules: None,
        }
    }

    /// With the rules of a custom (`oidc`) issuer.
    pub fn with_oidc_rules(mut self, rules: Option<&'a OidcIssuerRules>) -> Self {
        self.oidc_rules = rules;
        self
    }

    /// The raw JSON value of a claim, `None` when absent or `null`.
    pub(crate) fn raw(&self, name: &str) -> Option<&'a Value> {
        self.claims.get(name).filter(|value| !value.is_null())
    }

    /// The claim as text: strings as they are, other JSON values in their JSON spelling
    /// (so an integer id `647025` reads as `"647025"` and a stray `true` never equals a
    /// configured name). `None` when the claim is missing.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.raw(name).map(|value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }

    /// The claim as text, or `""` when missing: for claims whose presence was already
    /// required.
    pub(crate) fn text_or_empty(&self, name: &str) -> String {
        self.text(name).unwrap_or_default()
    }

    /// The claim as text when present and non-empty.
    pub(crate) fn non_empty(&self, name: &str) -> Option<String> {
        self.text(name).filter(|text| !text.is_empty())
    }

    /// PyPI's `check_claims_existence`: the first of `required` (in order) that is
    /// missing fails the whole exchange with `Missing claim '<name>'`.
    pub(crate) fn require(&self, required: &[&str]) -> Result<(), NoMatch> {
        match required.iter().find(|name| self.raw(name).is_none()) {
            Some(name) => Err(NoMatch::missing_claim(name)),
            None => Ok(()),
        }
    }
}

// Claims are not secrets, but they are user data (emails, branch names): Debug shows
// only which claims are there.
impl fmt::Debug for TokenClaims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClaims")
            .field("issuer", &self.issuer)
            .field("claim_names", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payload() -> Map<String, Value> {
        match json!({"s": "text", "e": "", "n": 647025, "b": true, "z": null}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn missing_means_absent_or_null() {
        let map = payload();
        let claims = TokenClaims::new("https://issuer", &map);
        for (name, expected) in [
            ("s", Some("text")),
            ("e", Some("")),
            ("n", Some("647025")),
            ("b", Some("true")),
            ("z", None),
            ("absent", None),
        ] {
            assert_eq!(claims.text(name).as_deref(), expected, "{name}");
        }
        assert_eq!(claims.non_empty("e"), None);
        assert_eq!(claims.require(&["s", "e", "n"]), Ok(()));
        assert_eq!(
            claims
                .require(&["s", "z", "absent"])
                .map_err(|e| e.to_string()),
            Err("Missing claim 'z'".to_owned())
        );
    }

    #[test]
    fn debug_shows_claim_names_only() {
        let map = payload();
        let shown = format!("{:?}", TokenClaims::new("https://issuer", &map));
        assert!(!shown.contains("text"), "{shown}");
        assert!(shown.contains("\"s\""), "{shown}");
    }
}
