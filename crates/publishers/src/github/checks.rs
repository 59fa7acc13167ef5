//! GitHub's claim checks (PyPI `verify_claims`, reference §3.2), each returning PyPI's
//! exact reason on failure, plus the reusable-workflow check PyPI lacks (#11096).

use std::collections::BTreeSet;

use crate::compare::{eq_with_folded_prefix, starts_with_folded_prefix};
use crate::reasons::{
    self, JOB_WORKFLOW_REF_EMPTY, PULL_REQUEST_TARGET, REF_AND_SHA_EMPTY, optional_check,
    required_check, required_check_failed, shown,
};

use super::workflow_ref::WORKFLOWS_DIR;

/// The one trigger PyPI refuses: it runs with the base repository's secrets and token
/// on code from a pull request.
pub(crate) const PULL_REQUEST_TARGET_EVENT: &str = "pull_request_target";

/// `repository`: present, non-empty and equal to `owner/name` ignoring case.
pub(crate) fn repository(configured: &str, claim: Option<&str>) -> Result<(), String> {
    match claim {
        Some(claim) if !claim.is_empty() && claim.eq_ignore_ascii_case(configured) => Ok(()),
        _ => Err(required_check_failed("repository")),
    }
}

/// `repository_owner`: equal ignoring case. PyPI compares exactly, but it stores the
/// spelling GitHub's API returns; ours is typed by hand, and GitHub logins are
/// case-insensitive (the owner id pins the account).
pub(crate) fn repository_owner(configured: &str, claim: &str) -> Result<(), String> {
    required_check(
        !claim.is_empty() && claim.eq_ignore_ascii_case(configured),
        "repository_owner",
    )
}

/// `repository_owner_id`: exact when configured (resurrection protection).
pub(crate) fn repository_owner_id(configured: &str, claim: &str) -> Result<(), String> {
    required_check(
        configured.is_empty() || configured == claim,
        "repository_owner_id",
    )
}

/// `job_workflow_ref` for a workflow of the publisher's own repository: exactly
/// `{repository}/.github/workflows/{file}@{ref}` or `…@{sha}` of this run. The
/// repository part compares ignoring case (GitHub names are case-insensitive); the file
/// and the ref compare exactly.
pub(crate) fn job_workflow_ref(
    repository: &str,
    workflow_filename: &str,
    claim: &str,
    git_ref: Option<&str>,
    sha: Option<&str>,
) -> Result<(), String> {
    if claim.is_empty() {
        return Err(JOB_WORKFLOW_REF_EMPTY.to_owned());
    }
    let refs: Vec<&str> = [git_ref, sha]
        .into_iter()
        .flatten()
        .filter(|r| !r.is_empty())
        .collect();
    if refs.is_empty() {
        return Err(REF_AND_SHA_EMPTY.to_owned());
    }
    let expected: BTreeSet<String> = refs
        .iter()
        .map(|r| format!("{repository}{WORKFLOWS_DIR}{workflow_filename}@{r}"))
        .collect();
    if expected
        .iter()
        .any(|e| eq_with_folded_prefix(claim, e, repository.len()))
    {
        Ok(())
    } else {
        Err(reasons::ref_claim_mismatch(
            "job_workflow_ref",
            &expected,
            claim,
        ))
    }
}

/// `job_workflow_ref` for a publisher with `workflow_repository`: the reusable workflow
/// `{workflow_repository}/.github/workflows/{file}` at any non-empty ref.
pub(crate) fn reusable_job_workflow_ref(
    workflow_repository: &str,
    workflow_filename: &str,
    claim: &str,
) -> Result<(), String> {
    if claim.is_empty() {
        return Err(JOB_WORKFLOW_REF_EMPTY.to_owned());
    }
    let workflow = format!("{workflow_repository}{WORKFLOWS_DIR}{workflow_filename}");
    let prefix = format!("{workflow}@");
    if claim.len() > prefix.len()
        && starts_with_folded_prefix(claim, &prefix, workflow_repository.len())
    {
        Ok(())
    } else {
        Err(format!(
            "The job_workflow_ref claim does not match, expecting the reusable workflow {} at any ref, got {}",
            shown(&workflow),
            shown(claim)
        ))
    }
}

/// `event_name`: anything but `pull_request_target`.
pub(crate) fn event_name(claim: &str) -> Result<(), String> {
    if claim == PULL_REQUEST_TARGET_EVENT {
        Err(PULL_REQUEST_TARGET.to_owned())
    } else {
        Ok(())
    }
}

/// `environment` (optional): passes when none is configured, else the claim must be
/// non-empty and equal ignoring case.
pub(crate) fn environment(configured: &str, claim: Option<&str>) -> Result<(), String> {
    optional_check(environment_selects(configured, claim), "environment")
}

/// Whether PyPI's lookup would select a publisher with environment `configured` for a
/// token with environment `claim` (the same rule as the check).
pub(crate) fn environment_selects(configured: &str, claim: Option<&str>) -> bool {
    configured.is_empty()
        || claim.is_some_and(|claim| {
            !claim.is_empty() && claim.to_lowercase() == configured.to_lowercase()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{RefClaimRow, assert_check_table, malformed_ref_rows, ref_mismatch};

    /// Reference §7.4 item 46.
    #[test]
    fn repository_table() {
        assert_check_table(
            "Check failed for required claim 'repository'",
            repository,
            &[
                ("foo/bar", None, false),
                ("foo/bar", Some(""), false),
                ("foo/bar", Some("foo/bar"), true),
                ("Foo/bar", Some("foo/bar"), true),
                ("FOO/bar", Some("foo/bar"), true),
                ("foo/bar", Some("foo/baz"), false),
            ],
        );
    }

    /// Reference §7.4 item 47 (PyPI's `test_github_publisher_job_workflow_ref`).
    #[test]
    fn job_workflow_ref_table() {
        const BASE: &str = "foo/bar/.github/workflows/baz.yml";
        let mismatch = |got: &str| ref_mismatch("job_workflow_ref", BASE, got);
        let mut cases: Vec<RefClaimRow> = vec![
            (
                format!("{BASE}@refs/tags/v0.0.1"),
                Some("refs/tags/v0.0.1"),
                Some("somesha"),
                Ok(()),
            ),
            (
                format!("{BASE}@notrailingslash"),
                Some("notrailingslash"),
                Some("somesha"),
                Ok(()),
            ),
            (format!("{BASE}@somesha"), Some(""), Some("somesha"), Ok(())),
            (format!("{BASE}@somesha"), None, Some("somesha"), Ok(())),
            (
                format!("{BASE}@somesha"),
                Some(""),
                Some(""),
                Err(REF_AND_SHA_EMPTY.into()),
            ),
            (
                format!("{BASE}@somesha"),
                None,
                None,
                Err(REF_AND_SHA_EMPTY.into()),
            ),
            (
                format!("{BASE}@notrailingslash@"),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch(&format!("{BASE}@notrailingslash@")),
            ),
            (
                "foo/bar/.github/workflows/baz.yml@notrailing".into(),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch("foo/bar/.github/workflows/baz.yml@notrailing"),
            ),
            (
                "baz.yml".into(),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch("baz.yml"),
            ),
            (
                String::new(),
                Some("notrailingslash"),
                Some("somesha"),
                Err(JOB_WORKFLOW_REF_EMPTY.into()),
            ),
            // Our relaxation: the repository part ignores case, the file does not.
            (
                "Foo/Bar/.github/workflows/baz.yml@notrailingslash".into(),
                Some("notrailingslash"),
                Some("somesha"),
                Ok(()),
            ),
            (
                "foo/bar/.github/workflows/Baz.yml@notrailingslash".into(),
                Some("notrailingslash"),
                Some("somesha"),
                mismatch("foo/bar/.github/workflows/Baz.yml@notrailingslash"),
            ),
        ];
        cases.extend(malformed_ref_rows("job_workflow_ref", BASE));
        for (claim, git_ref, sha, expected) in cases {
            assert_eq!(
                job_workflow_ref("foo/bar", "baz.yml", &claim, git_ref, sha),
                expected,
                "{claim} {git_ref:?} {sha:?}"
            );
        }
    }

    #[test]
    fn reusable_job_workflow_ref_table() {
        let mismatch = |got: &str| {
            Err(format!(
                "The job_workflow_ref claim does not match, expecting the reusable workflow \
                 'shared/wf/.github/workflows/publish.yml' at any ref, got '{got}'"
            ))
        };
        for (claim, expected) in [
            (
                "shared/wf/.github/workflows/publish.yml@refs/heads/main",
                Ok(()),
            ),
            ("Shared/WF/.github/workflows/publish.yml@v1", Ok(())),
            (
                "shared/wf/.github/workflows/publish.yml@",
                mismatch("shared/wf/.github/workflows/publish.yml@"),
            ),
            (
                "shared/wf/.github/workflows/Publish.yml@v1",
                mismatch("shared/wf/.github/workflows/Publish.yml@v1"),
            ),
            (
                "octo/app/.github/workflows/publish.yml@v1",
                mismatch("octo/app/.github/workflows/publish.yml@v1"),
            ),
            (
                "shared/wf2/.github/workflows/publish.yml@v1",
                mismatch("shared/wf2/.github/workflows/publish.yml@v1"),
            ),
            ("", Err(JOB_WORKFLOW_REF_EMPTY.to_owned())),
        ] {
            assert_eq!(
                reusable_job_workflow_ref("shared/wf", "publish.yml", claim),
                expected,
                "{claim}"
            );
        }
    }

    /// Reference §7.4 item 48.
    #[test]
    fn event_name_table() {
        for (claim, expected) in [
            ("push", Ok(())),
            ("release", Ok(())),
            ("workflow_dispatch", Ok(())),
            ("pull_request_target", Err(PULL_REQUEST_TARGET.to_owned())),
        ] {
            assert_eq!(event_name(claim), expected, "{claim}");
        }
        assert_eq!(
            PULL_REQUEST_TARGET,
            "Publishing from a workflow invoked via 'pull_request_target' is not supported."
        );
    }

    /// Reference §7.4 items 49 and 51.
    #[test]
    fn environment_table() {
        assert_check_table(
            "Check failed for optional claim 'environment'",
            environment,
            &[
                ("", None, true),
                ("", Some(""), true),
                ("", Some("some-environment"), true),
                ("some-environment", Some("some-environment"), true),
                ("some-environment", Some("sOmE-eNvIrOnMeNt"), true),
                ("some-environment", None, false),
                ("some-environment", Some(""), false),
                ("some-environment", Some("some-other-environment"), false),
            ],
        );
    }

    #[test]
    fn owner_checks() {
        assert_eq!(repository_owner("Octo-Org", "octo-org"), Ok(()));
        assert_eq!(
            repository_owner("octo-org", "other"),
            Err("Check failed for required claim 'repository_owner'".to_owned())
        );
        assert_eq!(repository_owner_id("", "123"), Ok(()));
        assert_eq!(repository_owner_id("123", "123"), Ok(()));
        assert_eq!(
            repository_owner_id("123", "1234"),
            Err("Check failed for required claim 'repository_owner_id'".to_owned())
        );
    }
}
