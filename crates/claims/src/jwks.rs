//! Parsing a JWKS into ready-to-use verifiers, once per key-set load.
//!
//! Per key: `kid` required (keys without one are skipped: the header `kid` is the only
//! selector); unknown `kty` ignored (RFC 7517 §5); `use` other than `sig` skipped; the
//! JWK's own `alg`, when present, must be one we support and narrows what it verifies.
//! For every algorithm the key fits (RSA → RS256 + PS256, EC P-256 → ES256, OKP
//! Ed25519 → EdDSA) a josekit verifier is built here, not per request: building one
//! parses the key. josekit pitfalls handled: we never go through `to_public_key()`
//! (which drops `kid`/`alg`), and josekit errors are only ever `Display`ed (their
//! `Debug` prints a captured backtrace).

use std::collections::HashMap;
use std::fmt;

use josekit::jwk::Jwk;
use josekit::jws::JwsVerifier;
use serde_json::{Map, Value};

use crate::algorithm::Algorithm;

/// Most keys kept from one JWKS (real issuers publish 1–5); bounds the work an
/// oversized key set causes at load.
const MAX_KEYS_PER_SET: usize = 100;
/// Longest `kid` kept, matching the header rule.
const MAX_KID_BYTES: usize = 256;

/// One usable public key and its verifiers. `Debug` shows the kid and algorithms only.
pub(crate) struct VerificationKey {
    kid: String,
    verifiers: Vec<(Algorithm, Box<dyn JwsVerifier>)>,
}

/// The usable keys of one JWKS, by `kid`.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, std::sync::Arc<VerificationKey>>,
}

/// Why a JWKS document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum JwksError {
    #[error("JWKS is not a JSON object with a \"keys\" array")]
    NotAKeySet,
}

// === impl VerificationKey ===

impl VerificationKey {
    /// The verifier for `algorithm`, if this key may verify it.
    pub(crate) fn verifier_for(&self, algorithm: Algorithm) -> Option<&dyn JwsVerifier> {
        self.verifiers
            .iter()
            .find(|(candidate, _)| *candidate == algorithm)
            .map(|(_, verifier)| verifier.as_ref())
    }

    fn algorithms(&self) -> Vec<Algorithm> {
        self.verifiers
            .iter()
            .map(|(algorithm, _)| *algorithm)
            .collect()
    }
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms())
            .finish_non_exhaustive()
    }
}

// === impl KeySet ===

impl KeySet {
    /// Parses a JWKS body. Unusable keys are skipped (with a debug log); the result may
    /// be empty, which callers must treat as a failed fetch.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, JwksError> {
        let document: Value = serde_json::from_slice(body).map_err(|_| JwksError::NotAKeySet)?;
        let Some(Value::Array(entries)) = document.get("keys") else {
            return Err(JwksError::NotAKeySet);
        };
        let mut keys = HashMap::new();
        for entry in entries {
            if keys.len() >= MAX_KEYS_PER_SET {
                tracing::warn!(
                    limit = MAX_KEYS_PER_SET,
                    "JWKS has too many keys; ignoring the rest"
                );
                break;
            }
            let Value::Object(jwk) = entry else { continue };
            match build_key(jwk) {
                Ok(key) => {
                    if keys.contains_key(&key.kid) {
                        tracing::warn!(kid = %key.kid, "duplicate kid in JWKS; keeping the first");
                        continue;
                    }
                    keys.insert(key.kid.clone(), std::sync::Arc::new(key));
                }
                Err(reason) => tracing::debug!(%reason, "skipping JWK"),
            }
        }
        Ok(Self { keys })
    }

    /// The key with this `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<std::sync::Arc<VerificationKey>> {
        self.keys.get(kid).cloned()
    }

    /// Number of usable keys.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn build_key(jwk: &Map<String, Value>) -> Result<VerificationKey, String> {
    let kid = match jwk.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => kid.clone(),
        _ => return Err("no usable kid".to_owned()),
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let crv = jwk.get("crv").and_then(Value::as_str);
    if !matches!(kty, "RSA" | "EC" | "OKP") {
        return Err(format!("kid {kid}: unsupported kty {kty:?}"));
    }
    if let Some(key_use) = jwk.get("use")
        && key_use.as_str() != Some("sig")
    {
        return Err(format!("kid {kid}: use is not \"sig\""));
    }
    let jwk_algorithm = match jwk.get("alg") {
        None => None,
        Some(Value::String(name)) => Some(
            name.parse::<Algorithm>()
                .map_err(|error| format!("kid {kid}: {error}"))?,
        ),
        Some(_) => return Err(format!("kid {kid}: alg is not a string")),
    };
    let parsed = Jwk::from_map(jwk.clone()).map_err(|error| format!("kid {kid}: {error}"))?;
    let mut verifiers = Vec::new();
    for algorithm in Algorithm::ALL {
        if !algorithm.fits_key(kty, crv) || jwk_algorithm.is_some_and(|alg| alg != algorithm) {
            continue;
        }
        match build_verifier(algorithm, &parsed) {
            Ok(verifier) => verifiers.push((algorithm, verifier)),
            Err(error) => tracing::debug!(%kid, %algorithm, %error, "JWK unusable for algorithm"),
        }
    }
    if verifiers.is_empty() {
        return Err(format!("kid {kid}: fits no supported algorithm"));
    }
    Ok(VerificationKey { kid, verifiers })
}

/// Builds the josekit verifier. Errors are `Display`ed only (see the module docs).
fn build_verifier(algorithm: Algorithm, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, String> {
    let built: Result<Box<dyn JwsVerifier>, josekit::JoseError> = match algorithm {
        Algorithm::RS256 => josekit::jws::RS256
            .verifier_from_jwk(jwk)
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        Algorithm::PS256 => josekit::jws::PS256
            .verifier_from_jwk(jwk)
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        Algorithm::ES256 => josekit::jws::ES256
            .verifier_from_jwk(jwk)
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
        Algorithm::EdDSA => josekit::jws::EdDSA
            .verifier_from_jwk(jwk)
            .map(|v| Box::new(v) as Box<dyn JwsVerifier>),
    };
    built.map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use trustmint_testkit::{KeyAlgorithm, TestKey};

    use super::*;

    fn jwk(algorithm: KeyAlgorithm, kid: &str) -> Value {
        TestKey::generate(algorithm, kid).expect("key").public_jwk()
    }

    fn with(mut jwk: Value, name: &str, value: Value) -> Value {
        if let Value::Object(map) = &mut jwk {
            if value.is_null() {
                map.remove(name);
            } else {
                map.insert(name.to_owned(), value);
            }
        }
        jwk
    }

    fn algorithms_by_kid(keys: Vec<Value>) -> Vec<(String, Vec<Algorithm>)> {
        let body = serde_json::to_vec(&json!({ "keys": keys })).expect("json");
        let set = KeySet::parse(&body).expect("key set");
        let mut kids: Vec<_> = set
            .keys
            .values()
            .map(|key| (key.kid.clone(), key.algorithms()))
            .collect();
        kids.sort_by(|a, b| a.0.cmp(&b.0));
        kids
    }

    #[test]
    fn key_selection_table() {
        use Algorithm::*;
        let rsa = jwk(KeyAlgorithm::RS256, "rsa");
        let ec = jwk(KeyAlgorithm::ES256, "ec");
        let ed = jwk(KeyAlgorithm::EdDSA, "ed");
        /// (case, JWKs, expected kids with their algorithms)
        type Row<'a> = (&'a str, Vec<Value>, Vec<(&'a str, Vec<Algorithm>)>);
        let rows: Vec<Row> = vec![
            (
                "rsa with alg",
                vec![rsa.clone()],
                vec![("rsa", vec![RS256])],
            ),
            (
                "rsa without alg fits both RSA algorithms",
                vec![with(rsa.clone(), "alg", Value::Null)],
                vec![("rsa", vec![RS256, PS256])],
            ),
            (
                "rsa marked PS256",
                vec![with(rsa.clone(), "alg", json!("PS256"))],
                vec![("rsa", vec![PS256])],
            ),
            ("ec P-256", vec![ec.clone()], vec![("ec", vec![ES256])]),
            ("ed25519", vec![ed.clone()], vec![("ed", vec![EdDSA])]),
            (
                "no kid skipped",
                vec![with(rsa.clone(), "kid", Value::Null), ec.clone()],
                vec![("ec", vec![ES256])],
            ),
            (
                "empty kid skipped",
                vec![with(rsa.clone(), "kid", json!(""))],
                vec![],
            ),
            (
                "numeric kid skipped",
                vec![with(rsa.clone(), "kid", json!(1))],
                vec![],
            ),
            (
                "unknown kty ignored",
                vec![
                    json!({"kty": "oct", "kid": "s", "k": "c2VjcmV0"}),
                    json!({"kty": "WAT", "kid": "w"}),
                    ec.clone(),
                ],
                vec![("ec", vec![ES256])],
            ),
            (
                "enc keys skipped",
                vec![with(rsa.clone(), "use", json!("enc"))],
                vec![],
            ),
            (
                "HS256 jwk alg skipped",
                vec![with(rsa.clone(), "alg", json!("HS256"))],
                vec![],
            ),
            (
                "RS512 jwk alg skipped",
                vec![with(rsa.clone(), "alg", json!("RS512"))],
                vec![],
            ),
            (
                "jwk alg contradicting kty skipped",
                vec![with(rsa.clone(), "alg", json!("ES256"))],
                vec![],
            ),
            (
                "Ed448 skipped",
                vec![with(
                    with(ed.clone(), "crv", json!("Ed448")),
                    "alg",
                    Value::Null,
                )],
                vec![],
            ),
            (
                "P-384 skipped",
                vec![with(
                    with(ec.clone(), "crv", json!("P-384")),
                    "alg",
                    Value::Null,
                )],
                vec![],
            ),
            (
                "broken key material skipped",
                vec![with(rsa.clone(), "n", json!("AQAB"))],
                vec![],
            ),
            (
                "non-object entries skipped",
                vec![json!("x"), json!(null), ec.clone()],
                vec![("ec", vec![ES256])],
            ),
            (
                "key_ops without verify skipped",
                vec![with(rsa.clone(), "key_ops", json!(["encrypt"]))],
                vec![],
            ),
        ];
        for (name, keys, expected) in rows {
            let expected: Vec<(String, Vec<Algorithm>)> = expected
                .into_iter()
                .map(|(kid, algorithms)| (kid.to_owned(), algorithms))
                .collect();
            assert_eq!(algorithms_by_kid(keys), expected, "{name}");
        }
    }

    #[test]
    fn duplicate_kid_keeps_the_first() {
        let first = jwk(KeyAlgorithm::ES256, "dup");
        let second = jwk(KeyAlgorithm::RS256, "dup");
        assert_eq!(
            algorithms_by_kid(vec![first, second]),
            vec![("dup".to_owned(), vec![Algorithm::ES256])]
        );
    }

    #[test]
    fn key_count_is_bounded() {
        let base = jwk(KeyAlgorithm::ES256, "k");
        let keys: Vec<Value> = (0..150)
            .map(|n| with(base.clone(), "kid", json!(format!("k{n}"))))
            .collect();
        assert_eq!(algorithms_by_kid(keys).len(), MAX_KEYS_PER_SET);
    }

    #[test]
    fn not_a_key_set() {
        for body in [&b"nope"[..], b"{}", b"{\"keys\": null}", b"[]", b""] {
            assert_eq!(
                KeySet::parse(body).map(|set| set.len()),
                Err(JwksError::NotAKeySet)
            );
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let body =
            serde_json::to_vec(&json!({"keys": [jwk(KeyAlgorithm::RS256, "k1")]})).expect("json");
        let set = KeySet::parse(&body).expect("set");
        let debug = format!("{:?}", set.get("k1").expect("k1"));
        assert_eq!(
            debug,
            "VerificationKey { kid: \"k1\", algorithms: [RS256], .. }"
        );
    }
}
