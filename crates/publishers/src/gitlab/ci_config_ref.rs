//! Reading GitLab's `ci_config_ref_uri`: `HOST/NAMESPACE/PROJECT//PATH/TO/FILE.yml@REF`.
//!
//! The pipeline path may contain `/` and `@`, so it is found the way PyPI finds it
//! (reference §3.3, §7.4 item 53): after a `//`, the longest text ending in `.yml` or
//! `.yaml` followed by `@`, whose character before the extension is not `/`. One
//! deliberate difference: PyPI's pattern needs two characters before the extension,
//! which refuses a one-letter file name such as `a.yml`; we need one.

use crate::keys::canonical_issuer;

/// The pipeline file path in a `ci_config_ref_uri`, or `None`.
pub(crate) fn extract_workflow_filepath(ci_config_ref_uri: &str) -> Option<&str> {
    // Python's `.` stops at a newline, so PyPI tries each `//` in turn; so do we.
    ci_config_ref_uri
        .match_indices("//")
        .map(|(at, _)| &ci_config_ref_uri[at + 2..])
        .find_map(longest_pipeline_path)
}

fn longest_pipeline_path(rest: &str) -> Option<&str> {
    rest.match_indices('.')
        .rev()
        .filter(|(dot, _)| *dot > 0 && !rest[..*dot].ends_with('/'))
        .find_map(|(dot, _)| {
            let after = &rest[dot..];
            let end = if after.starts_with(".yml@") {
                dot + ".yml".len()
            } else if after.starts_with(".yaml@") {
                dot + ".yaml".len()
            } else {
                return None;
            };
            Some(&rest[..end]).filter(|path| !path.contains('\n'))
        })
}

/// The host part GitLab writes at the start of `ci_config_ref_uri`: the issuer URL
/// without its scheme (`https://gitlab.example.com` → `gitlab.example.com`).
pub(crate) fn issuer_host(issuer: &str) -> &str {
    let issuer = canonical_issuer(issuer);
    issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference §3.3 and §7.4 item 53 (PyPI's `test_extract_workflow_filepath`).
    #[test]
    fn workflow_filepath_extraction_table() {
        for (uri, expected) in [
            (
                "gitlab.com/foo/bar//example.yml@/some/ref",
                Some("example.yml"),
            ),
            (
                "gitlab.com/foo/bar//example.yaml@/some/ref",
                Some("example.yaml"),
            ),
            (
                "gitlab.com/foo/bar//example/foo.yml@/some/ref",
                Some("example/foo.yml"),
            ),
            (
                "gitlab.com/foo/bar//too//many//slashes.yml@/some/ref",
                Some("too//many//slashes.yml"),
            ),
            ("gitlab.com/foo/bar//has-@.yml@/some/ref", Some("has-@.yml")),
            (
                "gitlab.com/foo/bar//foo.bar.yml@/some/ref",
                Some("foo.bar.yml"),
            ),
            (
                "gitlab.com/foo/bar//foo.yml.bar.yml@/some/ref",
                Some("foo.yml.bar.yml"),
            ),
            (
                "gitlab.com/foo/bar//foo.yml@bar.yml@/some/ref",
                Some("foo.yml@bar.yml"),
            ),
            (
                "gitlab.com/foo/bar//@foo.yml@bar.yml@/some/ref",
                Some("@foo.yml@bar.yml"),
            ),
            ("gitlab.com/foo/bar//foo.@.yml@/some/ref", Some("foo.@.yml")),
            ("gitlab.com/foo/bar//a.yml@/some/ref", Some("a.yml")),
            (
                "gitlab.example.com/foo/bar//.gitlab-ci.yml@refs/heads/main",
                Some(".gitlab-ci.yml"),
            ),
            ("gitlab.com/foo/bar//somedir/.yaml@/some/ref", None),
            ("gitlab.com/foo/bar//.yml@/some/ref", None),
            ("gitlab.com/foo/bar//.yaml@/some/ref", None),
            ("gitlab.com/foo/bar//somedir/.yml@/some/ref", None),
            ("gitlab.com/foo/bar//example.yml", None),
            ("gitlab.com/foo/bar/example.yml@/some/ref", None),
            ("gitlab.com/foo/bar//example.json@/some/ref", None),
            ("gitlab.com/foo/bar//ex\nample.yml@/some/ref", None),
            ("", None),
        ] {
            assert_eq!(extract_workflow_filepath(uri), expected, "{uri:?}");
        }
    }

    #[test]
    fn issuer_host_table() {
        for (issuer, expected) in [
            ("https://gitlab.com", "gitlab.com"),
            ("https://gitlab.example.com/", "gitlab.example.com"),
            ("https://example.com/gitlab", "example.com/gitlab"),
            ("http://localhost:9000", "localhost:9000"),
        ] {
            assert_eq!(issuer_host(issuer), expected, "{issuer}");
        }
    }
}
