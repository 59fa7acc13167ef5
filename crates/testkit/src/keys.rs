//! Signing keys for tests and the dev issuer, and JWT encoding with attack knobs.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jwk::alg::ed::EdCurve;
use josekit::jws::{JwsSigner, JwsVerifier};
use serde_json::{Map, Value, json};

/// Signature algorithm of a [`TestKey`].
#[allow(clippy::upper_case_acronyms, reason = "spelled as in RFC 7518")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyAlgorithm {
    /// RSA 2048, PKCS#1 v1.5 + SHA-256 (what GitHub, GitLab and Google use).
    #[default]
    RS256,
    /// RSA 2048, PSS + SHA-256.
    PS256,
    /// ECDSA P-256 + SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl KeyAlgorithm {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
}

/// Key generation or signing failed inside OpenSSL (only the `Display` of josekit's
/// error is kept: its `Debug` carries a backtrace).
#[derive(Debug, Clone, thiserror::Error)]
#[error("test key error: {0}")]
pub struct KeyError(String);

impl KeyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<josekit::JoseError> for KeyError {
    fn from(error: josekit::JoseError) -> Self {
        Self(error.to_string())
    }
}

/// A throwaway private key with its `kid`. `Debug` never shows key material.
pub struct TestKey {
    kid: String,
    algorithm: KeyAlgorithm,
    signer: Box<dyn JwsSigner>,
    verifier: Box<dyn JwsVerifier>,
    public_jwk: Map<String, Value>,
    public_key_pem: Vec<u8>,
}

/// Which `kid` goes into the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KidHeader {
    /// The signing key's kid.
    #[default]
    Key,
    /// No `kid` member.
    Omit,
    /// This value instead.
    Custom(String),
}

/// How the signature segment is made.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum SignatureMode {
    /// Signed by the key (header `alg` defaults to the key's algorithm).
    #[default]
    Key,
    /// Empty signature (header `alg` defaults to `none`).
    Empty,
    /// HMAC-SHA256 with this secret (header `alg` defaults to `HS256`) — e.g. the RSA
    /// public key PEM, for the key-confusion attack.
    Hmac(Vec<u8>),
}

impl fmt::Debug for SignatureMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key => f.write_str("Key"),
            Self::Empty => f.write_str("Empty"),
            Self::Hmac(_) => f.write_str("Hmac(..)"),
        }
    }
}

/// Header and signature knobs for [`TestKey::sign_with`]; `Default` signs normally.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// The `kid` header.
    pub kid: KidHeader,
    /// Header `alg` override; the signature is still made as `signature` says.
    pub alg: Option<String>,
    /// How to sign.
    pub signature: SignatureMode,
    /// Members merged into the header last (`crit`, `jku`, `typ`, …); `null` removes one.
    pub extra_header: Map<String, Value>,
    /// For [`TestIssuer`](crate::TestIssuer): sign with the published key of this kid
    /// instead of the current one.
    pub signing_kid: Option<String>,
}

// === impl SignOptions ===

impl SignOptions {
    /// `alg: none` with an empty signature.
    pub fn unsigned() -> Self {
        Self {
            signature: SignatureMode::Empty,
            ..Self::default()
        }
    }

    /// `alg: HS256`, HMAC'd with `secret`.
    pub fn hmac(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            signature: SignatureMode::Hmac(secret.into()),
            ..Self::default()
        }
    }

    /// Header `kid` set to `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = KidHeader::Custom(kid.into());
        self
    }

    /// No header `kid`.
    pub fn without_kid(mut self) -> Self {
        self.kid = KidHeader::Omit;
        self
    }

    /// Header `alg` set to `alg`.
    pub fn with_alg(mut self, alg: impl Into<String>) -> Self {
        self.alg = Some(alg.into());
        self
    }

    /// Extra header member.
    pub fn with_header(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra_header.insert(name.into(), value);
        self
    }

    /// Sign with the issuer's key `kid` (which must be published).
    pub fn signed_by(mut self, kid: impl Into<String>) -> Self {
        self.signing_kid = Some(kid.into());
        self
    }
}

// === impl TestKey ===

impl TestKey {
    /// Generates a fresh key (RSA keys are 2048 bits).
    pub fn generate(algorithm: KeyAlgorithm, kid: impl Into<String>) -> Result<Self, KeyError> {
        let kid = kid.into();
        let (private_jwk, public_jwk, public_key_pem): (Jwk, Jwk, Vec<u8>) = match algorithm {
            KeyAlgorithm::RS256 => {
                let pair = josekit::jws::RS256.generate_key_pair(2048)?;
                (
                    pair.to_jwk_key_pair(),
                    pair.to_jwk_public_key(),
                    pair.to_pem_public_key(),
                )
            }
            KeyAlgorithm::PS256 => {
                // A plain RSA key: issuers publish PS256 keys as kty RSA.
                let pair = josekit::jws::RS256.generate_key_pair(2048)?;
                (
                    pair.to_jwk_key_pair(),
                    pair.to_jwk_public_key(),
                    pair.to_pem_public_key(),
                )
            }
            KeyAlgorithm::ES256 => {
                let pair = josekit::jws::ES256.generate_key_pair()?;
                (
                    pair.to_jwk_key_pair(),
                    pair.to_jwk_public_key(),
                    pair.to_pem_public_key(),
                )
            }
            KeyAlgorithm::EdDSA => {
                let pair = josekit::jws::EdDSA.generate_key_pair(EdCurve::Ed25519)?;
                (
                    pair.to_jwk_key_pair(),
                    pair.to_jwk_public_key(),
                    pair.to_pem_public_key(),
                )
            }
        };
        // `to_jwk_*` output carries no kid (and maybe an alg of the generator): set both.
        let mut public_jwk: Map<String, Value> = public_jwk.into();
        public_jwk.insert("kid".into(), Value::String(kid.clone()));
        public_jwk.insert("alg".into(), Value::String(algorithm.as_str().into()));
        public_jwk.insert("use".into(), Value::String("sig".into()));
        let mut private_jwk: Map<String, Value> = private_jwk.into();
        private_jwk.remove("alg");
        let private_jwk = Jwk::from_map(private_jwk)?;
        let public_for_verifier = Jwk::from_map(public_jwk.clone())?;
        let (signer, verifier): (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) = match algorithm {
            KeyAlgorithm::RS256 => (
                Box::new(josekit::jws::RS256.signer_from_jwk(&private_jwk)?),
                Box::new(josekit::jws::RS256.verifier_from_jwk(&public_for_verifier)?),
            ),
            KeyAlgorithm::PS256 => (
                Box::new(josekit::jws::PS256.signer_from_jwk(&private_jwk)?),
                Box::new(josekit::jws::PS256.verifier_from_jwk(&public_for_verifier)?),
            ),
            KeyAlgorithm::ES256 => (
                Box::new(josekit::jws::ES256.signer_from_jwk(&private_jwk)?),
                Box::new(josekit::jws::ES256.verifier_from_jwk(&public_for_verifier)?),
            ),
            KeyAlgorithm::EdDSA => (
                Box::new(josekit::jws::EdDSA.signer_from_jwk(&private_jwk)?),
                Box::new(josekit::jws::EdDSA.verifier_from_jwk(&public_for_verifier)?),
            ),
        };
        Ok(Self {
            kid,
            algorithm,
            signer,
            verifier,
            public_jwk,
            public_key_pem,
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The public JWK (`kty`, key material, `kid`, `alg`, `use: sig`).
    pub fn public_jwk(&self) -> Value {
        Value::Object(self.public_jwk.clone())
    }

    /// The public key as PEM — what a key-confusion attacker would use as HMAC secret.
    pub fn public_key_pem(&self) -> Vec<u8> {
        self.public_key_pem.clone()
    }

    /// Signs `claims` with this key (header `alg`, `typ: JWT`, `kid`).
    pub fn sign(&self, claims: &Value) -> Result<String, KeyError> {
        self.sign_with(&SignOptions::default(), claims)
    }

    /// Signs `claims` with the header and signature knobs of `options`.
    pub fn sign_with(&self, options: &SignOptions, claims: &Value) -> Result<String, KeyError> {
        let default_alg = match options.signature {
            SignatureMode::Key => self.algorithm.as_str(),
            SignatureMode::Empty => "none",
            SignatureMode::Hmac(_) => "HS256",
        };
        let mut header = Map::new();
        header.insert(
            "alg".into(),
            json!(options.alg.as_deref().unwrap_or(default_alg)),
        );
        header.insert("typ".into(), json!("JWT"));
        match &options.kid {
            KidHeader::Key => {
                header.insert("kid".into(), json!(self.kid));
            }
            KidHeader::Omit => {}
            KidHeader::Custom(kid) => {
                header.insert("kid".into(), json!(kid));
            }
        }
        for (name, value) in &options.extra_header {
            if value.is_null() {
                header.remove(name);
            } else {
                header.insert(name.clone(), value.clone());
            }
        }
        let header = serde_json::to_vec(&header).map_err(|e| KeyError(e.to_string()))?;
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError(e.to_string()))?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = match &options.signature {
            SignatureMode::Key => self.signer.sign(signing_input.as_bytes())?,
            SignatureMode::Empty => Vec::new(),
            SignatureMode::Hmac(secret) => josekit::jws::HS256
                .signer_from_bytes(secret)?
                .sign(signing_input.as_bytes())?,
        };
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// Verifies a compact JWS made by this key (for the testkit's own tests).
    pub fn verify(&self, jwt: &str) -> Result<(), KeyError> {
        let (signing_input, signature) = jwt
            .rsplit_once('.')
            .ok_or_else(|| KeyError("no signature segment".into()))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| KeyError(e.to_string()))?;
        Ok(self.verifier.verify(signing_input.as_bytes(), &signature)?)
    }
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [KeyAlgorithm; 4] = [
        KeyAlgorithm::RS256,
        KeyAlgorithm::PS256,
        KeyAlgorithm::ES256,
        KeyAlgorithm::EdDSA,
    ];

    fn decode_segment(jwt: &str, index: usize) -> Value {
        let segment = jwt.split('.').nth(index).expect("segment");
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64")).expect("json")
    }

    #[test]
    fn every_algorithm_signs_and_verifies_through_its_public_jwk() {
        for algorithm in ALL {
            let key = TestKey::generate(algorithm, "k1").expect("generate");
            let jwt = key
                .sign(&json!({"iss": "https://issuer.example", "n": 1}))
                .expect("sign");
            assert_eq!(
                key.verify(&jwt).map_err(|e| e.to_string()),
                Ok(()),
                "{algorithm:?}"
            );
            // Independently: a josekit verifier built only from the published JWK.
            let jwk = Jwk::from_map(match key.public_jwk() {
                Value::Object(m) => m,
                _ => Map::new(),
            })
            .expect("jwk");
            assert_eq!(jwk.key_id(), Some("k1"));
            assert_eq!(jwk.algorithm(), Some(algorithm.as_str()));
            let verifier: Box<dyn JwsVerifier> = match algorithm {
                KeyAlgorithm::RS256 => {
                    Box::new(josekit::jws::RS256.verifier_from_jwk(&jwk).expect("v"))
                }
                KeyAlgorithm::PS256 => {
                    Box::new(josekit::jws::PS256.verifier_from_jwk(&jwk).expect("v"))
                }
                KeyAlgorithm::ES256 => {
                    Box::new(josekit::jws::ES256.verifier_from_jwk(&jwk).expect("v"))
                }
                KeyAlgorithm::EdDSA => {
                    Box::new(josekit::jws::EdDSA.verifier_from_jwk(&jwk).expect("v"))
                }
            };
            let (payload, header) =
                josekit::jwt::decode_with_verifier(&jwt, verifier.as_ref()).expect("verifies");
            assert_eq!(payload.issuer(), Some("https://issuer.example"));
            assert_eq!(header.key_id(), Some("k1"));
            assert_eq!(header.algorithm(), Some(algorithm.as_str()));
        }
    }

    #[test]
    fn public_jwk_has_no_private_material() {
        for algorithm in ALL {
            let jwk = TestKey::generate(algorithm, "k")
                .expect("generate")
                .public_jwk();
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(jwk.get(private).is_none(), "{algorithm:?} leaks {private}");
            }
            assert_eq!(jwk["use"], "sig");
        }
    }

    #[test]
    fn tampered_token_fails_verification() {
        let key = TestKey::generate(KeyAlgorithm::RS256, "k").expect("generate");
        let jwt = key.sign(&json!({"a": 1})).expect("sign");
        let other = key.sign(&json!({"a": 2})).expect("sign");
        let forged = format!(
            "{}.{}",
            other.rsplit_once('.').expect("dot").0,
            jwt.rsplit_once('.').expect("dot").1
        );
        assert!(
            key.verify(&forged)
                .expect_err("tampered")
                .to_string()
                .contains("signature")
        );
    }

    #[test]
    fn attack_knobs_shape_the_header() {
        let key = TestKey::generate(KeyAlgorithm::RS256, "key-1").expect("generate");
        let claims = json!({"iss": "x"});

        let unsigned = key
            .sign_with(&SignOptions::unsigned(), &claims)
            .expect("sign");
        assert_eq!(
            decode_segment(&unsigned, 0),
            json!({"alg": "none", "typ": "JWT", "kid": "key-1"})
        );
        assert!(unsigned.ends_with('.'));

        let hmac = key
            .sign_with(&SignOptions::hmac(key.public_key_pem()), &claims)
            .expect("sign");
        assert_eq!(decode_segment(&hmac, 0)["alg"], "HS256");

        let odd = key
            .sign_with(
                &SignOptions::default()
                    .without_kid()
                    .with_alg("ES256")
                    .with_header("jku", json!("https://evil")),
                &claims,
            )
            .expect("sign");
        assert_eq!(
            decode_segment(&odd, 0),
            json!({"alg": "ES256", "typ": "JWT", "jku": "https://evil"})
        );

        let custom = key
            .sign_with(
                &SignOptions::default()
                    .with_kid("nope")
                    .with_header("typ", Value::Null),
                &claims,
            )
            .expect("sign");
        assert_eq!(
            decode_segment(&custom, 0),
            json!({"alg": "RS256", "kid": "nope"})
        );
    }
}
