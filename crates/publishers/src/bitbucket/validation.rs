//! Input rules for Bitbucket publishers.

use crate::BitbucketPublisher;
use crate::tenant_uuid::uuid_field;
use crate::validation::{ValidationError, ensure, required};

/// Checks a Bitbucket publisher's fields in declaration order.
pub(crate) fn validate(p: &BitbucketPublisher) -> Result<(), ValidationError> {
    required("workspace", &p.workspace)?;
    ensure(
        p.workspace
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
        "workspace",
        "must be a workspace slug (as in the issuer URL): lowercase letters, digits, '-' and '_'",
    )?;
    required("workspace_uuid", &p.workspace_uuid)?;
    uuid_field("workspace_uuid", &p.workspace_uuid, true)?;
    required("repository_uuid", &p.repository_uuid)?;
    uuid_field("repository_uuid", &p.repository_uuid, true)?;
    uuid_field(
        "deployment_environment_uuid",
        &p.deployment_environment_uuid,
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table};

    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<BitbucketPublisher>> = vec![
            ("minimal", |_| {}, None),
            (
                "bare, upper-case uuids and an environment",
                |p| {
                    p.workspace_uuid = "8B1C2D3E-0000-4000-8000-00000000AAAA".into();
                    p.deployment_environment_uuid = "{e1e2e3e4-0000-4000-8000-000000000005}".into();
                },
                None,
            ),
            (
                "workspace missing",
                |p| p.workspace.clear(),
                Some(("workspace", "is required")),
            ),
            (
                "workspace with a slash",
                |p| p.workspace = "a/b".into(),
                Some((
                    "workspace",
                    "must be a workspace slug (as in the issuer URL): lowercase letters, digits, '-' and '_'",
                )),
            ),
            (
                "workspace_uuid missing",
                |p| p.workspace_uuid.clear(),
                Some(("workspace_uuid", "is required")),
            ),
            (
                "repository_uuid a slug",
                |p| p.repository_uuid = "sampleproject".into(),
                Some((
                    "repository_uuid",
                    "must be a UUID, with or without braces, e.g. '{8b1c2d3e-0000-4000-8000-00000000aaaa}'",
                )),
            ),
            (
                "deployment_environment_uuid a name",
                |p| p.deployment_environment_uuid = "production".into(),
                Some((
                    "deployment_environment_uuid",
                    "must be a UUID, with or without braces, e.g. '{8b1c2d3e-0000-4000-8000-00000000aaaa}'",
                )),
            ),
        ];
        assert_validation_table(
            BitbucketPublisher {
                workspace: "octo-team".into(),
                workspace_uuid: "{8b1c2d3e-0000-4000-8000-00000000aaaa}".into(),
                repository_uuid: "{9c2d3e4f-0000-4000-8000-00000000bbbb}".into(),
                ..BitbucketPublisher::default()
            },
            validate,
            cases,
        );
    }
}
