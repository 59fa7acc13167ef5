//! The libmacaroons **V2 binary** format, as written and read by libmacaroons,
//! pymacaroons and macaroon-rs ≥ 0.3.
//!
//! ```text
//! VERSION(0x02) [LOCATION] IDENTIFIER EOS { [LOCATION] IDENTIFIER [VID] EOS } EOS SIGNATURE
//! field = type(varint) ‖ length(varint) ‖ bytes;  EOS = the single byte 0x00
//! ```
//!
//! The decoder is the first code that touches attacker-supplied bytes, so it is
//! deliberately strict and bounded: every field is capped at [`MAX_FIELD_LEN`], a
//! macaroon carries at most [`MAX_CAVEATS`] caveats, varints must be minimal, fields
//! must appear in increasing type order and nothing may follow the signature. Each
//! rejection has its own [`CodecError`] variant so tests (and logs) can tell them apart.

use std::fmt;

use crate::chain;

/// Largest accepted field, in bytes (macaroon-rs uses the same cap; ours are far smaller).
pub const MAX_FIELD_LEN: usize = 65_535;

/// Most caveats a decoded macaroon may carry. A minted token has 3; holders may add a
/// few to attenuate. The cap bounds the HMAC work an anonymous caller can cause.
pub const MAX_CAVEATS: usize = 64;

/// Length of a macaroon signature (HMAC-SHA256 output).
pub const SIGNATURE_LEN: usize = 32;

const VERSION_V2: u8 = 0x02;
const FIELD_EOS: u64 = 0;
const FIELD_LOCATION: u64 = 1;
const FIELD_IDENTIFIER: u64 = 2;
const FIELD_VID: u64 = 4;
const FIELD_SIGNATURE: u64 = 6;
/// A u64 needs at most ten 7-bit groups.
const MAX_VARINT_LEN: usize = 10;

/// A macaroon: a location hint, an identifier, caveats and the HMAC-chain signature.
///
/// `Debug` prints everything except the signature: location, identifier and caveats are
/// not secret, but together with the signature they are the bearer token.
#[derive(Clone, PartialEq, Eq)]
pub struct Macaroon {
    /// Where the macaroon is meant to be used (`server.location`); may be empty, in
    /// which case the field is omitted on the wire.
    pub location: Vec<u8>,
    /// The identifier the root key is found by (`<key id>:<uuid>` for trustmint tokens).
    pub identifier: Vec<u8>,
    /// Caveats in chain order.
    pub caveats: Vec<RawCaveat>,
    /// The final HMAC-chain signature.
    pub signature: [u8; SIGNATURE_LEN],
}

/// One caveat as it appears on the wire. A caveat with a `verification_id` is a
/// third-party caveat; trustmint never mints those and denies them on verify.
#[derive(Clone, PartialEq, Eq)]
pub struct RawCaveat {
    /// Third-party location; `None` for first-party caveats.
    pub location: Option<Vec<u8>>,
    /// The caveat identifier: for first-party caveats, the predicate bytes.
    pub identifier: Vec<u8>,
    /// The verification id (vid) of a third-party caveat.
    pub verification_id: Option<Vec<u8>>,
}

/// Why bytes are not a well-formed V2 macaroon.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The input is empty.
    #[error("macaroon is empty")]
    Empty,
    /// The first byte is not the V2 version byte `0x02`.
    #[error("unsupported macaroon version byte {0:#04x} (expected 0x02)")]
    UnsupportedVersion(u8),
    /// The input ends inside a varint.
    #[error("truncated varint at offset {offset}")]
    TruncatedVarint {
        /// Byte offset of the varint.
        offset: usize,
    },
    /// A varint is longer than ten bytes, overflows u64 or is not minimally encoded.
    #[error("invalid varint at offset {offset}")]
    InvalidVarint {
        /// Byte offset of the varint.
        offset: usize,
    },
    /// A field's declared length runs past the end of the input.
    #[error("truncated field of type {field_type} at offset {offset}")]
    TruncatedField {
        /// The field type.
        field_type: u64,
        /// Byte offset of the field.
        offset: usize,
    },
    /// A field is longer than [`MAX_FIELD_LEN`].
    #[error("field of type {field_type} is {len} bytes long (at most {max} allowed)")]
    FieldTooLong {
        /// The field type.
        field_type: u64,
        /// Declared length.
        len: u64,
        /// The cap.
        max: usize,
    },
    /// A field type the V2 format does not define.
    #[error("unknown field type {field_type} at offset {offset}")]
    UnknownFieldType {
        /// The field type.
        field_type: u64,
        /// Byte offset of the field.
        offset: usize,
    },
    /// A known field type where it may not appear (repeated, or out of order).
    #[error("field of type {field_type} out of order at offset {offset}")]
    FieldOutOfOrder {
        /// The field type.
        field_type: u64,
        /// Byte offset of the field.
        offset: usize,
    },
    /// A section (the header or a caveat) has no identifier field.
    #[error("section ending at offset {offset} has no identifier")]
    MissingIdentifier {
        /// Byte offset of the EOS that closed the section.
        offset: usize,
    },
    /// A caveat has a location but no vid; pymacaroons rejects that too.
    #[error("first-party caveat at offset {offset} carries a location")]
    LocationWithoutVerificationId {
        /// Byte offset of the caveat.
        offset: usize,
    },
    /// The input ends where an end-of-section marker or another field was expected.
    #[error("missing end-of-section marker")]
    MissingEos,
    /// More than [`MAX_CAVEATS`] caveats.
    #[error("more than {max} caveats")]
    TooManyCaveats {
        /// The cap.
        max: usize,
    },
    /// No signature field after the caveats.
    #[error("missing signature")]
    MissingSignature,
    /// The signature field is not 32 bytes long.
    #[error("signature is {0} bytes long (expected 32)")]
    InvalidSignatureLength(usize),
    /// Bytes follow the signature.
    #[error("{0} trailing bytes after the signature")]
    TrailingBytes(usize),
}

// === impl Macaroon ===

impl Macaroon {
    /// Encodes in the V2 binary format. Inverse of [`Macaroon::decode_v2`] for every
    /// macaroon within the decoder's caps.
    pub fn encode_v2(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len_hint());
        out.push(VERSION_V2);
        if !self.location.is_empty() {
            put_field(&mut out, FIELD_LOCATION, &self.location);
        }
        put_field(&mut out, FIELD_IDENTIFIER, &self.identifier);
        out.push(0);
        for caveat in &self.caveats {
            if let Some(location) = &caveat.location {
                put_field(&mut out, FIELD_LOCATION, location);
            }
            put_field(&mut out, FIELD_IDENTIFIER, &caveat.identifier);
            if let Some(vid) = &caveat.verification_id {
                put_field(&mut out, FIELD_VID, vid);
            }
            out.push(0);
        }
        out.push(0);
        put_field(&mut out, FIELD_SIGNATURE, &self.signature);
        out
    }

    /// Decodes the V2 binary format, rejecting anything outside the grammar or the caps
    /// (see the module docs). Does not check the signature.
    pub fn decode_v2(bytes: &[u8]) -> Result<Macaroon, CodecError> {
        let (&version, _) = bytes.split_first().ok_or(CodecError::Empty)?;
        if version != VERSION_V2 {
            return Err(CodecError::UnsupportedVersion(version));
        }
        let mut reader = Reader { bytes, pos: 1 };

        let header = reader.section(&[FIELD_LOCATION, FIELD_IDENTIFIER])?;
        let mut caveats = Vec::new();
        loop {
            match reader.peek() {
                None => return Err(CodecError::MissingEos),
                Some(0) => {
                    reader.pos += 1;
                    break;
                }
                Some(_) => {}
            }
            if caveats.len() == MAX_CAVEATS {
                return Err(CodecError::TooManyCaveats { max: MAX_CAVEATS });
            }
            let start = reader.pos;
            let section = reader.section(&[FIELD_LOCATION, FIELD_IDENTIFIER, FIELD_VID])?;
            if section.location.is_some() && section.verification_id.is_none() {
                return Err(CodecError::LocationWithoutVerificationId { offset: start });
            }
            caveats.push(RawCaveat {
                location: section.location,
                identifier: section.identifier,
                verification_id: section.verification_id,
            });
        }

        let field_offset = reader.pos;
        if reader.peek().is_none() {
            return Err(CodecError::MissingSignature);
        }
        let field_type = reader.field_type()?;
        if field_type != FIELD_SIGNATURE {
            return Err(CodecError::FieldOutOfOrder {
                field_type,
                offset: field_offset,
            });
        }
        let value = reader.field_value(field_type, field_offset)?;
        let signature: [u8; SIGNATURE_LEN] = value
            .try_into()
            .map_err(|_| CodecError::InvalidSignatureLength(value.len()))?;
        let trailing = bytes.len() - reader.pos;
        if trailing != 0 {
            return Err(CodecError::TrailingBytes(trailing));
        }

        Ok(Macaroon {
            location: header.location.unwrap_or_default(),
            identifier: header.identifier,
            caveats,
            signature,
        })
    }

    /// Appends a first-party caveat the way a holder attenuates a macaroon
    /// (pymacaroons `add_first_party_caveat`): the new signature is
    /// `HMAC(old signature, predicate)`, so no key is needed.
    pub fn add_first_party_caveat(&mut self, predicate: &[u8]) {
        self.signature = chain::hmac_sha256(&self.signature, predicate);
        self.caveats.push(RawCaveat {
            location: None,
            identifier: predicate.to_vec(),
            verification_id: None,
        });
    }

    fn encoded_len_hint(&self) -> usize {
        let caveat_bytes: usize = self.caveats.iter().map(|c| c.identifier.len() + 8).sum();
        self.location.len() + self.identifier.len() + caveat_bytes + 48
    }
}

impl fmt::Debug for Macaroon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Macaroon")
            .field("location", &String::from_utf8_lossy(&self.location))
            .field("identifier", &String::from_utf8_lossy(&self.identifier))
            .field("caveats", &self.caveats)
            .field("signature", &"<redacted>")
            .finish()
    }
}

// === impl RawCaveat ===

impl RawCaveat {
    /// A first-party caveat with the given predicate.
    pub fn first_party(predicate: impl Into<Vec<u8>>) -> RawCaveat {
        RawCaveat {
            location: None,
            identifier: predicate.into(),
            verification_id: None,
        }
    }

    /// Whether this is a third-party caveat (it has a verification id).
    pub fn is_third_party(&self) -> bool {
        self.verification_id.is_some()
    }
}

impl fmt::Debug for RawCaveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("RawCaveat");
        if let Some(location) = &self.location {
            s.field("location", &String::from_utf8_lossy(location));
        }
        s.field("identifier", &String::from_utf8_lossy(&self.identifier));
        if let Some(vid) = &self.verification_id {
            s.field("verification_id", &hex::encode(vid));
        }
        s.finish()
    }
}

// === encoding ===

fn put_field(out: &mut Vec<u8>, field_type: u64, value: &[u8]) {
    put_varint(out, field_type);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

// === decoding ===

/// The fields of one section, in wire order.
struct Section {
    location: Option<Vec<u8>>,
    identifier: Vec<u8>,
    verification_id: Option<Vec<u8>>,
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Reads fields up to and including the section's EOS. `allowed` lists the field
    /// types in the only order they may appear; each at most once.
    fn section(&mut self, allowed: &[u64]) -> Result<Section, CodecError> {
        let mut location = None;
        let mut identifier = None;
        let mut verification_id = None;
        let mut next_allowed = 0;
        loop {
            let offset = self.pos;
            if self.peek().is_none() {
                return Err(CodecError::MissingEos);
            }
            let field_type = self.field_type()?;
            if field_type == FIELD_EOS {
                let identifier = identifier.ok_or(CodecError::MissingIdentifier { offset })?;
                return Ok(Section {
                    location,
                    identifier,
                    verification_id,
                });
            }
            let index = allowed[next_allowed..]
                .iter()
                .position(|&t| t == field_type)
                .ok_or(CodecError::FieldOutOfOrder { field_type, offset })?;
            next_allowed += index + 1;
            let value = self.field_value(field_type, offset)?.to_vec();
            match field_type {
                FIELD_LOCATION => location = Some(value),
                FIELD_IDENTIFIER => identifier = Some(value),
                _ => verification_id = Some(value),
            }
        }
    }

    /// Reads a field type, rejecting types the format does not define.
    fn field_type(&mut self) -> Result<u64, CodecError> {
        let offset = self.pos;
        let field_type = self.varint()?;
        match field_type {
            FIELD_EOS | FIELD_LOCATION | FIELD_IDENTIFIER | FIELD_VID | FIELD_SIGNATURE => {
                Ok(field_type)
            }
            _ => Err(CodecError::UnknownFieldType { field_type, offset }),
        }
    }

    /// Reads a field's length and value (the type has been read).
    fn field_value(&mut self, field_type: u64, offset: usize) -> Result<&'a [u8], CodecError> {
        let len = self.varint()?;
        if len > MAX_FIELD_LEN as u64 {
            return Err(CodecError::FieldTooLong {
                field_type,
                len,
                max: MAX_FIELD_LEN,
            });
        }
        // Fits: len ≤ MAX_FIELD_LEN.
        let len = len as usize;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len())
            .ok_or(CodecError::TruncatedField { field_type, offset })?;
        let value = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(value)
    }

    /// LEB128, minimal encoding only (so every macaroon has exactly one encoding).
    fn varint(&mut self) -> Result<u64, CodecError> {
        let offset = self.pos;
        let mut value: u64 = 0;
        for index in 0..MAX_VARINT_LEN {
            let byte = *self
                .bytes
                .get(offset + index)
                .ok_or(CodecError::TruncatedVarint { offset })?;
            let group = u64::from(byte & 0x7f);
            let shift = 7 * index as u32;
            if shift == 63 && group > 1 {
                return Err(CodecError::InvalidVarint { offset });
            }
            value |= group << shift;
            if byte & 0x80 == 0 {
                if byte == 0 && index > 0 {
                    return Err(CodecError::InvalidVarint { offset });
                }
                self.pos = offset + index + 1;
                return Ok(value);
            }
        }
        Err(CodecError::InvalidVarint { offset })
    }
}

#[cfg(test)]
mod tests {
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
}
