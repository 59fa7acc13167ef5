//! The identity a Google publisher trusts, as config, API and store spell it.

use serde::{Deserialize, Serialize};

/// The platform's public issuer.
pub const GOOGLE_ISSUER_URL: &str = "https://accounts.google.com";

/// A Google Cloud service account (reference §3.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GooglePublisher {
    /// Service account email, exact.
    #[serde(deserialize_with = "crate::fields::text")]
    pub email: String,
    /// Optional subject; empty = any.
    #[serde(deserialize_with = "crate::fields::text")]
    pub sub: String,
}
