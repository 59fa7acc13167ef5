//! GitLab CI/CD publishers on gitlab.com and self-managed instances (reference §3.3),
//! with the #18797 fix and optional `namespace_id`/`project_id` pinning (resurrection
//! protection PyPI lacks).
//!
//! Stages (see `verdict.rs`): PyPI's lookup selects on project path (ignoring case), the
//! pipeline file named by `ci_config_ref_uri`, the issuer, and environment (exact case);
//! we add the ids there. Its claim checks are `sub`, `project_path`,
//! `ci_config_ref_uri`, then the optional `environment`.

mod checks;
mod ci_config_ref;
mod spec;
mod validation;

use std::collections::BTreeMap;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::describe::commit_url;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer};
use crate::platform::{Platform, PlatformToken};
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::reasons::{GITLAB_WORKFLOW_NOT_EXTRACTED, shown};
use crate::stored::StoredClaims;
use crate::validation::ValidationError;
use crate::verdict::{
    Problem, Verdict, case_note, plain, push_environment_description, push_environment_label,
    token_names, token_value,
};

use ci_config_ref::{extract_workflow_filepath, issuer_host};
pub use spec::{GITLAB_ISSUER_URL, GitLabPublisher};
pub(crate) use validation::validate;

/// Claims every GitLab token must carry, in the order PyPI reports them missing.
const REQUIRED_CLAIMS: [&str; 6] = [
    "sub",
    "project_path",
    "ci_config_ref_uri",
    "jti",
    "ref_path",
    "sha",
];

/// Claims kept for provenance, besides `issuer`, `subject` and `workflow_filepath`.
const STORED_CLAIMS: [&str; 9] = [
    "project_path",
    "namespace_id",
    "project_id",
    "ci_config_ref_uri",
    "environment",
    "ref_path",
    "sha",
    "pipeline_id",
    "job_id",
];

/// A GitLab token's claims, read once.
#[derive(Debug)]
pub(crate) struct GitLabToken {
    issuer: String,
    sub: String,
    project_path: String,
    ci_config_ref_uri: String,
    /// The pipeline file `ci_config_ref_uri` names.
    workflow_filepath: String,
    ref_path: String,
    sha: String,
    environment: Option<String>,
    namespace_id: Option<String>,
    project_id: Option<String>,
    /// `ref_path`, `ref_protected`, `runner_environment`, `environment_protected`,
    /// for publisher policies.
    policy: PolicyFacts,
    stored: BTreeMap<String, String>,
}

impl PlatformToken for GitLabToken {
    type Spec = GitLabPublisher;

    /// Checks the claims PyPI requires and finds the pipeline file.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        claims.require(&REQUIRED_CLAIMS)?;
        let ci_config_ref_uri = claims.text_or_empty("ci_config_ref_uri");
        let workflow_filepath = extract_workflow_filepath(&ci_config_ref_uri)
            .ok_or_else(|| NoMatch::malformed(GITLAB_WORKFLOW_NOT_EXTRACTED))?
            .to_owned();
        let stored = StoredClaims::new(claims)
            .keep(&STORED_CLAIMS)
            .with("workflow_filepath", &workflow_filepath)
            .into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            sub: claims.text_or_empty("sub"),
            project_path: claims.text_or_empty("project_path"),
            workflow_filepath,
            ci_config_ref_uri,
            ref_path: claims.text_or_empty("ref_path"),
            sha: claims.text_or_empty("sha"),
            environment: claims.text("environment"),
            namespace_id: claims.text("namespace_id"),
            project_id: claims.text("project_id"),
            policy: PolicyFacts {
                git_ref: claims.text("ref_path"),
                ref_protected: claims.text("ref_protected"),
                runner_environment: claims.text("runner_environment"),
                environment_protected: claims.text("environment_protected"),
            },
            stored,
        })
    }

    /// The project's lookup key under the token's issuer.
    fn lookup_key(&self) -> LookupKey {
        lookup_key(&self.issuer, &self.project_path)
    }

    /// `project '<namespace/project>'`.
    fn subject(&self) -> String {
        format!("project {}", shown(&self.project_path))
    }

    /// Provenance for the minted token.
    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher, in PyPI's order.
    fn evaluate(&self, p: &GitLabPublisher) -> Verdict {
        let specificity = u8::from(!p.environment.is_empty());
        let project_path = format!("{}/{}", p.namespace, p.project);

        // Lookup stage: PyPI's query and environment preference, plus the ids.
        let mut problems = Vec::new();
        if p.workflow_filepath != self.workflow_filepath {
            let mut problem = Problem::expects(
                "workflow_filepath",
                &p.workflow_filepath,
                token_names("ci_config_ref_uri", &self.workflow_filepath),
            );
            if let Some(note) = case_note(
                &p.workflow_filepath,
                &self.workflow_filepath,
                "pipeline paths are case-sensitive",
            ) {
                problem = problem.note(&note);
            }
            problems.push(problem);
        }
        if !checks::environment_selects(&p.environment, self.environment.as_deref()) {
            let found = self.environment.as_deref().unwrap_or_default();
            let mut problem = Problem::expects(
                "environment",
                &p.environment,
                token_value("environment", Some(found)),
            );
            if let Some(note) = case_note(
                &p.environment,
                found,
                "GitLab environments are case-sensitive",
            ) {
                problem = problem.note(&note);
            }
            problems.push(problem);
        }
        for (field, configured, claim) in [
            ("namespace_id", &p.namespace_id, &self.namespace_id),
            ("project_id", &p.project_id, &self.project_id),
        ] {
            if !configured.is_empty() && claim.as_deref() != Some(configured.as_str()) {
                problems.push(
                    Problem::expects(field, configured, token_value(field, claim.as_deref()))
                        .note("ids never change: this path now belongs to another namespace or project, or the configured id is wrong"),
                );
            }
        }
        if !problems.is_empty() {
            return Verdict::not_found(specificity, problems);
        }

        // Claim checks on the publisher PyPI's lookup would have selected.
        if let Err(reason) = checks::sub(&format!("project_path:{project_path}"), Some(&self.sub)) {
            let problem = Problem::expects(
                "sub",
                &format!("project_path:{project_path}:…"),
                token_value("sub", Some(&self.sub)),
            );
            return Verdict::check_failed(specificity, reason, vec![problem.restating()]);
        }
        if let Err(reason) = checks::project_path(&project_path, Some(&self.project_path)) {
            let problem = Problem::expects(
                "project_path",
                &project_path,
                token_value("project_path", Some(&self.project_path)),
            );
            return Verdict::check_failed(specificity, reason, vec![problem.restating()]);
        }
        let project_url = format!("{}/{project_path}", issuer_host(publisher_issuer(p)));
        if let Err(reason) = checks::ci_config_ref_uri(
            &project_url,
            &p.workflow_filepath,
            &self.ci_config_ref_uri,
            Some(&self.ref_path),
            Some(&self.sha),
        ) {
            let problem = Problem::text("rejects the token's ci_config_ref_uri").restating();
            return Verdict::check_failed(specificity, reason, vec![problem]);
        }
        if let Err(reason) = checks::environment(&p.environment, self.environment.as_deref()) {
            return Verdict::check_failed(specificity, reason, Vec::new());
        }
        Verdict::Pass { specificity }
    }
}

/// The issuer a GitLab publisher trusts.
fn publisher_issuer(p: &GitLabPublisher) -> &str {
    if p.issuer.is_empty() {
        GITLAB_ISSUER_URL
    } else {
        canonical_issuer(&p.issuer)
    }
}

/// `{issuer}/{namespace}/{project}`, with `/commit/{sha}` when the sha is known.
pub(crate) fn publisher_url(
    p: &GitLabPublisher,
    stored: Option<&BTreeMap<String, String>>,
) -> String {
    let base = format!("{}/{}/{}", publisher_issuer(p), p.namespace, p.project);
    let sha = stored
        .and_then(|claims| claims.get("sha"))
        .filter(|sha| !sha.is_empty());
    commit_url(base, sha)
}

/// The GitLab platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct GitLab;

impl Platform for GitLab {
    type Spec = GitLabPublisher;
    type Token = GitLabToken;

    const DISPLAY_NAME: &'static str = "GitLab";
    const PUBLIC_ISSUER: &'static str = GITLAB_ISSUER_URL;

    fn configured_issuer(spec: &GitLabPublisher) -> Option<&str> {
        Some(&spec.issuer)
    }

    fn lookup_key(spec: &GitLabPublisher, issuer: &str) -> LookupKey {
        lookup_key(issuer, &format!("{}/{}", spec.namespace, spec.project))
    }

    fn identity_parts(spec: &GitLabPublisher) -> Vec<String> {
        vec![
            spec.namespace.to_ascii_lowercase(),
            spec.project.to_ascii_lowercase(),
            spec.workflow_filepath.clone(),
            spec.environment.clone(),
            spec.namespace_id.clone(),
            spec.project_id.clone(),
        ]
    }

    fn validate(spec: &GitLabPublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `GitLab group/project .gitlab-ci.yml (environment pypi) on https://gitlab.example.com`.
    fn describe(p: &GitLabPublisher) -> String {
        let mut text = format!(
            "GitLab {}/{} {}",
            p.namespace, p.project, p.workflow_filepath
        );
        push_environment_description(&mut text, &p.environment);
        if publisher_issuer(p) != GITLAB_ISSUER_URL {
            text.push_str(&format!(" on {}", publisher_issuer(p)));
        }
        text
    }

    /// Tells a publisher from its siblings of the same project.
    fn label(p: &GitLabPublisher) -> String {
        let mut label = plain(&p.workflow_filepath);
        push_environment_label(&mut label, &p.environment);
        for (name, id) in [
            ("namespace_id", &p.namespace_id),
            ("project_id", &p.project_id),
        ] {
            if !id.is_empty() {
                label.push_str(&format!(", {name} {}", plain(id)));
            }
        }
        label
    }

    fn publisher_url(
        spec: &GitLabPublisher,
        stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        Some(publisher_url(spec, stored))
    }

    const POLICY_CLAIMS: PolicyClaims = PolicyClaims {
        git_ref: Some("ref_path"),
        ref_protected: Some("ref_protected"),
        runner_environment: Some("runner_environment"),
        hosted_runner: Some("gitlab-hosted"),
        environment_protected: Some("environment_protected"),
    };

    fn policy_facts(token: &GitLabToken) -> PolicyFacts {
        token.policy.clone()
    }
}

/// One project path (`namespace/project`, case-insensitive) under one issuer.
fn lookup_key(issuer: &str, project_path: &str) -> LookupKey {
    LookupKey::for_platform(
        Provider::GitLab,
        issuer,
        &[&project_path.to_ascii_lowercase()],
    )
}

#[cfg(test)]
mod scoping_tests;
#[cfg(test)]
mod tests;
