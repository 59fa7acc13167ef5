//! Rules for the JOSE header of a token, applied before any key is looked up
//! (RFC 8725 §2.1, §3.1, §3.10; RFC 7515 §4.1.11).

use serde_json::{Map, Value};

use crate::algorithm::{Algorithm, AlgorithmError};
use crate::error::ClaimsError;

/// Longest `kid` accepted, in bytes. A `kid` is an opaque lookup key (RFC 8725 §3.10);
/// bounding it keeps log lines and map lookups cheap.
const MAX_KID_BYTES: usize = 256;

/// Header members that point at or carry keys. Keys only ever come from the issuer's
/// configured or discovered JWKS, so these are never used for key selection. A token
/// that carries `jku`, `x5u` or `jwk` is **rejected** outright: no CI issuer sends them,
/// and their presence is a sign of a key-injection attempt. `x5c` (and `x5t`) are
/// certificate data some issuers include for information; they are ignored.
const REJECTED_KEY_HEADERS: [&str; 3] = ["jku", "x5u", "jwk"];

/// What the header says, once it passed the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedHeader {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: String,
}

/// Checks the header against the issuer's algorithm allow-list. Every failure is
/// [`ClaimsError::InvalidToken`].
pub(crate) fn check_header(
    header: &Map<String, Value>,
    allowed: &[Algorithm],
) -> Result<CheckedHeader, ClaimsError> {
    let algorithm = match header.get("alg") {
        Some(Value::String(name)) => name.parse::<Algorithm>().map_err(|error| match error {
            AlgorithmError::Unsigned => invalid("alg none: unsigned tokens are never accepted"),
            AlgorithmError::Symmetric(name) => invalid(format!(
                "alg {name}: symmetric algorithms are never accepted"
            )),
            AlgorithmError::Unsupported(name) => invalid(format!("alg {name:?} is not supported")),
        })?,
        Some(_) => return Err(invalid("alg is not a string")),
        None => return Err(invalid("no alg header")),
    };
    if !allowed.contains(&algorithm) {
        return Err(invalid(format!(
            "alg {algorithm} is not allowed for this issuer"
        )));
    }
    if header.contains_key("crit") {
        // We implement no JWS extensions, so any critical one must be refused.
        return Err(invalid("crit header: no JWS extensions are supported"));
    }
    if let Some(name) = REJECTED_KEY_HEADERS
        .iter()
        .find(|name| header.contains_key(**name))
    {
        return Err(invalid(format!(
            "{name} header: keys are only taken from the issuer's JWKS"
        )));
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => kid.clone(),
        Some(Value::String(_)) => {
            return Err(invalid(format!("kid must be 1 to {MAX_KID_BYTES} bytes")));
        }
        Some(_) => return Err(invalid("kid is not a string")),
        None => return Err(invalid("no kid header")),
    };
    Ok(CheckedHeader { algorithm, kid })
}

fn invalid(detail: impl Into<String>) -> ClaimsError {
    ClaimsError::InvalidToken(detail.into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn header(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn header_rule_table() {
        use Algorithm::*;
        let rs256_only: &[Algorithm] = &[RS256];
        /// (header, allowed algorithms, expected (alg, kid) or error detail)
        type Row<'a> = (
            Value,
            &'a [Algorithm],
            Result<(Algorithm, &'a str), &'a str>,
        );
        let rows: Vec<Row> = vec![
            (
                json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}),
                rs256_only,
                Ok((RS256, "k1")),
            ),
            (
                json!({"alg": "RS256", "kid": "k1", "x5t": "abc", "x5c": ["MIIB"]}),
                rs256_only,
                Ok((RS256, "k1")),
            ),
            (
                json!({"alg": "ES256", "kid": "e"}),
                &[RS256, ES256],
                Ok((ES256, "e")),
            ),
            (
                json!({"alg": "EdDSA", "kid": "e"}),
                &[EdDSA],
                Ok((EdDSA, "e")),
            ),
            (
                json!({"alg": "none", "kid": "k1"}),
                rs256_only,
                Err("alg none: unsigned tokens are never accepted"),
            ),
            (
                json!({"alg": "None", "kid": "k1"}),
                rs256_only,
                Err("alg none: unsigned tokens are never accepted"),
            ),
            (
                json!({"alg": "HS256", "kid": "k1"}),
                rs256_only,
                Err("alg HS256: symmetric algorithms are never accepted"),
            ),
            (
                json!({"alg": "RS512", "kid": "k1"}),
                rs256_only,
                Err("alg \"RS512\" is not supported"),
            ),
            (
                json!({"alg": "ES256", "kid": "k1"}),
                rs256_only,
                Err("alg ES256 is not allowed for this issuer"),
            ),
            (
                json!({"alg": 256, "kid": "k1"}),
                rs256_only,
                Err("alg is not a string"),
            ),
            (json!({"kid": "k1"}), rs256_only, Err("no alg header")),
            (
                json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}),
                rs256_only,
                Err("crit header: no JWS extensions are supported"),
            ),
            (
                json!({"alg": "RS256", "kid": "k1", "crit": []}),
                rs256_only,
                Err("crit header: no JWS extensions are supported"),
            ),
            (
                json!({"alg": "RS256", "kid": "k1", "jku": "https://evil.example/jwks"}),
                rs256_only,
                Err("jku header: keys are only taken from the issuer's JWKS"),
            ),
            (
                json!({"alg": "RS256", "kid": "k1", "x5u": "https://evil.example/cert"}),
                rs256_only,
                Err("x5u header: keys are only taken from the issuer's JWKS"),
            ),
            (
                json!({"alg": "RS256", "kid": "k1", "jwk": {"kty": "RSA"}}),
                rs256_only,
                Err("jwk header: keys are only taken from the issuer's JWKS"),
            ),
            (json!({"alg": "RS256"}), rs256_only, Err("no kid header")),
            (
                json!({"alg": "RS256", "kid": ""}),
                rs256_only,
                Err("kid must be 1 to 256 bytes"),
            ),
            (
                json!({"alg": "RS256", "kid": "k".repeat(257)}),
                rs256_only,
                Err("kid must be 1 to 256 bytes"),
            ),
            (
                json!({"alg": "RS256", "kid": 7}),
                rs256_only,
                Err("kid is not a string"),
            ),
        ];
        for (value, allowed, expected) in rows {
            let got = check_header(&header(value.clone()), allowed);
            let want = expected
                .map(|(algorithm, kid)| CheckedHeader {
                    algorithm,
                    kid: kid.to_owned(),
                })
                .map_err(|detail| ClaimsError::InvalidToken(detail.to_owned()));
            assert_eq!(got, want, "{value}");
        }
    }
}
