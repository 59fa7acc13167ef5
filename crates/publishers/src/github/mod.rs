//! GitHub Actions publishers: PyPI's rules (reference §3.2), reusable workflows from
//! another repository (PyPI #11096), and custom issuers (GitHub Enterprise slugs, GHES).
//!
//! Stages (see `verdict.rs`): PyPI's lookup selects on repository, owner id, the
//! workflow file named by `job_workflow_ref`, and environment (an environment-specific
//! publisher before an unconstrained one); its claim checks are `repository`,
//! `repository_owner`, `repository_owner_id`, `job_workflow_ref`, `event_name`, then the
//! optional `environment`. Our lookup is by repository only, so publishers the token
//! nearly matches can be explained.

mod checks;
mod spec;
mod validation;
mod workflow_ref;

use std::collections::BTreeMap;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::describe::commit_url;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer, repository_identity};
use crate::platform::{Platform, PlatformToken};
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::reasons::{GITHUB_WORKFLOW_NOT_EXTRACTED, shown};
use crate::stored::StoredClaims;
use crate::validation::ValidationError;
use crate::verdict::{
    Problem, Verdict, case_note, plain, push_environment_description, push_environment_label,
    token_names, token_value,
};

pub use spec::{GITHUB_ISSUER_URL, GitHubPublisher};
pub(crate) use validation::validate;
use workflow_ref::{WORKFLOWS_DIR, extract_workflow_filename, git_ref_of, workflow_repository_of};

/// Claims every GitHub token must carry, in the order PyPI reports them missing.
const REQUIRED_CLAIMS: [&str; 8] = [
    "repository",
    "repository_owner",
    "repository_owner_id",
    "job_workflow_ref",
    "jti",
    "event_name",
    "ref",
    "sha",
];

/// Claims kept for provenance, besides `issuer`, `subject` and `workflow`.
const STORED_CLAIMS: [&str; 11] = [
    "repository",
    "repository_owner",
    "repository_owner_id",
    "job_workflow_ref",
    "workflow_ref",
    "environment",
    "ref",
    "sha",
    "event_name",
    "run_id",
    "run_attempt",
];

/// A GitHub token's claims, read once.
#[derive(Debug)]
pub(crate) struct GitHubToken {
    issuer: String,
    repository: String,
    repository_owner: String,
    repository_owner_id: String,
    job_workflow_ref: String,
    /// The workflow file `job_workflow_ref` names (the called workflow when reusable).
    workflow_filename: String,
    git_ref: String,
    sha: String,
    event_name: String,
    environment: Option<String>,
    workflow_ref: Option<String>,
    /// `ref`, `ref_protected`, `runner_environment`, for publisher policies.
    policy: PolicyFacts,
    stored: BTreeMap<String, String>,
}

impl GitHubToken {
    /// PyPI's definition: `job_workflow_ref` and `workflow_ref` both present and different.
    pub(crate) fn reusable_workflow_used(&self) -> bool {
        self.workflow_ref
            .as_deref()
            .is_some_and(|workflow_ref| workflow_ref != self.job_workflow_ref)
    }

    /// The repository of a reusable workflow in *another* repository, if the token
    /// comes from one.
    fn foreign_workflow_repository(&self) -> Option<&str> {
        workflow_repository_of(&self.job_workflow_ref)
            .filter(|repository| !repository.eq_ignore_ascii_case(&self.repository))
    }

    /// Explains a failed `job_workflow_ref` check in the publisher's terms.
    fn workflow_problems(&self, p: &GitHubPublisher) -> Vec<Problem> {
        let foreign = self.foreign_workflow_repository();
        match (p.workflow_repository.is_empty(), foreign) {
            (true, Some(other)) => vec![Problem::text(format!(
                "trusts only workflows of the repository itself, but the token's job_workflow_ref is a reusable workflow from {}",
                shown(other)
            ))],
            (true, None) => match git_ref_of(&self.job_workflow_ref, &self.workflow_filename) {
                Some(ran_at) if !(self.git_ref.is_empty() && self.sha.is_empty()) => vec![
                    Problem::text(format!(
                        "expects the workflow at this run's ref {} or sha {}, but the token's job_workflow_ref is at {}",
                        shown(&self.git_ref),
                        shown(&self.sha),
                        shown(ran_at)
                    ))
                    .note(&format!(
                        "a reusable workflow of the same repository must be called at the run's own ref: uses: ./.github/workflows/{}",
                        plain(&p.workflow_filename)
                    )),
                ],
                _ => vec![Problem::text("rejects the token's job_workflow_ref").restating()],
            },
            (false, Some(other)) => vec![
                Problem::expects(
                    "workflow_repository",
                    &p.workflow_repository,
                    token_names("job_workflow_ref", other),
                )
                .restating(),
            ],
            (false, None) => vec![
                Problem::expects(
                    "workflow_repository",
                    &p.workflow_repository,
                    "the token's job_workflow_ref is a workflow of the repository itself"
                        .to_owned(),
                )
                .restating(),
            ],
        }
    }

    /// Remarks about the token itself, given the publishers that were checked: a
    /// reusable workflow from another repository that none of them trusts.
    pub(crate) fn hints<'p>(
        &self,
        checked: impl IntoIterator<Item = &'p GitHubPublisher>,
    ) -> Vec<String> {
        let Some(other) = self.foreign_workflow_repository() else {
            return Vec::new();
        };
        let trusted_somewhere = checked
            .into_iter()
            .any(|p| p.workflow_repository.eq_ignore_ascii_case(other));
        if trusted_somewhere {
            return Vec::new();
        }
        vec![format!(
            "the token comes from the reusable workflow {} called from {}, and no publisher trusts it: \
             set workflow_repository = {} and workflow_filename = {} on the publisher to trust it",
            shown(&format!("{other}{WORKFLOWS_DIR}{}", self.workflow_filename)),
            shown(&self.repository),
            shown(other),
            shown(&self.workflow_filename),
        )]
    }
}

impl PlatformToken for GitHubToken {
    type Spec = GitHubPublisher;

    /// Checks the claims PyPI requires and finds the workflow file, as PyPI does before
    /// its lookup.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        claims.require(&REQUIRED_CLAIMS)?;
        let job_workflow_ref = claims.text_or_empty("job_workflow_ref");
        let workflow_filename = extract_workflow_filename(&job_workflow_ref)
            .ok_or_else(|| NoMatch::malformed(GITHUB_WORKFLOW_NOT_EXTRACTED))?
            .to_owned();
        let stored = StoredClaims::new(claims)
            .keep(&STORED_CLAIMS)
            .with("workflow", &workflow_filename)
            .into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            repository: claims.text_or_empty("repository"),
            repository_owner: claims.text_or_empty("repository_owner"),
            repository_owner_id: claims.text_or_empty("repository_owner_id"),
            workflow_filename,
            job_workflow_ref,
            git_ref: claims.text_or_empty("ref"),
            sha: claims.text_or_empty("sha"),
            event_name: claims.text_or_empty("event_name"),
            environment: claims.text("environment"),
            workflow_ref: claims.non_empty("workflow_ref"),
            policy: PolicyFacts {
                git_ref: claims.text("ref"),
                ref_protected: claims.text("ref_protected"),
                runner_environment: claims.text("runner_environment"),
                environment_protected: None,
            },
            stored,
        })
    }

    /// The repository's lookup key under the token's issuer.
    fn lookup_key(&self) -> LookupKey {
        LookupKey::for_repository(Provider::GitHub, &self.issuer, &self.repository)
    }

    /// `repository '<owner/repo>'`, naming what all candidates share.
    fn subject(&self) -> String {
        format!("repository {}", shown(&self.repository))
    }

    /// Provenance for the minted token.
    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher, in PyPI's order.
    fn evaluate(&self, p: &GitHubPublisher) -> Verdict {
        let specificity = u8::from(!p.environment.is_empty());
        let repository = format!("{}/{}", p.repository_owner, p.repository_name);

        // Lookup stage: what PyPI's query and environment preference select on.
        let mut problems = Vec::new();
        if checks::repository_owner_id(&p.repository_owner_id, &self.repository_owner_id).is_err() {
            problems.push(
                Problem::expects(
                    "repository_owner_id",
                    &p.repository_owner_id,
                    token_value("repository_owner_id", Some(&self.repository_owner_id)),
                )
                .note("account ids never change: another account now owns this name, or the configured id is wrong"),
            );
        }
        if p.workflow_filename != self.workflow_filename {
            let mut problem = Problem::expects(
                "workflow_filename",
                &p.workflow_filename,
                token_names("job_workflow_ref", &self.workflow_filename),
            );
            if let Some(note) = case_note(
                &p.workflow_filename,
                &self.workflow_filename,
                "workflow file names are case-sensitive",
            ) {
                problem = problem.note(&note);
            }
            problems.push(problem);
        }
        if !checks::environment_selects(&p.environment, self.environment.as_deref()) {
            problems.push(Problem::expects(
                "environment",
                &p.environment,
                token_value("environment", self.environment.as_deref()),
            ));
        }
        if !problems.is_empty() {
            return Verdict::not_found(specificity, problems);
        }

        // Claim checks on the publisher PyPI's lookup would have selected.
        if let Err(reason) = checks::repository(&repository, Some(&self.repository)) {
            let problem = Problem::expects(
                "repository",
                &repository,
                token_value("repository", Some(&self.repository)),
            );
            return Verdict::check_failed(specificity, reason, vec![problem.restating()]);
        }
        if let Err(reason) = checks::repository_owner(&p.repository_owner, &self.repository_owner) {
            let problem = Problem::expects(
                "repository_owner",
                &p.repository_owner,
                token_value("repository_owner", Some(&self.repository_owner)),
            );
            return Verdict::check_failed(specificity, reason, vec![problem.restating()]);
        }
        let workflow_check = if p.workflow_repository.is_empty() {
            checks::job_workflow_ref(
                &repository,
                &p.workflow_filename,
                &self.job_workflow_ref,
                Some(&self.git_ref),
                Some(&self.sha),
            )
        } else {
            checks::reusable_job_workflow_ref(
                &p.workflow_repository,
                &p.workflow_filename,
                &self.job_workflow_ref,
            )
        };
        if let Err(reason) = workflow_check {
            return Verdict::check_failed(specificity, reason, self.workflow_problems(p));
        }
        if let Err(reason) = checks::event_name(&self.event_name) {
            let problem = Problem::text("refuses workflows triggered by 'pull_request_target'");
            return Verdict::check_failed(specificity, reason, vec![problem.restating()]);
        }
        if let Err(reason) = checks::environment(&p.environment, self.environment.as_deref()) {
            return Verdict::check_failed(specificity, reason, Vec::new());
        }
        Verdict::Pass { specificity }
    }
}

/// `https://github.com/{owner}/{repo}` (`…/commit/{sha}` when the sha is known). A
/// GitHub Enterprise Server publisher links to its own host; enterprise-slug issuers
/// (`https://token.actions.githubusercontent.com/<slug>`) are github.com.
pub(crate) fn publisher_url(
    p: &GitHubPublisher,
    stored: Option<&BTreeMap<String, String>>,
) -> String {
    let issuer = canonical_issuer(&p.issuer);
    // github.com's issuer or a path under it (an enterprise slug); a host that merely
    // starts with the same text (`…githubusercontent.com.example.org`) is not github.com.
    let on_github_com = issuer.is_empty()
        || issuer
            .strip_prefix(GITHUB_ISSUER_URL)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    let web = if on_github_com {
        "https://github.com"
    } else {
        origin(issuer)
    };
    let base = format!("{web}/{}/{}", p.repository_owner, p.repository_name);
    let sha = stored
        .and_then(|claims| claims.get("sha"))
        .filter(|sha| !sha.is_empty());
    commit_url(base, sha)
}

/// `scheme://authority` of a URL.
fn origin(url: &str) -> &str {
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    match url[authority_start..].find('/') {
        Some(path_start) => &url[..authority_start + path_start],
        None => url,
    }
}

/// The GitHub platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct GitHub;

impl Platform for GitHub {
    type Spec = GitHubPublisher;
    type Token = GitHubToken;

    const DISPLAY_NAME: &'static str = "GitHub";
    const PUBLIC_ISSUER: &'static str = GITHUB_ISSUER_URL;

    fn configured_issuer(spec: &GitHubPublisher) -> Option<&str> {
        Some(&spec.issuer)
    }

    fn lookup_key(spec: &GitHubPublisher, issuer: &str) -> LookupKey {
        LookupKey::for_repository(
            Provider::GitHub,
            issuer,
            &format!("{}/{}", spec.repository_owner, spec.repository_name),
        )
    }

    fn identity_parts(spec: &GitHubPublisher) -> Vec<String> {
        let mut parts = repository_identity(
            &spec.repository_owner,
            &spec.repository_owner_id,
            &spec.repository_name,
            &spec.workflow_filename,
            &spec.environment,
        );
        parts.push(spec.workflow_repository.to_ascii_lowercase());
        parts
    }

    fn validate(spec: &GitHubPublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `GitHub octo-org/sampleproject release.yml (environment pypi)`.
    fn describe(p: &GitHubPublisher) -> String {
        let mut text = format!(
            "GitHub {}/{} {}",
            p.repository_owner, p.repository_name, p.workflow_filename
        );
        if !p.workflow_repository.is_empty() {
            text.push_str(&format!(" from {}", p.workflow_repository));
        }
        push_environment_description(&mut text, &p.environment);
        if !p.issuer.is_empty() && canonical_issuer(&p.issuer) != GITHUB_ISSUER_URL {
            text.push_str(&format!(" on {}", canonical_issuer(&p.issuer)));
        }
        text
    }

    /// Tells a publisher from its siblings of the same repository.
    fn label(p: &GitHubPublisher) -> String {
        let mut label = plain(&p.workflow_filename);
        if !p.workflow_repository.is_empty() {
            label.push_str(&format!(" from {}", plain(&p.workflow_repository)));
        }
        push_environment_label(&mut label, &p.environment);
        label
    }

    fn publisher_url(
        spec: &GitHubPublisher,
        stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        Some(publisher_url(spec, stored))
    }

    fn reusable_workflow_used(token: &GitHubToken) -> bool {
        token.reusable_workflow_used()
    }

    fn hints(token: &GitHubToken, checked: &[&GitHubPublisher]) -> Vec<String> {
        token.hints(checked.iter().copied())
    }

    const POLICY_CLAIMS: PolicyClaims = PolicyClaims {
        git_ref: Some("ref"),
        ref_protected: Some("ref_protected"),
        runner_environment: Some("runner_environment"),
        hosted_runner: Some("github-hosted"),
        environment_protected: None,
    };

    fn policy_facts(token: &GitHubToken) -> PolicyFacts {
        token.policy.clone()
    }
}

#[cfg(test)]
mod reusable_tests;
#[cfg(test)]
mod scoping_tests;
#[cfg(test)]
mod tests;
