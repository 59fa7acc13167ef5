//! PyPI's `invalid-publisher` reasons (reference §3.7), word for word, and the way
//! values are quoted in them and in our diagnostics.
//!
//! Clients and users compare these texts with PyPI's, so they are kept exact, down to
//! the `job` typo in [`GITHUB_WORKFLOW_NOT_EXTRACTED`]. Values are quoted the way Python
//! `repr()` quotes a string, because PyPI builds its lists with `{sorted(expected)!r}`;
//! every value taken from a token is truncated to [`MAX_ECHOED_CHARS`] first, so a
//! hostile claim can neither flood an error body nor inject a newline into a log line.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Longest claim value echoed back in a reason, in characters; longer ones end in `…`.
pub const MAX_ECHOED_CHARS: usize = 200;

/// `Publisher with matching claims was not found` (PyPI's lookup found nothing).
pub(crate) const PUBLISHER_NOT_FOUND: &str = "Publisher with matching claims was not found";
/// GitHub: no workflow filename in `job_workflow_ref` (sic: PyPI's wording).
pub(crate) const GITHUB_WORKFLOW_NOT_EXTRACTED: &str =
    "Could not job extract workflow filename from OIDC claims";
/// GitLab: no workflow path in `ci_config_ref_uri`.
pub(crate) const GITLAB_WORKFLOW_NOT_EXTRACTED: &str =
    "Could not extract workflow filename from OIDC claims";
/// GitHub: empty `job_workflow_ref`.
pub(crate) const JOB_WORKFLOW_REF_EMPTY: &str = "The job_workflow_ref claim is empty";
/// GitHub: neither `ref` nor `sha` to rebuild `job_workflow_ref` with.
pub(crate) const REF_AND_SHA_EMPTY: &str = "The ref and sha claims are empty";
/// GitHub: `event_name` is `pull_request_target`.
pub(crate) const PULL_REQUEST_TARGET: &str =
    "Publishing from a workflow invoked via 'pull_request_target' is not supported.";
/// GitLab: empty `ci_config_ref_uri`.
pub(crate) const CI_CONFIG_REF_URI_EMPTY: &str = "The ci_config_ref_uri claim is empty";
/// GitLab: `ref_path` or `sha` empty (GitLab needs both).
pub(crate) const REF_PATH_AND_SHA_EMPTY: &str = "The ref_path and sha claims are empty";
/// ActiveState: empty `sub`.
pub(crate) const SUBJECT_MISSING: &str = "Missing 'subject' claim";
/// ActiveState: `sub` with fewer than four `:`-separated parts.
pub(crate) const SUBJECT_WRONG_FORMAT: &str = "Invalid 'subject' claim. Wrong format";
/// ActiveState: `sub` naming another organization or project.
pub(crate) const SUBJECT_INVALID: &str = "Invalid 'subject' claim";

/// `JWT issuer '<iss>' does not match expected issuer '<expected>'`.
pub(crate) fn issuer_mismatch(token_issuer: &str, expected: &str) -> String {
    format!(
        "JWT issuer {} does not match expected issuer {}",
        shown(token_issuer),
        shown(expected)
    )
}

/// `Missing claim '<name>'`.
pub(crate) fn missing_claim(name: &str) -> String {
    format!("Missing claim {}", shown(name))
}

/// `Check failed for required claim '<name>'`.
pub(crate) fn required_check_failed(name: &str) -> String {
    format!("Check failed for required claim {}", shown(name))
}

/// `Check failed for optional claim '<name>'`.
pub(crate) fn optional_check_failed(name: &str) -> String {
    format!("Check failed for optional claim {}", shown(name))
}

/// `Ok` when the check of required claim `name` `passed`, else
/// [`required_check_failed`].
pub(crate) fn required_check(passed: bool, name: &str) -> Result<(), String> {
    if passed {
        Ok(())
    } else {
        Err(required_check_failed(name))
    }
}

/// `Ok` when the check of optional claim `name` `passed`, else
/// [`optional_check_failed`].
pub(crate) fn optional_check(passed: bool, name: &str) -> Result<(), String> {
    if passed {
        Ok(())
    } else {
        Err(optional_check_failed(name))
    }
}

/// `The <claim> claim does not match, expecting one of [<sorted>], got '<claim>'`.
pub(crate) fn ref_claim_mismatch(
    claim_name: &str,
    expected: &BTreeSet<String>,
    got: &str,
) -> String {
    let list: Vec<String> = expected.iter().map(|value| shown(value)).collect();
    format!(
        "The {claim_name} claim does not match, expecting one of [{}], got {}",
        list.join(", "),
        shown(got)
    )
}

/// A value as it appears in a reason: truncated, then quoted like Python's `repr()`.
pub(crate) fn shown(value: &str) -> String {
    python_repr(&truncated(value))
}

/// At most [`MAX_ECHOED_CHARS`] characters, with `…` marking a cut.
pub(crate) fn truncated(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(MAX_ECHOED_CHARS) {
        None => value.into(),
        Some((cut, _)) => format!("{}…", &value[..cut]).into(),
    }
}

/// Python's `repr()` of a `str`: single quotes unless the text contains a single quote
/// and no double quote; backslash, the quote and control characters escaped.
pub(crate) fn python_repr(value: &str) -> String {
    let quote = if value.contains('\'') && !value.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(value.len() + 2);
    out.push(quote);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || matches!(c as u32, 0x7f..=0xa0 | 0xad) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // Separators and format characters (bidi overrides, zero-width) can disguise
            // a value; Python's repr() escapes them too.
            c if matches!(
                c as u32,
                0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff
            ) =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_table() {
        for (value, expected) in [
            ("plain", "'plain'"),
            ("", "''"),
            ("it's", "\"it's\""),
            ("both ' and \"", "'both \\' and \"'"),
            ("back\\slash", "'back\\\\slash'"),
            ("line\nbreak", "'line\\nbreak'"),
            ("bell\u{7}", "'bell\\x07'"),
            ("rtl\u{202e}", "'rtl\\u202e'"),
            ("ünïcode", "'ünïcode'"),
        ] {
            assert_eq!(python_repr(value), expected, "{value:?}");
        }
    }

    #[test]
    fn long_values_are_truncated() {
        let long = "a".repeat(MAX_ECHOED_CHARS + 50);
        let expected = format!("'{}…'", "a".repeat(MAX_ECHOED_CHARS));
        assert_eq!(shown(&long), expected);
        let exact = "é".repeat(MAX_ECHOED_CHARS);
        assert_eq!(shown(&exact), format!("'{exact}'"));
    }

    #[test]
    fn texts_match_pypi() {
        assert_eq!(missing_claim("jti"), "Missing claim 'jti'");
        assert_eq!(
            required_check_failed("email_verified"),
            "Check failed for required claim 'email_verified'"
        );
        assert_eq!(
            optional_check_failed("environment"),
            "Check failed for optional claim 'environment'"
        );
        assert_eq!(
            issuer_mismatch(
                "https://gitlab.com",
                "https://token.actions.githubusercontent.com"
            ),
            "JWT issuer 'https://gitlab.com' does not match expected issuer 'https://token.actions.githubusercontent.com'"
        );
        let expected: BTreeSet<String> = ["b@sha".to_owned(), "a@ref".to_owned()].into();
        assert_eq!(
            ref_claim_mismatch("job_workflow_ref", &expected, "c@x"),
            "The job_workflow_ref claim does not match, expecting one of ['a@ref', 'b@sha'], got 'c@x'"
        );
    }
}
