//! Bitbucket Pipelines publishers (`oidc: true`, `$BITBUCKET_STEP_OIDC_TOKEN`).
//!
//! Each workspace has its own issuer
//! (`https://api.bitbucket.org/2.0/workspaces/<workspace>/pipelines-config/identity/oidc`):
//! the publisher's `workspace` picks it; the lookup key is under it and holds the
//! workspace and repository UUIDs, so a token of another workspace never sees this
//! publisher. Bitbucket fixes the audience to `ari:cloud:bitbucket::workspace/<uuid>`
//! unless the step lists its own: an audience of that shape must name the publisher's
//! workspace (the issuer's `audiences` decide whether it is accepted at all).
//!
//! Stages (see `verdict.rs`): the lookup selects on workspace and repository UUIDs (the
//! key) and the optional `deployment_environment_uuid`; the claim checks are
//! `workspace_uuid`, `repository_uuid`, then the workspace audience.

mod spec;
mod validation;

use std::collections::BTreeMap;

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

pub use spec::{BITBUCKET_ISSUER_PATTERN, BitbucketPublisher};
use spec::{BITBUCKET_ISSUER_PREFIX, BITBUCKET_ISSUER_SUFFIX};
pub(crate) use validation::validate;

/// Claims every Bitbucket step token carries.
const REQUIRED_CLAIMS: [&str; 5] = [
    "sub",
    "workspaceUuid",
    "repositoryUuid",
    "pipelineUuid",
    "stepUuid",
];

/// Bitbucket's own audience, followed by the workspace UUID (without braces).
pub(crate) const WORKSPACE_AUDIENCE_PREFIX: &str = "ari:cloud:bitbucket::workspace/";

/// A Bitbucket token's claims, read once.
#[derive(Debug)]
pub(crate) struct BitbucketToken {
    issuer: String,
    workspace_uuid: String,
    repository_uuid: String,
    deployment_environment_uuid: Option<String>,
    audience: String,
    /// `refs/heads/<branchName>`, when the step ran for a branch.
    pub(crate) git_ref: Option<String>,
    stored: BTreeMap<String, String>,
}

/// The workspace slug in a Bitbucket issuer URL.
fn workspace_of(issuer: &str) -> Option<&str> {
    canonical_issuer(issuer)
        .strip_prefix(BITBUCKET_ISSUER_PREFIX)?
        .strip_suffix(BITBUCKET_ISSUER_SUFFIX)
        .filter(|slug| !slug.is_empty() && !slug.contains('/'))
}

/// A UUID claim in its canonical form (or as sent, when it is not a UUID).
fn canonical(raw: &str) -> String {
    canonical_uuid(raw).unwrap_or_else(|| raw.to_owned())
}

impl PlatformToken for BitbucketToken {
    type Spec = BitbucketPublisher;

    /// Checks the required claims.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        claims.require(&REQUIRED_CLAIMS)?;
        let git_ref = claims
            .non_empty("branchName")
            .map(|branch| format!("refs/heads/{branch}"));
        let stored = StoredClaims::new(claims)
            .keep(&[
                "workspaceUuid",
                "repositoryUuid",
                "pipelineUuid",
                "stepUuid",
                "branchName",
                "deploymentEnvironmentUuid",
            ])
            .with("workspace", workspace_of(claims.issuer).unwrap_or_default())
            .with("ref", git_ref.as_deref().unwrap_or_default())
            .into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            workspace_uuid: claims.text_or_empty("workspaceUuid"),
            repository_uuid: claims.text_or_empty("repositoryUuid"),
            deployment_environment_uuid: claims.non_empty("deploymentEnvironmentUuid"),
            audience: claims.text_or_empty("aud"),
            git_ref,
            stored,
        })
    }

    fn lookup_key(&self) -> LookupKey {
        lookup_key(&self.issuer, &self.workspace_uuid, &self.repository_uuid)
    }

    /// `workspace_uuid '{…}' repository_uuid '{…}'`.
    fn subject(&self) -> String {
        format!(
            "workspace_uuid {} repository_uuid {}",
            shown(&self.workspace_uuid),
            shown(&self.repository_uuid)
        )
    }

    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher.
    fn evaluate(&self, p: &BitbucketPublisher) -> Verdict {
        let specificity = u8::from(!p.deployment_environment_uuid.is_empty());
        if !p.deployment_environment_uuid.is_empty()
            && !self
                .deployment_environment_uuid
                .as_deref()
                .is_some_and(|claim| same_uuid(&p.deployment_environment_uuid, claim))
        {
            let problem = Problem::expects(
                "deployment_environment_uuid",
                &p.deployment_environment_uuid,
                token_value(
                    "deploymentEnvironmentUuid",
                    self.deployment_environment_uuid.as_deref(),
                ),
            );
            return Verdict::not_found(specificity, vec![problem]);
        }
        let uuid_check = |field: &str, claim_name: &str, configured: &str, claim: &str| {
            (!same_uuid(configured, claim)).then(|| {
                (
                    required_check_failed(field),
                    Problem::expects(field, configured, token_value(claim_name, Some(claim))),
                )
            })
        };
        let failure = uuid_check(
            "workspace_uuid",
            "workspaceUuid",
            &p.workspace_uuid,
            &self.workspace_uuid,
        )
        .or_else(|| {
            uuid_check(
                "repository_uuid",
                "repositoryUuid",
                &p.repository_uuid,
                &self.repository_uuid,
            )
        })
        .or_else(|| {
            let named = self.audience.strip_prefix(WORKSPACE_AUDIENCE_PREFIX)?;
            (!same_uuid(&p.workspace_uuid, named)).then(|| {
                (
                    required_check_failed("aud"),
                    Problem::text(format!(
                        "expects a workspace audience naming workspace_uuid {} but the token's aud is {}",
                        shown(&p.workspace_uuid),
                        shown(&self.audience)
                    )),
                )
            })
        });
        match failure {
            Some((reason, problem)) => Verdict::check_failed(specificity, reason, vec![problem]),
            None => Verdict::Pass { specificity },
        }
    }
}

/// The Bitbucket Pipelines platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct Bitbucket;

impl Platform for Bitbucket {
    type Spec = BitbucketPublisher;
    type Token = BitbucketToken;

    const DISPLAY_NAME: &'static str = "Bitbucket";
    const PUBLIC_ISSUER: &'static str = BITBUCKET_ISSUER_PATTERN;
    const PUBLIC_ISSUER_IS_PATTERN: bool = true;
    const AUDIENCE_PLACEHOLDERS: &'static [&'static str] = &["workspace_uuid"];

    fn issuer(spec: &BitbucketPublisher) -> String {
        format!(
            "{BITBUCKET_ISSUER_PREFIX}{}{BITBUCKET_ISSUER_SUFFIX}",
            spec.workspace
        )
    }

    fn audience_placeholder(name: &str, claims: &TokenClaims<'_>) -> Option<String> {
        (name == "workspace_uuid")
            .then(|| {
                claims
                    .non_empty("workspaceUuid")
                    .as_deref()
                    .and_then(canonical_uuid)
            })
            .flatten()
    }

    fn lookup_key(spec: &BitbucketPublisher, issuer: &str) -> LookupKey {
        lookup_key(issuer, &spec.workspace_uuid, &spec.repository_uuid)
    }

    fn identity_parts(spec: &BitbucketPublisher) -> Vec<String> {
        vec![
            canonical(&spec.workspace_uuid),
            canonical(&spec.repository_uuid),
            canonical(&spec.deployment_environment_uuid),
        ]
    }

    fn validate(spec: &BitbucketPublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `Bitbucket workspace octo-team repository {…}`.
    fn describe(p: &BitbucketPublisher) -> String {
        let mut text = format!(
            "Bitbucket workspace {} repository {}",
            p.workspace, p.repository_uuid
        );
        if !p.deployment_environment_uuid.is_empty() {
            text.push_str(&format!(" (environment {})", p.deployment_environment_uuid));
        }
        text
    }

    /// Tells a publisher from its siblings of the same repository.
    fn label(p: &BitbucketPublisher) -> String {
        if p.deployment_environment_uuid.is_empty() {
            "any deployment environment".to_owned()
        } else {
            format!(
                "deployment_environment_uuid {}",
                plain(&p.deployment_environment_uuid)
            )
        }
    }

    fn publisher_url(
        spec: &BitbucketPublisher,
        _stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        Some(format!("https://bitbucket.org/{}", spec.workspace))
    }

    const POLICY_CLAIMS: PolicyClaims = PolicyClaims {
        // `ref` as provenance names it: `refs/heads/<branchName>`.
        git_ref: Some("ref"),
        ..PolicyClaims::NONE
    };

    fn policy_facts(token: &BitbucketToken) -> PolicyFacts {
        PolicyFacts {
            git_ref: token.git_ref.clone(),
            ..PolicyFacts::default()
        }
    }
}

/// One repository of one workspace, UUIDs in canonical form: the tenant is in the key.
fn lookup_key(issuer: &str, workspace_uuid: &str, repository_uuid: &str) -> LookupKey {
    LookupKey::for_platform(
        Provider::Bitbucket,
        issuer,
        &[&canonical(workspace_uuid), &canonical(repository_uuid)],
    )
}

#[cfg(test)]
mod tests;
