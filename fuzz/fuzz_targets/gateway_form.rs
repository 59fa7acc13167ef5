//! The upload gateway's streaming `multipart/form-data` scanner: the part of the gateway
//! that decides which project an upload is for before any byte reaches the index.
//!
//! Input: byte 0 picks the preamble cap (255 = none), byte 1 the number `n` (0–7) of
//! chunk lengths that follow in the next `n` bytes, then the content type up to the
//! first `\n`, then the body.
//!
//! Besides "no panic", it asserts that chunking never changes the verdict — a scanner
//! that reads the same bytes differently when they arrive split differently is a
//! parser differential an attacker can steer — and that an accepted form is one the
//! gateway may check a token for (a `name`, at most one of each deciding field, the file
//! in `content`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmint_http::fuzzing::{FormOutcome, gateway_form};

/// The start of the one refusal that depends on chunking by design: the cap on the
/// fields before the file is checked per chunk received.
const PREAMBLE_TOO_LARGE: &str = "the form fields before the file are larger than";

fuzz_target!(|data: &[u8]| {
    let [cap, count, rest @ ..] = data else {
        return;
    };
    let count = usize::from(*count % 8).min(rest.len());
    let (lengths, rest) = rest.split_at(count);
    let lengths: Vec<usize> = lengths.iter().map(|length| usize::from(*length)).collect();
    let (content_type, body) = match rest.iter().position(|byte| *byte == b'\n') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(content_type) = std::str::from_utf8(content_type) else {
        return;
    };
    let preamble_limit = match *cap {
        255 => usize::MAX,
        cap => usize::from(cap) * 8,
    };

    let whole = gateway_form(content_type, body, &[usize::MAX], usize::MAX);
    let byte_by_byte = gateway_form(content_type, body, &[1], usize::MAX);
    assert_eq!(whole, byte_by_byte, "one chunk and byte-by-byte disagree");

    let chunked = gateway_form(content_type, body, &lengths, preamble_limit);
    match &chunked {
        FormOutcome::Refused(reason) if reason.starts_with(PREAMBLE_TOO_LARGE) => {
            assert_ne!(preamble_limit, usize::MAX);
        }
        chunked => assert_eq!(chunked, &whole, "chunking changed the verdict"),
    }

    if let FormOutcome::Accepted {
        fields, file_field, ..
    } = &whole
    {
        assert!(
            fields.iter().any(|(name, _)| name == "name"),
            "accepted without a name"
        );
        for deciding in ["name", "version", "content"] {
            let times = fields.iter().filter(|(name, _)| name == deciding).count()
                + usize::from(deciding == "content" && file_field.is_some());
            assert!(times <= 1, "'{deciding}' accepted {times} times");
        }
        if let Some(file_field) = file_field {
            assert_eq!(file_field, "content");
        }
    }
});
