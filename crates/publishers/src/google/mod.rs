//! Google Cloud service-account publishers (reference §3.4).
//!
//! Stages (see `verdict.rs`): PyPI's lookup selects on the exact email, preferring a
//! publisher whose `sub` equals the token's over one without `sub`; its claim checks
//! are `email`, `email_verified` (JSON `true`), then the optional `sub`.

mod checks;
mod spec;
mod validation;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer};
use crate::platform::{Platform, PlatformToken};
use crate::reasons::shown;
use crate::stored::StoredClaims;
use crate::validation::ValidationError;
use crate::verdict::{Problem, Verdict, plain, token_value};

pub use spec::{GOOGLE_ISSUER_URL, GooglePublisher};
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

impl PlatformToken for GoogleToken {
    type Spec = GooglePublisher;

    /// Checks the issuer (Google publishers trust only Google's) and the required claims.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
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
    fn lookup_key(&self) -> LookupKey {
        lookup_key(&self.issuer, &self.email)
    }

    /// `email '<email>'`.
    fn subject(&self) -> String {
        format!("email {}", shown(&self.email))
    }

    /// Provenance for the minted token.
    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher, in PyPI's order.
    fn evaluate(&self, p: &GooglePublisher) -> Verdict {
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

/// The Google platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct Google;

impl Platform for Google {
    type Spec = GooglePublisher;
    type Token = GoogleToken;

    const DISPLAY_NAME: &'static str = "Google";
    const PUBLIC_ISSUER: &'static str = GOOGLE_ISSUER_URL;

    fn lookup_key(spec: &GooglePublisher, issuer: &str) -> LookupKey {
        lookup_key(issuer, &spec.email)
    }

    fn identity_parts(spec: &GooglePublisher) -> Vec<String> {
        vec![spec.email.clone(), spec.sub.clone()]
    }

    fn validate(spec: &GooglePublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `Google ci@project.iam.gserviceaccount.com (sub 1234)`.
    fn describe(p: &GooglePublisher) -> String {
        if p.sub.is_empty() {
            format!("Google {}", p.email)
        } else {
            format!("Google {} (sub {})", p.email, p.sub)
        }
    }

    /// Tells a publisher from its siblings of the same email.
    fn label(p: &GooglePublisher) -> String {
        if p.sub.is_empty() {
            "any sub".to_owned()
        } else {
            format!("sub {}", plain(&p.sub))
        }
    }

    fn publisher_url(
        _spec: &GooglePublisher,
        _stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        None
    }
}

/// One service-account email, exact (PyPI compares it exactly).
fn lookup_key(issuer: &str, email: &str) -> LookupKey {
    LookupKey::for_platform(Provider::Google, issuer, &[email])
}

#[cfg(test)]
mod tests;
