//! JWS algorithms an issuer may be allowed to use, and which JWKs each one fits.
//!
//! Only asymmetric algorithms exist here. `none` and the HMAC family (`HS*`) are not
//! representable, so no configuration or token can select them (RFC 8725 §2.1, §3.1):
//! an issuer's RSA public key used as an HMAC secret is the classic key-confusion forgery.

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm trustmint can verify.
#[allow(
    clippy::upper_case_acronyms,
    reason = "spelled as in RFC 7518 and the config"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (GitHub, GitLab, Google, ActiveState). The default.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA on P-256 with SHA-256 (raw `R‖S` signatures).
    ES256,
    /// Ed25519 (RFC 8037).
    EdDSA,
}

/// Why an algorithm name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlgorithmError {
    /// `none`: an unsigned token.
    #[error("\"none\" is never accepted: it means the token is not signed")]
    Unsigned,
    /// `HS256` and friends: shared-secret algorithms.
    #[error(
        "{0:?} is a symmetric (shared-secret) algorithm; OIDC issuers sign with asymmetric \
         keys, and accepting HS* allows forging tokens with the issuer's public key (RFC 8725 §2.1)"
    )]
    Symmetric(String),
    /// Anything else we do not implement.
    #[error("unsupported algorithm {0:?}; supported: RS256, PS256, ES256, EdDSA")]
    Unsupported(String),
}

// === impl Algorithm ===

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];

    /// The JOSE name (`"RS256"`, …, `"EdDSA"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether a JWK of key type `kty` (and curve `crv`) may verify this algorithm:
    /// RSA for RS256/PS256, EC P-256 for ES256, OKP Ed25519 for EdDSA. Anything else,
    /// including `oct` keys, fits nothing.
    pub fn fits_key(self, kty: &str, crv: Option<&str>) -> bool {
        match self {
            Self::RS256 | Self::PS256 => kty == "RSA",
            Self::ES256 => kty == "EC" && crv == Some("P-256"),
            Self::EdDSA => kty == "OKP" && crv == Some("Ed25519"),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = AlgorithmError;

    /// Parses the exact (case-sensitive) JOSE name.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "RS256" => Ok(Self::RS256),
            "PS256" => Ok(Self::PS256),
            "ES256" => Ok(Self::ES256),
            "EdDSA" => Ok(Self::EdDSA),
            _ if name.eq_ignore_ascii_case("none") => Err(AlgorithmError::Unsigned),
            _ if name
                .get(..2)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("HS")) =>
            {
                Err(AlgorithmError::Symmetric(name.to_owned()))
            }
            _ => Err(AlgorithmError::Unsupported(name.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let rows: &[(&str, Result<Algorithm, AlgorithmError>)] = &[
            ("RS256", Ok(Algorithm::RS256)),
            ("PS256", Ok(Algorithm::PS256)),
            ("ES256", Ok(Algorithm::ES256)),
            ("EdDSA", Ok(Algorithm::EdDSA)),
            ("none", Err(AlgorithmError::Unsigned)),
            ("NONE", Err(AlgorithmError::Unsigned)),
            ("HS256", Err(AlgorithmError::Symmetric("HS256".into()))),
            ("hs512", Err(AlgorithmError::Symmetric("hs512".into()))),
            ("rs256", Err(AlgorithmError::Unsupported("rs256".into()))),
            ("RS384", Err(AlgorithmError::Unsupported("RS384".into()))),
            ("ES256K", Err(AlgorithmError::Unsupported("ES256K".into()))),
            ("", Err(AlgorithmError::Unsupported(String::new()))),
            ("é", Err(AlgorithmError::Unsupported("é".into()))),
            ("Hé", Err(AlgorithmError::Unsupported("Hé".into()))),
        ];
        for (name, expected) in rows {
            assert_eq!(&name.parse::<Algorithm>(), expected, "{name:?}");
        }
    }

    #[test]
    fn round_trips_through_as_str() {
        for alg in Algorithm::ALL {
            assert_eq!(alg.as_str().parse::<Algorithm>(), Ok(alg));
        }
    }

    #[test]
    fn key_fit_table() {
        use Algorithm::*;
        let rows: &[(Algorithm, &str, Option<&str>, bool)] = &[
            (RS256, "RSA", None, true),
            (PS256, "RSA", None, true),
            (RS256, "EC", Some("P-256"), false),
            (ES256, "EC", Some("P-256"), true),
            (ES256, "EC", Some("P-384"), false),
            (ES256, "RSA", None, false),
            (EdDSA, "OKP", Some("Ed25519"), true),
            (EdDSA, "OKP", Some("Ed448"), false),
            (EdDSA, "EC", Some("P-256"), false),
            (RS256, "oct", None, false),
        ];
        for (alg, kty, crv, fits) in rows {
            assert_eq!(alg.fits_key(kty, *crv), *fits, "{alg} {kty} {crv:?}");
        }
    }

    #[test]
    fn symmetric_message_names_the_attack() {
        let message = AlgorithmError::Symmetric("HS256".into()).to_string();
        assert!(message.starts_with("\"HS256\" is a symmetric"), "{message}");
    }
}
