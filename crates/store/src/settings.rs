//! The `[store]` and `[rate_limit]` config sections, with their defaults and the checks
//! the server runs before it starts (a bad value stops startup with a message naming the
//! key, never a surprise at the first request).

use std::time::Duration;

use redis::IntoConnectionInfo;
use serde::{Deserialize, Serialize};

/// Which store implementation serves the process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Everything in this process: fine for one replica, lost on restart.
    #[default]
    Memory,
    /// Redis (standalone or Cluster), shared by every replica.
    Redis,
}

/// The `[store]` section.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `memory` (default) or `redis`.
    pub backend: Backend,
    /// The standalone Redis server (`redis://[user:password@]host:port[/db]`); ignored
    /// when `cluster_urls` is set.
    pub redis_url: String,
    /// Seed nodes of a Redis Cluster; non-empty selects Cluster mode.
    pub cluster_urls: Vec<String>,
    /// A PEM bundle of the CAs that sign the certificate of a `rediss://` `redis_url`;
    /// when set, they are trusted *instead of* the system trust store. Empty = the system
    /// trust store. Standalone Redis only (refused with `cluster_urls`).
    pub redis_ca_file: String,
    /// Prepended to every key, so several deployments can share one Redis. Must not
    /// contain `{` or `}`: those would change the Cluster hash tags the key layout relies
    /// on.
    pub key_prefix: String,
    /// Upper bound on every Redis call, connection attempts included, in milliseconds.
    pub timeout_ms: u64,
    /// Approximate cap on the audit stream (`XADD … MAXLEN ~`); 0 disables the stream.
    pub audit_stream_maxlen: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            backend: Backend::Memory,
            redis_url: "redis://127.0.0.1:6379".to_owned(),
            cluster_urls: Vec::new(),
            redis_ca_file: String::new(),
            key_prefix: "trustmint:".to_owned(),
            timeout_ms: 500,
            audit_stream_maxlen: 100_000,
        }
    }
}

/// The `[rate_limit]` section: a GCRA limit per client (e.g. per IP on mint).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// `false` lets every request through.
    pub enabled: bool,
    /// Sustained rate per key.
    pub requests_per_second: f64,
    /// Requests a key may make at once before the sustained rate applies.
    pub burst: u32,
    /// Proxies whose `X-Forwarded-For` the HTTP layer believes when it picks the client
    /// address; empty = use the peer address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            requests_per_second: 5.0,
            burst: 20,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Builds the message for an invalid value: `<key>: <what is wrong>`.
fn invalid(key: &str, message: impl std::fmt::Display) -> String {
    format!("{key}: {message}")
}

/// Longest accepted `timeout_ms`: past a minute a "bound" no longer protects callers.
const MAX_TIMEOUT_MS: u64 = 60_000;

impl StoreSettings {
    /// Checks every value (the Redis URLs only when the Redis backend is selected); the
    /// error is a message naming the key, e.g. `store.timeout_ms: must be between …`.
    pub fn validate(&self) -> Result<(), String> {
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return Err(invalid(
                "store.timeout_ms",
                format!(
                    "must be between 1 and {MAX_TIMEOUT_MS} milliseconds, got {}",
                    self.timeout_ms
                ),
            ));
        }
        if self.key_prefix.contains(['{', '}']) {
            return Err(invalid(
                "store.key_prefix",
                "must not contain '{' or '}' (they would break the Redis Cluster hash tags)",
            ));
        }
        if self.backend != Backend::Redis {
            return Ok(());
        }
        if self.cluster_urls.is_empty() {
            check_redis_url("store.redis_url", &self.redis_url)?;
        }
        for url in &self.cluster_urls {
            check_redis_url("store.cluster_urls", url)?;
        }
        if !self.redis_ca_file.is_empty() {
            if !self.cluster_urls.is_empty() {
                return Err(invalid(
                    "store.redis_ca_file",
                    "is not supported with store.cluster_urls (Redis Cluster nodes are \
                     verified against the system trust store); remove one of the two",
                ));
            }
            if !self.redis_url.starts_with("rediss://") {
                return Err(invalid(
                    "store.redis_ca_file",
                    "needs a rediss:// (TLS) store.redis_url; a redis:// URL does not use TLS",
                ));
            }
        }
        Ok(())
    }

    /// `timeout_ms` as a `Duration`.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

fn check_redis_url(key: &'static str, url: &str) -> Result<(), String> {
    // rediss:// is TLS (native-tls, the system OpenSSL the binary already links).
    if !url.starts_with("redis://") && !url.starts_with("rediss://") {
        return Err(invalid(
            key,
            format!("'{url}' is not a redis:// or rediss:// URL"),
        ));
    }
    url.into_connection_info()
        .map(|_| ())
        .map_err(|e| invalid(key, format!("'{url}' is not a valid Redis URL: {e}")))
}

impl RateLimitSettings {
    /// Checks the rate and burst (only when the limiter is enabled); the error is a
    /// message naming the key, e.g. `rate_limit.burst: must be at least 1`.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if !(self.requests_per_second.is_finite() && self.requests_per_second > 0.0) {
            return Err(invalid(
                "rate_limit.requests_per_second",
                format!(
                    "must be a positive number, got {}",
                    self.requests_per_second
                ),
            ));
        }
        // Below one request per day, a single request would lock a client out for more
        // than a day: surely a typo.
        if self.requests_per_second < 1.0 / 86_400.0 {
            return Err(invalid(
                "rate_limit.requests_per_second",
                "must allow at least one request per day",
            ));
        }
        if self.burst == 0 {
            return Err(invalid("rate_limit.burst", "must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis_settings() -> StoreSettings {
        StoreSettings {
            backend: Backend::Redis,
            ..StoreSettings::default()
        }
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let store: StoreSettings = toml::from_str("").expect("empty section");
        assert_eq!(store, StoreSettings::default());
        assert_eq!(store.backend, Backend::Memory);
        assert_eq!(store.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(store.key_prefix, "trustmint:");
        assert_eq!(store.timeout_ms, 500);
        assert_eq!(store.audit_stream_maxlen, 100_000);
        assert_eq!(store.redis_ca_file, "");
        let rate: RateLimitSettings = toml::from_str("").expect("empty section");
        assert_eq!(rate, RateLimitSettings::default());
        assert!(rate.enabled);
        assert_eq!(rate.requests_per_second, 5.0);
        assert_eq!(rate.burst, 20);
        assert!(rate.trusted_proxies.is_empty());
    }

    #[test]
    fn parses_a_full_section() {
        let store: StoreSettings = toml::from_str(
            r#"
            backend = "redis"
            cluster_urls = ["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]
            key_prefix = "tm:"
            timeout_ms = 250
            audit_stream_maxlen = 10
            "#,
        )
        .expect("valid");
        assert_eq!(store.backend, Backend::Redis);
        assert_eq!(store.cluster_urls.len(), 2);
        assert_eq!(store.validate(), Ok(()));
        let rate: RateLimitSettings =
            toml::from_str(r#"trusted_proxies = ["10.0.0.0/8", "::1/128"]"#).expect("valid");
        assert_eq!(rate.trusted_proxies.len(), 2);
    }

    #[test]
    fn rejects_unknown_keys_and_backends() {
        let unknown = toml::from_str::<StoreSettings>("redis_uri = \"x\"")
            .expect_err("unknown key")
            .to_string();
        assert!(unknown.contains("unknown field `redis_uri`"), "{unknown}");
        let backend = toml::from_str::<StoreSettings>("backend = \"postgres\"")
            .expect_err("unknown backend")
            .to_string();
        assert!(backend.contains("unknown variant `postgres`"), "{backend}");
    }

    #[test]
    fn store_validation_names_the_key() {
        let cases: Vec<(StoreSettings, Option<(&str, &str)>)> = vec![
            (StoreSettings::default(), None),
            // the memory backend does not care about the URL
            (
                StoreSettings {
                    redis_url: "nonsense".into(),
                    ..StoreSettings::default()
                },
                None,
            ),
            (redis_settings(), None),
            (
                StoreSettings {
                    redis_url: "http://127.0.0.1:6379".into(),
                    ..redis_settings()
                },
                Some(("store.redis_url", "is not a redis:// or rediss:// URL")),
            ),
            (
                StoreSettings {
                    redis_url: "rediss://redis.internal:6380".into(),
                    ..redis_settings()
                },
                None,
            ),
            (
                StoreSettings {
                    redis_url: "redis://127.0.0.1:notaport".into(),
                    ..redis_settings()
                },
                Some(("store.redis_url", "is not a valid Redis URL")),
            ),
            (
                StoreSettings {
                    cluster_urls: vec!["redis://127.0.0.1:7000".into(), "tcp://x".into()],
                    ..redis_settings()
                },
                Some(("store.cluster_urls", "'tcp://x' is not a redis://")),
            ),
            (
                StoreSettings {
                    redis_url: "rediss://redis.internal:6380".into(),
                    redis_ca_file: "/etc/trustmint/redis-ca.pem".into(),
                    ..redis_settings()
                },
                None,
            ),
            // the memory backend does not care about Redis TLS either
            (
                StoreSettings {
                    redis_ca_file: "/etc/trustmint/redis-ca.pem".into(),
                    ..StoreSettings::default()
                },
                None,
            ),
            (
                StoreSettings {
                    redis_ca_file: "/etc/trustmint/redis-ca.pem".into(),
                    ..redis_settings()
                },
                Some((
                    "store.redis_ca_file",
                    "needs a rediss:// (TLS) store.redis_url; a redis:// URL does not use TLS",
                )),
            ),
            (
                StoreSettings {
                    cluster_urls: vec!["rediss://10.0.0.1:7000".into()],
                    redis_url: "rediss://redis.internal:6380".into(),
                    redis_ca_file: "/etc/trustmint/redis-ca.pem".into(),
                    ..redis_settings()
                },
                Some((
                    "store.redis_ca_file",
                    "is not supported with store.cluster_urls",
                )),
            ),
            (
                StoreSettings {
                    timeout_ms: 0,
                    ..StoreSettings::default()
                },
                Some(("store.timeout_ms", "must be between 1 and 60000")),
            ),
            (
                StoreSettings {
                    key_prefix: "tm:{a}:".into(),
                    ..StoreSettings::default()
                },
                Some(("store.key_prefix", "must not contain '{' or '}'")),
            ),
        ];
        for (settings, expected) in cases {
            let outcome = settings.validate();
            match expected {
                None => assert_eq!(outcome, Ok(()), "{settings:?}"),
                Some((key, fragment)) => {
                    let text = outcome.expect_err("invalid");
                    assert!(text.starts_with(&format!("{key}: ")), "{text}");
                    assert!(text.contains(fragment), "{text}");
                }
            }
        }
    }

    #[test]
    fn rate_validation_names_the_key() {
        let base = RateLimitSettings::default();
        let cases: Vec<(RateLimitSettings, Option<&str>)> = vec![
            (base.clone(), None),
            (
                RateLimitSettings {
                    requests_per_second: 0.0,
                    ..base.clone()
                },
                Some("rate_limit.requests_per_second: must be a positive number, got 0"),
            ),
            (
                RateLimitSettings {
                    requests_per_second: f64::NAN,
                    ..base.clone()
                },
                Some("rate_limit.requests_per_second: must be a positive number, got NaN"),
            ),
            (
                RateLimitSettings {
                    requests_per_second: 1e-9,
                    ..base.clone()
                },
                Some("rate_limit.requests_per_second: must allow at least one request per day"),
            ),
            (
                RateLimitSettings {
                    burst: 0,
                    ..base.clone()
                },
                Some("rate_limit.burst: must be at least 1"),
            ),
            // a disabled limiter is not checked
            (
                RateLimitSettings {
                    enabled: false,
                    burst: 0,
                    ..base
                },
                None,
            ),
        ];
        for (settings, expected) in cases {
            let outcome = settings.validate();
            assert_eq!(outcome.err().as_deref(), expected, "{settings:?}");
        }
    }
}
