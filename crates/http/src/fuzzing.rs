//! Entry point for the `http_mint_body` fuzz target in `fuzz/` (feature `fuzzing`,
//! never enabled by the service): the body reader and the `{"token": …}` parser of
//! `POST /_/oidc/mint-token`, fed a body in arbitrary chunks.

use std::pin::Pin;

use actix_web::FromRequest as _;
use actix_web::web::{self, Bytes};
use futures::stream;

use crate::body::{read_limited, token_from_body};

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
            Err(error) => BodyOutcome::Invalid(error.code()),
        },
    }
}
