//! The claims kept with a minted token: the provenance an index gets back from
//! VerifyToken. Key names are a contract with indexes:
//!
//! - every provider: `issuer` (the token's `iss`), `subject` (`sub`), `publisher_url`
//!   (when the publisher has one);
//! - GitHub: `repository`, `repository_owner`, `repository_owner_id`, `workflow` (the
//!   workflow *file name* `job_workflow_ref` names, not GitHub's `workflow` display
//!   name), `job_workflow_ref`, `workflow_ref`, `environment`, `ref`, `sha`,
//!   `event_name`, `run_id`, `run_attempt`;
//! - GitLab: `project_path`, `namespace_id`, `project_id`, `workflow_filepath`,
//!   `ci_config_ref_uri`, `environment`, `ref_path`, `sha`, `pipeline_id`, `job_id`;
//! - Google: `email`, `sub`;
//! - ActiveState: `organization`, `project`, `actor`, `actor_id`;
//! - custom issuers (`oidc`): the issuer's `required_claims`.
//!
//! Only non-empty values are kept.

use std::collections::BTreeMap;

use crate::claims::TokenClaims;

/// Builds a provenance map from a token's claims.
#[derive(Debug)]
pub(crate) struct StoredClaims<'c> {
    claims: &'c TokenClaims<'c>,
    map: BTreeMap<String, String>,
}

impl<'c> StoredClaims<'c> {
    /// Starts with `issuer` and `subject`.
    pub(crate) fn new(claims: &'c TokenClaims<'c>) -> Self {
        let stored = Self {
            claims,
            map: BTreeMap::new(),
        };
        let subject = claims.text_or_empty("sub");
        stored
            .with("issuer", claims.issuer)
            .with("subject", &subject)
    }

    /// Copies the named claims that are present and non-empty.
    pub(crate) fn keep(mut self, names: &[&str]) -> Self {
        for name in names {
            if let Some(value) = self.claims.non_empty(name) {
                self.map.insert((*name).to_owned(), value);
            }
        }
        self
    }

    /// Adds a derived value when non-empty.
    pub(crate) fn with(mut self, key: &str, value: &str) -> Self {
        if !value.is_empty() {
            self.map.insert(key.to_owned(), value.to_owned());
        }
        self
    }

    /// The finished map.
    pub(crate) fn into_map(self) -> BTreeMap<String, String> {
        self.map
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keeps_only_non_empty_values() {
        let payload = json!({"sub": "repo:o/r", "ref": "refs/heads/main", "sha": "", "run_id": 42});
        let map = payload.as_object().cloned().unwrap_or_default();
        let claims = TokenClaims::new("https://issuer", &map);
        let stored = StoredClaims::new(&claims)
            .keep(&["ref", "sha", "run_id", "absent"])
            .with("workflow", "release.yml")
            .with("empty", "")
            .into_map();
        let expected: BTreeMap<String, String> = [
            ("issuer", "https://issuer"),
            ("subject", "repo:o/r"),
            ("ref", "refs/heads/main"),
            ("run_id", "42"),
            ("workflow", "release.yml"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(stored, expected);
    }
}
