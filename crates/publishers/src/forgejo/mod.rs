//! Forgejo Actions publishers (Forgejo, Gitea and Codeberg; `enable-openid-connect`).
//!
//! The issuer is the instance's `https://<host>/api/actions`; no instance is trusted
//! unless an `[[issuers]] kind = "forgejo"` entry names it, and a publisher trusts
//! exactly one (its `issuer`). The claims are GitHub's shape, so the rules are
//! GitHub's, with two refusals: `pull_request_target`, and `pull_request` unless the
//! token shows the head branch is in the repository itself (a fork's code must never
//! run with the repository's identity).
//!
//! Stages (see `verdict.rs`): the lookup selects on repository (the key), the pinned
//! owner id, the workflow file and the environment; the claim checks are `repository`,
//! `repository_owner`, then the trigger.

mod spec;
mod validation;

use std::collections::BTreeMap;

use crate::Provider;
use crate::claims::TokenClaims;
use crate::describe::commit_url;
use crate::diagnostics::NoMatch;
use crate::keys::{LookupKey, canonical_issuer, repository_identity};
use crate::platform::{Platform, PlatformToken};
use crate::policy::{PolicyClaims, PolicyFacts};
use crate::reasons::{required_check_failed, shown};
use crate::stored::StoredClaims;
use crate::validation::ValidationError;
use crate::verdict::{
    Problem, Verdict, case_note, plain, push_environment_description, push_environment_label,
    token_names, token_value,
};

pub use spec::{CODEBERG_ISSUER_URL, ForgejoPublisher};
pub(crate) use validation::validate;

/// Claims every Forgejo Actions token carries.
const REQUIRED_CLAIMS: [&str; 5] = ["repository", "repository_owner", "event_name", "ref", "sha"];

/// Claims kept for provenance, besides `issuer`, `subject` and `workflow`.
const STORED_CLAIMS: [&str; 13] = [
    "repository",
    "repository_owner",
    "repository_owner_id",
    "repository_id",
    "workflow_ref",
    "job_workflow_ref",
    "environment",
    "ref",
    "sha",
    "event_name",
    "run_id",
    "run_attempt",
    "runner_environment",
];

/// The refusal for a `pull_request_target` run or a fork's pull request.
pub(crate) const PULL_REQUEST_REFUSED: &str = "Forgejo Actions runs triggered by \
     'pull_request_target', or by 'pull_request' from another repository, may not publish";

/// A Forgejo token's claims, read once.
#[derive(Debug)]
pub(crate) struct ForgejoToken {
    issuer: String,
    repository: String,
    repository_owner: String,
    repository_owner_id: Option<String>,
    workflow_filename: String,
    workflow_claim: &'static str,
    event_name: String,
    head_repository: Option<String>,
    environment: Option<String>,
    /// `ref` (`refs/tags/v1.0.0`).
    pub(crate) git_ref: String,
    /// `runner_environment`, when the instance sends it.
    #[expect(
        dead_code,
        reason = "read by the publisher policy (runners) of issue 14"
    )]
    pub(crate) runner_environment: Option<String>,
    stored: BTreeMap<String, String>,
}

/// `release.yml` of `owner/repo/.forgejo/workflows/release.yml@refs/…` (any
/// `…/workflows/` directory: Forgejo reads `.forgejo/`, `.gitea/` and `.github/`).
fn workflow_filename_of(workflow_ref: &str) -> Option<&str> {
    let path = workflow_ref
        .split_once('@')
        .map_or(workflow_ref, |(path, _)| path);
    let (_, file) = path.rsplit_once("/workflows/")?;
    (!file.is_empty() && !file.contains('/')).then_some(file)
}

impl ForgejoToken {
    /// Whether the trigger may run someone else's code with this repository's identity.
    fn refused_trigger(&self) -> bool {
        match self.event_name.as_str() {
            "pull_request_target" => true,
            "pull_request" | "pull_request_review" | "pull_request_review_comment" => !self
                .head_repository
                .as_deref()
                .is_some_and(|head| head.eq_ignore_ascii_case(&self.repository)),
            _ => false,
        }
    }
}

impl PlatformToken for ForgejoToken {
    type Spec = ForgejoPublisher;

    /// Checks the required claims and finds the workflow file.
    fn read(claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        claims.require(&REQUIRED_CLAIMS)?;
        let (workflow_claim, workflow_ref) = match claims.non_empty("job_workflow_ref") {
            Some(job_workflow_ref) => ("job_workflow_ref", job_workflow_ref),
            None => ("workflow_ref", claims.text_or_empty("workflow_ref")),
        };
        let workflow_filename = workflow_filename_of(&workflow_ref)
            .ok_or_else(|| {
                NoMatch::malformed(
                    "Could not extract workflow filename from the token's workflow_ref or job_workflow_ref",
                )
            })?
            .to_owned();
        let stored = StoredClaims::new(claims)
            .keep(&STORED_CLAIMS)
            .with("workflow", &workflow_filename)
            .into_map();
        Ok(Self {
            issuer: claims.issuer.to_owned(),
            repository: claims.text_or_empty("repository"),
            repository_owner: claims.text_or_empty("repository_owner"),
            repository_owner_id: claims.non_empty("repository_owner_id"),
            workflow_filename,
            workflow_claim,
            event_name: claims.text_or_empty("event_name"),
            head_repository: claims.non_empty("head_repository"),
            environment: claims.non_empty("environment"),
            git_ref: claims.text_or_empty("ref"),
            runner_environment: claims.non_empty("runner_environment"),
            stored,
        })
    }

    fn lookup_key(&self) -> LookupKey {
        LookupKey::for_repository(Provider::Forgejo, &self.issuer, &self.repository)
    }

    fn subject(&self) -> String {
        format!("repository {}", shown(&self.repository))
    }

    fn stored_claims(&self) -> BTreeMap<String, String> {
        self.stored.clone()
    }

    /// Checks one publisher.
    fn evaluate(&self, p: &ForgejoPublisher) -> Verdict {
        let specificity = u8::from(!p.environment.is_empty());
        let repository = format!("{}/{}", p.repository_owner, p.repository_name);

        let mut problems = Vec::new();
        if let Some(claim) = &self.repository_owner_id
            && !p.repository_owner_id.is_empty()
            && *claim != p.repository_owner_id
        {
            problems.push(
                Problem::expects(
                    "repository_owner_id",
                    &p.repository_owner_id,
                    token_value("repository_owner_id", Some(claim)),
                )
                .note("account ids never change: another account now owns this name, or the configured id is wrong"),
            );
        }
        if p.workflow_filename != self.workflow_filename {
            let mut problem = Problem::expects(
                "workflow_filename",
                &p.workflow_filename,
                token_names(self.workflow_claim, &self.workflow_filename),
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
        let environment_selects = p.environment.is_empty()
            || self
                .environment
                .as_deref()
                .is_some_and(|claim| claim.to_lowercase() == p.environment.to_lowercase());
        if !environment_selects {
            problems.push(Problem::expects(
                "environment",
                &p.environment,
                token_value("environment", self.environment.as_deref()),
            ));
        }
        if !problems.is_empty() {
            return Verdict::not_found(specificity, problems);
        }

        let failure = if !self.repository.eq_ignore_ascii_case(&repository) {
            Some(("repository", repository.as_str(), self.repository.as_str()))
        } else if !self
            .repository_owner
            .eq_ignore_ascii_case(&p.repository_owner)
        {
            Some((
                "repository_owner",
                p.repository_owner.as_str(),
                self.repository_owner.as_str(),
            ))
        } else {
            None
        };
        if let Some((field, configured, claim)) = failure {
            let problem =
                Problem::expects(field, configured, token_value(field, Some(claim))).restating();
            return Verdict::check_failed(specificity, required_check_failed(field), vec![problem]);
        }
        if self.refused_trigger() {
            let problem = Problem::text(format!(
                "refuses runs triggered by {} from {}",
                shown(&self.event_name),
                shown(
                    self.head_repository
                        .as_deref()
                        .unwrap_or("an unnamed head repository")
                )
            ));
            return Verdict::check_failed(specificity, PULL_REQUEST_REFUSED, vec![problem]);
        }
        Verdict::Pass { specificity }
    }
}

/// `https://<host>/<owner>/<repo>` (`…/commit/<sha>` when known).
pub(crate) fn publisher_url(
    p: &ForgejoPublisher,
    stored: Option<&BTreeMap<String, String>>,
) -> String {
    let issuer = canonical_issuer(&p.issuer);
    let web = issuer.strip_suffix("/api/actions").unwrap_or(issuer);
    let base = format!("{web}/{}/{}", p.repository_owner, p.repository_name);
    commit_url(base, stored.and_then(|claims| claims.get("sha")))
}

/// The Forgejo Actions platform, as registered in `registry.rs`.
#[derive(Debug)]
pub(crate) struct Forgejo;

impl Platform for Forgejo {
    type Spec = ForgejoPublisher;
    type Token = ForgejoToken;

    const DISPLAY_NAME: &'static str = "Forgejo";
    // No instance is trusted by default: operators name theirs (Codeberg's is
    // `https://codeberg.org/api/actions`).
    const PUBLIC_ISSUER: &'static str = "";

    fn configured_issuer(spec: &ForgejoPublisher) -> Option<&str> {
        Some(&spec.issuer)
    }

    fn lookup_key(spec: &ForgejoPublisher, issuer: &str) -> LookupKey {
        LookupKey::for_repository(
            Provider::Forgejo,
            issuer,
            &format!("{}/{}", spec.repository_owner, spec.repository_name),
        )
    }

    fn identity_parts(spec: &ForgejoPublisher) -> Vec<String> {
        repository_identity(
            &spec.repository_owner,
            &spec.repository_owner_id,
            &spec.repository_name,
            &spec.workflow_filename,
            &spec.environment,
        )
    }

    fn validate(spec: &ForgejoPublisher) -> Result<(), ValidationError> {
        validate(spec)
    }

    /// `Forgejo octo-org/sampleproject release.yml (environment pypi) on <issuer>`.
    fn describe(p: &ForgejoPublisher) -> String {
        let mut text = format!(
            "Forgejo {}/{} {}",
            p.repository_owner, p.repository_name, p.workflow_filename
        );
        push_environment_description(&mut text, &p.environment);
        text.push_str(&format!(" on {}", canonical_issuer(&p.issuer)));
        text
    }

    /// Tells a publisher from its siblings of the same repository.
    fn label(p: &ForgejoPublisher) -> String {
        let mut label = plain(&p.workflow_filename);
        push_environment_label(&mut label, &p.environment);
        label
    }

    fn publisher_url(
        spec: &ForgejoPublisher,
        stored: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        Some(publisher_url(spec, stored))
    }

    const POLICY_CLAIMS: PolicyClaims = PolicyClaims {
        git_ref: Some("ref"),
        ..PolicyClaims::NONE
    };

    fn policy_facts(token: &ForgejoToken) -> PolicyFacts {
        PolicyFacts {
            git_ref: Some(token.git_ref.clone()).filter(|r| !r.is_empty()),
            ..PolicyFacts::default()
        }
    }
}

#[cfg(test)]
mod tests;
