//! UUIDs as CI platforms spell them: CircleCI and Buildkite write them bare and
//! lowercase, Bitbucket in braces (`{8b1c…}`) and sometimes upper case. Publishers pin
//! these immutable ids, so both sides are compared in one canonical spelling.

use crate::validation::ValidationError;

/// The lowercase hyphenated form of a UUID written bare or in `{}`; `None` for anything
/// else (a simple or URN spelling is not how any platform writes its ids).
pub(crate) fn canonical_uuid(raw: &str) -> Option<String> {
    let bare = raw
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(raw);
    if bare.len() != 36 {
        return None;
    }
    uuid::Uuid::try_parse(bare)
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// Whether two platform UUIDs are the same id (braces and case aside). Text that is
/// not a UUID equals only itself.
pub(crate) fn same_uuid(configured: &str, claim: &str) -> bool {
    match (canonical_uuid(configured), canonical_uuid(claim)) {
        (Some(a), Some(b)) => a == b,
        _ => configured == claim,
    }
}

/// Input rule: a UUID (`braces` says whether `{…}` is accepted); empty passes, so
/// callers check `required` first for required fields.
pub(crate) fn uuid_field(field: &str, value: &str, braces: bool) -> Result<(), ValidationError> {
    let shaped = canonical_uuid(value).is_some() && (braces || !value.starts_with('{'));
    if value.is_empty() || shaped {
        return Ok(());
    }
    let example = if braces {
        "must be a UUID, with or without braces, e.g. '{8b1c2d3e-0000-4000-8000-00000000aaaa}'"
    } else {
        "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'"
    };
    Err(ValidationError::new(field, example))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_table() {
        let id = "8b1c2d3e-0000-4000-8000-00000000aaaa";
        for (raw, expected) in [
            (id, Some(id)),
            ("{8B1C2D3E-0000-4000-8000-00000000AAAA}", Some(id)),
            ("8b1c2d3e000040008000000000000aaaa", None),
            ("urn:uuid:8b1c2d3e-0000-4000-8000-00000000aaaa", None),
            ("{8b1c2d3e-0000-4000-8000-00000000aaaa", None),
            ("", None),
            ("not-a-uuid", None),
        ] {
            assert_eq!(canonical_uuid(raw).as_deref(), expected, "{raw}");
        }
        assert!(same_uuid(id, "{8B1C2D3E-0000-4000-8000-00000000AAAA}"));
        assert!(!same_uuid(id, "9b1c2d3e-0000-4000-8000-00000000aaaa"));
        assert!(same_uuid("x", "x"));
        assert_eq!(
            uuid_field("f", "{8b1c2d3e-0000-4000-8000-00000000aaaa}", true),
            Ok(())
        );
        assert_eq!(
            uuid_field("f", "{8b1c2d3e-0000-4000-8000-00000000aaaa}", false),
            Err(ValidationError::new(
                "f",
                "must be a UUID, e.g. '8b1c2d3e-0000-4000-8000-00000000aaaa'"
            ))
        );
    }
}
