//! Entry points for the fuzz targets in `fuzz/` that reach into this crate (feature
//! `fuzzing`, never enabled by the service): `http_mint_body`, the body reader and the
//! `{"token": …}` parser of `POST /_/oidc/mint-token`; `gateway_form`, the upload
//! gateway's streaming `multipart/form-data` scanner. Both are fed bodies in arbitrary
//! chunks.

use std::pin::Pin;

use actix_web::FromRequest as _;
use actix_web::web::{self, Bytes};
use futures::stream;

use crate::body::{read_limited, token_from_body};
use crate::gateway::form::{FormScanner, boundary};

/// How the mint handler's body steps answered.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyOutcome {
    /// The body held a string token.
    Token(String),
    /// The reader refused the body (status 400 or 413, code `invalid-payload`).
    Refused(u16),
    /// The JSON was refused with this error code.
    Invalid(&'static str),
}

/// Reads `chunks` as one request body under `limit` bytes, as the mint handler does,
/// then extracts the token.
pub async fn mint_body(chunks: Vec<Vec<u8>>, limit: usize) -> BodyOutcome {
    let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> = chunks
        .into_iter()
        .map(|chunk| Ok(Bytes::from(chunk)))
        .collect();
    type BoxedStream =
        Pin<Box<dyn futures::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>>;
    let boxed: BoxedStream = Box::pin(stream::iter(chunks));
    let mut payload = actix_web::dev::Payload::from(boxed);
    let request = actix_web::test::TestRequest::post().to_http_request();
    let Ok(payload) = web::Payload::from_request(&request, &mut payload).await else {
        return BodyOutcome::Refused(0);
    };
    match read_limited(payload, limit).await {
        Err(response) => BodyOutcome::Refused(response.status().as_u16()),
        Ok(body) => match token_from_body(&body) {
            Ok(token) => BodyOutcome::Token(token),
            Err(error) => BodyOutcome::Invalid(error.code().as_str()),
        },
    }
}

/// What the upload gateway's form scanner made of a whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    /// The content type names no usable `multipart/form-data` boundary.
    NotMultipart,
    /// The scanner refused the body (HTTP 400), with the reason it gives the client.
    Refused(String),
    /// The body is a well-formed upload form; what the gateway checks the token for.
    Accepted {
        /// The text fields before the file, in order.
        fields: Vec<(String, String)>,
        /// The file part's field (`content`), if the form has a file.
        file_field: Option<String>,
        /// The file part's name, as sent.
        file_name: Option<String>,
    },
}

/// Scans `body` as the gateway does (`content_type`'s boundary, `preamble_limit` bytes
/// for the fields before the file), fed in chunks of the given lengths (cycled; a
/// length of 0 counts as 1), then the end of the body.
pub fn gateway_form(
    content_type: &str,
    body: &[u8],
    chunk_lengths: &[usize],
    preamble_limit: usize,
) -> FormOutcome {
    let boundary = match boundary(content_type) {
        Ok(boundary) => boundary,
        Err(_) => return FormOutcome::NotMultipart,
    };
    let mut scanner = FormScanner::new(&boundary, preamble_limit);
    let mut rest = body;
    let mut lengths = chunk_lengths.iter().copied().cycle();
    while !rest.is_empty() {
        let length = lengths.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(length);
        if let Err(error) = scanner.feed(chunk) {
            return FormOutcome::Refused(error.to_string());
        }
        rest = tail;
    }
    if let Err(error) = scanner.finish() {
        return FormOutcome::Refused(error.to_string());
    }
    match scanner.preamble() {
        Some(preamble) => FormOutcome::Accepted {
            fields: preamble.fields.clone(),
            file_field: preamble.file_field.clone(),
            file_name: preamble.file_name.clone(),
        },
        None => FormOutcome::Refused("the upload form is incomplete".to_owned()),
    }
}
