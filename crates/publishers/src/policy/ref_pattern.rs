//! Git ref patterns of a publisher policy: globs over `/`-separated segments where `*`
//! matches any characters within one segment and `**` (a whole segment) matches any
//! number of segments, zero included. Nothing else is special, so a ref name written
//! literally matches only itself.

use crate::compare::star_matches;
use crate::validation::{MAX_FIELD_LEN, ValidationError};

/// Most patterns one policy may list: enough for every release scheme, small enough
/// that matching a token stays trivially cheap.
pub(crate) const MAX_REF_PATTERNS: usize = 32;

/// Whether `git_ref` matches `pattern` (both already known to be well formed).
pub(crate) fn matches(pattern: &str, git_ref: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let segments: Vec<&str> = git_ref.split('/').collect();
    segments_match(&pattern, &segments)
}

fn segments_match(pattern: &[&str], segments: &[&str]) -> bool {
    match pattern.split_first() {
        None => segments.is_empty(),
        Some((&"**", rest)) => {
            (0..=segments.len()).any(|skip| segments_match(rest, &segments[skip..]))
        }
        Some((first, rest)) => segments.split_first().is_some_and(|(segment, others)| {
            star_matches(first, segment) && segments_match(rest, others)
        }),
    }
}

/// Checks one pattern of `refs[index]`.
pub(crate) fn validate(index: usize, pattern: &str) -> Result<(), ValidationError> {
    let field = format!("refs[{index}]");
    let refuse = |message: String| Err(ValidationError::new(&field, message));
    if pattern.chars().count() > MAX_FIELD_LEN {
        return refuse(format!("must be at most {MAX_FIELD_LEN} characters"));
    }
    if pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return refuse("must not contain whitespace or control characters".to_owned());
    }
    let Some(rest) = pattern.strip_prefix("refs/") else {
        return refuse(format!(
            "'{pattern}' must start with 'refs/' (a full git ref such as 'refs/tags/v*' or 'refs/heads/main'; \
             a bare branch name would never match a token's ref)"
        ));
    };
    let segments: Vec<&str> = rest.split('/').collect();
    if segments.iter().any(|segment| segment.is_empty()) {
        return refuse(format!("'{pattern}' has an empty path segment"));
    }
    if segments.iter().any(|s| s.contains("**") && *s != "**") {
        return refuse(format!(
            "'{pattern}': '**' must be a whole path segment ('refs/heads/**'); use '*' within a segment"
        ));
    }
    if segments
        .iter()
        .all(|segment| segment.chars().all(|c| c == '*'))
    {
        return refuse(format!(
            "'{pattern}' matches every ref, which restricts nothing: name the namespace and a fixed part \
             of the ref ('refs/tags/v*', 'refs/heads/main'), or leave refs empty to allow any ref"
        ));
    }
    Ok(())
}
