//! Project names, normalised as PEP 503 says, so that `Sample_Project`, `sample.project`
//! and `sample-project` are one project everywhere (publishers, caveats, verification).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest project name accepted. PyPI has no hard limit in PEP 508; 255 matches the
/// column width every index we know of uses and bounds the size of caveats and keys.
pub const MAX_PROJECT_NAME_LEN: usize = 255;

/// A PEP 503-normalised project name: lowercase ASCII, runs of `-`, `_` and `.` folded
/// into a single `-`. Construct it with [`ProjectName::parse`] (or `FromStr`); the raw
/// input must be a valid PEP 508 name (`^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, case
/// insensitive).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectName(String);

/// Why a string is not a valid project name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectNameError {
    /// The name is empty.
    #[error("project name is empty")]
    Empty,
    /// The name is longer than [`MAX_PROJECT_NAME_LEN`].
    #[error("project name is longer than {MAX_PROJECT_NAME_LEN} characters")]
    TooLong,
    /// The name is not a PEP 508 name (the raw input is kept for the message).
    #[error(
        "project name '{0}' is not valid: use ASCII letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
    )]
    Invalid(String),
    /// The name breaks a rule of a non-PyPI ecosystem (see `Ecosystem::project`).
    #[error("{what} name '{name}' is not valid: {rule}")]
    NotValidIn {
        /// What kind of name (`crate`, `npm package`).
        what: &'static str,
        /// The raw input, truncated.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl ProjectName {
    /// Validates `raw` as a PEP 508 name and normalises it (PEP 503).
    pub fn parse(raw: &str) -> Result<Self, ProjectNameError> {
        if raw.is_empty() {
            return Err(ProjectNameError::Empty);
        }
        if raw.len() > MAX_PROJECT_NAME_LEN {
            return Err(ProjectNameError::TooLong);
        }
        let bytes = raw.as_bytes();
        let is_alnum = |b: u8| b.is_ascii_alphanumeric();
        let valid = is_alnum(bytes[0])
            && is_alnum(bytes[bytes.len() - 1])
            && bytes
                .iter()
                .all(|&b| is_alnum(b) || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(ProjectNameError::Invalid(raw.to_owned()));
        }
        let mut normalised = String::with_capacity(raw.len());
        let mut in_separator_run = false;
        for c in raw.chars() {
            if matches!(c, '-' | '_' | '.') {
                if !in_separator_run {
                    normalised.push('-');
                }
                in_separator_run = true;
            } else {
                normalised.push(c.to_ascii_lowercase());
                in_separator_run = false;
            }
        }
        Ok(Self(normalised))
    }

    /// A name already validated and normalised by its ecosystem's rules
    /// (`Ecosystem::project`).
    pub(crate) fn from_normalised(normalised: String) -> Self {
        Self(normalised)
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProjectName {
    type Err = ProjectNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProjectName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for ProjectName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Reads a stored name back: a name already in the normal form of some ecosystem is kept
/// as it is (a crate's `serde_json`, an npm `@scope/name`); anything else is read as a
/// PyPI name and normalised (PEP 503), as before ecosystems existed. Input from config
/// and the API goes through `Ecosystem::project` instead, which knows the ecosystem.
impl<'de> Deserialize<'de> for ProjectName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let already_normal = crate::Ecosystem::ALL.iter().find_map(|ecosystem| {
            ecosystem
                .project(&raw)
                .ok()
                .filter(|name| name.as_str() == raw)
        });
        match already_normal {
            Some(name) => Ok(name),
            None => Self::parse(&raw).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_as_pep_503() {
        for (raw, expected) in [
            ("sampleproject", "sampleproject"),
            ("Sample_Project", "sample-project"),
            ("sample.project", "sample-project"),
            ("sample-_.-project", "sample-project"),
            ("A", "a"),
            ("Foo.Bar__baz", "foo-bar-baz"),
        ] {
            assert_eq!(
                ProjectName::parse(raw).map(|name| name.as_str().to_owned()),
                Ok(expected.to_owned()),
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_invalid_names() {
        assert_eq!(ProjectName::parse(""), Err(ProjectNameError::Empty));
        for raw in [
            "-leading",
            "trailing-",
            "has space",
            "ünicode",
            "a/b",
            ".",
            "_x",
        ] {
            assert_eq!(
                ProjectName::parse(raw),
                Err(ProjectNameError::Invalid(raw.to_owned())),
                "{raw}"
            );
        }
        assert_eq!(
            ProjectName::parse(&"a".repeat(256)),
            Err(ProjectNameError::TooLong)
        );
    }
}
