//! Configuration reload on SIGHUP, without a restart and without dropping a request.
//!
//! The configuration is read again from the same file and environment, and these parts
//! are rebuilt from it:
//!
//! - `[keys]`: the minting keyring. A new current key mints from the next request on;
//!   older key ids keep verifying until they are removed.
//! - `[grpc] auth_token`, `auth_tokens`, `auth_token_file`: the bearer tokens the gRPC API
//!   accepts (any one of them), so the index's token can be rotated: accept old and new,
//!   move the index over, drop the old one.
//! - `[[issuers]]`: the trusted issuers. A removed issuer's tokens get the unknown-issuer
//!   refusal, an added one's are verified; the JWKS cache stays, so an issuer whose key
//!   source is unchanged is not fetched again.
//! - `[[publishers]]`: the config-declared publishers. Removed ones stop matching (and
//!   their tokens stop verifying, as after deleting a publisher), added ones match.
//!   Publishers registered over gRPC live in the store and are not affected.
//!
//! The reload is all or nothing: the whole new configuration is loaded and every part
//! above is built and checked first (the same checks as at startup, plus: `[keys]` must
//! be configured, since an ephemeral key would stop every minted token from verifying).
//! Only when all of it is valid is each part put in force; otherwise nothing changes, the
//! refusal is logged with the offending key, and `trustmint_config_reloads_total` counts
//! it with `result="error"` (`result="ok"` for a reload put in force).
//!
//! Each part is swapped whole behind its own handle, and each request reads a part once,
//! so a request in flight finishes with what it started with and a new one sees the new
//! part; nothing is closed or restarted, so no request is dropped.
//!
//! Everything else needs a restart: listeners and their TLS (`[server]`, `[grpc]` TLS
//! files), `[store]`, `[rate_limit]`, `[exchange]`, `[telemetry]`, the doors
//! (`[crates]`, `[npm]`, `[token_exchange]`), `[gateway]` and `[secret_scanning]`. A
//! reload that finds one of those changed puts the parts above in force and logs a
//! warning naming the sections that wait for a restart.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use trustmint_claims::IssuerRegistry;
use trustmint_exchange::Exchange;
use trustmint_grpc::AcceptedTokens;
use trustmint_publishers::Publisher;
use trustmint_tokens::Keyring;

use crate::settings::{ConfigError, Settings};
use crate::wiring::{declared_publishers, issuer_registry, keyring};

/// The sections a reload puts in force; every other one needs a restart. `grpc` is
/// reloaded only in part (its tokens), so it is compared without them.
const RELOADED_SECTIONS: [&str; 3] = ["keys", "issuers", "publishers"];

/// `[grpc]` keys a reload puts in force.
const RELOADED_GRPC_KEYS: [&str; 3] = ["auth_token", "auth_tokens", "auth_token_file"];

/// What a successful reload put in force (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reloaded {
    /// The key id new tokens are minted with.
    pub current_key_id: String,
    /// Every key id that verifies.
    pub key_ids: Vec<String>,
    /// The names of the trusted issuers.
    pub issuers: Vec<String>,
    /// How many `[[publishers]]` are declared.
    pub declared_publishers: usize,
    /// How many gRPC bearer tokens are accepted; `None` when this reloader was not given
    /// the gRPC listener's tokens (see [`reload_on_sighup`]).
    pub grpc_tokens: Option<usize>,
    /// Sections that changed but take effect only after a restart.
    pub restart_needed: Vec<String>,
}

/// Reloads the configuration of a running service: built by
/// [`Application::reloader`](crate::Application::reloader), run with
/// [`Reloader::on_sighup`] (or one [`Reloader::reload`] at a time).
#[derive(Debug)]
pub struct Reloader {
    exchange: Arc<Exchange>,
    grpc_tokens: Option<AcceptedTokens>,
    config: Option<PathBuf>,
    /// The settings the service runs with, to name the sections a reload cannot apply;
    /// `None` when not known (then nothing is named).
    in_force: Mutex<Option<Settings>>,
}

/// A new configuration's reloadable parts, built and checked, not yet in force.
struct Staged {
    keyring: Keyring,
    issuers: IssuerRegistry,
    declared: Vec<Publisher>,
    grpc_tokens: Vec<String>,
}

// === impl Reloader ===

impl Reloader {
    /// A reloader for `exchange` and the gRPC listener's `grpc_tokens` (`None`: the
    /// tokens are not reloaded), reading `config` (and the environment) again on each
    /// reload. `in_force` is the configuration the service started with, if known.
    pub fn new(
        exchange: Arc<Exchange>,
        grpc_tokens: Option<AcceptedTokens>,
        config: Option<PathBuf>,
        in_force: Option<Settings>,
    ) -> Self {
        Self {
            exchange,
            grpc_tokens,
            config,
            in_force: Mutex::new(in_force),
        }
    }

    /// Reads the configuration again (the `config` file, then `env`), checks every
    /// reloadable part and, only if all are valid, puts them in force. On an error
    /// nothing has changed.
    pub fn reload(
        &self,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Reloaded, ConfigError> {
        // One reload at a time, from loading to the last swap.
        let mut in_force = self.in_force.lock().unwrap_or_else(PoisonError::into_inner);
        let settings = Settings::load(self.config.as_deref(), env)?;
        let staged = Staged::build(&settings)?;
        // Nothing below can fail: the new configuration goes in whole.
        let restart_needed = in_force
            .as_ref()
            .map(|old| sections_needing_restart(old, &settings))
            .unwrap_or_default();
        let declared_publishers = staged.declared.len();
        let issuers = staged
            .issuers
            .issuers()
            .iter()
            .map(|issuer| issuer.name.clone())
            .collect();
        let grpc_tokens = self.grpc_tokens.as_ref().map(|accepted| {
            if staged.grpc_tokens.is_empty() && !accepted.is_empty() {
                tracing::warn!(
                    "the reloaded configuration has no [grpc] auth token: gRPC calls need no authentication from now on"
                );
            }
            accepted.replace(&staged.grpc_tokens);
            accepted.len()
        });
        // Issuers before publishers: an added publisher is only reachable through its
        // issuer, and a removed issuer refuses before any publisher is looked at.
        self.exchange.replace_issuers(staged.issuers);
        self.exchange.replace_declared_publishers(staged.declared);
        self.exchange.replace_keyring(staged.keyring);
        *in_force = Some(settings);
        let (current_key_id, key_ids) = self.exchange.key_ids();
        Ok(Reloaded {
            current_key_id,
            key_ids,
            issuers,
            declared_publishers,
            grpc_tokens,
            restart_needed,
        })
    }

    /// Reloads on every SIGHUP until the process ends, counting each attempt in
    /// `trustmint_config_reloads_total{result}` and logging what was put in force (or
    /// why the new configuration was refused).
    pub async fn on_sighup(self) {
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
                self.reload_and_report();
            }
        }
        #[cfg(not(unix))]
        {
            let _ = self;
        }
    }

    /// One reload from the process environment, counted and logged.
    fn reload_and_report(&self) {
        let reloads = &self.exchange.metrics().config_reloads;
        match self.reload(std::env::vars()) {
            Ok(reloaded) => {
                reloads.with_label_values(&["ok"]).inc();
                tracing::info!(
                    current_key_id = %reloaded.current_key_id,
                    key_ids = ?reloaded.key_ids,
                    issuers = ?reloaded.issuers,
                    declared_publishers = reloaded.declared_publishers,
                    grpc_tokens = ?reloaded.grpc_tokens,
                    "configuration reloaded: [keys], [[issuers]], [[publishers]] and the [grpc] auth tokens in force"
                );
                if !reloaded.restart_needed.is_empty() {
                    tracing::warn!(
                        sections = ?reloaded.restart_needed,
                        "these changed sections take effect only after a restart"
                    );
                }
            }
            Err(error) => {
                reloads.with_label_values(&["error"]).inc();
                tracing::error!(
                    %error,
                    "configuration reload refused; the previous configuration stays in force"
                );
            }
        }
    }
}

// === impl Staged ===

impl Staged {
    /// Builds every reloadable part of `settings`; the first error refuses them all.
    fn build(settings: &Settings) -> Result<Self, ConfigError> {
        if settings.keys.current.is_empty() {
            return Err(ConfigError(
                "keys.current: a reload needs a configured keyring (an ephemeral key would stop every minted token from verifying)"
                    .to_owned(),
            ));
        }
        let keyring = keyring(&settings.keys)?;
        let issuers = issuer_registry(settings)?;
        let declared = declared_publishers(settings, &issuers)?;
        let grpc_tokens = settings.grpc.load_auth_tokens().map_err(ConfigError)?;
        Ok(Self {
            keyring,
            issuers,
            declared,
            grpc_tokens,
        })
    }
}

/// The top-level sections that differ between `old` and `new` among those a reload does
/// not apply (`grpc` without its token keys).
fn sections_needing_restart(old: &Settings, new: &Settings) -> Vec<String> {
    let (Ok(serde_json::Value::Object(old)), Ok(serde_json::Value::Object(new))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Vec::new();
    };
    let without_reloaded = |section: &str, value: &serde_json::Value| {
        let mut value = value.clone();
        if section == "grpc"
            && let Some(grpc) = value.as_object_mut()
        {
            for key in RELOADED_GRPC_KEYS {
                grpc.remove(key);
            }
        }
        value
    };
    let mut changed: Vec<String> = new
        .iter()
        .filter(|(section, _)| !RELOADED_SECTIONS.contains(&section.as_str()))
        .filter(|(section, value)| {
            old.get(section.as_str()).is_none_or(|old| {
                without_reloaded(section, old) != without_reloaded(section, value)
            })
        })
        .map(|(section, _)| section.clone())
        .collect();
    changed.sort();
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_sections_a_reload_cannot_apply_are_named() {
        let old = Settings::default();
        let mut new = old.clone();
        new.keys.current = "k2".to_owned();
        new.grpc.auth_tokens = vec!["token-b".to_owned()];
        new.grpc.auth_token_file = "/run/secrets/grpc".to_owned();
        new.publishers.push(serde_json::json!({ "kind": "github" }));
        assert_eq!(sections_needing_restart(&old, &new), Vec::<String>::new());

        new.grpc.tls_cert_file = "/etc/trustmint/grpc.pem".to_owned();
        new.store.key_prefix = "other:".to_owned();
        new.server.http_workers = 4;
        assert_eq!(
            sections_needing_restart(&old, &new),
            ["grpc", "server", "store"]
        );
    }
}
