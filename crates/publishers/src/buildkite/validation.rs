//! Input rules for Buildkite publishers.

use crate::BuildkitePublisher;
use crate::tenant_uuid::uuid_field;
use crate::validation::{ValidationError, bounded, ensure, no_space_or_control, required};

/// Checks a Buildkite publisher's fields in declaration order.
pub(crate) fn validate(p: &BuildkitePublisher) -> Result<(), ValidationError> {
    slug("organization_slug", &p.organization_slug)?;
    slug("pipeline_slug", &p.pipeline_slug)?;
    uuid_field("organization_id", &p.organization_id, false)?;
    uuid_field("pipeline_id", &p.pipeline_id, false)?;
    bounded("step_key", &p.step_key)?;
    no_space_or_control("step_key", &p.step_key)?;
    ensure(
        !p.step_key.contains(':'),
        "step_key",
        "must not contain ':' (it is a part of the token's sub)",
    )
}

/// Buildkite slugs are lowercase letters, digits and `-`; anything else could never be
/// in a token (and `:` would make `sub` ambiguous).
fn slug(field: &str, value: &str) -> Result<(), ValidationError> {
    required(field, value)?;
    ensure(
        value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        field,
        "must be a Buildkite slug: lowercase letters, digits and '-'",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table};

    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<BuildkitePublisher>> = vec![
            ("minimal", |_| {}, None),
            (
                "pinned ids and step",
                |p| {
                    p.organization_id = "0a1b2c3d-0000-4000-8000-000000000001".into();
                    p.pipeline_id = "0a1b2c3d-0000-4000-8000-000000000002".into();
                    p.step_key = "publish".into();
                },
                None,
            ),
            (
                "organization_slug missing",
                |p| p.organization_slug.clear(),
                Some(("organization_slug", "is required")),
            ),
            (
                "organization_slug upper case",
                |p| p.organization_slug = "Acme".into(),
                Some((
                    "organization_slug",
                    "must be a Buildkite slug: lowercase letters, digits and '-'",
                )),
            ),
            (
                "pipeline_slug missing",
                |p| p.pipeline_slug.clear(),
                Some(("pipeline_slug", "is required")),
            ),
            (
                "pipeline_slug colon",
                |p| p.pipeline_slug = "a:b".into(),
                Some((
                    "pipeline_slug",
                    "must be a Buildkite slug: lowercase letters, digits and '-'",
                )),
            ),
            (
                "organization_id not a uuid",
                |p| p.organization_id = "acme".into(),
                Some((
                    "organization_id",
                    "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'",
                )),
            ),
            (
                "pipeline_id braced",
                |p| p.pipeline_id = "{0a1b2c3d-0000-4000-8000-000000000002}".into(),
                Some((
                    "pipeline_id",
                    "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'",
                )),
            ),
            (
                "step_key colon",
                |p| p.step_key = "a:b".into(),
                Some((
                    "step_key",
                    "must not contain ':' (it is a part of the token's sub)",
                )),
            ),
            (
                "step_key space",
                |p| p.step_key = "a b".into(),
                Some((
                    "step_key",
                    "must not contain whitespace or control characters",
                )),
            ),
        ];
        assert_validation_table(
            BuildkitePublisher {
                organization_slug: "acme-inc".into(),
                pipeline_slug: "sampleproject".into(),
                ..BuildkitePublisher::default()
            },
            validate,
            cases,
        );
    }
}
