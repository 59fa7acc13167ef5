//! **Unverified** decoding of a JWT's header and payload.
//!
//! ⚠️ This is the one dangerous step of verification. Nothing read here is authentic:
//! the signature has not been checked, and anyone can put anything in these JSON
//! objects. The result may be used for exactly two things:
//!
//! 1. routing: reading `iss` to pick a *configured* issuer (an unknown `iss` stops here,
//!    before any network request), and `kid` to pick a key from that issuer's JWKS;
//! 2. the bytes and parsed objects that [`JwtVerifier::verify`](crate::JwtVerifier::verify)
//!    then authenticates with the issuer's key before trusting a single claim.
//!
//! Never log, match publishers on, or make any other decision from an unverified claim.
//! The parsed JSON kept here is the same one whose bytes the signature covers, so there
//! is no second parser whose reading could differ from what was verified.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::ClaimsError;

/// Largest JWT accepted, in bytes, checked before any decoding. CI ID tokens are
/// 1–3 KiB; AWS STS allows 20 KB. Bounds the work an attacker can cause per request.
pub const MAX_JWT_BYTES: usize = 16 * 1024;

/// A JWT split and decoded, but **not verified**.
#[derive(Clone)]
pub(crate) struct UnverifiedJwt {
    pub(crate) header: Map<String, Value>,
    pub(crate) payload: Map<String, Value>,
    /// Length of `base64(header) "." base64(payload)`, the bytes the signature covers.
    pub(crate) signing_input_len: usize,
    pub(crate) signature: Vec<u8>,
}

/// Decodes `jwt` without verifying it. Every failure is [`ClaimsError::Malformed`].
pub(crate) fn peek(jwt: &str) -> Result<UnverifiedJwt, ClaimsError> {
    if jwt.len() > MAX_JWT_BYTES {
        return Err(malformed(format!("longer than {MAX_JWT_BYTES} bytes")));
    }
    let mut segments = jwt.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(malformed("not three dot-separated segments"));
    };
    // The signature covers `base64(header) "." base64(payload)` exactly as sent.
    let signing_input_len = header.len() + 1 + payload.len();
    let header = decode_object(header, "header")?;
    let payload = decode_object(payload, "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| malformed("signature is not base64url"))?;
    match payload.get("iss") {
        Some(Value::String(iss)) if !iss.is_empty() => {}
        Some(_) => return Err(malformed("iss is not a non-empty string")),
        None => return Err(malformed("no iss claim")),
    }
    Ok(UnverifiedJwt {
        header,
        payload,
        signing_input_len,
        signature,
    })
}

fn decode_object(segment: &str, what: &str) -> Result<Map<String, Value>, ClaimsError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| malformed(format!("{what} is not base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(malformed(format!("{what} is not a JSON object"))),
        Err(_) => Err(malformed(format!("{what} is not JSON"))),
    }
}

fn malformed(detail: impl Into<String>) -> ClaimsError {
    ClaimsError::Malformed(detail.into())
}

// === impl UnverifiedJwt ===

impl UnverifiedJwt {
    /// The (unverified!) `iss`; `peek` guarantees it is a non-empty string.
    pub(crate) fn iss(&self) -> &str {
        self.payload
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The (unverified!) header `kid`, if it is a string.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &str) -> String {
        URL_SAFE_NO_PAD.encode(json)
    }

    fn jwt(header: &str, payload: &str, signature: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), signature)
    }

    #[test]
    fn reads_iss_and_kid_without_verifying() {
        let token = jwt(
            r#"{"alg":"RS256","kid":"k1"}"#,
            r#"{"iss":"https://gitlab.com","aud":"pypi"}"#,
            "c2ln",
        );
        let peeked = peek(&token).expect("well-formed");
        assert_eq!(peeked.iss(), "https://gitlab.com");
        assert_eq!(peeked.kid(), Some("k1"));
        assert_eq!(peeked.signature, b"sig");
        assert_eq!(
            &token[..peeked.signing_input_len],
            token.rsplit_once('.').expect("dot").0
        );
    }

    #[test]
    fn empty_signature_is_well_formed_here() {
        // `alg: none` tokens have an empty third segment; verify() rejects them.
        let token = jwt(r#"{"alg":"none"}"#, r#"{"iss":"https://gitlab.com"}"#, "");
        let peeked = peek(&token).expect("well-formed");
        assert!(peeked.signature.is_empty());
        assert_eq!(peeked.signing_input_len, token.len() - 1);
    }

    #[test]
    fn malformed_inputs_never_panic() {
        let header = b64(r#"{"alg":"RS256","kid":"k"}"#);
        let payload = b64(r#"{"iss":"https://gitlab.com"}"#);
        let huge = "a".repeat(MAX_JWT_BYTES + 1);
        let rows: Vec<(String, &str)> = vec![
            (String::new(), "not three dot-separated segments"),
            ("abc".into(), "not three dot-separated segments"),
            ("a.b".into(), "not three dot-separated segments"),
            ("a.b.c.d".into(), "not three dot-separated segments"),
            ("..".into(), "header is not JSON"),
            (
                format!("{header}.{payload}.sig.x"),
                "not three dot-separated segments",
            ),
            (
                format!("{header}==.{payload}.c2ln"),
                "header is not base64url",
            ),
            (format!("!!.{payload}.c2ln"), "header is not base64url"),
            (
                format!("{header}.{payload}.c2ln="),
                "signature is not base64url",
            ),
            (
                format!("{header}.{payload}.@@@"),
                "signature is not base64url",
            ),
            (
                format!("{}.{payload}.c2ln", b64("not json")),
                "header is not JSON",
            ),
            (
                format!("{}.{payload}.c2ln", b64("[1,2]")),
                "header is not a JSON object",
            ),
            (
                format!("{}.{payload}.c2ln", b64("\"RS256\"")),
                "header is not a JSON object",
            ),
            (
                format!("{header}.{}.c2ln", b64("null")),
                "payload is not a JSON object",
            ),
            (
                format!("{header}.{}.c2ln", b64("{\"iss\":")),
                "payload is not JSON",
            ),
            (format!("{header}.{}.c2ln", b64("{}")), "no iss claim"),
            (
                format!("{header}.{}.c2ln", b64(r#"{"iss":42}"#)),
                "iss is not a non-empty string",
            ),
            (
                format!("{header}.{}.c2ln", b64(r#"{"iss":""}"#)),
                "iss is not a non-empty string",
            ),
            (
                format!("{header}.{}.c2ln", b64(r#"{"iss":["https://gitlab.com"]}"#)),
                "iss is not a non-empty string",
            ),
            (
                format!(
                    "{header}.{}.c2ln",
                    URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00])
                ),
                "payload is not JSON",
            ),
            ("é.é.é".into(), "header is not base64url"),
            (" .  . ".into(), "header is not base64url"),
            (huge, "longer than 16384 bytes"),
        ];
        for (input, expected) in rows {
            match peek(&input) {
                Err(ClaimsError::Malformed(detail)) => assert_eq!(detail, expected, "{input:.40}"),
                Err(other) => panic!("{input:.40}: expected Malformed, got {other:?}"),
                Ok(_) => panic!("{input:.40}: expected Malformed, got Ok"),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz over short strings of JWT-ish characters.
        let alphabet: Vec<char> = "ab.-_=eyJ{}\"é \u{0}".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5_000 {
            let mut input = String::new();
            for _ in 0..(state % 40) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                input.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let _ = peek(&input);
        }
    }
}
