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
