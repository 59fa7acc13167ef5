//! Google Cloud service-account publishers (reference §3.4).
//!
//! Stages (see `verdict.rs`): PyPI's lookup selects on the exact email, preferring a
//! publisher whose `sub` equals the token's over one without `sub`; its claim checks
//! are `email`, `email_verified` (JSON `true`), then the optional `sub`.

mod checks;
mod validation;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::GooglePublisher;
use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer};
use crate::provider::GOOGLE_ISSUER_URL;
use crate::reasons::shown;
use crate::stored::StoredClaims;
use crate::verdict::{Problem, Verdict, plain, token_value};

pub(crate) use validation::validate;

/// Claims every Google token must carry, in the order PyPI reports them missing.
const REQUIRED_CLAIMS: [&str; 2] = ["email", "email_verified"];

/// A Google token's claims, read once.
#[derive(Debug)]
pub(crate) struct GoogleToken {
    issuer: String,
    email: String,
    email_verified: Option<Value>,
    sub: Option<String>,
    stored: BTreeMap<String, String>,
}

impl GoogleToken {
    /// Checks the issuer (Google publishers trust only Google's) and the required claims.
    pub(crate) fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        if canonical_issuer(claims.issuer) != GOOGLE_ISSUER_URL {
            return Err(NoMatch::issuer_mismatch(claims.issuer, GOOGLE_ISSUER_URL));
        }
        claims.require(&REQUIRED_CLAIMS)?;
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            email: claims.text_or_empty("email"),
            email_verified: claims.raw("email_verified").cloned(),
            sub: claims.text("sub"),
            stored: StoredClaims::new(claims).keep(&["email", "sub"]).into_map(),
        })
    }

    /// The email's lookup key.
    pub(crate) fn lookup_key(&self) -> LookupKey {
        LookupKey::google(&self.issuer, &self.email)
    }

    /// `email '<email>'`.
    pub(crate) fn subject(&self) -> String {
        format!("email {}", shown(&self.email))
    }

    /// Provenance for the minted token.
    pub(crate) fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher, in PyPI's order.
    pub(crate) fn evaluate(&self, p: &GooglePublisher) -> Verdict {
        let specificity = u8::from(!p.sub.is_empty());
        if !checks::sub_selects(&p.sub, self.sub.as_deref()) {
            let problem = Problem::expects("sub", &p.sub, token_value("sub", self.sub.as_deref()));
            return Verdict::not_found(specificity, vec![problem]);
        }
        if let Err(reason) = checks::email(&p.email, Some(&self.email)) {
            let problem =
                Problem::expects("email", &p.email, token_value("email", Some(&self.email)));
            return Verdict::check_failed(specificity, reason, vec![problem.restating()]);
        }
        if let Err(reason) = checks::email_verified(self.email_verified.as_ref()) {
            let shown_value = self
                .email_verified
                .as_ref()
                .map_or_else(|| "missing".to_owned(), Value::to_string);
            let problem = Problem::text(format!(
                "requires email_verified to be true, but the token's is {}",
                crate::reasons::truncated(&shown_value)
            ));
            return Verdict::check_failed(specificity, reason, vec![problem]);
        }
        if let Err(reason) = checks::sub(&p.sub, self.sub.as_deref()) {
            return Verdict::check_failed(specificity, reason, Vec::new());
        }
        Verdict::Pass { specificity }
    }
}

/// Tells a publisher from its siblings of the same email.
pub(crate) fn label(p: &GooglePublisher) -> String {
    if p.sub.is_empty() {
        "any sub".to_owned()
    } else {
        format!("sub {}", plain(&p.sub))
    }
}

/// `Google ci@project.iam.gserviceaccount.com (sub 1234)`.
pub(crate) fn describe(p: &GooglePublisher) -> String {
    if p.sub.is_empty() {
        format!("Google {}", p.email)
    } else {
        format!("Google {} (sub {})", p.email, p.sub)
    }
}

#[cfg(test)]
mod tests;
