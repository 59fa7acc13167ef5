//! The trustmint service: CLI, layered configuration, wiring and graceful shutdown.
//! Everything else lives in the crates it wires together.

mod application;
mod check;
mod observer;
mod reload;
mod settings;
mod wiring;

pub use application::{Application, StartupError};
pub use check::check;
pub use reload::{Reloaded, Reloader};
pub use settings::{ConfigError, KeySettings, ServerSettings, Settings};
pub use wiring::{Service, build_service, declared_publishers, issuer_registry, keyring};
