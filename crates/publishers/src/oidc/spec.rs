//! The identity a custom-issuer (`oidc`) publisher trusts, as config, API and store
//! spell it.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// What an `[[issuers]] kind = "oidc"` entry says about its tokens, as the matcher
/// needs it (the claims layer builds it from the entry).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcIssuerRules {
    /// Claims every publisher binds exactly (a shared issuer's tenant); the first one
    /// indexes publishers. Never empty for a configured issuer.
    pub required_claims: Vec<String>,
    /// Claims a publisher may bind with a `*` glob.
    pub pattern_claims: Vec<String>,
    /// `replay_key = "sha256"`: tokens without `jti` are accepted, replay-guarded by the
    /// hash of the whole JWT.
    pub replay_by_hash: bool,
}

/// A publisher of a custom OIDC issuer: the claims a token must carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcPublisher {
    /// The issuer (`iss`) trusted; required (custom issuers have no public one).
    #[serde(deserialize_with = "crate::fields::text")]
    pub issuer: String,
    /// Claim name → exact value, or a `*` glob for claims the issuer lists in
    /// `pattern_claims`. Values may be written as strings or whole numbers.
    #[serde(deserialize_with = "claim_values")]
    pub claims: BTreeMap<String, String>,
    /// The claim publishers of the issuer are indexed by: the issuer's first required
    /// claim, filled in when the publisher is registered (leave it empty).
    #[serde(deserialize_with = "crate::fields::text")]
    pub lookup_claim: String,
}

/// `claims`: a table of strings or whole numbers; `null` = none.
fn claim_values<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    deserializer.deserialize_any(ClaimValues)
}

struct ClaimValues;

impl<'de> Visitor<'de> for ClaimValues {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table of claim names to strings or whole numbers")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(BTreeMap::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut claims = BTreeMap::new();
        while let Some((name, value)) = map.next_entry::<String, serde_json::Value>()? {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(number) if number.is_u64() || number.is_i64() => {
                    number.to_string()
                }
                _ => {
                    return Err(de::Error::custom(format!(
                        "claim {name} must be a string or a whole number"
                    )));
                }
            };
            claims.insert(name, text);
        }
        Ok(claims)
    }
}
