//! Input rules for Forgejo publishers.

use crate::ForgejoPublisher;
use crate::validation::{
    ValidationError, bounded, issuer_url, numeric_id, plain_name, required, workflow_file,
};

/// Checks a Forgejo publisher's fields in declaration order.
pub(crate) fn validate(p: &ForgejoPublisher) -> Result<(), ValidationError> {
    name("repository_owner", &p.repository_owner)?;
    numeric_id("repository_owner_id", &p.repository_owner_id, "1234")?;
    name("repository_name", &p.repository_name)?;
    workflow_file(
        "workflow_filename",
        &p.workflow_filename,
        !p.workflow_filename.contains('/'),
        "must be a file name without a directory, e.g. 'release.yml'",
        "release.yml",
    )?;
    bounded("environment", &p.environment)?;
    required("issuer", &p.issuer)?;
    issuer_url("issuer", &p.issuer)
}

/// Owner and repository names end up in `owner/name` and in a URL path.
fn name(field: &str, value: &str) -> Result<(), ValidationError> {
    plain_name(field, value, &['/', ':'], "must not contain '/' or ':'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table};

    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<ForgejoPublisher>> = vec![
            ("minimal", |_| {}, None),
            (
                "owner id and environment",
                |p| {
                    p.repository_owner_id = "1234".into();
                    p.environment = "pypi".into();
                },
                None,
            ),
            (
                "repository_owner missing",
                |p| p.repository_owner.clear(),
                Some(("repository_owner", "is required")),
            ),
            (
                "repository_name with a slash",
                |p| p.repository_name = "a/b".into(),
                Some(("repository_name", "must not contain '/' or ':'")),
            ),
            (
                "repository_owner_id not a number",
                |p| p.repository_owner_id = "octo".into(),
                Some((
                    "repository_owner_id",
                    "must be a positive whole number without leading zeros, e.g. '1234'",
                )),
            ),
            (
                "workflow with a directory",
                |p| p.workflow_filename = ".forgejo/workflows/release.yml".into(),
                Some((
                    "workflow_filename",
                    "must be a file name without a directory, e.g. 'release.yml'",
                )),
            ),
            (
                "issuer missing: no instance is trusted by default",
                |p| p.issuer.clear(),
                Some(("issuer", "is required")),
            ),
            (
                "issuer over http",
                |p| p.issuer = "http://codeberg.org/api/actions".into(),
                Some((
                    "issuer",
                    "must use https (http is accepted only for localhost, 127.0.0.1 and [::1])",
                )),
            ),
        ];
        assert_validation_table(
            ForgejoPublisher {
                repository_owner: "octo-org".into(),
                repository_name: "sampleproject".into(),
                workflow_filename: "release.yml".into(),
                issuer: "https://codeberg.org/api/actions".into(),
                ..ForgejoPublisher::default()
            },
            validate,
            cases,
        );
    }
}
