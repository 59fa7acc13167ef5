//! Google's claim checks (PyPI `verify_claims`, reference §3.4), each returning PyPI's
//! exact reason on failure.

use serde_json::Value;

use crate::reasons::{optional_check, required_check};

/// `email`: exact, case-sensitive.
pub(crate) fn email(configured: &str, claim: Option<&str>) -> Result<(), String> {
    required_check(claim == Some(configured), "email")
}

/// `email_verified`: the JSON boolean `true`, nothing truthy (PyPI's
/// `check_claim_invariant(True)`, reference §7.4 item 65).
pub(crate) fn email_verified(claim: Option<&Value>) -> Result<(), String> {
    required_check(claim == Some(&Value::Bool(true)), "email_verified")
}

/// `sub` (optional): passes when none is configured, else must be present and exact.
pub(crate) fn sub(configured: &str, claim: Option<&str>) -> Result<(), String> {
    optional_check(sub_selects(configured, claim), "sub")
}

/// Whether PyPI's lookup would select a publisher with `sub` = `configured`.
pub(crate) fn sub_selects(configured: &str, claim: Option<&str>) -> bool {
    configured.is_empty() || claim == Some(configured)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::test_support::assert_check_table;

    /// Reference §7.4 items 60 and 65.
    #[test]
    fn email_verified_table() {
        let failed = || Err("Check failed for required claim 'email_verified'".to_owned());
        for (claim, expected) in [
            (Some(json!(true)), Ok(())),
            (Some(json!(false)), failed()),
            (Some(json!("truthy-but-not-bool")), failed()),
            (Some(json!("true")), failed()),
            (Some(json!("")), failed()),
            (Some(json!(1)), failed()),
            (None, failed()),
        ] {
            assert_eq!(email_verified(claim.as_ref()), expected, "{claim:?}");
        }
    }

    /// Reference §7.4 item 61.
    #[test]
    fn sub_table() {
        assert_check_table(
            "Check failed for optional claim 'sub'",
            sub,
            &[
                ("fakesubject", Some("fakesubject"), true),
                ("fakesubject", Some("wrongsubject"), false),
                ("fakesubject", Some("FAKESUBJECT"), false),
                ("", Some("anything"), true),
                ("", None, true),
                ("fakesubject", None, false),
            ],
        );
    }

    #[test]
    fn email_is_exact() {
        assert_eq!(
            email(
                "ci@p.iam.gserviceaccount.com",
                Some("ci@p.iam.gserviceaccount.com")
            ),
            Ok(())
        );
        assert_eq!(
            email(
                "ci@p.iam.gserviceaccount.com",
                Some("CI@p.iam.gserviceaccount.com")
            ),
            Err("Check failed for required claim 'email'".to_owned())
        );
    }
}
