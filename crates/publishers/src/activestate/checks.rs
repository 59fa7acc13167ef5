//! ActiveState's claim checks (PyPI `verify_claims`, reference §3.5), each returning
//! PyPI's exact reason on failure.

use crate::reasons::{SUBJECT_INVALID, SUBJECT_MISSING, SUBJECT_WRONG_FORMAT, required_check};

/// The builder ActiveState names in tokens meant for PyPI.
pub(crate) const PYPI_BUILDER: &str = "pypi-publisher";

/// `sub` = `org:<organization>:project:<project>[:…]`: the first four `:`-separated
/// parts must equal `expected` exactly.
pub(crate) fn subject(expected: &str, claim: &str) -> Result<(), String> {
    if claim.is_empty() {
        return Err(SUBJECT_MISSING.to_owned());
    }
    let parts: Vec<&str> = claim.split(':').collect();
    if parts.len() < 4 {
        return Err(SUBJECT_WRONG_FORMAT.to_owned());
    }
    if parts[..4].join(":") == expected {
        Ok(())
    } else {
        Err(SUBJECT_INVALID.to_owned())
    }
}

/// `organization`, `project`, `actor_id`: exact.
pub(crate) fn exact(name: &str, configured: &str, claim: &str) -> Result<(), String> {
    required_check(configured == claim, name)
}

/// `builder`: the literal `pypi-publisher`.
pub(crate) fn builder(claim: &str) -> Result<(), String> {
    exact("builder", PYPI_BUILDER, claim)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference §7.4 item 62.
    #[test]
    fn subject_table() {
        const EXPECTED: &str = "org:fakeorg:project:fakeproject";
        for (claim, expected) in [
            ("org:fakeorg:project:fakeproject", Ok(())),
            ("org:fakeorg:project:fakeproject:extra", Ok(())),
            ("", Err(SUBJECT_MISSING)),
            ("org:fakeorg:project:wrongproject", Err(SUBJECT_INVALID)),
            ("org:wrongorg:project:fakeproject", Err(SUBJECT_INVALID)),
            ("org:FakeOrg:project:fakeproject", Err(SUBJECT_INVALID)),
            ("Nonsense", Err(SUBJECT_WRONG_FORMAT)),
            ("org:fakeorg:project", Err(SUBJECT_WRONG_FORMAT)),
        ] {
            assert_eq!(
                subject(EXPECTED, claim),
                expected.map_err(str::to_owned),
                "{claim}"
            );
        }
        assert_eq!(SUBJECT_MISSING, "Missing 'subject' claim");
        assert_eq!(
            SUBJECT_WRONG_FORMAT,
            "Invalid 'subject' claim. Wrong format"
        );
        assert_eq!(SUBJECT_INVALID, "Invalid 'subject' claim");
    }

    /// Reference §7.4 item 63.
    #[test]
    fn exact_claims_table() {
        for (name, configured, claim, ok) in [
            ("organization", "fakeorg", "fakeorg", true),
            ("organization", "fakeorg", "FakeOrg", false),
            ("project", "fakeproject", "fakeproject", true),
            ("project", "fakeproject", "fakeproject2", false),
            ("actor_id", "fake-actor-id", "fake-actor-id", true),
            ("actor_id", "fake-actor-id", "other", false),
        ] {
            let expected = if ok {
                Ok(())
            } else {
                Err(format!("Check failed for required claim '{name}'"))
            };
            assert_eq!(exact(name, configured, claim), expected, "{name} {claim}");
        }
        assert_eq!(builder("pypi-publisher"), Ok(()));
        assert_eq!(
            builder("other-builder"),
            Err("Check failed for required claim 'builder'".to_owned())
        );
    }
}
