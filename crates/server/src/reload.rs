//! Configuration reload on SIGHUP — or, with `[server] config_poll_secs`, whenever a
//! file it reads changes — without a restart and without dropping a request.
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
use std::time::Duration;

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
    /// the gRPC listener's tokens (see [`Reloader::new`]).
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
        self.run(None).await;
    }

    /// Reloads on every SIGHUP and, with `[server] config_poll_secs` set in the
    /// configuration the service started with, when a file it reads changes (see
    /// [`Reloader::run`]). What `trustmint serve` runs.
    pub async fn watch(self) {
        let poll_secs = self
            .in_force
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |settings| settings.server.config_poll_secs);
        let poll = (poll_secs > 0).then(|| Duration::from_secs(poll_secs));
        self.run(poll).await;
    }

    /// Reloads on every SIGHUP and, when `poll` is set, whenever the files a reload reads
    /// (the config file, the `[keys] secrets_dir` files, `[grpc] auth_token_file`) differ
    /// from what they were at the last look — so a mounted Secret or ConfigMap that is
    /// updated in place is picked up without anyone sending a signal. A changed file is
    /// reloaded once: an invalid one is refused (and counted) once, not at every poll.
    pub async fn run(self, poll: Option<Duration>) {
        let mut hangup = Hangups::listen();
        let mut ticks = poll.map(|every| {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks
        });
        let mut seen = self.files_fingerprint();
        loop {
            let signalled = hangup.next();
            let ticked = async {
                match ticks.as_mut() {
                    Some(ticks) => ticks.tick().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = signalled => {
                    seen = self.files_fingerprint();
                    self.reload_and_report();
                }
                _ = ticked => {
                    let now = self.files_fingerprint();
                    if now != seen {
                        seen = now;
                        tracing::info!("a configuration file changed; reloading");
                        self.reload_and_report();
                    }
                }
            }
        }
    }

    /// The files a reload reads: the config file, every file in `[keys] secrets_dir` and
    /// `[grpc] auth_token_file` of the configuration in force.
    fn watched_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self.config.iter().cloned().collect();
        let in_force = self.in_force.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(settings) = in_force.as_ref() {
            if !settings.keys.secrets_dir.is_empty()
                && let Ok(entries) = std::fs::read_dir(&settings.keys.secrets_dir)
            {
                let mut secrets: Vec<PathBuf> =
                    entries.flatten().map(|entry| entry.path()).collect();
                secrets.sort();
                files.extend(secrets);
            }
            if !settings.grpc.auth_token_file.is_empty() {
                files.push(PathBuf::from(&settings.grpc.auth_token_file));
            }
        }
        files
    }

    /// A hash of the watched files' names and contents (an unreadable file counts as
    /// absent). Contents rather than mtimes: a Kubernetes volume update swaps a symlink,
    /// and mtimes are coarse on some filesystems. Only compared with the previous one.
    fn files_fingerprint(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut hasher = DefaultHasher::new();
        for file in self.watched_files() {
            file.hash(&mut hasher);
            std::fs::read(&file).ok().hash(&mut hasher);
        }
        hasher.finish()
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

/// The process's SIGHUPs; none where they cannot be listened for (then only the poll,
/// if any, reloads).
struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .inspect_err(|error| {
                    tracing::warn!(%error, "cannot listen for SIGHUP; reload on SIGHUP is off");
                })
                .ok();
            Self { signal }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Completes at the next SIGHUP; never, when there are none to wait for.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = self.signal.as_mut() {
            if signal.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending().await
    }
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
