//! GitLab's claim checks (PyPI `verify_claims`, reference §3.3), each returning PyPI's
//! exact reason on failure, with the fix for PyPI #18797 (namespace and project compare
//! ignoring case inside `ci_config_ref_uri` too).

use std::collections::BTreeSet;

use crate::compare::eq_with_folded_prefix;
use crate::reasons::{
    self, CI_CONFIG_REF_URI_EMPTY, REF_PATH_AND_SHA_EMPTY, optional_check, required_check_failed,
};

/// `sub` = `project_path:NAMESPACE/PROJECT[:…]`: at least two `:`-separated parts, both
/// non-empty, whose first two equal `expected` ignoring case.
pub(crate) fn sub(expected: &str, claim: Option<&str>) -> Result<(), String> {
    let failed = || Err(required_check_failed("sub"));
    let Some(claim) = claim.filter(|claim| !claim.is_empty()) else {
        return failed();
    };
    let mut parts = claim.split(':');
    match (parts.next(), parts.next()) {
        (Some(kind), Some(path))
            if !kind.is_empty()
                && !path.is_empty()
                && format!("{kind}:{path}").eq_ignore_ascii_case(expected) =>
        {
            Ok(())
        }
        _ => failed(),
    }
}

/// `project_path`: present, non-empty, equal ignoring case.
pub(crate) fn project_path(configured: &str, claim: Option<&str>) -> Result<(), String> {
    match claim {
        Some(claim) if !claim.is_empty() && claim.eq_ignore_ascii_case(configured) => Ok(()),
        _ => Err(required_check_failed("project_path")),
    }
}

/// `ci_config_ref_uri` is `{host}/{namespace}/{project}//{workflow_filepath}@{ref_path}`
/// or `…@{sha}`. Both `ref_path` and `sha` must be non-empty. The
/// `{host}/{namespace}/{project}` part (`project_url`) compares ignoring case (#18797);
/// the pipeline path and the ref compare exactly.
pub(crate) fn ci_config_ref_uri(
    project_url: &str,
    workflow_filepath: &str,
    claim: &str,
    ref_path: Option<&str>,
    sha: Option<&str>,
) -> Result<(), String> {
    if claim.is_empty() {
        return Err(CI_CONFIG_REF_URI_EMPTY.to_owned());
    }
    let (Some(ref_path), Some(sha)) = (
        ref_path.filter(|r| !r.is_empty()),
        sha.filter(|s| !s.is_empty()),
    ) else {
        return Err(REF_PATH_AND_SHA_EMPTY.to_owned());
    };
    let expected: BTreeSet<String> = [ref_path, sha]
        .iter()
        .map(|r| format!("{project_url}//{workflow_filepath}@{r}"))
        .collect();
    if expected
        .iter()
        .any(|e| eq_with_folded_prefix(claim, e, project_url.len()))
    {
        Ok(())
    } else {
        Err(reasons::ref_claim_mismatch(
            "ci_config_ref_uri",
            &expected,
            claim,
        ))
    }
}

/// `environment` (optional): passes when none is configured, else the claim must be
/// non-empty and equal *with* case (GitLab environments are case-sensitive, #18330).
pub(crate) fn environment(configured: &str, claim: Option<&str>) -> Result<(), String> {
    optional_check(environment_selects(configured, claim), "environment")
}

/// Whether PyPI's lookup would select a publisher with environment `configured`.
pub(crate) fn environment_selects(configured: &str, claim: Option<&str>) -> bool {
    configured.is_empty() || claim.is_some_and(|claim| !claim.is_empty() && claim == configured)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{RefClaimRow, assert_check_table, malformed_ref_rows, ref_mismatch};

    /// Reference §7.4 item 54 (PyPI's `test_gitlab_publisher_sub_claim`).
    #[test]
    fn sub_table() {
        assert_check_table(
            "Check failed for required claim 'sub'",
            sub,
            &[
                ("repo:foo/bar", None, false),
                ("repo:foo/bar", Some(""), false),
                ("repo:foo/bar", Some("repo"), false),
                ("repo:foo/bar", Some("repo:"), false),
                ("repo:foo/bar", Some(":foo/bar"), false),
                ("repo:foo/bar", Some("repo:foo/bar:someotherstuff"), true),
                ("repo:foo/bar", Some("repo:foo/bar:"), true),
                ("repo:foo/bar", Some("repo:foo/bar"), true),
                ("repo:foo/bar", Some("REPO:FOO/BAR"), true),
                ("repo:foo/bar-baz", Some("repo:foo/bar"), false),
                ("repo:foo/bar", Some("repo:foo/bar-baz"), false),
                (
                    "project_path:coBib/cobib",
                    Some("project_path:cobib/cobib:ref_type:branch:ref:main"),
                    true,
                ),
            ],
        );
    }

    /// Reference §7.4 item 55.
    #[test]
    fn project_path_table() {
        assert_check_table(
            "Check failed for required claim 'project_path'",
            project_path,
            &[
                ("foo/bar", Some("foo/bar"), true),
                ("Foo/Bar", Some("foo/bar"), true),
                ("foo/bar", Some("FOO/BAR"), true),
                ("foo/bar", Some("foo/baz"), false),
                ("foo/bar", Some(""), false),
                ("foo/bar", None, false),
            ],
        );
    }

    /// Reference §7.4 item 56 (PyPI's `test_gitlab_publisher_ci_config_ref_uri`), plus
    /// the #18797 rows.
    #[test]
    fn ci_config_ref_uri_table() {
        const BASE: &str = "gitlab.com/foo/bar//workflows/baz.yml";
        let mismatch = |got: &str| ref_mismatch("ci_config_ref_uri", BASE, got);
        let empty_refs = || Err(REF_PATH_AND_SHA_EMPTY.to_owned());
        let mut cases: Vec<RefClaimRow> = vec![
            (
                format!("{BASE}@notrailingslash"),
                Some("notrailingslash"),
                Some("somesha"),
                Ok(()),
            ),
            (
                format!("{BASE}@somesha"),
                Some("notrailingslash"),
                Some("somesha"),
                Ok(()),
            ),
            (
                format!("{BASE}@somesha"),
                Some(""),
                Some("somesha"),
                empty_refs(),
            ),
            (
                format!("{BASE}@somesha"),
                None,
                Some("somesha"),
                empty_refs(),
            ),
            (
                format!("{BASE}@notrailingslash"),
                Some("notrailingslash"),
                Some(""),
                empty_refs(),
            ),
            (
                format!("{BASE}@notrailingslash"),
                Some("notrailingslash"),
                None,
                empty_refs(),
            ),
            (format!("{BASE}@"), None, None, empty_refs()),
            (
                "gitlab.com/foo/bar//workflows/baz.yml@notrailing".into(),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch("gitlab.com/foo/bar//workflows/baz.yml@notrailing"),
            ),
            (
                "workflows/baz.yml".into(),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch("workflows/baz.yml"),
            ),
            (
                String::new(),
                Some("notrailingslash"),
                Some("somesha"),
                Err(CI_CONFIG_REF_URI_EMPTY.to_owned()),
            ),
            // #18797: the project part ignores case; the pipeline path and ref do not.
            (
                "gitlab.com/FOO/Bar//workflows/baz.yml@notrailingslash".into(),
                Some("notrailingslash"),
                Some("somesha"),
                Ok(()),
            ),
            (
                "gitlab.com/foo/bar//Workflows/baz.yml@notrailingslash".into(),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch("gitlab.com/foo/bar//Workflows/baz.yml@notrailingslash"),
            ),
            (
                format!("{BASE}@NoTrailingSlash"),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch(&format!("{BASE}@NoTrailingSlash")),
            ),
        ];
        cases.extend(malformed_ref_rows("ci_config_ref_uri", BASE));
        for (claim, ref_path, sha, expected) in cases {
            assert_eq!(
                ci_config_ref_uri(
                    "gitlab.com/foo/bar",
                    "workflows/baz.yml",
                    &claim,
                    ref_path,
                    sha
                ),
                expected,
                "{claim} {ref_path:?} {sha:?}"
            );
        }
    }

    /// Reference §7.4 item 57: case-sensitive.
    #[test]
    fn environment_table() {
        assert_check_table(
            "Check failed for optional claim 'environment'",
            environment,
            &[
                ("", None, true),
                ("", Some("anything"), true),
                ("some-environment", Some("some-environment"), true),
                ("SomeEnvironment", Some("SomeEnvironment"), true),
                ("some-environment", Some("sOmE-eNvIrOnMeNt"), false),
                ("some-environment", None, false),
                ("some-environment", Some(""), false),
            ],
        );
    }
}
