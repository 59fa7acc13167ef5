//! Serde helpers for publisher spec fields, shared by every platform's spec type.
//!
//! Declarations come from TOML config (via JSON) and API bodies, where "not set" may be
//! written as an absent key, `null` or `""`, and numeric ids (`repository_owner_id`,
//! `actor_id`, …) may be written as numbers. The spec types are plain `String`s (empty =
//! not set, PyPI's convention), so these deserializers map every accepted spelling
//! onto that and word the refusal the way the validation errors are worded.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A text field: a string, or `null` for "not set".
pub(crate) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(TextVisitor { ids: false })
}

/// A numeric id field: a string, a whole number (kept in decimal) or `null`.
pub(crate) fn id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(TextVisitor { ids: true })
}

#[derive(Debug)]
struct TextVisitor {
    ids: bool,
}

impl TextVisitor {
    fn refusal<E: de::Error>(&self) -> E {
        E::custom(if self.ids {
            "must be a string or a positive whole number"
        } else {
            "must be a string"
        })
    }
}

impl<'de> Visitor<'de> for TextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.ids {
            "a string or a positive whole number"
        } else {
            "a string"
        })
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<String, E> {
        Ok(value)
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<String, E> {
        if self.ids {
            Ok(value.to_string())
        } else {
            Err(self.refusal())
        }
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
        Err(self.refusal())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(self.refusal())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<String, E> {
        Err(self.refusal())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.refusal())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<String, A::Error> {
        Err(self.refusal())
    }
}

/// The field names serde's derive declared for `T`, in declaration order: the one
/// source of truth for the "expected one of" lists and the docs drift test.
///
/// Serde exposes them only to the deserializer it drives, so this drives it with a
/// deserializer that records them and stops; no crate offers this narrowly.
pub(crate) fn field_names<'de, T: serde::Deserialize<'de>>() -> &'static [&'static str] {
    let mut recorder = FieldRecorder { fields: &[] };
    // The recorder always refuses after recording; the result carries nothing.
    let _ = T::deserialize(&mut recorder);
    recorder.fields
}

#[derive(Debug)]
struct FieldRecorder {
    fields: &'static [&'static str],
}

impl<'de> Deserializer<'de> for &mut FieldRecorder {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only structs are introspected"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.fields = fields;
        Err(de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}
