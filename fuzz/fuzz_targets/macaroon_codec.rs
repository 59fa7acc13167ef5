//! The libmacaroons V2 codec on arbitrary bytes: no panic, and whatever decodes
//! encodes back to exactly the same bytes (one encoding per macaroon, so no two
//! parsers — ours and pymacaroons' — can read one token differently).

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmint_tokens::Macaroon;

fuzz_target!(|data: &[u8]| {
    let Ok(macaroon) = Macaroon::decode_v2(data) else {
        return;
    };
    let encoded = macaroon.encode_v2();
    assert_eq!(encoded, data, "decode → encode is not the identity");
    assert_eq!(Macaroon::decode_v2(&encoded).as_ref(), Ok(&macaroon));
});
