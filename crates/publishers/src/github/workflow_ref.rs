//! Reading GitHub workflow refs (`job_workflow_ref`, `workflow_ref`):
//! `OWNER/REPO/.github/workflows/FILE.yml@REF`.
//!
//! The file name and the ref can both contain `@`, and a ref can look like a file name
//! (`refs/heads/misleading@branch.yml`), so the file name is found the way PyPI finds it
//! (reference §3.2, §7.4 item 44): in the first `/`-free segment that contains
//! `<at least one character>.yml@` or `.yaml@`, the longest prefix ending at the last such
//! suffix. Plain string scanning, no regex and no wildcard: `_` and `%` are literal
//! (§7.4 item 45).

/// Where workflow files live in a repository.
pub(crate) const WORKFLOWS_DIR: &str = "/.github/workflows/";

/// The workflow file name in a workflow ref, or `None` when there is none.
pub(crate) fn extract_workflow_filename(workflow_ref: &str) -> Option<&str> {
    workflow_ref
        .split('/')
        .find_map(|segment| last_workflow_suffix_end(segment).map(|end| &segment[..end]))
}

/// In one segment, the end of the longest `X.yml` / `X.yaml` (X non-empty) followed by `@`.
fn last_workflow_suffix_end(segment: &str) -> Option<usize> {
    segment
        .match_indices('.')
        .rev()
        .filter(|(dot, _)| *dot > 0)
        .find_map(|(dot, _)| {
            let rest = &segment[dot..];
            if rest.starts_with(".yml@") {
                Some(dot + ".yml".len())
            } else if rest.starts_with(".yaml@") {
                Some(dot + ".yaml".len())
            } else {
                None
            }
        })
}

/// The repository a workflow ref points into (`owner/repo`), or `None` when the ref has
/// no `/.github/workflows/` part.
pub(crate) fn workflow_repository_of(workflow_ref: &str) -> Option<&str> {
    workflow_ref
        .find(WORKFLOWS_DIR)
        .map(|at| &workflow_ref[..at])
        .filter(|repository| !repository.is_empty())
}

/// The part of a workflow ref after `<file>@`, or `None`.
pub(crate) fn git_ref_of<'r>(workflow_ref: &'r str, filename: &str) -> Option<&'r str> {
    let after_dir = &workflow_ref[workflow_ref.find(WORKFLOWS_DIR)? + WORKFLOWS_DIR.len()..];
    after_dir.strip_prefix(filename)?.strip_prefix('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference §7.4 item 44 (PyPI's `test_extract_workflow_filename`).
    #[test]
    fn workflow_filename_extraction_table() {
        for (workflow_ref, expected) in [
            (
                "foo/bar/.github/workflows/basic.yml@refs/heads/main",
                Some("basic.yml"),
            ),
            (
                "foo/bar/.github/workflows/basic.yaml@refs/heads/main",
                Some("basic.yaml"),
            ),
            (
                "foo/bar/.github/workflows/has--dashes-.yml@refs/heads/main",
                Some("has--dashes-.yml"),
            ),
            (
                "foo/bar/.github/workflows/has..periods..yml@refs/heads/main",
                Some("has..periods..yml"),
            ),
            (
                "foo/bar/.github/workflows/nested@evil.yml@refs/heads/main",
                Some("nested@evil.yml"),
            ),
            (
                "foo/bar/.github/workflows/nested.yml@evil.yml@refs/heads/main",
                Some("nested.yml@evil.yml"),
            ),
            (
                "foo/bar/.github/workflows/extra.yml@nested.yml@evil.yml@refs/heads/main",
                Some("extra.yml@nested.yml@evil.yml"),
            ),
            (
                "foo/bar/.github/workflows/basic.yml@refs/heads/misleading@branch.yml",
                Some("basic.yml"),
            ),
            (
                "foo/bar/.github/workflows/foo.yml.yml@refs/heads/main",
                Some("foo.yml.yml"),
            ),
            (
                "foo/bar/.github/workflows/.wrongsuffix@refs/heads/main",
                None,
            ),
            ("foo/bar/.github/workflows/@", None),
            ("foo/bar/.github/workflows/nosuffix@refs/heads/main", None),
            ("foo/bar/.github/workflows/.yml@refs/heads/main", None),
            ("foo/bar/.github/workflows/.yaml@refs/heads/main", None),
            ("foo/bar/.github/workflows/basic.yml", None),
            ("", None),
        ] {
            assert_eq!(
                extract_workflow_filename(workflow_ref),
                expected,
                "{workflow_ref}"
            );
        }
    }

    /// Reference §7.4 item 45: `_` and `%` are not wildcards.
    #[test]
    fn underscore_and_percent_are_literal() {
        for name in ["release-pypi.yml", "release_pypi.yml", "release%pypi.yml"] {
            let workflow_ref = format!("o/r/.github/workflows/{name}@refs/heads/main");
            assert_eq!(extract_workflow_filename(&workflow_ref), Some(name));
        }
    }

    #[test]
    fn repository_and_ref_parts() {
        let r = "shared-org/workflows/.github/workflows/publish.yml@refs/heads/main";
        assert_eq!(workflow_repository_of(r), Some("shared-org/workflows"));
        assert_eq!(git_ref_of(r, "publish.yml"), Some("refs/heads/main"));
        assert_eq!(git_ref_of(r, "other.yml"), None);
        assert_eq!(workflow_repository_of("/.github/workflows/x.yml@r"), None);
        assert_eq!(workflow_repository_of("no-dir@x"), None);
    }
}
