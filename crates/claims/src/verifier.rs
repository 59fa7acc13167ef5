//! Turning a JWT into [`VerifiedClaims`], in two steps: [`JwtVerifier::route`] (the
//! unverified peek that picks a configured issuer) and [`JwtVerifier::verify`] (key
//! lookup, signature, registered claims).

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use serde_json::{Map, Value};

use crate::audience::AudiencePolicy;
use crate::error::ClaimsError;
use crate::header_policy::check_header;
use crate::issuer::Issuer;
use crate::keystore::{KeyLookupError, KeySource, KeyStore};
use crate::registered_claims::check_registered_claims;
use crate::registry::IssuerRegistry;
use crate::replay::{JWT_LEEWAY_SECS, MAX_JTI_BYTES, sha256_hex};
use crate::unverified::{UnverifiedJwt, peek};

/// Verifies CI OIDC tokens for one audience against the configured issuers.
#[derive(Debug)]
pub struct JwtVerifier {
    /// Swapped whole by [`JwtVerifier::replace_registry`] (a config reload); the key
    /// cache is not, so issuers that stay keep their cached keys.
    registry: RwLock<Arc<IssuerRegistry>>,
    keystore: KeyStore,
    audience: String,
    leeway: i64,
}

/// A token routed to a configured issuer but **not yet verified**: nothing in it may be
/// trusted until [`JwtVerifier::verify`] succeeds. `Debug` never prints the JWT.
#[derive(Clone)]
pub struct RoutedToken {
    /// The configured issuer `iss` resolved to.
    pub issuer: Arc<Issuer>,
    /// The token's (unverified) `iss`, exactly as sent.
    pub iss: String,
    jwt: Arc<str>,
    unverified: UnverifiedJwt,
}

/// Claims of a token whose signature and registered claims were verified.
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    /// The configured issuer whose key verified the token.
    pub issuer: Arc<Issuer>,
    /// The token's `iss` (for pattern and custom issuers, the concrete URL).
    pub iss: String,
    /// Every payload claim, registered ones included.
    pub claims: Map<String, Value>,
    /// `jti`, if present and non-empty (≤ 256 bytes; longer tokens are rejected).
    pub jti: Option<String>,
    /// `sub`, if it is a string.
    pub subject: Option<String>,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Issued-at, unix seconds.
    pub iat: i64,
}

// === impl JwtVerifier ===

impl JwtVerifier {
    /// A verifier for tokens whose `aud` is exactly `audience`, with
    /// [`JWT_LEEWAY_SECS`] of clock leeway.
    pub fn new(registry: IssuerRegistry, keystore: KeyStore, audience: String) -> Self {
        Self {
            registry: RwLock::new(Arc::new(registry)),
            keystore,
            audience,
            leeway: JWT_LEEWAY_SECS,
        }
    }

    /// The trusted issuers in force.
    pub fn registry(&self) -> Arc<IssuerRegistry> {
        self.registry
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Puts `registry` in force for every token routed from now on (a config reload).
    /// The JWKS cache stays: an issuer whose key source is unchanged is not fetched
    /// again. A token routed before keeps the issuer it was routed to.
    pub fn replace_registry(&self, registry: IssuerRegistry) {
        *self
            .registry
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(registry);
    }

    /// The JWKS cache (for status metrics).
    pub fn keystore(&self) -> &KeyStore {
        &self.keystore
    }

    /// The audience tokens must carry.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// **Step 1 — unverified.** ⚠️ Decodes header and payload *without checking the
    /// signature*, reads `iss` and routes it to a configured issuer. This is the only
    /// place trustmint looks inside an unauthenticated token, and it does so only to
    /// decide *which configured issuer's keys* to verify with: an unknown `iss` is refused
    /// here, before any network request (so tokens cannot make us fetch from arbitrary
    /// URLs). Nothing in the result may be trusted — not the claims, not the kid —
    /// until [`verify`](Self::verify) succeeds. The caller checks `issuer.enabled`
    /// (the kill switch) in between.
    ///
    /// Errors: [`ClaimsError::Malformed`] (not a JWT, > 16 KiB, no string `iss`),
    /// [`ClaimsError::UnknownIssuer`].
    pub fn route(&self, jwt: &str) -> Result<RoutedToken, ClaimsError> {
        let unverified = peek(jwt)?;
        let iss = unverified.iss().to_owned();
        let issuer = self
            .registry()
            .resolve(&iss)
            .ok_or(ClaimsError::UnknownIssuer)?;
        Ok(RoutedToken {
            issuer,
            iss,
            jwt: Arc::from(jwt),
            unverified,
        })
    }

    /// **Step 2.** Header rules (algorithm in the issuer's allow-list; no `none`/`HS*`,
    /// `crit`, `jku`/`x5u`/`jwk`; `kid` required), key lookup by `kid` in the issuer's
    /// JWKS (refreshing per the keystore rules), algorithm/key fit (RSA for RS256/PS256,
    /// EC P-256 for ES256, OKP Ed25519 for EdDSA, and the JWK's own `alg`), the
    /// signature, then `iss` (exactly the routed one), `aud` (one string: the service
    /// audience or one of the issuer's `audiences`), `exp`/`iat` (required) and `nbf` (if present) at `now` with leeway.
    ///
    /// Errors: [`ClaimsError::InvalidToken`], or [`ClaimsError::KeysUnavailable`] when
    /// the kid is not cached and the issuer's keys could not be fetched. A disabled
    /// issuer's tokens are refused as invalid (callers should have answered
    /// `not-enabled` already).
    pub async fn verify(
        &self,
        routed: &RoutedToken,
        now: i64,
    ) -> Result<VerifiedClaims, ClaimsError> {
        self.verify_for_audience(routed, now, &self.audience).await
    }

    /// [`JwtVerifier::verify`] with `aud` checked against `audience` instead of the
    /// verifier's own: each front door of one instance has its own audience (PyPI's
    /// `pypi`, crates.io's `crates.io`, npm's `npm:registry.example.org`), so a token
    /// requested for one index is refused at another's door.
    pub async fn verify_for_audience(
        &self,
        routed: &RoutedToken,
        now: i64,
        audience: &str,
    ) -> Result<VerifiedClaims, ClaimsError> {
        let issuer = &routed.issuer;
        if !issuer.enabled {
            return Err(ClaimsError::InvalidToken(format!(
                "issuer {} is disabled",
                issuer.name
            )));
        }
        let header = check_header(&routed.unverified.header, &issuer.algorithms)?;
        let source = KeySource::for_issuer(issuer.jwks_uri(), &routed.iss);
        let key = self
            .keystore
            .key(&issuer.name, &source, &header.kid)
            .await
            .map_err(|error| match error {
                KeyLookupError::NotFound => ClaimsError::InvalidToken(format!(
                    "key id {:?} not found for issuer {:?}",
                    header.kid, routed.iss
                )),
                KeyLookupError::Unavailable(detail) => ClaimsError::KeysUnavailable(detail),
            })?;
        let verifier = key.verifier_for(header.algorithm).ok_or_else(|| {
            ClaimsError::InvalidToken(format!(
                "alg {} does not fit key {:?}",
                header.algorithm, header.kid
            ))
        })?;
        let signing_input = routed
            .jwt
            .get(..routed.unverified.signing_input_len)
            .unwrap_or_default();
        verifier
            .verify(signing_input.as_bytes(), &routed.unverified.signature)
            // Display only: a josekit error's Debug carries a backtrace.
            .map_err(|error| ClaimsError::InvalidToken(format!("signature: {error}")))?;

        // Authenticated from here on.
        let claims = routed.unverified.payload.clone();
        // An issuer's extra `audiences` (CircleCI's organization id, …) name no door,
        // so they are honoured at the service's own (PyPI) door only.
        let extra: &[_] = if audience == self.audience.as_str() {
            &issuer.audiences
        } else {
            &[]
        };
        let audience = AudiencePolicy {
            service: audience,
            kind: issuer.kind,
            extra,
        };
        let times = check_registered_claims(&claims, &routed.iss, &audience, now, self.leeway)?;
        let jti = match claims.get("jti") {
            None => None,
            Some(Value::String(jti)) if jti.len() > MAX_JTI_BYTES => {
                return Err(ClaimsError::InvalidToken(format!(
                    "jti longer than {MAX_JTI_BYTES} bytes"
                )));
            }
            Some(Value::String(jti)) if jti.is_empty() => None,
            Some(Value::String(jti)) => Some(jti.clone()),
            Some(_) => return Err(ClaimsError::InvalidToken("jti is not a string".to_owned())),
        };
        let subject = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        Ok(VerifiedClaims {
            issuer: Arc::clone(issuer),
            iss: routed.iss.clone(),
            claims,
            jti,
            subject,
            exp: times.exp,
            iat: times.iat,
        })
    }
}

// === impl RoutedToken ===

impl RoutedToken {
    /// The raw JWT, for the replay key. Never log it.
    pub fn jwt(&self) -> &str {
        &self.jwt
    }

    /// The (unverified) header `kid`, for diagnostics.
    pub fn kid(&self) -> Option<&str> {
        self.unverified.kid()
    }

    /// First 16 hex digits of the JWT's SHA-256: a safe handle for logs.
    pub fn fingerprint(&self) -> String {
        let mut digest = sha256_hex(self.jwt.as_bytes());
        digest.truncate(16);
        digest
    }
}

impl fmt::Debug for RoutedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutedToken")
            .field("issuer", &self.issuer.name)
            .field("iss", &self.iss)
            .field("kid", &self.kid())
            .field("jwt_sha256", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "verifier_tests.rs"]
mod tests;
