//! ActiveState Platform publishers (reference §3.5).
//!
//! Stages (see `verdict.rs`): PyPI's lookup selects on the exact organization, project
//! and `actor_id`; its claim checks are `sub`, `organization`, `project`, `actor_id`,
//! then `builder`.

mod checks;
mod spec;
mod validation;

use std::collections::BTreeMap;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer};
use crate::platform::{Platform, PlatformToken};
use crate::reasons::shown;
use crate::stored::StoredClaims;
use crate::validation::ValidationError;
use crate::verdict::{Problem, Verdict, plain, token_value};

pub use spec::{ACTIVESTATE_ISSUER_URL, ActiveStatePublisher};
pub(crate) use validation::validate;

/// Claims every ActiveState token must carry, in the order PyPI reports them missing.
const REQUIRED_CLAIMS: [&str; 5] = ["sub", "organization", "project", "actor_id", "builder"];

/// Where ActiveState projects live on the web.
const ACTIVESTATE_WEB_URL: &str = "https://platform.activestate.com";

/// An ActiveState token's claims, read once.
#[derive(Debug)]
pub(crate) struct ActiveStateToken {
    issuer: String,
    sub: String,
    organization: String,
    project: String,
    actor_id: String,
    builder: String,
    stored: BTreeMap<String, String>,
}

impl PlatformToken for ActiveStateToken {
    type Spec = ActiveStatePublisher;

    /// Checks the issuer (ActiveState publishers trust only ActiveState's) and the
    /// required claims.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        if canonical_issuer(claims.issuer) != ACTIVESTATE_ISSUER_URL {
            return Err(NoMatch::issuer_mismatch(
                claims.issuer,
                ACTIVESTATE_ISSUER_URL,
            ));
        }
        claims.require(&REQUIRED_CLAIMS)?;
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            sub: claims.text_or_empty("sub"),
            organization: claims.text_or_empty("organization"),
            project: claims.text_or_empty("project"),
            actor_id: claims.text_or_empty("actor_id"),
            builder: claims.text_or_empty("builder"),
            stored: StoredClaims::new(claims)
                .keep(&["organization", "project", "actor", "actor_id"])
                .into_map(),
        })
    }

    /// The organization/project lookup key.
    fn lookup_key(&self) -> LookupKey {
        lookup_key(&self.issuer, &self.organization, &self.project)
    }

    /// `project '<organization>/<project>'`.
    fn subject(&self) -> String {
        format!(
            "project {}",
            shown(&format!("{}/{}", self.organization, self.project))
        )
    }

    /// Provenance for the minted token.
    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher, in PyPI's order.
    fn evaluate(&self, p: &ActiveStatePublisher) -> Verdict {
        if p.actor_id != self.actor_id {
            let problem = Problem::expects(
                "actor_id",
                &p.actor_id,
                token_value("actor_id", Some(&self.actor_id)),
            );
            return Verdict::not_found(0, vec![problem]);
        }
        let expected_sub = format!("org:{}:project:{}", p.organization, p.project);
        let checks = [
            checks::subject(&expected_sub, &self.sub).map_err(|reason| {
                let problem =
                    Problem::expects("sub", &expected_sub, token_value("sub", Some(&self.sub)));
                (reason, problem.restating())
            }),
            exact_check("organization", &p.organization, &self.organization),
            exact_check("project", &p.project, &self.project),
            exact_check("actor_id", &p.actor_id, &self.actor_id),
            checks::builder(&self.builder).map_err(|reason| {
                let problem = Problem::expects(
                    "builder",
                    checks::PYPI_BUILDER,
                    token_value("builder", Some(&self.builder)),
                );
                (reason, problem)
            }),
        ];
        match checks.into_iter().find_map(Result::err) {
            Some((reason, problem)) => Verdict::check_failed(0, reason, vec![problem]),
            None => Verdict::Pass { specificity: 0 },
        }
    }
}

fn exact_check(name: &str, configured: &str, claim: &str) -> Result<(), (String, Problem)> {
    checks::exact(name, configured, claim).map_err(|reason| {
        let problem = Problem::expects(name, configured, token_value(name, Some(claim)));
        (reason, problem.restating())
    })
}

/// `https://platform.activestate.com/{organization}/{project}`.
pub(crate) fn publisher_url(p: &ActiveStatePublisher) -> String {
    format!("{ACTIVESTATE_WEB_URL}/{}/{}", p.organization, p.project)
}

/// The ActiveState platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct ActiveState;

impl Platform for ActiveState {
    type Spec = ActiveStatePublisher;
    type Token = ActiveStateToken;

    const DISPLAY_NAME: &'static str = "ActiveState";
    const PUBLIC_ISSUER: &'static str = ACTIVESTATE_ISSUER_URL;

    fn lookup_key(spec: &ActiveStatePublisher, issuer: &str) -> LookupKey {
        lookup_key(issuer, &spec.organization, &spec.project)
    }

    fn identity_parts(spec: &ActiveStatePublisher) -> Vec<String> {
        vec![
            spec.organization.clone(),
            spec.project.clone(),
            spec.actor_id.clone(),
        ]
    }

    fn validate(spec: &ActiveStatePublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `ActiveState org/project (actor bob)`.
    fn describe(p: &ActiveStatePublisher) -> String {
        if p.actor.is_empty() {
            format!("ActiveState {}/{}", p.organization, p.project)
        } else {
            format!(
                "ActiveState {}/{} (actor {})",
                p.organization, p.project, p.actor
            )
        }
    }

    /// Tells a publisher from its siblings of the same project.
    fn label(p: &ActiveStatePublisher) -> String {
        format!("actor_id {}", plain(&p.actor_id))
    }

    fn publisher_url(
        spec: &ActiveStatePublisher,
        _stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        Some(publisher_url(spec))
    }
}

/// One organization and project, exact.
fn lookup_key(issuer: &str, organization: &str, project: &str) -> LookupKey {
    LookupKey::for_platform(Provider::ActiveState, issuer, &[organization, project])
}

#[cfg(test)]
mod tests;
