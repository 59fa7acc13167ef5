//! trustmint's use cases, composed from the claims, publishers, tokens and store crates:
//! mint an upload token from an OIDC token, verify an upload token for a project,
//! revoke one, and manage publishers. HTTP and gRPC are thin adapters over these; the
//! one error type, [`ExchangeError`], carries the wire codes both report.

mod background_undo;
mod clock;
mod commit;
mod doors;
mod draining;
mod error;
mod exchange;
mod issuer_served;
mod leak;
mod manage;
mod mint;
mod oidc_token;
mod pending;
mod provenance;
mod replay_release;
mod revoke;
mod settings;
mod verify;

pub use clock::{Clock, FixedClock, SystemClock};
pub use doors::{CratesSettings, Door, DoorSettings, NpmSettings, TokenExchangeSettings};
pub use error::{ErrorCode, ExchangeError, NOT_ENABLED_DESCRIPTION};
pub use exchange::{Exchange, ExchangeBackends};
pub use issuer_served::{bind_to_served_issuer, check_issuer_served, declared_publisher};
pub use manage::{ConfirmedPublisher, CreatedPublisher, NewPublisher};
pub use mint::{MintRequest, Minted};
pub use oidc_token::OidcToken;
pub use revoke::Revocation;
pub use settings::ExchangeSettings;
/// The ecosystems, re-exported for the adapters (which know nothing else of publishers).
pub use trustmint_publishers::Ecosystem;
/// The presented upload token of verify and revoke requests.
pub use trustmint_tokens::UploadToken;
pub use verify::{Allowed, REVOKED_OR_EXPIRED, Verification, VerifyRequest};
