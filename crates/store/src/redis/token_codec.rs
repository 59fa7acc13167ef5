//! How a token record is laid out in Redis: small, because Redis holds one per live
//! token (ops target: ≤ 512 bytes of `MEMORY USAGE` each).
//!
//! A realistic GitHub record is ~700 bytes of compact JSON: the provenance claims
//! (issuer, subject, repository, two workflow refs, sha, …) dominate, and repeat one
//! another. So the value is:
//! - the record as compact JSON **without the token id** (it is the key already);
//! - compressed with zstd against a built-in dictionary of the claim names and the
//!   values every issuer repeats (URLs, `.github/workflows/`, `refs/tags/`, …);
//! - behind a one-byte format tag, so the dictionary can change later: records are read
//!   by their tag, and a record lives 15 minutes, so an old tag only has to stay
//!   readable for one token lifetime after a change.
//!
//! A value that starts with `{` is read as plain JSON of the whole record, so a record
//! written by hand (or by a future format that chooses JSON) still reads.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use trustmint_publishers::{ProjectName, PublisherId};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::{StoreError, TokenRecord};

/// Format tag: zstd with [`DICTIONARY_V1`].
const FORMAT_ZSTD_V1: u8 = 1;

/// zstd level: with the dictionary, 4 compresses a GitHub record to 163 bytes against
/// 160 at levels 5–12, at 7.4 µs instead of level 9's 11.5 µs (release build, 2026-12-03;
/// level 3: 176 bytes at 5.5 µs). mint-token runs this on every exchange, and the record
/// lives in Redis for the token's lifetime, so both size and CPU count; 4 is the knee.
/// (The level only affects writing: every level decodes with the same dictionary.)
const LEVEL: i32 = 4;

/// Largest decompressed record accepted: far above any real record (claims are bounded
/// by the JWT), low enough that a corrupt value cannot make us allocate much.
const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Raw-content dictionary: fragments of records as serde writes them (field order of
/// [`StoredRecord`], claims sorted by name). zstd finds matches in it like in earlier
/// input; the most common strings sit at the end, where offsets are shortest.
/// **Never edit**: add a `DICTIONARY_V2` with a new format tag instead.
const DICTIONARY_V1: &[u8] = concat!(
    r#"{"p":["00000000-0000-4000-8000-000000000000"],"j":["sampleproject"],"#,
    r#""c":{"actor":"","actor_id":"","email":"","sub":"","organization":"","project":"","#,
    r#""issuer":"https://platform.activestate.com/api/v1/oauth/oidc","#,
    r#""issuer":"https://accounts.google.com","email":"@developer.gserviceaccount.com","#,
    r#""email":".iam.gserviceaccount.com","#,
    r#""ci_config_ref_uri":"gitlab.com//.gitlab-ci.yml@refs/heads/main","#,
    r#""environment":"","issuer":"https://gitlab.com","job_id":"","namespace_id":"","#,
    r#""pipeline_id":"","project_id":"","project_path":"","ref_path":"refs/heads/main","#,
    r#""sha":"","subject":"project_path::ref_type:branch:ref:main","#,
    r#""workflow_filepath":".gitlab-ci.yml"},"#,
    r#""publisher_url":"https://github.com/","event_name":"workflow_dispatch","#,
    r#""event_name":"push","ref":"refs/heads/main","#,
    r#""c":{"environment":"pypi","event_name":"release","#,
    r#""issuer":"https://token.actions.githubusercontent.com","#,
    r#""job_workflow_ref":"/.github/workflows/release.yml@refs/tags/v","#,
    r#""ref":"refs/tags/v","repository":"","repository_owner":"","#,
    r#""repository_owner_id":"","run_attempt":"1","run_id":"","#,
    r#""sha":"","subject":"repo::environment:pypi","#,
    r#""workflow":"release.yml","workflow_ref":"/.github/workflows/release.yml@refs/tags/v"},"#,
    r#""n":17,"x":17"#,
)
.as_bytes();

static ENCODER_V1: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_V1, LEVEL));
static DECODER_V1: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_V1));

thread_local! {
    // One zstd context per thread, reused: creating a context per record was 14% of
    // the service's CPU in a verify benchmark (`ZSTD_createDCtx`). The service runs a
    // fixed set of runtime threads, so this is a handful of contexts in all.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The record minus its id, borrowed for writing.
#[derive(Serialize)]
struct StoredRecordRef<'a> {
    #[serde(rename = "p")]
    publisher_ids: &'a [PublisherId],
    #[serde(rename = "j")]
    projects: &'a [ProjectName],
    #[serde(rename = "c")]
    claims: &'a BTreeMap<String, String>,
    #[serde(rename = "n")]
    issued_at: i64,
    #[serde(rename = "x")]
    expires_at: i64,
}

/// The record minus its id, read back.
#[derive(Deserialize)]
struct StoredRecord {
    #[serde(rename = "p")]
    publisher_ids: Vec<PublisherId>,
    #[serde(rename = "j")]
    projects: Vec<ProjectName>,
    #[serde(rename = "c")]
    claims: BTreeMap<String, String>,
    #[serde(rename = "n")]
    issued_at: i64,
    #[serde(rename = "x")]
    expires_at: i64,
}

/// The bytes stored under `tok:<token id>`.
pub(crate) fn encode(record: &TokenRecord) -> Result<Vec<u8>, StoreError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::new("token_put", format!("{what} the record: {e}"))
    };
    let json = serde_json::to_vec(&StoredRecordRef {
        publisher_ids: &record.publisher_ids,
        projects: &record.projects,
        claims: &record.claims,
        issued_at: record.issued_at,
        expires_at: record.expires_at,
    })
    .map_err(|e| fail("encoding", &e))?;
    let compressed = COMPRESSOR
        .with_borrow_mut(|slot| {
            let mut compressor = match slot.take() {
                Some(compressor) => compressor,
                None => zstd::bulk::Compressor::with_prepared_dictionary(&ENCODER_V1)?,
            };
            let compressed = compressor.compress(&json);
            *slot = Some(compressor);
            compressed
        })
        .map_err(|e| fail("compressing", &e))?;
    let mut value = Vec::with_capacity(compressed.len() + 1);
    value.push(FORMAT_ZSTD_V1);
    value.extend_from_slice(&compressed);
    Ok(value)
}

/// The record stored for `token_id`.
pub(crate) fn decode(token_id: &str, value: &[u8]) -> Result<TokenRecord, StoreError> {
    let fail = |e: &dyn std::fmt::Display| {
        StoreError::new("token_get", format!("unreadable token record: {e}"))
    };
    match value.split_first() {
        Some((b'{', _)) => serde_json::from_slice(value).map_err(|e| fail(&e)),
        Some((&FORMAT_ZSTD_V1, compressed)) => {
            let json = DECOMPRESSOR
                .with_borrow_mut(|slot| {
                    let mut decompressor = match slot.take() {
                        Some(decompressor) => decompressor,
                        None => zstd::bulk::Decompressor::with_prepared_dictionary(&DECODER_V1)?,
                    };
                    let json = decompressor.decompress(compressed, MAX_RECORD_BYTES);
                    *slot = Some(decompressor);
                    json
                })
                .map_err(|e| fail(&e))?;
            let stored: StoredRecord = serde_json::from_slice(&json).map_err(|e| fail(&e))?;
            Ok(TokenRecord {
                token_id: token_id.to_owned(),
                publisher_ids: stored.publisher_ids,
                projects: stored.projects,
                claims: stored.claims,
                issued_at: stored.issued_at,
                expires_at: stored.expires_at,
            })
        }
        Some((tag, _)) => Err(fail(&format!("unknown format tag {tag}"))),
        None => Err(fail(&"empty value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_record() -> TokenRecord {
        let claims = [
            ("issuer", "https://token.actions.githubusercontent.com"),
            ("subject", "repo:pypa/sampleproject:environment:pypi"),
            ("repository", "pypa/sampleproject"),
            ("repository_owner", "pypa"),
            ("repository_owner_id", "647025"),
            ("workflow", "release.yml"),
            (
                "job_workflow_ref",
                "pypa/sampleproject/.github/workflows/release.yml@refs/tags/v4.0.1",
            ),
            (
                "workflow_ref",
                "pypa/sampleproject/.github/workflows/release.yml@refs/tags/v4.0.1",
            ),
            ("environment", "pypi"),
            ("ref", "refs/tags/v4.0.1"),
            ("sha", "9c5e3b8a0f4d7e21b6a3c8d9e0f1a2b3c4d5e6f7"),
            ("event_name", "release"),
            ("run_id", "12345678901"),
            ("run_attempt", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        TokenRecord {
            token_id: "5f0c3c0e-8a4e-4c55-9d8e-1b2a3c4d5e6f".to_owned(),
            publisher_ids: vec![PublisherId::from_raw(
                "0d6f2a1e-3b4c-4d5e-8f90-a1b2c3d4e5f6",
            )],
            projects: vec![ProjectName::parse("sampleproject").expect("valid")],
            claims,
            issued_at: 1_760_000_000,
            expires_at: 1_760_000_900,
        }
    }

    #[test]
    fn round_trips_and_is_small() {
        let record = github_record();
        let json_len = serde_json::to_vec(&record).expect("json").len();
        let value = encode(&record).expect("encode");
        println!("{json_len} bytes of JSON stored as {} bytes", value.len());
        assert_eq!(value[0], FORMAT_ZSTD_V1);
        assert_eq!(decode(&record.token_id, &value), Ok(record));
        // a jemalloc size class below the 512-byte budget once key and object
        // overheads are added (see docs/operations.md, "Sizing")
        assert!(
            value.len() <= 300,
            "{json_len} bytes of JSON became {}",
            value.len()
        );
    }

    #[test]
    fn reads_plain_json_records() {
        let record = github_record();
        let json = serde_json::to_vec(&record).expect("json");
        assert_eq!(decode("ignored", &json), Ok(record));
    }

    #[test]
    fn rejects_unreadable_values() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "unreadable token record: empty value"),
            (b"\x07abc", "unreadable token record: unknown format tag 7"),
            (b"\x01not zstd", "unreadable token record: "),
            (b"{\"p\":", "unreadable token record: "),
        ];
        for (value, prefix) in cases {
            let err = decode("id", value).expect_err("unreadable");
            assert_eq!(err.op, "token_get");
            assert!(err.detail.starts_with(prefix), "{}", err.detail);
        }
    }
}
