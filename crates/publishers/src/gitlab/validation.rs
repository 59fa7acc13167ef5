//! Input rules for GitLab publishers (PyPI's form, reference §3.3; crates.io's
//! `validation.rs`, peer registries §1.2).

use crate::GitLabPublisher;
use crate::validation::{
    ValidationError, ensure, issuer_url, numeric_id, optional, required, workflow_file,
};

/// Checks a GitLab publisher's fields in declaration order.
pub(crate) fn validate(p: &GitLabPublisher) -> Result<(), ValidationError> {
    path_name(
        "namespace",
        &p.namespace,
        "-_./+",
        "e.g. 'my-group/my-subgroup'",
    )?;
    path_name("project", &p.project, "-_.", "e.g. 'sampleproject'")?;
    workflow_filepath(&p.workflow_filepath)?;
    environment(&p.environment)?;
    issuer_url("issuer", &p.issuer)?;
    numeric_id("namespace_id", &p.namespace_id, "1234567")?;
    numeric_id("project_id", &p.project_id, "12345678")
}

/// PyPI's namespace and project rules: `^[a-zA-Z0-9][a-zA-Z0-9<specials>]*[a-zA-Z0-9]$`,
/// no two special characters in a row, no `.git` or `.atom` ending.
fn path_name(
    field: &str,
    value: &str,
    specials: &str,
    example: &str,
) -> Result<(), ValidationError> {
    required(field, value)?;
    let special = |c: char| specials.contains(c);
    let listed: Vec<String> = specials.chars().map(|c| format!("'{c}'")).collect();
    let charset_valid = value.len() >= 2
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || special(c));
    ensure(
        charset_valid,
        field,
        &format!(
            "must be at least two characters, start and end with an ASCII letter or digit, and contain only ASCII letters, digits and {}, {example}",
            listed.join(", ")
        ),
    )?;
    let consecutive = value
        .as_bytes()
        .windows(2)
        .any(|pair| special(char::from(pair[0])) && special(char::from(pair[1])));
    ensure(
        !consecutive,
        field,
        &format!(
            "must not contain two special characters ({}) in a row",
            listed.join(", ")
        ),
    )?;
    ensure(
        !value.ends_with(".git") && !value.ends_with(".atom"),
        field,
        "must not end in '.git' or '.atom'",
    )
}

/// The top-level pipeline file, relative to the repository root.
fn workflow_filepath(value: &str) -> Result<(), ValidationError> {
    workflow_file(
        "workflow_filepath",
        value,
        !value.starts_with('/'),
        "must be relative to the repository root, without a leading '/', e.g. '.gitlab-ci.yml'",
        ".gitlab-ci.yml",
    )
}

/// `^[a-zA-Z0-9\-_/${} ]+$`; empty means "any environment".
fn environment(value: &str) -> Result<(), ValidationError> {
    const FIELD: &str = "environment";
    optional(FIELD, value, || {
        ensure(
            value.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '$' | '{' | '}' | ' ')
            }),
            FIELD,
            "may contain only ASCII letters, digits, spaces and '-', '_', '/', '$', '{', '}'",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table};

    fn valid() -> GitLabPublisher {
        GitLabPublisher {
            namespace: "my-group/sub.group".into(),
            project: "sampleproject".into(),
            workflow_filepath: ".gitlab-ci.yml".into(),
            ..GitLabPublisher::default()
        }
    }

    const NAMESPACE_CHARSET: &str = "must be at least two characters, start and end with an ASCII letter or digit, and contain only ASCII letters, digits and '-', '_', '.', '/', '+', e.g. 'my-group/my-subgroup'";
    const PROJECT_CHARSET: &str = "must be at least two characters, start and end with an ASCII letter or digit, and contain only ASCII letters, digits and '-', '_', '.', e.g. 'sampleproject'";

    /// One row per rule: (description, edit, expected field and message).
    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<GitLabPublisher>> = vec![
            ("minimal", |_| {}, None),
            (
                "all fields",
                |p| {
                    p.environment = "release ${CI} {x}/prod_1".into();
                    p.issuer = "https://gitlab.example.com".into();
                    p.namespace_id = "1234567".into();
                    p.project_id = "12345678".into();
                    p.workflow_filepath = "ci/release.yaml".into();
                },
                None,
            ),
            (
                "plus in namespace",
                |p| p.namespace = "group+x".into(),
                None,
            ),
            (
                "namespace missing",
                |p| p.namespace.clear(),
                Some(("namespace", "is required")),
            ),
            (
                "namespace one char",
                |p| p.namespace = "a".into(),
                Some(("namespace", NAMESPACE_CHARSET)),
            ),
            (
                "namespace leading dot",
                |p| p.namespace = ".group".into(),
                Some(("namespace", NAMESPACE_CHARSET)),
            ),
            (
                "namespace trailing slash",
                |p| p.namespace = "group/".into(),
                Some(("namespace", NAMESPACE_CHARSET)),
            ),
            (
                "namespace space",
                |p| p.namespace = "my group".into(),
                Some(("namespace", NAMESPACE_CHARSET)),
            ),
            (
                "namespace consecutive",
                |p| p.namespace = "group//sub".into(),
                Some((
                    "namespace",
                    "must not contain two special characters ('-', '_', '.', '/', '+') in a row",
                )),
            ),
            (
                "namespace .git",
                |p| p.namespace = "group.git".into(),
                Some(("namespace", "must not end in '.git' or '.atom'")),
            ),
            (
                "namespace too long",
                |p| p.namespace = "a".repeat(256),
                Some(("namespace", "must be at most 255 characters")),
            ),
            (
                "project missing",
                |p| p.project.clear(),
                Some(("project", "is required")),
            ),
            (
                "project slash",
                |p| p.project = "a/b".into(),
                Some(("project", PROJECT_CHARSET)),
            ),
            (
                "project consecutive",
                |p| p.project = "a-_b".into(),
                Some((
                    "project",
                    "must not contain two special characters ('-', '_', '.') in a row",
                )),
            ),
            (
                "project .atom",
                |p| p.project = "feed.atom".into(),
                Some(("project", "must not end in '.git' or '.atom'")),
            ),
            (
                "filepath missing",
                |p| p.workflow_filepath.clear(),
                Some(("workflow_filepath", "is required")),
            ),
            (
                "filepath leading slash",
                |p| p.workflow_filepath = "/.gitlab-ci.yml".into(),
                Some((
                    "workflow_filepath",
                    "must be relative to the repository root, without a leading '/', e.g. '.gitlab-ci.yml'",
                )),
            ),
            (
                "filepath suffix",
                |p| p.workflow_filepath = "ci/".into(),
                Some((
                    "workflow_filepath",
                    "must end in '.yml' or '.yaml', e.g. '.gitlab-ci.yml'",
                )),
            ),
            (
                "filepath empty basename",
                |p| p.workflow_filepath = "ci/.yml".into(),
                Some((
                    "workflow_filepath",
                    "must name a file before '.yml' or '.yaml'",
                )),
            ),
            (
                "environment charset",
                |p| p.environment = "prod;rm".into(),
                Some((
                    "environment",
                    "may contain only ASCII letters, digits, spaces and '-', '_', '/', '$', '{', '}'",
                )),
            ),
            (
                "issuer query",
                |p| p.issuer = "https://gitlab.example.com/?x=1".into(),
                Some(("issuer", "must not have a query or fragment")),
            ),
            (
                "namespace_id",
                |p| p.namespace_id = "12a".into(),
                Some((
                    "namespace_id",
                    "must be a positive whole number without leading zeros, e.g. '1234567'",
                )),
            ),
            (
                "project_id",
                |p| p.project_id = "007".into(),
                Some((
                    "project_id",
                    "must be a positive whole number without leading zeros, e.g. '12345678'",
                )),
            ),
        ];
        assert_validation_table(valid(), validate, cases);
    }
}
