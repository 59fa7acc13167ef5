//! Input rules for GitHub publishers (PyPI's form, reference §3.2; crates.io's
//! `validation.rs`, peer registries §1.2).

use crate::GitHubPublisher;
use crate::validation::{
    ValidationError, ensure, issuer_url, numeric_id, optional, required, workflow_file,
};

/// Characters PyPI refuses in an environment name.
const ENVIRONMENT_FORBIDDEN: [char; 6] = ['\'', '"', '`', ',', ';', '\\'];

/// Checks a GitHub publisher's fields in declaration order.
pub(crate) fn validate(p: &GitHubPublisher) -> Result<(), ValidationError> {
    owner("repository_owner", &p.repository_owner)?;
    numeric_id("repository_owner_id", &p.repository_owner_id, "647025")?;
    repository_name("repository_name", &p.repository_name)?;
    workflow_filename(&p.workflow_filename)?;
    environment(&p.environment)?;
    issuer_url("issuer", &p.issuer)?;
    workflow_repository(p)
}

/// `^[a-zA-Z0-9][a-zA-Z0-9-]*$`.
fn owner(field: &str, value: &str) -> Result<(), ValidationError> {
    required(field, value)?;
    let valid = value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ensure(
        valid,
        field,
        "must start with an ASCII letter or digit and contain only ASCII letters, digits and '-', e.g. 'octo-org'",
    )
}

/// `^[a-zA-Z0-9-_.]+$`, and not `.` or `..` (GitHub refuses them).
fn repository_name(field: &str, value: &str) -> Result<(), ValidationError> {
    required(field, value)?;
    ensure(
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        field,
        "may contain only ASCII letters, digits, '-', '_' and '.', e.g. 'sampleproject'",
    )?;
    ensure(
        value != "." && value != "..",
        field,
        "cannot be '.' or '..'",
    )
}

/// A file directly in `.github/workflows`.
fn workflow_filename(value: &str) -> Result<(), ValidationError> {
    workflow_file(
        "workflow_filename",
        value,
        !value.contains('/'),
        "must be a file name in .github/workflows, without '/', e.g. 'release.yml'",
        "release.yml",
    )
}

/// PyPI's environment rules; empty means "any environment".
fn environment(value: &str) -> Result<(), ValidationError> {
    const FIELD: &str = "environment";
    optional(FIELD, value, || {
        ensure(
            value.trim() == value,
            FIELD,
            "must not start or end with whitespace",
        )?;
        ensure(
            !value.chars().any(char::is_control),
            FIELD,
            "must not contain control characters",
        )?;
        ensure(
            !value.contains(ENVIRONMENT_FORBIDDEN),
            FIELD,
            "must not contain any of ' \" ` , ; \\",
        )
    })
}

/// `owner/repo` of another repository holding a trusted reusable workflow.
fn workflow_repository(p: &GitHubPublisher) -> Result<(), ValidationError> {
    const FIELD: &str = "workflow_repository";
    let value = p.workflow_repository.as_str();
    optional(FIELD, value, || other_repository(p, value))
}

/// The form of a set `workflow_repository`, and that it is not the publisher's own.
fn other_repository(p: &GitHubPublisher, value: &str) -> Result<(), ValidationError> {
    const FIELD: &str = "workflow_repository";
    let form = "must name a repository as 'owner/repo', e.g. 'octo-org/shared-workflows'";
    let (owner_part, name_part) = value
        .split_once('/')
        .ok_or_else(|| ValidationError::new(FIELD, form))?;
    let parts_valid = owner(FIELD, owner_part).is_ok() && repository_name(FIELD, name_part).is_ok();
    ensure(parts_valid, FIELD, form)?;
    let own = format!("{}/{}", p.repository_owner, p.repository_name);
    ensure(
        !value.eq_ignore_ascii_case(&own),
        FIELD,
        &format!(
            "must name another repository; leave it empty to trust workflows of '{own}' itself"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table, github_spec};

    /// One row per rule: (description, edit, expected field and message).
    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<GitHubPublisher>> = vec![
            ("minimal", |_| {}, None),
            (
                "all fields",
                |p| {
                    p.environment = "pypi".into();
                    p.issuer = "https://token.actions.githubusercontent.com/octo-enterprise".into();
                    p.workflow_repository = "octo-org/shared-workflows".into();
                },
                None,
            ),
            (
                "no owner id is allowed",
                |p| p.repository_owner_id.clear(),
                None,
            ),
            (
                "yaml suffix",
                |p| p.workflow_filename = "release.yaml".into(),
                None,
            ),
            (
                "owner missing",
                |p| p.repository_owner.clear(),
                Some(("repository_owner", "is required")),
            ),
            (
                "owner charset",
                |p| p.repository_owner = "octo_org".into(),
                Some((
                    "repository_owner",
                    "must start with an ASCII letter or digit and contain only ASCII letters, digits and '-', e.g. 'octo-org'",
                )),
            ),
            (
                "owner leading dash",
                |p| p.repository_owner = "-octo".into(),
                Some((
                    "repository_owner",
                    "must start with an ASCII letter or digit and contain only ASCII letters, digits and '-', e.g. 'octo-org'",
                )),
            ),
            (
                "owner too long",
                |p| p.repository_owner = "a".repeat(256),
                Some(("repository_owner", "must be at most 255 characters")),
            ),
            (
                "owner id not numeric",
                |p| p.repository_owner_id = "octo".into(),
                Some((
                    "repository_owner_id",
                    "must be a positive whole number without leading zeros, e.g. '647025'",
                )),
            ),
            (
                "repo missing",
                |p| p.repository_name.clear(),
                Some(("repository_name", "is required")),
            ),
            (
                "repo charset",
                |p| p.repository_name = "sample project".into(),
                Some((
                    "repository_name",
                    "may contain only ASCII letters, digits, '-', '_' and '.', e.g. 'sampleproject'",
                )),
            ),
            (
                "repo dot",
                |p| p.repository_name = "..".into(),
                Some(("repository_name", "cannot be '.' or '..'")),
            ),
            (
                "workflow missing",
                |p| p.workflow_filename.clear(),
                Some(("workflow_filename", "is required")),
            ),
            (
                "workflow with slash",
                |p| p.workflow_filename = ".github/workflows/release.yml".into(),
                Some((
                    "workflow_filename",
                    "must be a file name in .github/workflows, without '/', e.g. 'release.yml'",
                )),
            ),
            (
                "workflow suffix",
                |p| p.workflow_filename = "release.json".into(),
                Some((
                    "workflow_filename",
                    "must end in '.yml' or '.yaml', e.g. 'release.yml'",
                )),
            ),
            (
                "workflow stem",
                |p| p.workflow_filename = ".yml".into(),
                Some((
                    "workflow_filename",
                    "must name a file before '.yml' or '.yaml'",
                )),
            ),
            (
                "environment padded",
                |p| p.environment = " pypi".into(),
                Some(("environment", "must not start or end with whitespace")),
            ),
            (
                "environment control",
                |p| p.environment = "py\u{7}pi".into(),
                Some(("environment", "must not contain control characters")),
            ),
            (
                "environment quote",
                |p| p.environment = "py'pi".into(),
                Some(("environment", "must not contain any of ' \" ` , ; \\")),
            ),
            (
                "environment comma",
                |p| p.environment = "a,b".into(),
                Some(("environment", "must not contain any of ' \" ` , ; \\")),
            ),
            (
                "environment too long",
                |p| p.environment = "e".repeat(256),
                Some(("environment", "must be at most 255 characters")),
            ),
            (
                "issuer http",
                |p| p.issuer = "http://ghe.example.com/_services/token".into(),
                Some((
                    "issuer",
                    "must use https (http is accepted only for localhost, 127.0.0.1 and [::1])",
                )),
            ),
            (
                "workflow_repository form",
                |p| p.workflow_repository = "shared-workflows".into(),
                Some((
                    "workflow_repository",
                    "must name a repository as 'owner/repo', e.g. 'octo-org/shared-workflows'",
                )),
            ),
            (
                "workflow_repository with path",
                |p| p.workflow_repository = "octo-org/shared/x".into(),
                Some((
                    "workflow_repository",
                    "must name a repository as 'owner/repo', e.g. 'octo-org/shared-workflows'",
                )),
            ),
            (
                "workflow_repository is own",
                |p| p.workflow_repository = "Octo-Org/SampleProject".into(),
                Some((
                    "workflow_repository",
                    "must name another repository; leave it empty to trust workflows of 'octo-org/sampleproject' itself",
                )),
            ),
        ];
        assert_validation_table(github_spec(), validate, cases);
    }
}
