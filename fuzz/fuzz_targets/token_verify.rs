//! Token parsing and verification (prefix, base64, V2 macaroon, identifier, HMAC
//! chain, caveat JSON) with a real keyring.
//!
//! The first byte picks the mode. Even: the rest is a presented token, parsed and
//! verified as is. Odd: the rest is a list of caveat predicates (one per line) that a
//! holder appends to a genuinely minted token, so the chain stays intact and the caveat
//! parser and checks are what gets fuzzed.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use trustmint_fuzz::{NOW, PREFIX, PROJECT, PUBLISHER_ID, keyring, minted_token};
use trustmint_tokens::{
    MAX_CAVEATS, MAX_TOKEN_LEN, MINTED_CAVEAT_COUNT, VerifyContext, parse_token, verify,
    verify_signature,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let publishers = vec![PUBLISHER_ID.to_owned()];
    let context = VerifyContext {
        project: PROJECT,
        publisher_ids: &publishers,
        now: NOW,
        not_before_skew_secs: 30,
    };
    let presented = if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        text.to_owned()
    } else {
        let predicates: Vec<&[u8]> = rest.split(|byte| *byte == b'\n').collect();
        if predicates.len() + MINTED_CAVEAT_COUNT > MAX_CAVEATS {
            return;
        }
        let minted = minted_token();
        let mut macaroon = parse_token(minted.expose_secret(), PREFIX)
            .expect("a minted token parses")
            .macaroon;
        for predicate in &predicates {
            macaroon.add_first_party_caveat(predicate);
        }
        let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(macaroon.encode_v2()));
        if token.len() > MAX_TOKEN_LEN {
            return;
        }
        // An attenuated genuine token always parses and keeps an intact chain.
        let parsed = parse_token(&token, PREFIX).expect("an attenuated token parses");
        assert_eq!(parsed.macaroon, macaroon);
        verify_signature(&parsed, keyring()).expect("the chain of an attenuated token holds");
        token
    };
    let Ok(parsed) = parse_token(&presented, PREFIX) else {
        return;
    };
    if let Ok(verified) = verify(&parsed, keyring(), &context) {
        // Allowed means: for this project, this publisher, not expired.
        assert!(verified.projects.iter().any(|project| project == PROJECT));
        assert_eq!(verified.publisher_id, PUBLISHER_ID);
        assert!(verified.expires_at > NOW);
        assert!(verified.not_before <= NOW + context.not_before_skew_secs);
    }
});
