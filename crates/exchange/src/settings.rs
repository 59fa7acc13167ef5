//! The `[exchange]` config section.

use serde::{Deserialize, Serialize};

/// `[exchange]`: what tokens look like and how OIDC tokens are judged.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeSettings {
    /// Global switch (PyPI's `disallow-oidc`): `false` answers `not-enabled` everywhere.
    pub enabled: bool,
    /// The `aud` OIDC tokens must carry (PyPI: `pypi`, TestPyPI: `testpypi`).
    pub audience: String,
    /// Prefix of minted tokens (secret scanners key on it).
    pub token_prefix: String,
    /// Lifetime of minted tokens, seconds.
    pub token_ttl_secs: u64,
    /// Clock leeway for OIDC tokens' exp/nbf/iat. Fixed at 30 (a security invariant the
    /// replay TTL depends on); listed so configs that spell it out stay valid.
    pub jwt_leeway_secs: i64,
    /// Allowance for a verifying node whose clock lags the minting node: a token's
    /// `not_before` may be this many seconds in the future (PyPI has none).
    pub not_before_skew_secs: i64,
    /// After a successful JWKS refresh, a token with an unknown `kid` does not trigger
    /// another fetch from the same issuer for this long (seconds): what one issuer's
    /// rotation, or a flood of forged kids, can cost it in fetches.
    pub jwks_refresh_cooldown_secs: u64,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            audience: "pypi".to_owned(),
            token_prefix: "pypi-".to_owned(),
            token_ttl_secs: 900,
            jwt_leeway_secs: trustmint_claims::JWT_LEEWAY_SECS,
            not_before_skew_secs: 5,
            jwks_refresh_cooldown_secs: 60,
        }
    }
}

impl ExchangeSettings {
    /// Checks the values; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.audience.is_empty() || self.audience.len() > 255 {
            return Err("exchange.audience: must be 1 to 255 characters".to_owned());
        }
        let prefix_ok = !self.token_prefix.is_empty()
            && self.token_prefix.len() <= 16
            && self
                .token_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !prefix_ok {
            return Err(
                "exchange.token_prefix: 1 to 16 characters of [A-Za-z0-9_-] (secret scanners match on it)"
                    .to_owned(),
            );
        }
        if !(60..=86_400).contains(&self.token_ttl_secs) {
            return Err("exchange.token_ttl_secs: must be between 60 and 86400".to_owned());
        }
        if self.jwt_leeway_secs != trustmint_claims::JWT_LEEWAY_SECS {
            return Err(format!(
                "exchange.jwt_leeway_secs: must be {} (the replay guard's lifetime is derived from it)",
                trustmint_claims::JWT_LEEWAY_SECS
            ));
        }
        if !(0..=300).contains(&self.not_before_skew_secs) {
            return Err("exchange.not_before_skew_secs: must be between 0 and 300".to_owned());
        }
        if !(1..=3_600).contains(&self.jwks_refresh_cooldown_secs) {
            return Err(
                "exchange.jwks_refresh_cooldown_secs: must be between 1 and 3600".to_owned(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_refresh_cooldown_must_be_between_one_second_and_an_hour() {
        let with_cooldown = |secs| ExchangeSettings {
            jwks_refresh_cooldown_secs: secs,
            ..ExchangeSettings::default()
        };
        assert_eq!(ExchangeSettings::default().jwks_refresh_cooldown_secs, 60);
        for accepted in [1, 60, 3_600] {
            assert_eq!(with_cooldown(accepted).validate(), Ok(()), "{accepted}");
        }
        for refused in [0, 3_601] {
            assert_eq!(
                with_cooldown(refused).validate(),
                Err("exchange.jwks_refresh_cooldown_secs: must be between 1 and 3600".to_owned()),
                "{refused}"
            );
        }
    }
}
