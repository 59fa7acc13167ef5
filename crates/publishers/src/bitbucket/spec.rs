//! The identity a Bitbucket Pipelines publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// Every Bitbucket workspace has its own issuer:
/// `https://api.bitbucket.org/2.0/workspaces/<workspace>/pipelines-config/identity/oidc`.
pub const BITBUCKET_ISSUER_PATTERN: &str =
    "https://api.bitbucket.org/2.0/workspaces/*/pipelines-config/identity/oidc";

/// Before the workspace slug in the issuer URL.
pub(crate) const BITBUCKET_ISSUER_PREFIX: &str = "https://api.bitbucket.org/2.0/workspaces/";
/// After the workspace slug in the issuer URL.
pub(crate) const BITBUCKET_ISSUER_SUFFIX: &str = "/pipelines-config/identity/oidc";

/// A Bitbucket repository of one workspace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BitbucketPublisher {
    /// Workspace slug, as in the issuer URL (picks the issuer).
    #[serde(deserialize_with = "crate::fields::text")]
    pub workspace: String,
    /// Workspace UUID (`workspaceUuid`), with or without braces, ignoring case.
    #[serde(deserialize_with = "crate::fields::text")]
    pub workspace_uuid: String,
    /// Repository UUID (`repositoryUuid`), with or without braces, ignoring case.
    #[serde(deserialize_with = "crate::fields::text")]
    pub repository_uuid: String,
    /// Deployment environment UUID; empty = any step of the repository.
    #[serde(deserialize_with = "crate::fields::text")]
    pub deployment_environment_uuid: String,
}
