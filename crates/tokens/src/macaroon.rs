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
    /// The macaroon's location field is present but empty. Encoders (ours,
    /// libmacaroons, pymacaroons) omit an empty location, so accepting one would give a
    /// macaroon two encodings (found by the `macaroon_codec` fuzz target).
    #[error("empty location field at offset {offset}")]
    EmptyLocation {
        /// Byte offset of the field.
        offset: usize,
    },
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
        if header.location.as_ref().is_some_and(Vec::is_empty) {
            // The location field, if any, is the first one after the version byte.
            return Err(CodecError::EmptyLocation { offset: 1 });
        }
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
        self.caveats.push(RawCaveat::first_party(predicate));
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
mod tests;
