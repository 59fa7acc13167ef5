//! Why a token matched no publisher: PyPI's parenthetical reason, followed — when
//! publishers of the token's own repository (project, email, …) exist but none
//! passed — by what each of them expected and what the token has, the way crates.io
//! explains a refusal.
//!
//! Privacy: everything said here is about the candidate set, which the store already
//! scoped to the token's issuer and repository, or about the token itself. Nothing
//! about any other publisher is ever in a reason.

use crate::reasons::{self, PUBLISHER_NOT_FOUND};
use crate::verdict::Failure;

/// How many rejected publishers a reason describes; the rest are counted.
pub const MAX_DESCRIBED_PUBLISHERS: usize = 3;

/// The broad class of a refusal, for metrics labels and tests; the text is in
/// [`NoMatch::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoMatchKind {
    /// The token's issuer is not the one the publisher(s) trust.
    IssuerMismatch,
    /// A claim the provider always sends is absent or `null`.
    MissingClaim,
    /// A claim is present but cannot be read (no workflow file in the workflow ref).
    MalformedClaim,
    /// No publisher was selected (PyPI: `Publisher with matching claims was not found`).
    NotFound,
    /// A publisher was selected but one of its claim checks failed.
    CheckFailed,
}

/// A verified token that matches no publisher. `Display` is [`NoMatch::reason`]; the
/// exchange wraps it as `valid token, but no corresponding publisher (<reason>)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NoMatch {
    kind: NoMatchKind,
    pypi_reason: String,
    reason: String,
}

impl NoMatch {
    /// The whole reason: PyPI's text, then `; ` and our explanation when there is one.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Only the part PyPI would have said.
    pub fn pypi_reason(&self) -> &str {
        &self.pypi_reason
    }

    /// The class of the refusal.
    pub fn kind(&self) -> NoMatchKind {
        self.kind
    }

    pub(crate) fn new(kind: NoMatchKind, pypi_reason: impl Into<String>) -> Self {
        let pypi_reason = pypi_reason.into();
        Self {
            kind,
            reason: pypi_reason.clone(),
            pypi_reason,
        }
    }

    /// Appends explanations, each after `; `.
    pub(crate) fn with_details(mut self, details: impl IntoIterator<Item = String>) -> Self {
        for detail in details {
            self.reason.push_str("; ");
            self.reason.push_str(&detail);
        }
        self
    }

    pub(crate) fn missing_claim(name: &str) -> Self {
        Self::new(NoMatchKind::MissingClaim, reasons::missing_claim(name))
    }

    pub(crate) fn issuer_mismatch(token_issuer: &str, expected: &str) -> Self {
        Self::new(
            NoMatchKind::IssuerMismatch,
            reasons::issuer_mismatch(token_issuer, expected),
        )
    }

    pub(crate) fn not_found() -> Self {
        Self::new(NoMatchKind::NotFound, PUBLISHER_NOT_FOUND)
    }

    pub(crate) fn malformed(reason: &str) -> Self {
        Self::new(NoMatchKind::MalformedClaim, reason)
    }
}

/// A candidate that did not match, with a short label telling it from its siblings.
#[derive(Debug)]
pub(crate) struct Rejected {
    pub(crate) label: String,
    pub(crate) failure: Failure,
}

/// Builds the refusal for candidates that all failed. `rejected` must be non-empty and
/// in a stable order (normal before pending, then by id); `subject` names what they
/// share (`repository 'octo-org/sampleproject'`); `hints` are remarks about the token.
pub(crate) fn explain(subject: &str, rejected: &[Rejected], hints: Vec<String>) -> NoMatch {
    // PyPI's lookup picks one publisher (the most specific) and reports its failed check;
    // when no publisher gets that far, it reports that none was found.
    let chosen = rejected
        .iter()
        .enumerate()
        .filter(|(_, r)| r.failure.check.is_some())
        .max_by_key(|(index, r)| (r.failure.specificity, std::cmp::Reverse(*index)))
        .map(|(index, _)| index);
    let no_match = match chosen.and_then(|index| rejected[index].failure.check.as_deref()) {
        Some(check) => NoMatch::new(NoMatchKind::CheckFailed, check),
        None => NoMatch::not_found(),
    };

    // The publisher the reason is about comes first; the others keep their order.
    let mut ordered: Vec<(bool, &Rejected)> = Vec::with_capacity(rejected.len());
    if let Some(index) = chosen {
        ordered.push((true, &rejected[index]));
    }
    ordered.extend(
        rejected
            .iter()
            .enumerate()
            .filter(|(index, _)| Some(*index) != chosen)
            .map(|(_, r)| (false, r)),
    );

    let mut details = Vec::new();
    if let [(is_reason, only)] = ordered.as_slice() {
        let problems = visible_problems(&only.failure, *is_reason);
        if !problems.is_empty() {
            details.push(format!(
                "the publisher for {subject} {}",
                problems.join(", and ")
            ));
        }
    } else {
        let described: Vec<String> = ordered
            .iter()
            .take(MAX_DESCRIBED_PUBLISHERS)
            .enumerate()
            .map(|(n, (_, r))| {
                let mut problems = visible_problems(&r.failure, false);
                if problems.is_empty() {
                    problems.push(format!(
                        "fails: {}",
                        r.failure.check.as_deref().unwrap_or(PUBLISHER_NOT_FOUND)
                    ));
                }
                format!("#{} ({}) {}", n + 1, r.label, problems.join(", and "))
            })
            .collect();
        let mut listing = format!(
            "{} publishers for {subject} did not match: {}",
            ordered.len(),
            described.join("; ")
        );
        if ordered.len() > MAX_DESCRIBED_PUBLISHERS {
            listing.push_str(&format!(
                "; and {} more",
                ordered.len() - MAX_DESCRIBED_PUBLISHERS
            ));
        }
        details.push(listing);
    }
    details.extend(hints);
    no_match.with_details(details)
}

/// The problems worth printing: restatements of the check are dropped when that check's
/// text is already the reason.
fn visible_problems(failure: &Failure, reason_is_this_check: bool) -> Vec<String> {
    failure
        .problems
        .iter()
        .filter(|p| !(reason_is_this_check && failure.check.is_some() && p.restates_check))
        .map(|p| p.text.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{Problem, Verdict};

    fn failure(verdict: Verdict) -> Failure {
        match verdict {
            Verdict::Fail(failure) => failure,
            Verdict::Pass { .. } => unreachable!(),
        }
    }

    #[test]
    fn one_candidate_lookup_failure() {
        let rejected = [Rejected {
            label: "workflow 'release.yml'".into(),
            failure: failure(Verdict::not_found(0, vec![Problem::text("expects x")])),
        }];
        let no_match = explain("repository 'o/r'", &rejected, vec!["hint".into()]);
        assert_eq!(no_match.kind(), NoMatchKind::NotFound);
        assert_eq!(no_match.pypi_reason(), PUBLISHER_NOT_FOUND);
        assert_eq!(
            no_match.reason(),
            "Publisher with matching claims was not found; the publisher for repository 'o/r' expects x; hint"
        );
    }

    #[test]
    fn one_candidate_check_failure_drops_restatements() {
        let rejected = [Rejected {
            label: "l".into(),
            failure: failure(Verdict::check_failed(
                0,
                "Check text",
                vec![Problem::text("same as check").restating()],
            )),
        }];
        let no_match = explain("repository 'o/r'", &rejected, vec![]);
        assert_eq!(no_match.kind(), NoMatchKind::CheckFailed);
        assert_eq!(no_match.reason(), "Check text");
    }

    #[test]
    fn many_candidates_are_listed_capped_reason_source_first() {
        let mut rejected: Vec<Rejected> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|id| Rejected {
                label: format!("p-{id}"),
                failure: failure(Verdict::not_found(0, vec![Problem::text(format!("x{id}"))])),
            })
            .collect();
        rejected[2].failure = failure(Verdict::check_failed(
            1,
            "Check text",
            vec![Problem::text("restated").restating()],
        ));
        let no_match = explain("repository 'o/r'", &rejected, vec![]);
        assert_eq!(
            no_match.reason(),
            "Check text; 5 publishers for repository 'o/r' did not match: #1 (p-c) restated; #2 (p-a) xa; #3 (p-b) xb; and 2 more"
        );
    }
}
