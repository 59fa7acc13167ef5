//! Reading request bodies with a size cap, and PyPI's `{"token": …}` payload.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures::StreamExt as _;
use trustmint_exchange::{ErrorCode, ExchangeError};

use crate::error::error_with_status;

/// How much of an oversized body is read and thrown away before answering, so the
/// client gets the JSON error instead of a reset connection; past this the connection
/// is closed.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Reads at most `limit` bytes. An oversized body is answered with a 413 JSON error
/// (code `invalid-payload`) after draining it (up to [`DRAIN_LIMIT`]).
pub(crate) async fn read_limited(
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, HttpResponse> {
    let mut body = web::BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            error_with_status(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidPayload,
                format!("could not read the request body: {error}"),
            )
        })?;
        seen = seen.saturating_add(chunk.len());
        if seen <= limit {
            body.extend_from_slice(&chunk);
        } else if seen > DRAIN_LIMIT {
            break;
        }
    }
    if seen > limit {
        return Err(error_with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::InvalidPayload,
            format!("request body is larger than the limit of {limit} bytes"),
        ));
    }
    Ok(body)
}

/// Parses `{"token": "<string>"}` as PyPI does: the body must be a JSON object whose
/// `token` is a JSON string (not coerced); other keys are ignored.
pub(crate) fn token_from_body(body: &[u8]) -> Result<String, ExchangeError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        ExchangeError::InvalidPayload(format!(
            "1 validation error for TokenPayload\nbody is not valid JSON: {error}"
        ))
    })?;
    let serde_json::Value::Object(object) = value else {
        return Err(ExchangeError::InvalidPayload(
            "1 validation error for TokenPayload\nbody must be a JSON object with a string field 'token'"
                .to_owned(),
        ));
    };
    match object.get("token") {
        Some(serde_json::Value::String(token)) => Ok(token.clone()),
        None => Err(ExchangeError::InvalidPayload(
            "1 validation error for TokenPayload\ntoken\n  Field required [type=missing]".to_owned(),
        )),
        Some(_) => Err(ExchangeError::InvalidPayload(
            "1 validation error for TokenPayload\ntoken\n  Input should be a valid string [type=string_type]"
                .to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_table_matches_pypi() {
        // reference §7.1 item 3: every one of these is invalid-payload.
        for body in [
            "",
            "[]",
            "\"a string\"",
            "12345",
            "3.14",
            "null",
            "{}",
            r#"{"token":null}"#,
            r#"{"wrongkey":""}"#,
            r#"{"token":3.14}"#,
            r#"{"token":0}"#,
            r#"{"token":[""]}"#,
            r#"{"token":[]}"#,
            r#"{"token":{}}"#,
        ] {
            let error = token_from_body(body.as_bytes()).unwrap_err();
            assert_eq!(error.code(), ErrorCode::InvalidPayload, "{body}");
        }
        assert_eq!(
            token_from_body(br#"{"token":"abc","extra":1}"#).unwrap(),
            "abc"
        );
    }
}
