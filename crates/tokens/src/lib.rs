//! trustmint upload tokens: PyPI-compatible macaroons.
//!
//! A minted token is a libmacaroons **V2 binary** macaroon ([`Macaroon`]), URL-safe
//! base64 without padding, behind a prefix (default `pypi-`). Its identifier is
//! `<key id>:<uuid v4>` ([`TokenIdentifier`]); its root key is
//! `HKDF-SHA256(master secret of the key id, info = identifier)` ([`Keyring`]), used the
//! way pymacaroons uses a key, so `pymacaroons.Verifier` verifies a trustmint token
//! given that root key. It carries three Warehouse-style first-party caveats
//! ([`Caveat`]): `[0,expires_at,not_before]`, `[1,["project",…]]` and
//! `[4,"<publisher id>",null]`. Holders may append caveats to narrow it further.
//!
//! ```
//! use std::collections::BTreeMap;
//! use trustmint_tokens::{Keyring, MintRequest, VerifyContext, mint, parse_token, verify};
//!
//! let keyring = Keyring::ephemeral();
//! let projects = vec!["sampleproject".to_string()];
//! let (token, _id) = mint(&keyring, &MintRequest {
//!     location: "https://upload.example.org",
//!     prefix: "pypi-",
//!     publisher_id: "publisher-1",
//!     projects: &projects,
//!     not_before: 1_700_000_000,
//!     expires_at: 1_700_000_900,
//! });
//! let parsed = parse_token(token.expose_secret(), "pypi-").expect("well-formed");
//! let publishers = vec!["publisher-1".to_string()];
//! let context = VerifyContext {
//!     project: "sampleproject",
//!     publisher_ids: &publishers,
//!     now: 1_700_000_100,
//!     not_before_skew_secs: 0,
//! };
//! let verified = verify(&parsed, &keyring, &context).expect("allowed");
//! assert_eq!(verified.projects, projects);
//! ```
//!
//! The crate is pure: no I/O, no clock (callers pass `now`), no async. The store that
//! knows which token ids are live lives elsewhere; verification here covers the key,
//! the signature and the caveats.

mod caveat;
mod chain;
mod denial;
mod keyring;
mod macaroon;
mod mint;
mod token;
mod upload_token;
mod verify;

pub use caveat::{
    Caveat, CaveatError, TAG_ECOSYSTEM, TAG_EXPIRATION, TAG_OIDC_PUBLISHER, TAG_PROJECT_ID,
    TAG_PROJECT_NAME, TAG_REQUEST_USER,
};
pub use chain::{chain_signature, derive_macaroon_key};
pub use denial::{Denial, DenialKind};
pub use keyring::{EPHEMERAL_KEY_ID, Keyring, KeyringError, MAX_KEY_ID_LEN, MIN_SECRET_LEN};
pub use macaroon::{CodecError, MAX_CAVEATS, MAX_FIELD_LEN, Macaroon, RawCaveat, SIGNATURE_LEN};
pub use mint::{MINTED_CAVEAT_COUNT, MintRequest, mint, mint_for_ecosystem};
pub use token::{
    DEFAULT_TOKEN_PREFIX, MAX_TOKEN_LEN, MintedToken, ParsedToken, TokenIdentifier,
    TokenIdentifierError, parse_token,
};
pub use upload_token::UploadToken;
pub use verify::{
    PUBLISHER_MISMATCH, SIGNATURE_MISMATCH, TOKEN_EXPIRED, VerifiedToken, VerifyContext, verify,
    verify_signature,
};
