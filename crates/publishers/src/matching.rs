//! Matching a verified token to publishers: every candidate is checked with its
//! provider's rules, the most specific passing ones win, and when none passes the
//! refusal says why (see `diagnostics.rs`).

use std::collections::{BTreeMap, HashSet};

use crate::claims::TokenClaims;
use crate::diagnostics::{self, NoMatch, Rejected};
use crate::keys::{LookupKey, canonical_issuer};
use crate::registry::ProviderToken;
use crate::verdict::Verdict;
use crate::{ProjectName, Provider, Publisher};

/// The publishers a token matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Every candidate that passed at the best specificity, normal publishers before
    /// pending ones, then by id. Never empty.
    pub publishers: Vec<Publisher>,
    /// Provenance to keep with the minted token, non-empty values only. Key names are a
    /// contract with indexes: every provider `issuer` (the token's `iss`), `subject`
    /// (`sub`) and `publisher_url` (when the publisher has one); GitHub `repository`,
    /// `repository_owner`, `repository_owner_id`, `workflow` (the workflow file
    /// `job_workflow_ref` names), `job_workflow_ref`, `workflow_ref`, `environment`,
    /// `ref`, `sha`, `event_name`, `run_id`, `run_attempt`; GitLab `project_path`,
    /// `namespace_id`, `project_id`, `workflow_filepath`, `ci_config_ref_uri`,
    /// `environment`, `ref_path`, `sha`, `pipeline_id`, `job_id`; Google `email`, `sub`;
    /// ActiveState `organization`, `project`, `actor`, `actor_id`; custom issuers the
    /// issuer's `required_claims`.
    pub stored_claims: BTreeMap<String, String>,
    /// GitHub: `job_workflow_ref` and `workflow_ref` are both present and differ.
    pub reusable_workflow_used: bool,
}

impl Match {
    /// The publisher named in the token's OIDCPublisher caveat: the first one.
    ///
    /// # Panics
    /// If `publishers` is empty, which a `Match` from [`find_match`] never is.
    pub fn primary(&self) -> &Publisher {
        &self.publishers[0]
    }

    /// The projects the token may upload to: the union of the publishers' projects,
    /// sorted, without duplicates.
    pub fn projects(&self) -> Vec<ProjectName> {
        let mut projects: Vec<ProjectName> = self
            .publishers
            .iter()
            .flat_map(|p| p.projects.iter().cloned())
            .collect();
        projects.sort();
        projects.dedup();
        projects
    }
}

/// The lookup key a token's claims select. It equals `PublisherSpec::lookup_key` of every
/// publisher the token can match: same provider, same canonical issuer, same repository
/// (GitHub), project path (GitLab), email (Google) or organization and project
/// (ActiveState), with the same case folding.
///
/// Fails exactly as [`find_match`] would before looking at candidates: a missing claim,
/// a workflow ref without a workflow file, or (Google, ActiveState) a foreign issuer.
pub fn lookup_key_for_claims(
    provider: Provider,
    claims: &TokenClaims<'_>,
) -> Result<LookupKey, NoMatch> {
    ProviderToken::read(provider, claims).map(|token| token.lookup_key())
}

/// Matches a token against the candidates a store returned for its lookup key.
///
/// Candidates of another provider or another lookup key are ignored (and never
/// mentioned), as are pending publishers expired at `now`. A candidate trusting another
/// issuer fails with PyPI's issuer-mismatch reason (defence in depth: stores already
/// key by issuer). A candidate passing its platform's checks must then satisfy its
/// policy (see `policy/`). Among the rest, the passing publishers of the highest specificity
/// (an environment- or `sub`-constrained publisher beats an unconstrained one) form the
/// match.
pub fn find_match(
    provider: Provider,
    claims: &TokenClaims<'_>,
    candidates: &[Publisher],
    now: i64,
) -> Result<Match, NoMatch> {
    let token = ProviderToken::read(provider, claims)?;
    let key = token.lookup_key();

    let mut scoped: Vec<&Publisher> = candidates
        .iter()
        .filter(|p| p.spec.provider() == provider && !p.is_expired(now))
        .filter(|p| p.spec.lookup_key_with_issuer(claims.issuer) == key)
        .collect();
    scoped.sort_by(|a, b| (a.pending, &a.id).cmp(&(b.pending, &b.id)));
    let mut seen = HashSet::new();
    scoped.retain(|p| seen.insert(&p.id));

    let token_issuer = canonical_issuer(claims.issuer);
    let (trusting, foreign): (Vec<&Publisher>, Vec<&Publisher>) = scoped
        .into_iter()
        .partition(|p| canonical_issuer(&p.spec.issuer()) == token_issuer);
    if trusting.is_empty() {
        return Err(match foreign.first() {
            Some(p) => NoMatch::issuer_mismatch(claims.issuer, canonical_issuer(&p.spec.issuer())),
            None => token.nothing_registered(claims.issuer),
        });
    }

    let policy_claims = provider.policy_claims();
    let policy_facts = token.policy_facts();
    let verdicts: Vec<(&Publisher, Verdict)> = trusting
        .iter()
        .filter_map(|p| token.evaluate(&p.spec).map(|verdict| (*p, verdict)))
        .map(|(p, verdict)| {
            // The policy applies to a publisher the platform's own checks accepted: a
            // failure is a failed check of that publisher, with the rule as its reason.
            let verdict = match verdict {
                Verdict::Pass { specificity } => {
                    match p.policy.check(&policy_claims, &policy_facts) {
                        Ok(()) => Verdict::Pass { specificity },
                        Err(reason) => Verdict::check_failed(specificity, reason, Vec::new()),
                    }
                }
                failed => failed,
            };
            (p, verdict)
        })
        .collect();
    let best = verdicts
        .iter()
        .filter_map(|(_, verdict)| match verdict {
            Verdict::Pass { specificity } => Some(*specificity),
            Verdict::Fail(_) => None,
        })
        .max();

    if let Some(best) = best {
        let publishers: Vec<Publisher> = verdicts
            .iter()
            .filter(|(_, verdict)| *verdict == Verdict::Pass { specificity: best })
            .map(|(p, _)| (*p).clone())
            .collect();
        let mut stored_claims = token.stored_claims();
        if let Some(url) = publishers
            .first()
            .and_then(|p| p.spec.publisher_url(Some(&stored_claims)))
        {
            stored_claims.insert("publisher_url".to_owned(), url);
        }
        return Ok(Match {
            publishers,
            stored_claims,
            reusable_workflow_used: token.reusable_workflow_used(),
        });
    }

    let rejected: Vec<Rejected> = verdicts
        .into_iter()
        .filter_map(|(publisher, verdict)| match verdict {
            Verdict::Fail(failure) => Some(Rejected {
                label: publisher.spec.label(),
                failure,
            }),
            Verdict::Pass { .. } => None,
        })
        .collect();
    Err(diagnostics::explain(
        &token.subject(),
        &rejected,
        token.hints(&trusting),
    ))
}
