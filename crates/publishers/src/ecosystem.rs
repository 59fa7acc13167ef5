//! The package ecosystem a publisher publishes to, and that ecosystem's project-name
//! rules. One trustmint serves several indexes (PyPI, a Cargo registry, an npm
//! registry); a publisher is declared for exactly one, and a token minted through one
//! ecosystem's door never verifies for another (see the exchange's `doors`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ProjectName, ProjectNameError};

/// crates.io's limit on crate names.
pub const MAX_CRATE_NAME_LEN: usize = 64;

/// npm's limit on package names (including the scope).
pub const MAX_NPM_NAME_LEN: usize = 214;

/// A package ecosystem. `pypi` is the default, so publishers declared before
/// ecosystems existed keep their meaning.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Python packages (PEP 503 names).
    #[default]
    Pypi,
    /// Rust crates (crates.io names).
    Crates,
    /// npm packages (optionally scoped).
    Npm,
}

impl Ecosystem {
    /// Every ecosystem, in config order.
    pub const ALL: [Ecosystem; 3] = [Ecosystem::Pypi, Ecosystem::Crates, Ecosystem::Npm];

    /// The config/proto spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Pypi => "pypi",
            Ecosystem::Crates => "crates",
            Ecosystem::Npm => "npm",
        }
    }

    /// The ecosystem spelled `text` (exact, lowercase); the empty string is `pypi`, as
    /// proto3 sends an unset field.
    pub fn parse(text: &str) -> Option<Ecosystem> {
        match text {
            "" | "pypi" => Some(Ecosystem::Pypi),
            "crates" => Some(Ecosystem::Crates),
            "npm" => Some(Ecosystem::Npm),
            _ => None,
        }
    }

    /// Validates `raw` as a project name of this ecosystem and normalises it.
    pub fn project(self, raw: &str) -> Result<ProjectName, ProjectNameError> {
        match self {
            Ecosystem::Pypi => ProjectName::parse(raw),
            Ecosystem::Crates => crate_name(raw).map(ProjectName::from_normalised),
            Ecosystem::Npm => npm_name(raw).map(ProjectName::from_normalised),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// crates.io's rules: ASCII letters, digits, `-` and `_`, starting with a letter, at most
/// 64 characters. Names are case-insensitive and `-` equals `_`, so the normal form is
/// crates.io's canonical one: lowercase with every `-` written `_`.
fn crate_name(raw: &str) -> Result<String, ProjectNameError> {
    if raw.is_empty() {
        return Err(ProjectNameError::Empty);
    }
    if raw.len() > MAX_CRATE_NAME_LEN {
        return Err(not_valid(
            "crate",
            raw,
            "crate names are at most 64 characters",
        ));
    }
    let valid = raw.as_bytes()[0].is_ascii_alphabetic()
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(not_valid(
            "crate",
            raw,
            "crate names use ASCII letters, digits, '-' and '_', starting with a letter",
        ));
    }
    Ok(raw.to_ascii_lowercase().replace('-', "_"))
}

/// npm's rules (validate-npm-package-name, for new packages): at most 214 characters,
/// lowercase, URL-safe characters only (`a-z 0-9 - . _ ~`), not starting with `.` or
/// `_`, optionally behind one `@scope/` whose scope follows the same rules. Already
/// normal: npm refuses rather than folds uppercase.
fn npm_name(raw: &str) -> Result<String, ProjectNameError> {
    if raw.is_empty() {
        return Err(ProjectNameError::Empty);
    }
    let invalid = |why: &'static str| not_valid("npm package", raw, why);
    if raw.len() > MAX_NPM_NAME_LEN {
        return Err(invalid("npm package names are at most 214 characters"));
    }
    let (scope, name) = match raw.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, name)) => (Some(scope), name),
            None => return Err(invalid("a scoped npm name is '@scope/name'")),
        },
        None => (None, raw),
    };
    for part in scope.into_iter().chain([name]) {
        if part.is_empty() {
            return Err(invalid("a scoped npm name is '@scope/name'"));
        }
        if part.starts_with('.') || part.starts_with('_') {
            return Err(invalid("npm names cannot start with '.' or '_'"));
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._~".contains(&b))
        {
            return Err(invalid(
                "npm names use lowercase letters, digits, '-', '.', '_' and '~' (and one '@scope/')",
            ));
        }
    }
    if scope.is_none() && matches!(name, "node_modules" | "favicon.ico") {
        return Err(invalid("this npm name is reserved"));
    }
    Ok(raw.to_owned())
}

fn not_valid(what: &'static str, raw: &str, rule: &'static str) -> ProjectNameError {
    ProjectNameError::NotValidIn {
        what,
        name: crate::reasons::truncated(raw).into_owned(),
        rule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(ecosystem: Ecosystem, raw: &str) -> Result<String, ProjectNameError> {
        ecosystem.project(raw).map(|name| name.as_str().to_owned())
    }

    #[test]
    fn crate_names_fold_case_and_dash_to_underscore() {
        for (raw, expected) in [
            ("serde", "serde"),
            ("Serde_JSON", "serde_json"),
            ("serde-json", "serde_json"),
            ("a", "a"),
            ("tokio-1", "tokio_1"),
        ] {
            assert_eq!(
                normal(Ecosystem::Crates, raw),
                Ok(expected.to_owned()),
                "{raw}"
            );
        }
        assert_eq!(
            normal(Ecosystem::Crates, &"a".repeat(64)),
            Ok("a".repeat(64))
        );
    }

    #[test]
    fn crate_names_refuse_what_crates_io_refuses() {
        assert_eq!(normal(Ecosystem::Crates, ""), Err(ProjectNameError::Empty));
        for (raw, why) in [
            ("1password", "starting with a letter"),
            ("-x", "starting with a letter"),
            ("a.b", "ASCII letters, digits"),
            ("ünicode", "ASCII letters, digits"),
            ("@scope/x", "ASCII letters, digits"),
        ] {
            let error = normal(Ecosystem::Crates, raw).expect_err(raw).to_string();
            assert!(error.contains(why), "{raw}: {error}");
        }
        let error = normal(Ecosystem::Crates, &"a".repeat(65)).expect_err("65");
        assert!(error.to_string().contains("at most 64"), "{error}");
    }

    #[test]
    fn npm_names_keep_their_scope_and_refuse_uppercase() {
        for raw in [
            "sampleproject",
            "@octo-org/sampleproject",
            "a.b_c~d-e",
            "@s/x",
        ] {
            assert_eq!(normal(Ecosystem::Npm, raw), Ok(raw.to_owned()), "{raw}");
        }
        for (raw, why) in [
            ("SampleProject", "lowercase letters"),
            ("@octo-org", "'@scope/name'"),
            ("@/x", "'@scope/name'"),
            ("@s/", "'@scope/name'"),
            ("@s/a/b", "lowercase letters"),
            (".hidden", "cannot start with"),
            ("_private", "cannot start with"),
            ("@s/_x", "cannot start with"),
            ("has space", "lowercase letters"),
            ("node_modules", "reserved"),
        ] {
            let error = normal(Ecosystem::Npm, raw).expect_err(raw).to_string();
            assert!(error.contains(why), "{raw}: {error}");
        }
        let error = normal(Ecosystem::Npm, &"a".repeat(215)).expect_err("215");
        assert!(error.to_string().contains("at most 214"), "{error}");
    }

    #[test]
    fn pypi_names_are_pep_503_as_before() {
        assert_eq!(
            normal(Ecosystem::Pypi, "Sample_Project"),
            Ok("sample-project".to_owned())
        );
        assert!(normal(Ecosystem::Pypi, "@octo-org/x").is_err());
    }

    #[test]
    fn stored_names_of_every_ecosystem_read_back_unchanged() {
        for (ecosystem, raw) in [
            (Ecosystem::Pypi, "Sample_Project"),
            (Ecosystem::Crates, "Serde-Json"),
            (Ecosystem::Npm, "@octo-org/sampleproject"),
        ] {
            let name = ecosystem.project(raw).expect(raw);
            let json = serde_json::to_string(&name).expect("serialise");
            let back: ProjectName = serde_json::from_str(&json).expect("deserialise");
            assert_eq!(back, name, "{raw}");
        }
    }

    #[test]
    fn spellings_round_trip() {
        for ecosystem in Ecosystem::ALL {
            assert_eq!(Ecosystem::parse(ecosystem.as_str()), Some(ecosystem));
        }
        assert_eq!(Ecosystem::parse(""), Some(Ecosystem::Pypi));
        assert_eq!(Ecosystem::parse("cargo"), None);
    }
}
