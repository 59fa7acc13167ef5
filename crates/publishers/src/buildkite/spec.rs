//! The identity a Buildkite publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// The one issuer every Buildkite organization's agents share.
pub const BUILDKITE_ISSUER_URL: &str = "https://agent.buildkite.com";

/// A Buildkite pipeline of one organization. The issuer is shared by every Buildkite
/// organization, so a publisher always binds the organization.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BuildkitePublisher {
    /// Organization slug (`acme-inc`), exact.
    #[serde(deserialize_with = "crate::fields::text")]
    pub organization_slug: String,
    /// Pipeline slug (`sampleproject`), exact.
    #[serde(deserialize_with = "crate::fields::text")]
    pub pipeline_slug: String,
    /// Organization UUID; when set and the token carries `organization_id`, they must
    /// be equal (pins the organization against a renamed slug).
    #[serde(deserialize_with = "crate::fields::text")]
    pub organization_id: String,
    /// Pipeline UUID; as `organization_id`, for `pipeline_id`.
    #[serde(deserialize_with = "crate::fields::text")]
    pub pipeline_id: String,
    /// The step `key` that may publish; empty = any step.
    #[serde(deserialize_with = "crate::fields::text")]
    pub step_key: String,
}
