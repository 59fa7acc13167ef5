//! Input rules for Google publishers (reference §3.4).

use crate::GooglePublisher;
use crate::validation::{ValidationError, ensure, no_space_or_control, optional, required};

/// Checks a Google publisher's fields in declaration order.
pub(crate) fn validate(p: &GooglePublisher) -> Result<(), ValidationError> {
    email(&p.email)?;
    optional("sub", &p.sub, || no_space_or_control("sub", &p.sub))
}

/// `local@domain.tld`: one `@`, a non-empty local part, a dotted domain of ASCII
/// letters, digits and `-`; no whitespace or control characters.
fn email(value: &str) -> Result<(), ValidationError> {
    const FIELD: &str = "email";
    required(FIELD, value)?;
    let shape_valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !local.chars().any(|c| c.is_whitespace() || c.is_control())
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    });
    ensure(
        shape_valid,
        FIELD,
        "must be an email address, e.g. 'publisher@my-project.iam.gserviceaccount.com'",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_table() {
        let shape = "must be an email address, e.g. 'publisher@my-project.iam.gserviceaccount.com'";
        for (email, sub, expected) in [
            ("ci@my-project.iam.gserviceaccount.com", "", None),
            (
                "ci@my-project.iam.gserviceaccount.com",
                "112233445566778899000",
                None,
            ),
            ("", "", Some(("email", "is required"))),
            (
                "ci.my-project.iam.gserviceaccount.com",
                "",
                Some(("email", shape)),
            ),
            ("ci@localhost", "", Some(("email", shape))),
            (
                "@my-project.iam.gserviceaccount.com",
                "",
                Some(("email", shape)),
            ),
            (
                "c i@my-project.iam.gserviceaccount.com",
                "",
                Some(("email", shape)),
            ),
            ("ci@a@b.com", "", Some(("email", shape))),
            ("ci@my_project.com", "", Some(("email", shape))),
            ("ci@-x.com", "", Some(("email", shape))),
            ("ci@x..com", "", Some(("email", shape))),
            (
                "ci@my-project.iam.gserviceaccount.com",
                "1 2",
                Some(("sub", "must not contain whitespace or control characters")),
            ),
        ] {
            let p = GooglePublisher {
                email: email.into(),
                sub: sub.into(),
            };
            let expected = expected.map(|(field, message)| ValidationError::new(field, message));
            assert_eq!(validate(&p).err(), expected, "{email} {sub}");
        }
        let long = GooglePublisher {
            email: format!("{}@x.com", "a".repeat(250)),
            sub: String::new(),
        };
        assert_eq!(
            validate(&long).err(),
            Some(ValidationError::new(
                "email",
                "must be at most 255 characters"
            ))
        );
    }
}
