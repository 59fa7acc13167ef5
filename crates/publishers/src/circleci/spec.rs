//! The identity a CircleCI publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// Every CircleCI organization has its own issuer under this prefix:
/// `https://oidc.circleci.com/org/<organization_id>`.
pub const CIRCLECI_ISSUER_PREFIX: &str = "https://oidc.circleci.com/org/";

/// The built-in `url_pattern` matching every organization's issuer.
pub const CIRCLECI_ISSUER_PATTERN: &str = "https://oidc.circleci.com/org/*";

/// A CircleCI project of one organization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CircleCIPublisher {
    /// Organization UUID: picks the issuer (`https://oidc.circleci.com/org/<id>`).
    #[serde(deserialize_with = "crate::fields::text")]
    pub organization_id: String,
    /// Project UUID (`oidc.circleci.com/project-id`).
    #[serde(deserialize_with = "crate::fields::text")]
    pub project_id: String,
    /// Pipeline definition UUID; empty = any pipeline of the project.
    #[serde(deserialize_with = "crate::fields::text")]
    pub pipeline_definition_id: String,
    /// Repository origin (`github.com/octo-org/sampleproject`), compared ignoring case;
    /// empty = not checked.
    #[serde(deserialize_with = "crate::fields::text")]
    pub vcs_origin: String,
    /// A context UUID the job must use (`oidc.circleci.com/context-ids` contains it);
    /// empty = any.
    #[serde(deserialize_with = "crate::fields::text")]
    pub context_id: String,
}
