//! Time, behind a seam so tests can pin it. The trait lives in the store crate, which
//! needs it too: the server hands one clock to both, so pinned time holds across the
//! seam (see `trustmint_store::Clock`).

pub use trustmint_store::{Clock, FixedClock, SystemClock};
