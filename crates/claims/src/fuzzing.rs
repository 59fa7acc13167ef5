//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, never enabled by
//! the service): the unverified peek and the header rules are crate-private, and a
//! fuzzer must reach them without a configured issuer in front.

use crate::algorithm::Algorithm;
use crate::error::ClaimsError;
use crate::header_policy::check_header;
use crate::unverified::peek;

/// What the peek and the header rules made of one input.
#[derive(Debug)]
pub struct PeekOutcome {
    /// The unverified `iss`.
    pub iss: String,
    /// The unverified `kid`.
    pub kid: Option<String>,
    /// Length of the signing input (`header "." payload`).
    pub signing_input_len: usize,
    /// The header rules' verdict for `allowed`: the checked algorithm and kid.
    pub header: Result<(Algorithm, String), ClaimsError>,
}

/// Runs [`peek`] and, when it succeeds, [`check_header`] against `allowed`.
pub fn peek_and_check_header(jwt: &str, allowed: &[Algorithm]) -> Result<PeekOutcome, ClaimsError> {
    let unverified = peek(jwt)?;
    let header =
        check_header(&unverified.header, allowed).map(|checked| (checked.algorithm, checked.kid));
    Ok(PeekOutcome {
        iss: unverified.iss().to_owned(),
        kid: unverified.kid().map(str::to_owned),
        signing_input_len: unverified.signing_input_len,
        header,
    })
}
