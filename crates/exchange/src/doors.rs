//! Front doors: the ways into the one exchange core. PyPI's (`[exchange]`), crates.io's
//! (`[crates]`), npm's (`[npm]`) and RFC 8693's (`[token_exchange]`) each accept OIDC
//! tokens for their own audience and mint tokens of one ecosystem, with that
//! ecosystem's prefix; verify → match → replay guard → mint is the same for all.

use serde::{Deserialize, Serialize};
use trustmint_publishers::Ecosystem;

use crate::Exchange;

/// A way into the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Door {
    /// PyPI's `/_/oidc/mint-token` and gRPC `MintToken`.
    Pypi,
    /// crates.io's `/api/v1/trusted_publishing/tokens`.
    Crates,
    /// npm's `/-/npm/v1/oidc/token/exchange/package/{name}`.
    Npm,
    /// RFC 8693's `/oauth2/token`.
    TokenExchange,
}

impl Door {
    /// Every door (metric label order).
    pub const ALL: [Door; 4] = [Door::Pypi, Door::Crates, Door::Npm, Door::TokenExchange];

    /// The `door` metric label and audit field.
    pub fn as_str(self) -> &'static str {
        match self {
            Door::Pypi => "pypi",
            Door::Crates => "crates",
            Door::Npm => "npm",
            Door::TokenExchange => "token_exchange",
        }
    }
}

/// `[crates]`: crates.io's Trusted Publishing API.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CratesSettings {
    /// Serve `POST`/`DELETE /api/v1/trusted_publishing/tokens`.
    pub enabled: bool,
    /// The `aud` crates-io-auth-action requests: the registry URL without scheme.
    pub audience: String,
    /// Prefix of tokens minted for crates (crates.io's own is `cio_tp_`).
    pub token_prefix: String,
}

impl Default for CratesSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            audience: "crates.io".to_owned(),
            token_prefix: "cio_tp_".to_owned(),
        }
    }
}

/// `[npm]`: npm's OIDC token exchange.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NpmSettings {
    /// Serve `POST /-/npm/v1/oidc/token/exchange/package/{name}`.
    pub enabled: bool,
    /// The `aud` the npm CLI requests: `npm:<registry hostname>`.
    pub audience: String,
    /// Prefix of tokens minted for npm packages.
    pub token_prefix: String,
}

impl Default for NpmSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            audience: "npm:registry.npmjs.org".to_owned(),
            token_prefix: "npm_".to_owned(),
        }
    }
}

/// `[token_exchange]`: RFC 8693 token exchange at `/oauth2/token`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenExchangeSettings {
    /// Serve `POST /oauth2/token`.
    pub enabled: bool,
    /// The `aud` subject tokens must carry; empty = `[exchange] audience`.
    pub audience: String,
    /// The ecosystem whose publishers it mints for (and whose token prefix it uses).
    pub ecosystem: Ecosystem,
}

impl Default for TokenExchangeSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            audience: String::new(),
            ecosystem: Ecosystem::Pypi,
        }
    }
}

/// Every door's settings beyond PyPI's (which is `[exchange]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DoorSettings {
    /// `[crates]`
    pub crates: CratesSettings,
    /// `[npm]`
    pub npm: NpmSettings,
    /// `[token_exchange]`
    pub token_exchange: TokenExchangeSettings,
}

impl DoorSettings {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        for (section, audience, prefix) in [
            ("crates", &self.crates.audience, &self.crates.token_prefix),
            ("npm", &self.npm.audience, &self.npm.token_prefix),
        ] {
            if audience.is_empty() || audience.len() > 255 {
                return Err(format!("{section}.audience: must be 1 to 255 characters"));
            }
            if !valid_prefix(prefix) {
                return Err(format!(
                    "{section}.token_prefix: 1 to 16 characters of [A-Za-z0-9_-] (secret scanners match on it)"
                ));
            }
        }
        if self.token_exchange.audience.len() > 255 {
            return Err("token_exchange.audience: at most 255 characters".to_owned());
        }
        Ok(())
    }
}

/// Prefix rule shared with `[exchange] token_prefix`.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix.len() <= 16
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

// === impl Exchange ===

impl Exchange {
    /// The exchange with the other doors' settings (PyPI's stay `[exchange]`).
    pub fn with_doors(mut self, doors: DoorSettings) -> Self {
        for door in Door::ALL {
            self.metrics.preregister_door_exchange(door.as_str());
        }
        self.doors = doors;
        self
    }

    /// The doors' settings.
    pub fn doors(&self) -> &DoorSettings {
        &self.doors
    }

    /// Whether `door` is switched on (PyPI's follows `[exchange] enabled`).
    pub fn door_enabled(&self, door: Door) -> bool {
        match door {
            Door::Pypi => self.settings.enabled,
            Door::Crates => self.doors.crates.enabled,
            Door::Npm => self.doors.npm.enabled,
            Door::TokenExchange => self.doors.token_exchange.enabled,
        }
    }

    /// The `aud` OIDC tokens must carry at `door`.
    pub fn audience_of(&self, door: Door) -> &str {
        match door {
            Door::Pypi => &self.settings.audience,
            Door::Crates => &self.doors.crates.audience,
            Door::Npm => &self.doors.npm.audience,
            Door::TokenExchange if self.doors.token_exchange.audience.is_empty() => {
                &self.settings.audience
            }
            Door::TokenExchange => &self.doors.token_exchange.audience,
        }
    }

    /// The ecosystem `door` mints tokens for.
    pub fn ecosystem_of(&self, door: Door) -> Ecosystem {
        match door {
            Door::Pypi => Ecosystem::Pypi,
            Door::Crates => Ecosystem::Crates,
            Door::Npm => Ecosystem::Npm,
            Door::TokenExchange => self.doors.token_exchange.ecosystem,
        }
    }

    /// The prefix of `ecosystem`'s tokens.
    pub fn token_prefix_of(&self, ecosystem: Ecosystem) -> &str {
        match ecosystem {
            Ecosystem::Pypi => &self.settings.token_prefix,
            Ecosystem::Crates => &self.doors.crates.token_prefix,
            Ecosystem::Npm => &self.doors.npm.token_prefix,
        }
    }

    /// The ecosystem whose prefix `token` carries, if any (longest prefix first, so
    /// `npm_` and a hypothetical `npm_x_` cannot be confused).
    pub fn ecosystem_of_token(&self, token: &str) -> Option<Ecosystem> {
        let mut ecosystems = Ecosystem::ALL.to_vec();
        ecosystems
            .sort_by_key(|ecosystem| std::cmp::Reverse(self.token_prefix_of(*ecosystem).len()));
        ecosystems
            .into_iter()
            .find(|ecosystem| token.starts_with(self.token_prefix_of(*ecosystem)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_real_registries() {
        let doors = DoorSettings::default();
        assert_eq!(doors.validate(), Ok(()));
        assert_eq!(doors.crates.token_prefix, "cio_tp_");
        assert_eq!(doors.npm.token_prefix, "npm_");
        assert!(!doors.crates.enabled && !doors.npm.enabled && !doors.token_exchange.enabled);
    }

    #[test]
    fn refuses_prefixes_scanners_cannot_match_and_empty_audiences() {
        let mut doors = DoorSettings::default();
        doors.npm.token_prefix = "npm token".to_owned();
        assert_eq!(
            doors.validate(),
            Err("npm.token_prefix: 1 to 16 characters of [A-Za-z0-9_-] (secret scanners match on it)".to_owned())
        );
        let mut doors = DoorSettings::default();
        doors.crates.audience = String::new();
        assert_eq!(
            doors.validate(),
            Err("crates.audience: must be 1 to 255 characters".to_owned())
        );
    }
}
