//! Input rules for ActiveState publishers (reference §3.5).

use crate::ActiveStatePublisher;
use crate::validation::{ValidationError, no_space_or_control, plain_name, required};

/// Checks an ActiveState publisher's fields in declaration order.
pub(crate) fn validate(p: &ActiveStatePublisher) -> Result<(), ValidationError> {
    name("organization", &p.organization)?;
    name("project", &p.project)?;
    if !p.actor.is_empty() {
        name("actor", &p.actor)?;
    }
    required("actor_id", &p.actor_id)?;
    no_space_or_control("actor_id", &p.actor_id)
}

/// Organization, project and actor names end up in `org:<o>:project:<p>` and in a URL
/// path, so `:` and `/` would make them ambiguous.
fn name(field: &str, value: &str) -> Result<(), ValidationError> {
    plain_name(field, value, &[':', '/'], "must not contain ':' or '/'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{ValidationRow, assert_validation_table};

    #[test]
    fn validate_table() {
        let cases: Vec<ValidationRow<ActiveStatePublisher>> = vec![
            ("minimal", |_| {}, None),
            ("with actor", |p| p.actor = "bob".into(), None),
            (
                "organization missing",
                |p| p.organization.clear(),
                Some(("organization", "is required")),
            ),
            (
                "organization colon",
                |p| p.organization = "a:b".into(),
                Some(("organization", "must not contain ':' or '/'")),
            ),
            (
                "project missing",
                |p| p.project.clear(),
                Some(("project", "is required")),
            ),
            (
                "project slash",
                |p| p.project = "a/b".into(),
                Some(("project", "must not contain ':' or '/'")),
            ),
            (
                "project space",
                |p| p.project = "a b".into(),
                Some((
                    "project",
                    "must not contain whitespace or control characters",
                )),
            ),
            (
                "actor colon",
                |p| p.actor = "b:ob".into(),
                Some(("actor", "must not contain ':' or '/'")),
            ),
            (
                "actor_id missing",
                |p| p.actor_id.clear(),
                Some(("actor_id", "is required")),
            ),
            (
                "actor_id newline",
                |p| p.actor_id = "id\n".into(),
                Some((
                    "actor_id",
                    "must not contain whitespace or control characters",
                )),
            ),
            (
                "actor_id too long",
                |p| p.actor_id = "1".repeat(256),
                Some(("actor_id", "must be at most 255 characters")),
            ),
        ];
        assert_validation_table(
            ActiveStatePublisher {
                organization: "fakeorg".into(),
                project: "fakeproject".into(),
                actor: String::new(),
                actor_id: "6f4b6f6e-0000-4000-8000-000000000001".into(),
            },
            validate,
            cases,
        );
    }
}
