//! The unverified peek (split, base64url, JSON, `iss`) and the JOSE header rules, on
//! arbitrary text: no panic, and what the peek reports is consistent with the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmint_claims::Algorithm;
use trustmint_claims::fuzzing::peek_and_check_header;

const ALLOWED: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

fuzz_target!(|data: &[u8]| {
    let Ok(jwt) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(outcome) = peek_and_check_header(jwt, &ALLOWED) else {
        return;
    };
    assert!(jwt.len() <= trustmint_claims::MAX_JWT_BYTES);
    // The signing input is exactly `header "." payload`, up to the second dot.
    assert!(outcome.signing_input_len < jwt.len() || jwt.ends_with('.'));
    assert!(jwt.is_char_boundary(outcome.signing_input_len));
    assert_eq!(jwt.as_bytes().get(outcome.signing_input_len), Some(&b'.'));
    assert!(!outcome.iss.is_empty());
    if let Ok((_, kid)) = &outcome.header {
        assert!(!kid.is_empty() && kid.len() <= 256);
        assert_eq!(outcome.kid.as_deref(), Some(kid.as_str()));
    }
});
