//! Codec tests: the reference vector, round trips, and one row per rejection.

use super::*;

/// The macaroon-rs V2 test vector quoted in reference B1 (base64url, padded).
const MACAROON_RS_VECTOR: &str = "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQACDHVzZXIgPSBhbGljZQAABiBL6WfNHqDGsmuvakqU7psFsViG2guoXoxCqTyNDhJe_A==";

fn vector_bytes() -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE
        .decode(MACAROON_RS_VECTOR)
        .expect("vector is valid base64url")
}

fn sample() -> Macaroon {
    Macaroon {
        location: b"https://upload.example.org".to_vec(),
        identifier: b"k1:8c1b1bd3-5dc4-4a5e-9d0b-2f1d38e8d5a1".to_vec(),
        caveats: vec![
            RawCaveat::first_party(&b"[0,1700000900,1700000000]"[..]),
            RawCaveat {
                location: Some(b"https://third.example".to_vec()),
                identifier: b"third-party-cid".to_vec(),
                verification_id: Some(vec![7; 72]),
            },
        ],
        signature: [0xab; 32],
    }
}

/// A header with identifier "id", no caveats, then `tail` in place of the final EOS
/// and signature.
fn with_tail(tail: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x02, 0x02, 0x02, b'i', b'd', 0x00];
    bytes.extend_from_slice(tail);
    bytes
}

fn signature_field() -> Vec<u8> {
    let mut field = vec![0x06, 0x20];
    field.extend_from_slice(&[0x11; 32]);
    field
}

#[test]
fn round_trips() {
    let macaroon = sample();
    let decoded = Macaroon::decode_v2(&macaroon.encode_v2()).expect("round trip");
    assert_eq!(decoded, macaroon);
}

#[test]
fn empty_location_is_omitted_and_round_trips() {
    let macaroon = Macaroon {
        location: Vec::new(),
        ..sample()
    };
    let bytes = macaroon.encode_v2();
    assert_eq!(&bytes[..2], &[0x02, 0x02]);
    assert_eq!(Macaroon::decode_v2(&bytes).expect("decodes"), macaroon);
}

#[test]
fn macaroon_rs_vector_decodes_exactly() {
    let bytes = vector_bytes();
    assert_eq!(bytes.len(), 103);
    let macaroon = Macaroon::decode_v2(&bytes).expect("vector decodes");
    assert_eq!(macaroon.location, b"http://example.org/");
    assert_eq!(macaroon.identifier, b"keyid");
    assert_eq!(
        macaroon.caveats,
        vec![
            RawCaveat::first_party(&b"account = 3735928559"[..]),
            RawCaveat::first_party(&b"user = alice"[..]),
        ]
    );
    assert_eq!(&macaroon.signature[..4], &[0x4b, 0xe9, 0x67, 0xcd]);
    assert_eq!(&macaroon.signature[30..], &[0x5e, 0xfc]);
    // Our encoder writes the same bytes back.
    assert_eq!(macaroon.encode_v2(), bytes);
}

#[test]
fn multi_byte_varint_lengths_round_trip() {
    let macaroon = Macaroon {
        identifier: vec![b'x'; 300],
        ..sample()
    };
    let bytes = macaroon.encode_v2();
    // location field (26 bytes) is 1+1+26, then identifier type 2, length 300 = ac 02
    assert_eq!(&bytes[29..32], &[0x02, 0xac, 0x02]);
    assert_eq!(Macaroon::decode_v2(&bytes).expect("decodes"), macaroon);
}

#[test]
fn add_first_party_caveat_extends_the_chain() {
    let mut macaroon = sample();
    let before = macaroon.signature;
    macaroon.add_first_party_caveat(b"[1,[\"a\"]]");
    assert_eq!(
        macaroon.signature,
        chain::hmac_sha256(&before, b"[1,[\"a\"]]")
    );
    assert_eq!(
        macaroon.caveats.last(),
        Some(&RawCaveat::first_party(&b"[1,[\"a\"]]"[..]))
    );
}

#[test]
fn debug_redacts_the_signature() {
    let text = format!("{:?}", sample());
    assert!(text.contains("<redacted>"), "{text}");
    assert!(!text.contains("171, 171"), "{text}");
    assert!(!text.contains("abab"), "{text}");
}

// --- malformed input: one row per rejection ---

#[test]
fn rejects_empty_input() {
    assert_eq!(Macaroon::decode_v2(&[]), Err(CodecError::Empty));
}

#[test]
fn rejects_wrong_version_byte() {
    let mut bytes = vector_bytes();
    bytes[0] = 0x01;
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::UnsupportedVersion(0x01))
    );
    // V1 (hex packet) and V2J (JSON) start with ASCII.
    assert_eq!(
        Macaroon::decode_v2(b"{\"v\":2}"),
        Err(CodecError::UnsupportedVersion(b'{'))
    );
}

#[test]
fn rejects_truncated_varint() {
    // identifier length varint has its continuation bit set, then the input ends
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x02, 0x80]),
        Err(CodecError::TruncatedVarint { offset: 2 })
    );
}

#[test]
fn rejects_overlong_and_non_minimal_varints() {
    let mut eleven = vec![0x02, 0x02];
    eleven.extend_from_slice(&[0xff; 11]);
    assert_eq!(
        Macaroon::decode_v2(&eleven),
        Err(CodecError::InvalidVarint { offset: 2 })
    );
    // 0x80 0x00 encodes 0 in two bytes
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x80, 0x00]),
        Err(CodecError::InvalidVarint { offset: 1 })
    );
    // ten bytes whose last group overflows u64
    let mut overflow = vec![0x02, 0x02];
    overflow.extend_from_slice(&[0xff; 9]);
    overflow.push(0x02);
    assert_eq!(
        Macaroon::decode_v2(&overflow),
        Err(CodecError::InvalidVarint { offset: 2 })
    );
}

#[test]
fn rejects_truncated_field() {
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x02, 0x05, b'a', b'b']),
        Err(CodecError::TruncatedField {
            field_type: 2,
            offset: 1
        })
    );
    let mut short_signature = with_tail(&[0x00, 0x06, 0x20]);
    short_signature.extend_from_slice(&[0x11; 31]);
    assert_eq!(
        Macaroon::decode_v2(&short_signature),
        Err(CodecError::TruncatedField {
            field_type: 6,
            offset: 7
        })
    );
}

#[test]
fn rejects_field_over_the_cap() {
    // 65_536 = 0x80 0x80 0x04
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x02, 0x80, 0x80, 0x04]),
        Err(CodecError::FieldTooLong {
            field_type: 2,
            len: 65_536,
            max: MAX_FIELD_LEN
        })
    );
}

#[test]
fn rejects_fields_out_of_order() {
    // identifier before location in the header
    let bytes = [0x02, 0x02, 0x01, b'i', 0x01, 0x01, b'l', 0x00];
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::FieldOutOfOrder {
            field_type: 1,
            offset: 4
        })
    );
    // a repeated identifier
    let bytes = [0x02, 0x02, 0x01, b'i', 0x02, 0x01, b'j', 0x00];
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::FieldOutOfOrder {
            field_type: 2,
            offset: 4
        })
    );
    // a vid in the header
    let bytes = [0x02, 0x02, 0x01, b'i', 0x04, 0x01, b'v', 0x00];
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::FieldOutOfOrder {
            field_type: 4,
            offset: 4
        })
    );
    // something other than a signature after the caveats
    let bytes = with_tail(&[0x00, 0x02, 0x01, b'x']);
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::FieldOutOfOrder {
            field_type: 2,
            offset: 7
        })
    );
}

#[test]
fn rejects_unknown_field_type() {
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x03, 0x01, b'x']),
        Err(CodecError::UnknownFieldType {
            field_type: 3,
            offset: 1
        })
    );
}

#[test]
fn rejects_section_without_identifier() {
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x01, 0x01, b'l', 0x00]),
        Err(CodecError::MissingIdentifier { offset: 4 })
    );
}

#[test]
fn rejects_first_party_caveat_with_location() {
    let bytes = with_tail(&[0x01, 0x01, b'l', 0x02, 0x01, b'c', 0x00]);
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::LocationWithoutVerificationId { offset: 6 })
    );
}

#[test]
fn rejects_missing_eos() {
    // header never closed
    assert_eq!(
        Macaroon::decode_v2(&[0x02, 0x02, 0x02, b'i', b'd']),
        Err(CodecError::MissingEos)
    );
    // caveat list never closed
    assert_eq!(
        Macaroon::decode_v2(&with_tail(&[0x02, 0x01, b'c', 0x00])),
        Err(CodecError::MissingEos)
    );
}

#[test]
fn rejects_missing_signature() {
    assert_eq!(
        Macaroon::decode_v2(&with_tail(&[0x00])),
        Err(CodecError::MissingSignature)
    );
}

#[test]
fn rejects_signature_of_wrong_length() {
    let mut bytes = with_tail(&[0x00, 0x06, 0x1f]);
    bytes.extend_from_slice(&[0x11; 31]);
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::InvalidSignatureLength(31))
    );
}

#[test]
fn rejects_trailing_garbage() {
    let mut bytes = vector_bytes();
    bytes.extend_from_slice(&[0x00, 0x00]);
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::TrailingBytes(2))
    );
}

#[test]
fn rejects_more_than_max_caveats() {
    let at_cap = Macaroon {
        caveats: vec![RawCaveat::first_party(&b"c"[..]); MAX_CAVEATS],
        ..sample()
    };
    assert_eq!(
        Macaroon::decode_v2(&at_cap.encode_v2())
            .expect("the cap itself is allowed")
            .caveats
            .len(),
        MAX_CAVEATS
    );
    let over_cap = Macaroon {
        caveats: vec![RawCaveat::first_party(&b"c"[..]); MAX_CAVEATS + 1],
        ..sample()
    };
    assert_eq!(
        Macaroon::decode_v2(&over_cap.encode_v2()),
        Err(CodecError::TooManyCaveats { max: MAX_CAVEATS })
    );
}

#[test]
fn accepts_a_valid_minimal_macaroon() {
    let mut bytes = with_tail(&[0x00]);
    bytes.extend_from_slice(&signature_field());
    let macaroon = Macaroon::decode_v2(&bytes).expect("minimal macaroon decodes");
    assert_eq!(macaroon.location, b"");
    assert_eq!(macaroon.identifier, b"id");
    assert!(macaroon.caveats.is_empty());
    assert_eq!(macaroon.signature, [0x11; 32]);
}

#[test]
fn rejects_an_empty_location_field() {
    // Fuzz finding (macaroon_codec, crash-6c8ed721…): `02 01 00` — a location field of
    // length 0 — decoded to the same macaroon as no location field, so decode → encode
    // changed the bytes. A present location must be non-empty.
    let mut bytes = vec![0x02, 0x01, 0x00, 0x02, 0x02, b'i', b'd', 0x00, 0x00];
    bytes.extend_from_slice(&signature_field());
    assert_eq!(
        Macaroon::decode_v2(&bytes),
        Err(CodecError::EmptyLocation { offset: 1 })
    );
    // Without the field it decodes, to a macaroon with an empty location.
    let mut without = vec![0x02, 0x02, 0x02, b'i', b'd', 0x00, 0x00];
    without.extend_from_slice(&signature_field());
    let decoded = Macaroon::decode_v2(&without).expect("decodes");
    assert!(decoded.location.is_empty());
    assert_eq!(decoded.encode_v2(), without);
}
