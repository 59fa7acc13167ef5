//! The identity a GitHub Actions publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// The platform's public issuer.
pub const GITHUB_ISSUER_URL: &str = "https://token.actions.githubusercontent.com";

/// A GitHub Actions workflow (PyPI semantics, reference §3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitHubPublisher {
    /// Owner login (user or organisation), as GitHub spells it.
    #[serde(deserialize_with = "crate::fields::text")]
    pub repository_owner: String,
    /// Numeric id of the owner account: pins the account against resurrection.
    #[serde(deserialize_with = "crate::fields::id")]
    pub repository_owner_id: String,
    /// Repository name.
    #[serde(deserialize_with = "crate::fields::text")]
    pub repository_name: String,
    /// Workflow file name (`release.yml`), no directory.
    #[serde(deserialize_with = "crate::fields::text")]
    pub workflow_filename: String,
    /// Deployment environment; empty = any environment.
    #[serde(deserialize_with = "crate::fields::text")]
    pub environment: String,
    /// The issuer this publisher trusts; empty = `https://token.actions.githubusercontent.com`.
    #[serde(deserialize_with = "crate::fields::text")]
    pub issuer: String,
    /// `owner/repo` that holds a trusted reusable workflow named `workflow_filename`;
    /// empty = PyPI's behaviour (the workflow lives in the publishing repository).
    #[serde(deserialize_with = "crate::fields::text")]
    pub workflow_repository: String,
}
