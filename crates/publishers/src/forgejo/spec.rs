//! The identity a Forgejo Actions publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// Codeberg's Forgejo Actions issuer (trusted only when configured).
pub const CODEBERG_ISSUER_URL: &str = "https://codeberg.org/api/actions";

/// A Forgejo (or Gitea, or Codeberg) Actions workflow of one repository on one instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForgejoPublisher {
    /// Owner (user or organization) name, compared ignoring case.
    #[serde(deserialize_with = "crate::fields::text")]
    pub repository_owner: String,
    /// Numeric owner id: when set and the token carries `repository_owner_id`, they must
    /// be equal (pins the account against a reused name).
    #[serde(deserialize_with = "crate::fields::id")]
    pub repository_owner_id: String,
    /// Repository name, compared ignoring case.
    #[serde(deserialize_with = "crate::fields::text")]
    pub repository_name: String,
    /// Workflow file name (`release.yml`), no directory.
    #[serde(deserialize_with = "crate::fields::text")]
    pub workflow_filename: String,
    /// Deployment environment; empty = any.
    #[serde(deserialize_with = "crate::fields::text")]
    pub environment: String,
    /// The instance's issuer, `https://<host>/api/actions` (required: no instance is
    /// trusted by default).
    #[serde(deserialize_with = "crate::fields::text")]
    pub issuer: String,
}
