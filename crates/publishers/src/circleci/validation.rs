//! Input rules for CircleCI publishers.

use crate::CircleCIPublisher;
use crate::tenant_uuid::uuid_field;
use crate::validation::{ValidationError, bounded, ensure, no_space_or_control, required};

/// Checks a CircleCI publisher's fields in declaration order.
pub(crate) fn validate(p: &CircleCIPublisher) -> Result<(), ValidationError> {
    required("organization_id", &p.organization_id)?;
    uuid_field("organization_id", &p.organization_id, false)?;
    required("project_id", &p.project_id)?;
    uuid_field("project_id", &p.project_id, false)?;
    uuid_field("pipeline_definition_id", &p.pipeline_definition_id, false)?;
    bounded("vcs_origin", &p.vcs_origin)?;
    no_space_or_control("vcs_origin", &p.vcs_origin)?;
    ensure(
        p.vcs_origin.is_empty() || (!p.vcs_origin.contains("://") && p.vcs_origin.contains('/')),
        "vcs_origin",
        "must be a host and path without scheme, e.g. 'github.com/octo-org/sampleproject'",
    )?;
    uuid_field("context_id", &p.context_id, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table};

    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<CircleCIPublisher>> = vec![
            ("minimal", |_| {}, None),
            (
                "every optional field",
                |p| {
                    p.pipeline_definition_id = "5d1a2b3c-0000-4000-8000-000000000003".into();
                    p.vcs_origin = "github.com/octo-org/sampleproject".into();
                    p.context_id = "a74579f1-2e7d-451e-b009-5c082ad2729e".into();
                },
                None,
            ),
            (
                "organization_id missing",
                |p| p.organization_id.clear(),
                Some(("organization_id", "is required")),
            ),
            (
                "organization_id a slug",
                |p| p.organization_id = "octo-org".into(),
                Some((
                    "organization_id",
                    "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'",
                )),
            ),
            (
                "project_id missing",
                |p| p.project_id.clear(),
                Some(("project_id", "is required")),
            ),
            (
                "pipeline_definition_id not a uuid",
                |p| p.pipeline_definition_id = "release".into(),
                Some((
                    "pipeline_definition_id",
                    "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'",
                )),
            ),
            (
                "vcs_origin with scheme",
                |p| p.vcs_origin = "https://github.com/octo-org/sampleproject".into(),
                Some((
                    "vcs_origin",
                    "must be a host and path without scheme, e.g. 'github.com/octo-org/sampleproject'",
                )),
            ),
            (
                "context_id not a uuid",
                |p| p.context_id = "pypi".into(),
                Some((
                    "context_id",
                    "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'",
                )),
            ),
        ];
        assert_validation_table(
            CircleCIPublisher {
                organization_id: "b7c6d5e4-0000-4000-8000-000000000001".into(),
                project_id: "c8d7e6f5-0000-4000-8000-000000000002".into(),
                ..CircleCIPublisher::default()
            },
            validate,
            cases,
        );
    }
}
