//! The whole `JwtVerifier` path (route → header rules → key cache → signature →
//! registered claims) with a real Ed25519/RSA JWKS loaded.
//!
//! Input is either a raw JWT, or a JSON request `{"header": {...}, "claims": {...}}`
//! that the fixture signs with its real key: without that, no mutated token would ever
//! get past the signature and the claim checks would go unfuzzed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trustmint_claims::ClaimsError;
use trustmint_fuzz::{AUDIENCE, GITHUB_ISSUER, NOW, jwt_fixture, runtime, sign_request};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let signed_by_fixture;
    let jwt = match serde_json::from_str::<Value>(text) {
        Ok(request) => match sign_request(&request) {
            Some(jwt) => {
                signed_by_fixture = true;
                jwt
            }
            None => return,
        },
        Err(_) => {
            signed_by_fixture = false;
            text.to_owned()
        }
    };
    let fixture = jwt_fixture();
    let routed = match fixture.verifier.route(&jwt) {
        Ok(routed) => routed,
        Err(ClaimsError::Malformed(_) | ClaimsError::UnknownIssuer) => return,
        Err(other) => panic!("route returned {other:?}"),
    };
    // A trailing `/` on `iss` is not significant (the registry resolves it to the same
    // issuer, as an issuer URL configured with one does).
    assert_eq!(routed.iss.strip_suffix('/').unwrap_or(&routed.iss), GITHUB_ISSUER);
    let verified = runtime().block_on(fixture.verifier.verify(&routed, NOW));
    match verified {
        Ok(claims) => {
            // Only the fixture's key can have signed it, and the registered claims held.
            assert!(
                signed_by_fixture,
                "a token not signed by the fixture verified"
            );
            assert_eq!(claims.iss.strip_suffix('/').unwrap_or(&claims.iss), GITHUB_ISSUER);
            assert_eq!(claims.claims.get("aud"), Some(&Value::from(AUDIENCE)));
            // An `exp` beyond i64 is read as i64::MAX (as PyJWT accepts it), so add
            // without overflowing.
            assert!(claims.exp.saturating_add(trustmint_claims::JWT_LEEWAY_SECS) >= NOW);
            assert!(claims.jti.as_ref().is_none_or(|jti| jti.len() <= 256));
        }
        Err(ClaimsError::InvalidToken(_)) => {}
        Err(other) => panic!("verify returned {other:?}"),
    }
});
