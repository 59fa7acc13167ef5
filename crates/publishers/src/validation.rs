//! Input rules for publishers, from config files and the API: PyPI's form rules
//! (reference §3) and crates.io's (peer registries §1.2), one error naming the field.
//!
//! The rules exist so a publisher that can never match is refused when it is written
//! down, with a message saying what is expected, instead of failing later at exchange
//! time with "no corresponding publisher".

use url::{Host, Url};

/// Longest value of any publisher field, in characters (crates.io's limit).
pub const MAX_FIELD_LEN: usize = 255;

/// A publisher field that breaks an input rule. `Display` is `<field>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The field's config/proto name (`workflow_filename`, `projects[1]`, …).
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ValidationError {
    /// An error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `value` must be non-empty, then pass [`bounded`].
pub(crate) fn required(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    bounded(field, value)
}

/// `value` must be at most [`MAX_FIELD_LEN`] characters.
pub(crate) fn bounded(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > MAX_FIELD_LEN {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_FIELD_LEN} characters"),
        ));
    }
    Ok(())
}

/// An optional field: empty passes (not set); otherwise it must pass [`bounded`], then
/// `rules`.
pub(crate) fn optional(
    field: &str,
    value: &str,
    rules: impl FnOnce() -> Result<(), ValidationError>,
) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Ok(());
    }
    bounded(field, value)?;
    rules()
}

/// Fails with `message` unless `ok`.
pub(crate) fn ensure(ok: bool, field: &str, message: &str) -> Result<(), ValidationError> {
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new(field, message))
    }
}

/// An optional numeric id (account, namespace, project): when given, a positive decimal
/// number without sign or leading zeros, as the platforms spell ids in tokens.
pub(crate) fn numeric_id(field: &str, value: &str, example: &str) -> Result<(), ValidationError> {
    optional(field, value, || {
        let canonical = value.bytes().all(|b| b.is_ascii_digit())
            && !value.starts_with('0')
            && value.parse::<u64>().is_ok();
        ensure(
            canonical,
            field,
            &format!("must be a positive whole number without leading zeros, e.g. '{example}'"),
        )
    })
}

/// A plain name (owner, organization, project, …): required, no whitespace or control
/// characters, none of `forbidden` (which would make a `sub` or URL path ambiguous).
pub(crate) fn plain_name(
    field: &str,
    value: &str,
    forbidden: &[char],
    message: &str,
) -> Result<(), ValidationError> {
    required(field, value)?;
    no_space_or_control(field, value)?;
    ensure(!value.contains(forbidden), field, message)
}

/// No whitespace and no control characters anywhere.
pub(crate) fn no_space_or_control(field: &str, value: &str) -> Result<(), ValidationError> {
    ensure(
        !value.chars().any(|c| c.is_whitespace() || c.is_control()),
        field,
        "must not contain whitespace or control characters",
    )
}

/// A required workflow file: where the platform keeps it (`placed`, else `message`),
/// then [`workflow_file_suffix`].
pub(crate) fn workflow_file(
    field: &str,
    value: &str,
    placed: bool,
    message: &str,
    example: &str,
) -> Result<(), ValidationError> {
    required(field, value)?;
    ensure(placed, field, message)?;
    workflow_file_suffix(field, value, example)
}

/// A workflow file: ends in `.yml` or `.yaml` with a non-empty name before it that does
/// not end in `/` (PyPI could never extract such a name from a token).
pub(crate) fn workflow_file_suffix(
    field: &str,
    value: &str,
    example: &str,
) -> Result<(), ValidationError> {
    let stem = value
        .strip_suffix(".yml")
        .or_else(|| value.strip_suffix(".yaml"));
    match stem {
        None => Err(ValidationError::new(
            field,
            format!("must end in '.yml' or '.yaml', e.g. '{example}'"),
        )),
        Some(stem) if stem.is_empty() || stem.ends_with('/') => Err(ValidationError::new(
            field,
            "must name a file before '.yml' or '.yaml'",
        )),
        Some(_) => Ok(()),
    }
}

/// An optional issuer URL: https, or http on a loopback host (local development);
/// a host; no credentials, query or fragment; written as tokens spell it (lowercase
/// host, no default port), because issuers compare as strings.
pub(crate) fn issuer_url(field: &str, value: &str) -> Result<(), ValidationError> {
    optional(field, value, || url_rules(field, value))
}

fn url_rules(field: &str, value: &str) -> Result<(), ValidationError> {
    let example = "must be an https URL, e.g. 'https://gitlab.example.com'";
    let url = Url::parse(value).map_err(|_| ValidationError::new(field, example))?;
    let loopback = match url.host() {
        Some(Host::Domain(domain)) => domain == "localhost",
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => return Err(ValidationError::new(field, example)),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(ValidationError::new(
                field,
                "must use https (http is accepted only for localhost, 127.0.0.1 and [::1])",
            ));
        }
        _ => return Err(ValidationError::new(field, example)),
    }
    ensure(
        url.username().is_empty() && url.password().is_none(),
        field,
        "must not contain credentials",
    )?;
    ensure(
        url.query().is_none() && url.fragment().is_none(),
        field,
        "must not have a query or fragment",
    )?;
    let canonical = url.as_str().trim_end_matches('/');
    if canonical != value.trim_end_matches('/') {
        return Err(ValidationError::new(
            field,
            format!("must be written as '{canonical}', the way its tokens spell it"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_url_table() {
        let err = |message: &str| Err(ValidationError::new("issuer", message));
        let https = "must be an https URL, e.g. 'https://gitlab.example.com'";
        for (value, expected) in [
            ("", Ok(())),
            ("https://gitlab.example.com", Ok(())),
            ("https://gitlab.example.com/", Ok(())),
            (
                "https://token.actions.githubusercontent.com/octo-enterprise",
                Ok(()),
            ),
            ("https://ghe.example.com/_services/token", Ok(())),
            ("http://localhost:9000", Ok(())),
            ("http://127.0.0.1:9000/issuer", Ok(())),
            ("http://[::1]:9000", Ok(())),
            (
                "http://gitlab.example.com",
                err("must use https (http is accepted only for localhost, 127.0.0.1 and [::1])"),
            ),
            ("ftp://gitlab.example.com", err(https)),
            ("gitlab.example.com", err(https)),
            ("https://", err(https)),
            (
                "https://gitlab.example.com/?a=b",
                err("must not have a query or fragment"),
            ),
            (
                "https://gitlab.example.com/#top",
                err("must not have a query or fragment"),
            ),
            (
                "https://user:pw@gitlab.example.com",
                err("must not contain credentials"),
            ),
            (
                "https://GitLab.example.com",
                err("must be written as 'https://gitlab.example.com', the way its tokens spell it"),
            ),
            (
                "https://gitlab.example.com:443",
                err("must be written as 'https://gitlab.example.com', the way its tokens spell it"),
            ),
        ] {
            assert_eq!(issuer_url("issuer", value), expected, "{value}");
        }
    }

    #[test]
    fn numeric_id_table() {
        let bad = || {
            Err(ValidationError::new(
                "repository_owner_id",
                "must be a positive whole number without leading zeros, e.g. '647025'",
            ))
        };
        for (value, expected) in [
            ("", Ok(())),
            ("647025", Ok(())),
            ("18446744073709551615", Ok(())),
            ("18446744073709551616", bad()),
            ("0", bad()),
            ("0647025", bad()),
            ("+647025", bad()),
            ("-1", bad()),
            ("64 7025", bad()),
            ("abc", bad()),
        ] {
            assert_eq!(
                numeric_id("repository_owner_id", value, "647025"),
                expected,
                "{value}"
            );
        }
    }

    #[test]
    fn workflow_suffix_table() {
        for (value, expected) in [
            ("release.yml", Ok(())),
            ("release.yaml", Ok(())),
            ("ci/release.yml", Ok(())),
            (
                "release.YML",
                Err("must end in '.yml' or '.yaml', e.g. 'release.yml'"),
            ),
            (
                "release",
                Err("must end in '.yml' or '.yaml', e.g. 'release.yml'"),
            ),
            (".yml", Err("must name a file before '.yml' or '.yaml'")),
            ("ci/.yaml", Err("must name a file before '.yml' or '.yaml'")),
        ] {
            assert_eq!(
                workflow_file_suffix("f", value, "release.yml"),
                expected.map_err(|m| ValidationError::new("f", m)),
                "{value}"
            );
        }
    }

    #[test]
    fn display_and_lengths() {
        let error = ValidationError::new("environment", "is required");
        assert_eq!(error.to_string(), "environment: is required");
        assert_eq!(
            required("x", ""),
            Err(ValidationError::new("x", "is required"))
        );
        assert_eq!(required("x", &"a".repeat(MAX_FIELD_LEN)), Ok(()));
        assert_eq!(
            required("x", &"a".repeat(MAX_FIELD_LEN + 1)),
            Err(ValidationError::new("x", "must be at most 255 characters"))
        );
    }
}
