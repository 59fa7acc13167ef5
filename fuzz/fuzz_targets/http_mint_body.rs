//! The mint endpoint's body reader (size cap, chunked input) and its `{"token": …}`
//! parser. Bytes 0–1 pick the limit, byte 2 the chunk size, the rest is the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trustmint_fuzz::runtime;
use trustmint_http::fuzzing::{BodyOutcome, mint_body};

fuzz_target!(|data: &[u8]| {
    let [low, high, chunk, body @ ..] = data else {
        return;
    };
    let limit = usize::from(u16::from_le_bytes([*low, *high]) % 4096);
    let chunk_size = usize::from(*chunk % 64) + 1;
    let chunks: Vec<Vec<u8>> = body.chunks(chunk_size).map(<[u8]>::to_vec).collect();
    let outcome = runtime().block_on(mint_body(chunks, limit));
    if body.len() > limit {
        assert_eq!(outcome, BodyOutcome::Refused(413));
        return;
    }
    let expected = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => match object.get("token") {
            Some(Value::String(token)) => BodyOutcome::Token(token.clone()),
            _ => BodyOutcome::Invalid("invalid-payload"),
        },
        _ => BodyOutcome::Invalid("invalid-payload"),
    };
    assert_eq!(outcome, expected);
});
