//! What checking one candidate publisher against a token yields, in a form every
//! provider shares: pass (with how specific the publisher is), or fail with PyPI's
//! reason and a field-level explanation for humans.
//!
//! Every provider checks a candidate in PyPI's two stages. The *lookup* stage holds the
//! fields PyPI's database query (and its environment preference) selects on; a
//! publisher failing there is one PyPI would never have looked at, so PyPI's reason is
//! `Publisher with matching claims was not found`. The *claim-check* stage runs PyPI's
//! `verify_claims` on a publisher the lookup selected, and fails with that check's own
//! text. Either way we also say which field differed.

use crate::reasons::{shown, truncated};

/// The outcome for one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Every rule held. Higher `specificity` wins (an environment- or `sub`-constrained
    /// publisher over an unconstrained one).
    Pass { specificity: u8 },
    /// Some rule failed.
    Fail(Failure),
}

/// Why one candidate did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// PyPI's reason when PyPI's lookup would have selected this publisher and one of its
    /// claim checks failed; `None` when the lookup itself would not have selected it.
    pub(crate) check: Option<String>,
    /// The publisher's specificity: among publishers failing a claim check, PyPI would
    /// have reported the one its lookup prefers.
    pub(crate) specificity: u8,
    /// What differed, in the publisher's terms.
    pub(crate) problems: Vec<Problem>,
}

/// One human-readable difference between a publisher and a token, phrased to follow
/// "the publisher for repository 'o/r' …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) text: String,
    /// Says nothing the check's own reason does not: left out when that reason is shown.
    pub(crate) restates_check: bool,
}

impl Verdict {
    /// Failed at the lookup stage.
    pub(crate) fn not_found(specificity: u8, problems: Vec<Problem>) -> Self {
        Verdict::Fail(Failure {
            check: None,
            specificity,
            problems,
        })
    }

    /// Failed a claim check with PyPI's `reason`.
    pub(crate) fn check_failed(
        specificity: u8,
        reason: impl Into<String>,
        problems: Vec<Problem>,
    ) -> Self {
        Verdict::Fail(Failure {
            check: Some(reason.into()),
            specificity,
            problems,
        })
    }
}

impl Problem {
    /// `expects <field> '<expected>' but <found>`.
    pub(crate) fn expects(field: &str, expected: &str, found: String) -> Self {
        Self::text(format!("expects {field} {} but {found}", shown(expected)))
    }

    /// Free text.
    pub(crate) fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            restates_check: false,
        }
    }

    /// Appends ` (<note>)`.
    pub(crate) fn note(mut self, note: &str) -> Self {
        self.text = format!("{} ({note})", self.text);
        self
    }

    /// Marks the problem as saying no more than the failed check's reason.
    pub(crate) fn restating(mut self) -> Self {
        self.restates_check = true;
        self
    }
}

/// `the token's <claim> is '<value>'`, or `the token has no <claim>` when the value is
/// missing or empty.
pub(crate) fn token_value(claim: &str, value: Option<&str>) -> String {
    match value {
        Some(value) if !value.is_empty() => format!("the token's {claim} is {}", shown(value)),
        _ => format!("the token has no {claim}"),
    }
}

/// `the token's <claim> names '<value>'`: for a part extracted from a longer claim.
pub(crate) fn token_names(claim: &str, value: &str) -> String {
    format!("the token's {claim} names {}", shown(value))
}

/// A note for two names equal but for letter case.
pub(crate) fn case_note(configured: &str, found: &str, rule: &str) -> Option<String> {
    (configured != found && configured.eq_ignore_ascii_case(found))
        .then(|| format!("only the letter case differs: {rule}"))
}

/// A configured value for a label, truncated but unquoted.
pub(crate) fn plain(value: &str) -> String {
    truncated(value).into_owned()
}

/// Appends `, environment <environment>` to a label when the publisher names one.
pub(crate) fn push_environment_label(label: &mut String, environment: &str) {
    if !environment.is_empty() {
        label.push_str(&format!(", environment {}", plain(environment)));
    }
}

/// Appends ` (environment <environment>)` to a description when the publisher names one.
pub(crate) fn push_environment_description(text: &mut String, environment: &str) {
    if !environment.is_empty() {
        text.push_str(&format!(" (environment {environment})"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        assert_eq!(
            Problem::expects(
                "environment",
                "pypi",
                token_value("environment", Some("test"))
            )
            .text,
            "expects environment 'pypi' but the token's environment is 'test'"
        );
        assert_eq!(
            Problem::expects("environment", "pypi", token_value("environment", Some(""))).text,
            "expects environment 'pypi' but the token has no environment"
        );
        assert_eq!(
            Problem::expects(
                "workflow_filename",
                "release.yml",
                token_names("job_workflow_ref", "ci.yml")
            )
            .note("x")
            .text,
            "expects workflow_filename 'release.yml' but the token's job_workflow_ref names 'ci.yml' (x)"
        );
        assert_eq!(
            case_note(
                "Release.yml",
                "release.yml",
                "file names are case-sensitive"
            )
            .as_deref(),
            Some("only the letter case differs: file names are case-sensitive")
        );
        assert_eq!(case_note("a.yml", "b.yml", "r"), None);
    }
}
