//! Warehouse-style first-party caveats: JSON arrays `[tag, field…]` with compact
//! separators, byte-identical to what Warehouse writes with
//! `json.dumps(…, sort_keys=True, separators=(",", ":"))`.
//!
//! | tag | caveat | fields |
//! |---|---|---|
//! | 0 | [`Caveat::Expiration`] | `expires_at: int, not_before: int` |
//! | 1 | [`Caveat::ProjectName`] | `normalized_names: [str]` |
//! | 2 | [`Caveat::ProjectId`] | `project_ids: [str]` |
//! | 3 | [`Caveat::RequestUser`] | `user_id: str` |
//! | 4 | [`Caveat::OidcPublisher`] | `oidc_publisher_id: str, oidc_claims: null` (deprecated, defaults to null) |
//! | 10 | [`Caveat::Ecosystem`] | `ecosystem: str` (trustmint's; Warehouse has none) |
//!
//! Parsing follows Warehouse's `deserialize` and uses its error texts, with strict
//! types (`[0,"50",10]` is invalid; booleans and floats are not integers). It is
//! stricter than Warehouse in three places, because an unverifiable restriction must
//! deny rather than be ignored: legacy dict caveats are rejected ("caveat must be an
//! array"), values beyond the known fields are rejected ("too many values") instead of
//! being ignored, and a non-null `oidc_claims` is invalid. Non-JSON input gets its own
//! message ("caveat is not valid JSON") where Warehouse says "unknown error".

use serde_json::{Value, json};

/// Tag of [`Caveat::Expiration`].
pub const TAG_EXPIRATION: i64 = 0;
/// Tag of [`Caveat::ProjectName`].
pub const TAG_PROJECT_NAME: i64 = 1;
/// Tag of [`Caveat::ProjectId`].
pub const TAG_PROJECT_ID: i64 = 2;
/// Tag of [`Caveat::RequestUser`].
pub const TAG_REQUEST_USER: i64 = 3;
/// Tag of [`Caveat::OidcPublisher`].
pub const TAG_OIDC_PUBLISHER: i64 = 4;
/// Tag of [`Caveat::Ecosystem`]: well clear of Warehouse's tags, so a future Warehouse
/// caveat cannot be mistaken for it.
pub const TAG_ECOSYSTEM: i64 = 10;

/// A first-party caveat trustmint understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caveat {
    /// `[0, expires_at, not_before]`: valid while `not_before <= now < expires_at`.
    Expiration {
        /// First instant (unix seconds) at which the token is expired.
        expires_at: i64,
        /// First instant (unix seconds) at which the token is valid.
        not_before: i64,
    },
    /// `[1, ["name", …]]`: only these PEP 503-normalised projects.
    ProjectName(Vec<String>),
    /// `[2, ["id", …]]`: only these project ids (Warehouse; not evaluable by trustmint).
    ProjectId(Vec<String>),
    /// `[3, "user id"]`: only this user (Warehouse; not evaluable by trustmint).
    RequestUser(String),
    /// `[4, "publisher id", null]`: only while this trusted publisher is current.
    OidcPublisher {
        /// The publisher the token was minted for.
        publisher_id: String,
    },
    /// `[10, "npm"]`: the door (package ecosystem) the token was minted through; only
    /// verifications for that ecosystem accept it. PyPI tokens carry none, so they stay
    /// byte-identical to Warehouse's.
    Ecosystem(String),
}

/// Why a predicate is not a caveat trustmint understands. `Display` texts are
/// Warehouse's where Warehouse has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaveatError {
    /// The predicate is not JSON (Warehouse reports "unknown error").
    #[error("caveat is not valid JSON")]
    InvalidJson,
    /// Not a JSON array (includes Warehouse's legacy dict caveats, which we reject).
    #[error("caveat must be an array")]
    NotAnArray,
    /// `[]`.
    #[error("caveat array cannot be empty")]
    EmptyArray,
    /// The tag is not one of 0–4; carries the tag as written.
    #[error("caveat has unknown tag: {0}")]
    UnknownTag(String),
    /// Fewer values than the caveat's required fields.
    #[error("Not enough values")]
    NotEnoughValues,
    /// More values than the caveat has fields (Warehouse ignores them; we deny).
    #[error("too many values")]
    TooManyValues,
    /// A value of the wrong type.
    #[error("invalid values for fields")]
    InvalidValues,
}

// === impl Caveat ===

impl Caveat {
    /// The predicate bytes (as a string) for this caveat, exactly as Warehouse would
    /// serialise it, including `ensure_ascii` escaping of non-ASCII characters.
    pub fn to_predicate(&self) -> String {
        let value = match self {
            Caveat::Expiration {
                expires_at,
                not_before,
            } => json!([TAG_EXPIRATION, expires_at, not_before]),
            Caveat::ProjectName(names) => json!([TAG_PROJECT_NAME, names]),
            Caveat::ProjectId(ids) => json!([TAG_PROJECT_ID, ids]),
            Caveat::RequestUser(user) => json!([TAG_REQUEST_USER, user]),
            Caveat::OidcPublisher { publisher_id } => {
                json!([TAG_OIDC_PUBLISHER, publisher_id, null])
            }
            Caveat::Ecosystem(ecosystem) => json!([TAG_ECOSYSTEM, ecosystem]),
        };
        escape_non_ascii(&value.to_string())
    }

    /// Parses a predicate; see the module docs for the rules.
    pub fn parse(predicate: &[u8]) -> Result<Caveat, CaveatError> {
        let value: Value =
            serde_json::from_slice(predicate).map_err(|_| CaveatError::InvalidJson)?;
        let Value::Array(items) = value else {
            return Err(CaveatError::NotAnArray);
        };
        let (tag, fields) = items.split_first().ok_or(CaveatError::EmptyArray)?;
        let fields = Fields::new(fields);
        match strict_int(tag) {
            Some(TAG_EXPIRATION) => {
                fields.expect_count(2, 2)?;
                Ok(Caveat::Expiration {
                    expires_at: fields.required(0, strict_int)?,
                    not_before: fields.required(1, strict_int)?,
                })
            }
            Some(TAG_PROJECT_NAME) => {
                fields.expect_count(1, 1)?;
                Ok(Caveat::ProjectName(fields.required(0, string_list)?))
            }
            Some(TAG_PROJECT_ID) => {
                fields.expect_count(1, 1)?;
                Ok(Caveat::ProjectId(fields.required(0, string_list)?))
            }
            Some(TAG_REQUEST_USER) => {
                fields.expect_count(1, 1)?;
                Ok(Caveat::RequestUser(fields.required(0, string)?))
            }
            Some(TAG_OIDC_PUBLISHER) => {
                fields.expect_count(1, 2)?;
                let publisher_id = fields.required(0, string)?;
                // The deprecated `oidc_claims` field: absent or null only.
                match fields.optional(1) {
                    None | Some(Value::Null) => Ok(Caveat::OidcPublisher { publisher_id }),
                    Some(_) => Err(CaveatError::InvalidValues),
                }
            }
            Some(TAG_ECOSYSTEM) => {
                fields.expect_count(1, 1)?;
                Ok(Caveat::Ecosystem(fields.required(0, string)?))
            }
            _ => Err(CaveatError::UnknownTag(tag_text(tag))),
        }
    }

    /// The Warehouse name of the caveat kind (for logs and metrics labels).
    pub fn kind(&self) -> &'static str {
        match self {
            Caveat::Expiration { .. } => "Expiration",
            Caveat::ProjectName(_) => "ProjectName",
            Caveat::ProjectId(_) => "ProjectID",
            Caveat::RequestUser(_) => "RequestUser",
            Caveat::OidcPublisher { .. } => "OIDCPublisher",
            Caveat::Ecosystem(_) => "Ecosystem",
        }
    }
}

// === field access ===

/// The values after the tag.
struct Fields<'a>(&'a [Value]);

impl<'a> Fields<'a> {
    fn new(values: &'a [Value]) -> Self {
        Fields(values)
    }

    /// Checks the number of values before their types, as Warehouse does (so `[0,"5"]`
    /// is "Not enough values", not "invalid values for fields").
    fn expect_count(&self, required: usize, max: usize) -> Result<(), CaveatError> {
        if self.0.len() < required {
            return Err(CaveatError::NotEnoughValues);
        }
        if self.0.len() > max {
            return Err(CaveatError::TooManyValues);
        }
        Ok(())
    }

    fn required<T>(
        &self,
        index: usize,
        convert: fn(&Value) -> Option<T>,
    ) -> Result<T, CaveatError> {
        let value = self.0.get(index).ok_or(CaveatError::NotEnoughValues)?;
        convert(value).ok_or(CaveatError::InvalidValues)
    }

    fn optional(&self, index: usize) -> Option<&'a Value> {
        self.0.get(index)
    }
}

/// An integer written as an integer: not a float, not a string, not a boolean.
fn strict_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) if !number.is_f64() => number.as_i64(),
        _ => None,
    }
}

fn string(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value.as_array()?.iter().map(string).collect()
}

/// The tag the way Warehouse's f-string prints it (strings unquoted).
fn tag_text(tag: &Value) -> String {
    match tag {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Python's `json.dumps(ensure_ascii=True)` escapes every character outside
/// printable ASCII as `\uXXXX` (UTF-16 units). serde_json already escapes the
/// control characters, so what is left to escape is DEL and everything above it; those
/// can only occur inside strings, so escaping them in the whole text is safe.
fn escape_non_ascii(json_text: &str) -> String {
    if json_text.bytes().all(|b| b < 0x7f) {
        return json_text.to_owned();
    }
    let mut out = String::with_capacity(json_text.len() + 16);
    for c in json_text.chars() {
        if (c as u32) < 0x7f {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn parse_err(predicate: &str) -> String {
        Caveat::parse(predicate.as_bytes())
            .expect_err("predicate must be rejected")
            .to_string()
    }

    // --- reference §7.5 item 68: serialisation, one row each ---

    #[test]
    fn serialises_expiration() {
        let caveat = Caveat::Expiration {
            expires_at: 50,
            not_before: 10,
        };
        assert_eq!(caveat.to_predicate(), "[0,50,10]");
    }

    #[test]
    fn serialises_project_name() {
        let caveat = Caveat::ProjectName(names(&["foo", "bar"]));
        assert_eq!(caveat.to_predicate(), r#"[1,["foo","bar"]]"#);
    }

    #[test]
    fn serialises_project_id() {
        let caveat = Caveat::ProjectId(names(&["123uuid", "456uuid"]));
        assert_eq!(caveat.to_predicate(), r#"[2,["123uuid","456uuid"]]"#);
    }

    #[test]
    fn serialises_request_user() {
        let caveat = Caveat::RequestUser("a uuid".into());
        assert_eq!(caveat.to_predicate(), r#"[3,"a uuid"]"#);
    }

    #[test]
    fn serialises_oidc_publisher_with_trailing_null() {
        let caveat = Caveat::OidcPublisher {
            publisher_id: "somepublisher".into(),
        };
        assert_eq!(caveat.to_predicate(), r#"[4,"somepublisher",null]"#);
    }

    #[test]
    fn deserialises_oidc_publisher_without_trailing_field() {
        assert_eq!(
            Caveat::parse(br#"[4,"somepublisher"]"#),
            Ok(Caveat::OidcPublisher {
                publisher_id: "somepublisher".into()
            })
        );
    }

    #[test]
    fn every_kind_round_trips() {
        let caveats = [
            Caveat::Expiration {
                expires_at: 1_700_000_900,
                not_before: 1_700_000_000,
            },
            Caveat::ProjectName(names(&["sampleproject"])),
            Caveat::ProjectId(names(&["id-1"])),
            Caveat::RequestUser("user".into()),
            Caveat::OidcPublisher {
                publisher_id: "pub".into(),
            },
        ];
        for caveat in caveats {
            assert_eq!(
                Caveat::parse(caveat.to_predicate().as_bytes()),
                Ok(caveat.clone())
            );
        }
    }

    #[test]
    fn escapes_non_ascii_like_python() {
        // json.dumps([3, "é😀\x7f"], separators=(",", ":"))
        let caveat = Caveat::RequestUser("é😀\u{7f}".into());
        assert_eq!(caveat.to_predicate(), r#"[3,"\u00e9\ud83d\ude00\u007f"]"#);
        assert_eq!(Caveat::parse(caveat.to_predicate().as_bytes()), Ok(caveat));
    }

    // --- reference §7.5 item 69: invalid caveats, one row each ---

    #[test]
    fn rejects_legacy_version_dict() {
        assert_eq!(parse_err(r#"{"version":1}"#), "caveat must be an array");
    }

    #[test]
    fn rejects_legacy_permissions_dict() {
        assert_eq!(
            parse_err(r#"{"version":1,"permissions":[]}"#),
            "caveat must be an array"
        );
    }

    #[test]
    fn rejects_legacy_exp_dict() {
        assert_eq!(parse_err(r#"{"exp":1}"#), "caveat must be an array");
    }

    #[test]
    fn rejects_legacy_nbf_dict() {
        assert_eq!(parse_err(r#"{"nbf":1}"#), "caveat must be an array");
    }

    #[test]
    fn rejects_string_integer() {
        assert_eq!(parse_err(r#"[0,"50",10]"#), "invalid values for fields");
    }

    #[test]
    fn rejects_too_few_values() {
        assert_eq!(parse_err("[0,5]"), "Not enough values");
    }

    #[test]
    fn counts_values_before_checking_types() {
        assert_eq!(parse_err(r#"[0,"5"]"#), "Not enough values");
        assert_eq!(parse_err("[1]"), "Not enough values");
        assert_eq!(parse_err("[4]"), "Not enough values");
    }

    #[test]
    fn rejects_json_string() {
        assert_eq!(parse_err(r#""foo""#), "caveat must be an array");
    }

    #[test]
    fn rejects_null() {
        assert_eq!(parse_err("null"), "caveat must be an array");
    }

    #[test]
    fn rejects_empty_array() {
        assert_eq!(parse_err("[]"), "caveat array cannot be empty");
    }

    #[test]
    fn rejects_unknown_tag() {
        assert_eq!(parse_err("[9999999]"), "caveat has unknown tag: 9999999");
    }

    // --- stricter than Warehouse, and type strictness ---

    #[test]
    fn rejects_non_json() {
        assert_eq!(
            parse_err("account = 3735928559"),
            "caveat is not valid JSON"
        );
        assert_eq!(Caveat::parse(&[0xff, 0xfe]), Err(CaveatError::InvalidJson));
    }

    #[test]
    fn rejects_extra_values() {
        assert_eq!(parse_err("[0,50,10,1]"), "too many values");
        assert_eq!(parse_err(r#"[1,["a"],"b"]"#), "too many values");
        assert_eq!(parse_err(r#"[4,"p",null,1]"#), "too many values");
    }

    #[test]
    fn rejects_non_null_oidc_claims() {
        assert_eq!(
            parse_err(r#"[4,"p",{"ref":"main"}]"#),
            "invalid values for fields"
        );
    }

    #[test]
    fn rejects_float_and_bool_integers() {
        assert_eq!(parse_err("[0,50.0,10]"), "invalid values for fields");
        assert_eq!(parse_err("[0,true,10]"), "invalid values for fields");
        assert_eq!(
            parse_err("[0,18446744073709551615,10]"),
            "invalid values for fields"
        );
    }

    #[test]
    fn rejects_non_string_list_items() {
        assert_eq!(parse_err(r#"[1,["a",1]]"#), "invalid values for fields");
        assert_eq!(parse_err(r#"[1,"a"]"#), "invalid values for fields");
        assert_eq!(parse_err("[3,7]"), "invalid values for fields");
        assert_eq!(parse_err("[4,null]"), "invalid values for fields");
    }

    #[test]
    fn rejects_non_integer_tags() {
        assert_eq!(parse_err(r#"["0",50,10]"#), "caveat has unknown tag: 0");
        assert_eq!(parse_err("[0.0,50,10]"), "caveat has unknown tag: 0.0");
        assert_eq!(parse_err("[true]"), "caveat has unknown tag: true");
        assert_eq!(parse_err("[-1]"), "caveat has unknown tag: -1");
    }

    #[test]
    fn names_kinds_like_warehouse() {
        assert_eq!(Caveat::ProjectId(vec![]).kind(), "ProjectID");
        assert_eq!(
            Caveat::OidcPublisher {
                publisher_id: String::new()
            }
            .kind(),
            "OIDCPublisher"
        );
    }
}
