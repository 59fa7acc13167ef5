//! CircleCI publishers (`circleci run oidc get`, `$CIRCLE_OIDC_TOKEN_V2`).
//!
//! Each organization has its own issuer, `https://oidc.circleci.com/org/<id>`: the
//! publisher's `organization_id` picks it, the lookup key is under it, so a token of
//! another organization never sees this publisher. Jobs rerun with SSH are refused: a
//! person had a shell in the job that holds the identity.
//!
//! Stages (see `verdict.rs`): the lookup selects on the project (the key) and the
//! optional `pipeline_definition_id` and `context_id`; the claim checks are
//! `organization_id`, `project_id`, `sub`, the optional `vcs_origin`, then
//! `oidc.circleci.com/ssh-rerun`.

mod spec;
mod validation;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer};
use crate::platform::{Platform, PlatformToken};
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::reasons::{required_check_failed, shown};
use crate::stored::StoredClaims;
use crate::tenant_uuid::{canonical_uuid, same_uuid};
use crate::validation::ValidationError;
use crate::verdict::{Problem, Verdict, plain, token_value};

pub use spec::{CIRCLECI_ISSUER_PATTERN, CIRCLECI_ISSUER_PREFIX, CircleCIPublisher};
pub(crate) use validation::validate;

const PROJECT_ID: &str = "oidc.circleci.com/project-id";
const PIPELINE_DEFINITION_ID: &str = "oidc.circleci.com/pipeline-definition-id";
const VCS_ORIGIN: &str = "oidc.circleci.com/vcs-origin";
const VCS_REF: &str = "oidc.circleci.com/vcs-ref";
const CONTEXT_IDS: &str = "oidc.circleci.com/context-ids";
const SSH_RERUN: &str = "oidc.circleci.com/ssh-rerun";

/// Claims every CircleCI token carries.
const REQUIRED_CLAIMS: [&str; 2] = ["sub", PROJECT_ID];

/// The refusal for a job rerun with SSH.
pub(crate) const SSH_RERUN_REFUSED: &str =
    "SSH reruns may not publish: a person had a shell in the job that holds this token";

/// A CircleCI token's claims, read once.
#[derive(Debug)]
pub(crate) struct CircleCIToken {
    issuer: String,
    /// The organization id the issuer URL names.
    organization_id: String,
    project_id: String,
    sub: String,
    pipeline_definition_id: Option<String>,
    vcs_origin: Option<String>,
    context_ids: Vec<String>,
    ssh_rerun: bool,
    /// `oidc.circleci.com/vcs-ref` (`refs/heads/main`), absent for custom webhooks.
    pub(crate) git_ref: Option<String>,
    stored: BTreeMap<String, String>,
}

/// The organization id in `https://oidc.circleci.com/org/<id>`.
fn organization_of(issuer: &str) -> Option<&str> {
    canonical_issuer(issuer)
        .strip_prefix(CIRCLECI_ISSUER_PREFIX)
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

impl PlatformToken for CircleCIToken {
    type Spec = CircleCIPublisher;

    /// Finds the organization in the issuer and checks the required claims.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        let organization_id = organization_of(claims.issuer)
            .ok_or_else(|| {
                NoMatch::malformed(&format!(
                    "The issuer {} names no CircleCI organization (expected {CIRCLECI_ISSUER_PREFIX}<organization_id>)",
                    shown(claims.issuer)
                ))
            })?
            .to_owned();
        claims.require(&REQUIRED_CLAIMS)?;
        let context_ids = match claims.raw(CONTEXT_IDS) {
            Some(Value::Array(ids)) => ids
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(id)) => vec![id.clone()],
            _ => Vec::new(),
        };
        let git_ref = claims.non_empty(VCS_REF);
        let project_id = claims.text_or_empty(PROJECT_ID);
        let vcs_origin = claims.non_empty(VCS_ORIGIN);
        let pipeline_definition_id = claims.non_empty(PIPELINE_DEFINITION_ID);
        let stored = StoredClaims::new(claims)
            .with("organization_id", &organization_id)
            .with("project_id", &project_id)
            .with("vcs_origin", vcs_origin.as_deref().unwrap_or_default())
            .with("ref", git_ref.as_deref().unwrap_or_default())
            .with(
                "pipeline_definition_id",
                pipeline_definition_id.as_deref().unwrap_or_default(),
            )
            .with("context_ids", &context_ids.join(","))
            .into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            organization_id,
            project_id,
            sub: claims.text_or_empty("sub"),
            pipeline_definition_id,
            vcs_origin,
            context_ids,
            ssh_rerun: matches!(claims.raw(SSH_RERUN), Some(Value::Bool(true))),
            git_ref,
            stored,
        })
    }

    fn lookup_key(&self) -> LookupKey {
        lookup_key(&self.issuer, &self.project_id)
    }

    /// `project_id '<uuid>'`.
    fn subject(&self) -> String {
        format!("project_id {}", shown(&self.project_id))
    }

    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher.
    fn evaluate(&self, p: &CircleCIPublisher) -> Verdict {
        let specificity =
            u8::from(!p.pipeline_definition_id.is_empty()) + u8::from(!p.context_id.is_empty());

        let mut problems = Vec::new();
        if !p.pipeline_definition_id.is_empty()
            && !self
                .pipeline_definition_id
                .as_deref()
                .is_some_and(|claim| same_uuid(&p.pipeline_definition_id, claim))
        {
            problems.push(Problem::expects(
                "pipeline_definition_id",
                &p.pipeline_definition_id,
                token_value(
                    PIPELINE_DEFINITION_ID,
                    self.pipeline_definition_id.as_deref(),
                ),
            ));
        }
        if !p.context_id.is_empty()
            && !self
                .context_ids
                .iter()
                .any(|claim| same_uuid(&p.context_id, claim))
        {
            let found = if self.context_ids.is_empty() {
                format!("the token has no {CONTEXT_IDS}")
            } else {
                format!(
                    "the token's {CONTEXT_IDS} are {}",
                    shown(&self.context_ids.join(","))
                )
            };
            problems.push(Problem::expects("context_id", &p.context_id, found));
        }
        if !problems.is_empty() {
            return Verdict::not_found(specificity, problems);
        }

        let uuid_check = |field: &str, claim_name: &str, configured: &str, claim: &str| {
            (!same_uuid(configured, claim)).then(|| {
                (
                    required_check_failed(field),
                    Problem::expects(field, configured, token_value(claim_name, Some(claim)))
                        .restating(),
                )
            })
        };
        let expected_sub = format!(
            "org/{}/project/{}/",
            canonical_uuid(&p.organization_id).unwrap_or_default(),
            canonical_uuid(&p.project_id).unwrap_or_default()
        );
        let failure = uuid_check(
            "organization_id",
            "issuer",
            &p.organization_id,
            &self.organization_id,
        )
        .or_else(|| uuid_check("project_id", PROJECT_ID, &p.project_id, &self.project_id))
        .or_else(|| {
            (!self.sub.to_ascii_lowercase().starts_with(&expected_sub)).then(|| {
                (
                    required_check_failed("sub"),
                    Problem::text(format!(
                        "expects sub to start with {} but the token's sub is {}",
                        shown(&expected_sub),
                        shown(&self.sub)
                    )),
                )
            })
        })
        .or_else(|| {
            let matches = self
                .vcs_origin
                .as_deref()
                .is_some_and(|claim| claim.eq_ignore_ascii_case(&p.vcs_origin));
            (!p.vcs_origin.is_empty() && !matches).then(|| {
                (
                    required_check_failed("vcs_origin"),
                    Problem::expects(
                        "vcs_origin",
                        &p.vcs_origin,
                        token_value(VCS_ORIGIN, self.vcs_origin.as_deref()),
                    ),
                )
            })
        })
        .or_else(|| {
            self.ssh_rerun.then(|| {
                (
                    SSH_RERUN_REFUSED.to_owned(),
                    Problem::text(format!("refuses jobs whose {SSH_RERUN} is true")).restating(),
                )
            })
        });
        match failure {
            Some((reason, problem)) => Verdict::check_failed(specificity, reason, vec![problem]),
            None => Verdict::Pass { specificity },
        }
    }
}

/// `https://<vcs_origin>` when the publisher or the token names the repository.
pub(crate) fn publisher_url(
    p: &CircleCIPublisher,
    stored: Option<&BTreeMap<String, String>>,
) -> Option<String> {
    let origin = if p.vcs_origin.is_empty() {
        stored.and_then(|claims| claims.get("vcs_origin"))?.as_str()
    } else {
        p.vcs_origin.as_str()
    };
    Some(format!("https://{origin}"))
}

/// The CircleCI platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct CircleCI;

impl Platform for CircleCI {
    type Spec = CircleCIPublisher;
    type Token = CircleCIToken;

    const DISPLAY_NAME: &'static str = "CircleCI";
    const PUBLIC_ISSUER: &'static str = CIRCLECI_ISSUER_PATTERN;
    const PUBLIC_ISSUER_IS_PATTERN: bool = true;
    const AUDIENCE_PLACEHOLDERS: &'static [&'static str] = &["organization_id"];

    fn issuer(spec: &CircleCIPublisher) -> String {
        let organization =
            canonical_uuid(&spec.organization_id).unwrap_or_else(|| spec.organization_id.clone());
        format!("{CIRCLECI_ISSUER_PREFIX}{organization}")
    }

    fn audience_placeholder(name: &str, claims: &TokenClaims<'_>) -> Option<String> {
        (name == "organization_id")
            .then(|| organization_of(claims.issuer).map(str::to_owned))
            .flatten()
    }

    fn lookup_key(spec: &CircleCIPublisher, issuer: &str) -> LookupKey {
        lookup_key(issuer, &spec.project_id)
    }

    fn identity_parts(spec: &CircleCIPublisher) -> Vec<String> {
        vec![
            spec.project_id.to_ascii_lowercase(),
            spec.pipeline_definition_id.to_ascii_lowercase(),
            spec.vcs_origin.to_ascii_lowercase(),
            spec.context_id.to_ascii_lowercase(),
        ]
    }

    fn validate(spec: &CircleCIPublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `CircleCI project <project_id> of organization <organization_id> (github.com/o/r)`.
    fn describe(p: &CircleCIPublisher) -> String {
        let mut text = format!(
            "CircleCI project {} of organization {}",
            p.project_id, p.organization_id
        );
        if !p.vcs_origin.is_empty() {
            text.push_str(&format!(" ({})", p.vcs_origin));
        }
        text
    }

    /// Tells a publisher from its siblings of the same project.
    fn label(p: &CircleCIPublisher) -> String {
        let mut parts = Vec::new();
        if !p.pipeline_definition_id.is_empty() {
            parts.push(format!(
                "pipeline_definition_id {}",
                plain(&p.pipeline_definition_id)
            ));
        }
        if !p.context_id.is_empty() {
            parts.push(format!("context_id {}", plain(&p.context_id)));
        }
        if parts.is_empty() {
            "any pipeline".to_owned()
        } else {
            parts.join(", ")
        }
    }

    fn publisher_url(
        spec: &CircleCIPublisher,
        stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        publisher_url(spec, stored)
    }

    const POLICY_CLAIMS: PolicyClaims = PolicyClaims {
        git_ref: Some("oidc.circleci.com/vcs-ref"),
        ..PolicyClaims::NONE
    };

    fn policy_facts(token: &CircleCIToken) -> PolicyFacts {
        PolicyFacts {
            git_ref: token.git_ref.clone(),
            ..PolicyFacts::default()
        }
    }
}

/// One project under one organization's issuer (UUIDs folded to lowercase).
fn lookup_key(issuer: &str, project_id: &str) -> LookupKey {
    let issuer = canonical_issuer(issuer).to_ascii_lowercase();
    let project = canonical_uuid(project_id).unwrap_or_else(|| project_id.to_owned());
    LookupKey::for_platform(Provider::CircleCI, &issuer, &[&project])
}

#[cfg(test)]
mod tests;
