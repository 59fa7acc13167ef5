//! The identity a GitLab publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// The platform's public issuer.
pub const GITLAB_ISSUER_URL: &str = "https://gitlab.com";

/// A GitLab CI/CD pipeline on gitlab.com or a self-managed instance (reference §3.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitLabPublisher {
    /// Group path, may contain `/` for subgroups.
    #[serde(deserialize_with = "crate::fields::text")]
    pub namespace: String,
    /// Project name.
    #[serde(deserialize_with = "crate::fields::text")]
    pub project: String,
    /// Top-level pipeline file path (`.gitlab-ci.yml`).
    #[serde(deserialize_with = "crate::fields::text")]
    pub workflow_filepath: String,
    /// Environment; empty = any. Compared case-sensitively, as GitLab does.
    #[serde(deserialize_with = "crate::fields::text")]
    pub environment: String,
    /// The instance's issuer URL; empty = `https://gitlab.com`.
    #[serde(deserialize_with = "crate::fields::text")]
    pub issuer: String,
    /// Optional numeric namespace id (resurrection protection PyPI lacks).
    #[serde(deserialize_with = "crate::fields::id")]
    pub namespace_id: String,
    /// Optional numeric project id (resurrection protection PyPI lacks).
    #[serde(deserialize_with = "crate::fields::id")]
    pub project_id: String,
}
