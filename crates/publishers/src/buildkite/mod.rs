//! Buildkite publishers (`buildkite-agent oidc request-token`).
//!
//! One issuer, `https://agent.buildkite.com`, serves every Buildkite organization, so
//! the organization is part of the lookup key and checked again on the token: a token
//! of organization A never sees, let alone matches, a publisher of organization B.
//!
//! Stages (see `verdict.rs`): the lookup selects on organization and pipeline slugs
//! (the key) and the optional `step_key`; the claim checks are `organization_slug`,
//! `pipeline_slug`, the pinned `organization_id` / `pipeline_id` when the token carries
//! them, then `sub` (which must name the same organization and pipeline).

mod spec;
mod validation;

use std::collections::BTreeMap;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::keys::LookupKey;
use crate::platform::{Platform, PlatformToken};
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::reasons::{required_check_failed, shown};
use crate::stored::StoredClaims;
use crate::tenant_uuid::same_uuid;
use crate::validation::ValidationError;
use crate::verdict::{Problem, Verdict, plain, token_value};

pub use spec::{BUILDKITE_ISSUER_URL, BuildkitePublisher};
pub(crate) use validation::validate;

/// Claims every Buildkite job token carries.
const REQUIRED_CLAIMS: [&str; 6] = [
    "sub",
    "organization_slug",
    "pipeline_slug",
    "build_number",
    "build_commit",
    "job_id",
];

/// Claims kept for provenance, besides `issuer`, `subject`, `ref` and `sha`.
const STORED_CLAIMS: [&str; 13] = [
    "organization_slug",
    "pipeline_slug",
    "organization_id",
    "pipeline_id",
    "build_number",
    "build_branch",
    "build_tag",
    "build_commit",
    "build_source",
    "step_key",
    "job_id",
    "agent_id",
    "runner_environment",
];

/// Where Buildkite pipelines live on the web.
const BUILDKITE_WEB_URL: &str = "https://buildkite.com";

/// A Buildkite token's claims, read once.
#[derive(Debug)]
pub(crate) struct BuildkiteToken {
    issuer: String,
    sub: String,
    organization_slug: String,
    pipeline_slug: String,
    organization_id: Option<String>,
    pipeline_id: Option<String>,
    step_key: Option<String>,
    /// The git ref the build ran on, as `refs/tags/<tag>` or `refs/heads/<branch>`.
    pub(crate) git_ref: String,
    /// `build_commit`.
    #[expect(
        dead_code,
        reason = "read by the publisher policy (refs, runners) of issue 14"
    )]
    pub(crate) sha: String,
    /// `runner_environment` (`buildkite-hosted` or `self-hosted`), when sent.
    pub(crate) runner_environment: Option<String>,
    stored: BTreeMap<String, String>,
}

impl PlatformToken for BuildkiteToken {
    type Spec = BuildkitePublisher;

    /// Checks the required claims (a foreign issuer is refused by the matcher, since
    /// every Buildkite publisher trusts Buildkite's issuer).
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        claims.require(&REQUIRED_CLAIMS)?;
        let git_ref = match (
            claims.non_empty("build_tag"),
            claims.non_empty("build_branch"),
        ) {
            (Some(tag), _) => format!("refs/tags/{tag}"),
            (None, Some(branch)) => format!("refs/heads/{branch}"),
            (None, None) => String::new(),
        };
        let sha = claims.text_or_empty("build_commit");
        let stored = StoredClaims::new(claims)
            .keep(&STORED_CLAIMS)
            .with("ref", &git_ref)
            .with("sha", &sha)
            .into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            sub: claims.text_or_empty("sub"),
            organization_slug: claims.text_or_empty("organization_slug"),
            pipeline_slug: claims.text_or_empty("pipeline_slug"),
            organization_id: claims.non_empty("organization_id"),
            pipeline_id: claims.non_empty("pipeline_id"),
            step_key: claims.non_empty("step_key"),
            runner_environment: claims.non_empty("runner_environment"),
            git_ref,
            sha,
            stored,
        })
    }

    fn lookup_key(&self) -> LookupKey {
        lookup_key(&self.issuer, &self.organization_slug, &self.pipeline_slug)
    }

    /// `organization_slug 'acme-inc' pipeline_slug 'sampleproject'`.
    fn subject(&self) -> String {
        format!(
            "organization_slug {} pipeline_slug {}",
            shown(&self.organization_slug),
            shown(&self.pipeline_slug)
        )
    }

    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher.
    fn evaluate(&self, p: &BuildkitePublisher) -> Verdict {
        let specificity = u8::from(!p.step_key.is_empty());
        if !p.step_key.is_empty() && self.step_key.as_deref() != Some(p.step_key.as_str()) {
            let problem = Problem::expects(
                "step_key",
                &p.step_key,
                token_value("step_key", self.step_key.as_deref()),
            );
            return Verdict::not_found(specificity, vec![problem]);
        }
        let exact = |field: &str, configured: &str, claim: &str| {
            (configured != claim).then(|| {
                (
                    required_check_failed(field),
                    Problem::expects(field, configured, token_value(field, Some(claim)))
                        .restating(),
                )
            })
        };
        let pinned = |field: &str, configured: &str, claim: Option<&str>| {
            match claim {
            Some(claim) if !configured.is_empty() && !same_uuid(configured, claim) => Some((
                required_check_failed(field),
                Problem::expects(field, configured, token_value(field, Some(claim)))
                    .note("ids never change: the slug now names another organization or pipeline, or the configured id is wrong"),
            )),
            _ => None,
        }
        };
        let expected_sub = format!(
            "organization:{}:pipeline:{}:",
            p.organization_slug, p.pipeline_slug
        );
        let failure = exact(
            "organization_slug",
            &p.organization_slug,
            &self.organization_slug,
        )
        .or_else(|| exact("pipeline_slug", &p.pipeline_slug, &self.pipeline_slug))
        .or_else(|| {
            pinned(
                "organization_id",
                &p.organization_id,
                self.organization_id.as_deref(),
            )
        })
        .or_else(|| pinned("pipeline_id", &p.pipeline_id, self.pipeline_id.as_deref()))
        .or_else(|| {
            (!self.sub.starts_with(&expected_sub)).then(|| {
                (
                    required_check_failed("sub"),
                    Problem::text(format!(
                        "expects sub to start with {} but the token's sub is {}",
                        shown(&expected_sub),
                        shown(&self.sub)
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

/// `https://buildkite.com/{organization}/{pipeline}` (`…/builds/{n}` when known).
pub(crate) fn publisher_url(
    p: &BuildkitePublisher,
    stored: Option<&BTreeMap<String, String>>,
) -> String {
    let base = format!(
        "{BUILDKITE_WEB_URL}/{}/{}",
        p.organization_slug, p.pipeline_slug
    );
    match stored.and_then(|claims| claims.get("build_number")) {
        Some(build) => format!("{base}/builds/{build}"),
        None => base,
    }
}

/// The Buildkite platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct Buildkite;

impl Platform for Buildkite {
    type Spec = BuildkitePublisher;
    type Token = BuildkiteToken;

    const DISPLAY_NAME: &'static str = "Buildkite";
    const PUBLIC_ISSUER: &'static str = BUILDKITE_ISSUER_URL;

    fn lookup_key(spec: &BuildkitePublisher, issuer: &str) -> LookupKey {
        lookup_key(issuer, &spec.organization_slug, &spec.pipeline_slug)
    }

    fn identity_parts(spec: &BuildkitePublisher) -> Vec<String> {
        vec![
            spec.organization_slug.clone(),
            spec.pipeline_slug.clone(),
            spec.organization_id.to_ascii_lowercase(),
            spec.pipeline_id.to_ascii_lowercase(),
            spec.step_key.clone(),
        ]
    }

    fn validate(spec: &BuildkitePublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `Buildkite acme-inc/sampleproject (step publish)`.
    fn describe(p: &BuildkitePublisher) -> String {
        let mut text = format!("Buildkite {}/{}", p.organization_slug, p.pipeline_slug);
        if !p.step_key.is_empty() {
            text.push_str(&format!(" (step {})", p.step_key));
        }
        text
    }

    /// Tells a publisher from its siblings of the same pipeline.
    fn label(p: &BuildkitePublisher) -> String {
        if p.step_key.is_empty() {
            "any step".to_owned()
        } else {
            format!("step_key {}", plain(&p.step_key))
        }
    }

    fn publisher_url(
        spec: &BuildkitePublisher,
        stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        Some(publisher_url(spec, stored))
    }

    const POLICY_CLAIMS: PolicyClaims = PolicyClaims {
        // `ref` as provenance names it: `refs/tags/<build_tag>` when a tag is set, else
        // `refs/heads/<build_branch>`.
        git_ref: Some("ref"),
        runner_environment: Some("runner_environment"),
        hosted_runner: Some("buildkite-hosted"),
        ..PolicyClaims::NONE
    };

    fn policy_facts(token: &BuildkiteToken) -> PolicyFacts {
        PolicyFacts {
            git_ref: Some(token.git_ref.clone()).filter(|r| !r.is_empty()),
            runner_environment: token.runner_environment.clone(),
            ..PolicyFacts::default()
        }
    }
}

/// One pipeline of one organization: the organization is always in the key.
fn lookup_key(issuer: &str, organization_slug: &str, pipeline_slug: &str) -> LookupKey {
    LookupKey::for_platform(
        Provider::Buildkite,
        issuer,
        &[organization_slug, pipeline_slug],
    )
}

#[cfg(test)]
mod tests;
