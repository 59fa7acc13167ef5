//! A token's claims read for its provider: one type per provider, one enum to dispatch,
//! so the matcher is written once.

use std::collections::BTreeMap;

use crate::activestate::ActiveStateToken;
use crate::claims::TokenClaims;
use crate::diagnostics::NoMatch;
use crate::github::GitHubToken;
use crate::gitlab::GitLabToken;
use crate::google::GoogleToken;
use crate::keys::LookupKey;
use crate::reasons::shown;
use crate::verdict::Verdict;
use crate::{Provider, Publisher, PublisherSpec};

/// A token's claims, checked for presence and read for `provider`.
#[derive(Debug)]
pub(crate) enum ProviderToken {
    GitHub(GitHubToken),
    GitLab(GitLabToken),
    Google(GoogleToken),
    ActiveState(ActiveStateToken),
}

impl ProviderToken {
    /// PyPI's steps before its lookup: the fixed-issuer check (Google, ActiveState),
    /// required claims, and finding the workflow file (GitHub, GitLab).
    pub(crate) fn read(provider: Provider, claims: &TokenClaims<'_>) -> Result<Self, NoMatch> {
        Ok(match provider {
            Provider::GitHub => Self::GitHub(GitHubToken::read(claims)?),
            Provider::GitLab => Self::GitLab(GitLabToken::read(claims)?),
            Provider::Google => Self::Google(GoogleToken::read(claims)?),
            Provider::ActiveState => Self::ActiveState(ActiveStateToken::read(claims)?),
        })
    }

    /// The lookup key the token selects.
    pub(crate) fn lookup_key(&self) -> LookupKey {
        match self {
            Self::GitHub(t) => t.lookup_key(),
            Self::GitLab(t) => t.lookup_key(),
            Self::Google(t) => t.lookup_key(),
            Self::ActiveState(t) => t.lookup_key(),
        }
    }

    /// What every candidate shares, for diagnostics (`repository 'o/r'`).
    pub(crate) fn subject(&self) -> String {
        match self {
            Self::GitHub(t) => t.subject(),
            Self::GitLab(t) => t.subject(),
            Self::Google(t) => t.subject(),
            Self::ActiveState(t) => t.subject(),
        }
    }

    /// Provenance kept with a minted token (without `publisher_url`).
    pub(crate) fn stored_claims(&self) -> BTreeMap<String, String> {
        match self {
            Self::GitHub(t) => t.stored_claims(),
            Self::GitLab(t) => t.stored_claims(),
            Self::Google(t) => t.stored_claims(),
            Self::ActiveState(t) => t.stored_claims(),
        }
    }

    /// GitHub only: the job ran a reusable workflow.
    pub(crate) fn reusable_workflow_used(&self) -> bool {
        matches!(self, Self::GitHub(t) if t.reusable_workflow_used())
    }

    /// Checks one publisher; `None` when it is of another provider.
    pub(crate) fn evaluate(&self, spec: &PublisherSpec) -> Option<Verdict> {
        match (self, spec) {
            (Self::GitHub(t), PublisherSpec::GitHub(p)) => Some(t.evaluate(p)),
            (Self::GitLab(t), PublisherSpec::GitLab(p)) => Some(t.evaluate(p)),
            (Self::Google(t), PublisherSpec::Google(p)) => Some(t.evaluate(p)),
            (Self::ActiveState(t), PublisherSpec::ActiveState(p)) => Some(t.evaluate(p)),
            _ => None,
        }
    }

    /// Remarks about the token itself, given the candidates that were checked.
    pub(crate) fn hints(&self, checked: &[&Publisher]) -> Vec<String> {
        match self {
            Self::GitHub(t) => t.hints(checked.iter().filter_map(|p| match &p.spec {
                PublisherSpec::GitHub(github) => Some(github),
                _ => None,
            })),
            _ => Vec::new(),
        }
    }

    /// The refusal when the token's repository (project, email) has no publisher at all
    /// under its issuer.
    pub(crate) fn nothing_registered(&self, issuer: &str) -> NoMatch {
        let detail = format!(
            "no publisher is registered for {} with issuer {}",
            self.subject(),
            shown(issuer)
        );
        NoMatch::not_found().with_details(std::iter::once(detail).chain(self.hints(&[])))
    }
}
