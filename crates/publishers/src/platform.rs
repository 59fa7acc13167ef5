//! What a CI platform is to trustmint: one implementation of [`Platform`] per folder
//! (`github/`, `gitlab/`, …), registered once in `registry.rs`. Everything the rest of
//! the service does per platform (config kinds, metric labels, proto conversion,
//! matching, diagnostics, provenance) goes through this trait, so adding a platform
//! touches no `match` outside its folder and the registration line.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::keys::LookupKey;
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::validation::ValidationError;
use crate::verdict::Verdict;

/// What every platform's token does itself, whichever platform it is: the one home of
/// reading it, its lookup key, subject and provenance, and checking one publisher.
pub(crate) trait PlatformToken: Debug + Sized {
    /// The publisher spec this token is checked against.
    type Spec;

    /// PyPI's steps before its lookup: fixed-issuer check, required claims, workflow.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch>;
    /// The lookup key the token selects.
    fn lookup_key(&self) -> LookupKey;
    /// What every candidate shares, for diagnostics (`repository 'o/r'`).
    fn subject(&self) -> String;
    /// Provenance kept with a minted token (without `publisher_url`).
    fn stored_claims(&self) -> BTreeMap<String, String>;
    /// Checks one publisher in the platform's order.
    fn evaluate(&self, spec: &Self::Spec) -> Verdict;
}

/// One CI platform family: its publisher spec and how its tokens are read and matched.
pub(crate) trait Platform {
    /// The identity a publisher of this platform trusts: serde-derived with
    /// `deny_unknown_fields`; its field names are the config keys and the proto fields.
    type Spec: Clone + Debug + Default + PartialEq + Eq + Serialize + DeserializeOwned;
    /// A token's claims, checked for presence and read once.
    type Token: PlatformToken<Spec = Self::Spec>;

    /// The name PyPI uses in events ("GitHub", "GitLab", …).
    const DISPLAY_NAME: &'static str;
    /// The public issuer trusted by a publisher that names no issuer; for per-tenant
    /// issuers (CircleCI, Bitbucket) the `url_pattern` every tenant's issuer matches;
    /// `""` when no instance is trusted unless configured (Forgejo).
    const PUBLIC_ISSUER: &'static str;
    /// Whether [`PUBLIC_ISSUER`](Self::PUBLIC_ISSUER) is a `url_pattern`.
    const PUBLIC_ISSUER_IS_PATTERN: bool = false;
    /// Placeholders an `[[issuers]] audiences` template of this kind may name: publisher
    /// fields whose value is also the token's tenant (see `audience_placeholder`).
    const AUDIENCE_PLACEHOLDERS: &'static [&'static str] = &[];

    /// The issuer a publisher configured (`None` when the platform has a fixed issuer;
    /// `Some("")` when it can name one but did not).
    fn configured_issuer(_spec: &Self::Spec) -> Option<&str> {
        None
    }
    /// The issuer this publisher trusts: its configured one, else the public issuer;
    /// per-tenant platforms derive it from the tenant field.
    fn issuer(spec: &Self::Spec) -> String {
        match Self::configured_issuer(spec) {
            Some(configured) if !configured.is_empty() => configured.to_owned(),
            _ => Self::PUBLIC_ISSUER.to_owned(),
        }
    }
    /// The value an audience placeholder stands for in this token: the token's own
    /// tenant, read from claims the publisher pins, so an audience naming it binds the
    /// token to that tenant's publishers. `None` when the claim is missing.
    fn audience_placeholder(_name: &str, _claims: &TokenClaims<'_>) -> Option<String> {
        None
    }
    /// The lookup key the publisher would have under `issuer` (see `keys.rs`).
    fn lookup_key(spec: &Self::Spec, issuer: &str) -> LookupKey;
    /// Every field that decides a match, case-folded where matching folds case.
    fn identity_parts(spec: &Self::Spec) -> Vec<String>;
    /// The platform's input rules; the first broken rule is the error.
    fn validate(spec: &Self::Spec) -> Result<(), ValidationError>;
    /// A short human description (`GitHub octo-org/sampleproject release.yml`).
    fn describe(spec: &Self::Spec) -> String;
    /// What tells a publisher from siblings sharing its lookup key.
    fn label(spec: &Self::Spec) -> String;
    /// PyPI's `publisher_url`, when the platform has a web page for the publish.
    fn publisher_url(
        spec: &Self::Spec,
        stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String>;

    /// Whether the job ran a reusable workflow (GitHub's notion; false elsewhere).
    fn reusable_workflow_used(_token: &Self::Token) -> bool {
        false
    }
    /// Remarks about the token itself, given the candidates that were checked.
    fn hints(_token: &Self::Token, _checked: &[&Self::Spec]) -> Vec<String> {
        Vec::new()
    }

    /// Which claims a publisher policy can check on this platform's tokens (see
    /// `policy/`); the default is none, and a publisher setting a rule whose claim the
    /// platform lacks is refused at validation.
    const POLICY_CLAIMS: PolicyClaims = PolicyClaims::NONE;
    /// The token's values of [`Platform::POLICY_CLAIMS`]: the full git ref (a platform
    /// that sends only a branch or tag name builds `refs/heads/…`/`refs/tags/…`),
    /// `ref_protected`, `runner_environment`, `environment_protected`.
    fn policy_facts(_token: &Self::Token) -> PolicyFacts {
        PolicyFacts::default()
    }
}
