//! Configuration reload on SIGHUP: the minting keyring (`[keys]`) is read again from the
//! same file and environment and swapped in whole, so a new current key mints from the
//! next request on while older key ids keep verifying until they are removed. An
//! invalid configuration is refused, logged and counted; the keyring in force stays.
//!
//! Only `[keys]` is reloaded so far; other sections need a restart (docs/operations.md).

use std::path::{Path, PathBuf};

use trustmint_exchange::Exchange;

use crate::settings::{ConfigError, Settings};
use crate::wiring::keyring;

/// What a successful reload put in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// The key id new tokens are minted with.
    pub current_key_id: String,
    /// Every key id that verifies.
    pub key_ids: Vec<String>,
}

/// Reads the configuration again (`config` file, then `env`) and puts its keyring in
/// force. Refuses a configuration without `[keys]`: an ephemeral key would stop every
/// token minted so far from verifying.
pub fn reload_keys(
    exchange: &Exchange,
    config: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Reloaded, ConfigError> {
    let settings = Settings::load(config, env)?;
    if settings.keys.current.is_empty() {
        return Err(ConfigError(
            "keys.current: a reload needs a configured keyring (an ephemeral key would stop every minted token from verifying)"
                .to_owned(),
        ));
    }
    let keyring = keyring(&settings.keys)?;
    exchange.replace_keyring(keyring);
    let (current_key_id, key_ids) = exchange.key_ids();
    Ok(Reloaded {
        current_key_id,
        key_ids,
    })
}

/// Reloads on every SIGHUP until the process ends, counting each attempt in
/// `trustmint_config_reloads_total{result}`.
pub async fn reload_on_sighup(exchange: std::sync::Arc<Exchange>, config: Option<PathBuf>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = match signal(SignalKind::hangup()) {
            Ok(hangup) => hangup,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGHUP; configuration reload is off");
                return;
            }
        };
        while hangup.recv().await.is_some() {
            let reloads = &exchange.metrics().config_reloads;
            match reload_keys(&exchange, config.as_deref(), std::env::vars()) {
                Ok(reloaded) => {
                    reloads.with_label_values(&["ok"]).inc();
                    tracing::info!(
                        current_key_id = %reloaded.current_key_id,
                        key_ids = ?reloaded.key_ids,
                        "configuration reloaded: [keys] in force (other sections need a restart)"
                    );
                }
                Err(error) => {
                    reloads.with_label_values(&["error"]).inc();
                    tracing::error!(
                        %error,
                        "configuration reload refused; the previous keyring stays in force"
                    );
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (exchange, config);
    }
}
