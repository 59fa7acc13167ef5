//! The identity a ActiveState publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// The platform's public issuer.
pub const ACTIVESTATE_ISSUER_URL: &str = "https://platform.activestate.com/api/v1/oauth/oidc";

/// An ActiveState Platform project (reference §3.5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActiveStatePublisher {
    /// Organization name, exact.
    #[serde(deserialize_with = "crate::fields::text")]
    pub organization: String,
    /// ActiveState project name, exact.
    #[serde(deserialize_with = "crate::fields::text")]
    pub project: String,
    /// Actor user name (informational; `actor_id` is what is checked).
    #[serde(deserialize_with = "crate::fields::text")]
    pub actor: String,
    /// Actor id, exact.
    #[serde(deserialize_with = "crate::fields::id")]
    pub actor_id: String,
}
