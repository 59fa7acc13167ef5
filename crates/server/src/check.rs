//! `trustmint check-config`: validate everything that can be validated without I/O and
//! describe the effective configuration, secrets redacted.

use std::fmt::Write as _;

use crate::settings::{ConfigError, Settings};
use crate::wiring::{declared_publishers, issuer_registry, keyring};

/// Validates `settings` as `serve` would (issuers, publishers, keys) and returns a
/// human-readable summary of the effective configuration. Never prints a secret.
pub fn check(settings: &Settings) -> Result<String, ConfigError> {
    let issuers = issuer_registry(settings)?;
    let publishers = declared_publishers(settings, &issuers)?;
    let keyring = keyring(&settings.keys)?;

    let mut out = String::new();
    let _ = writeln!(out, "configuration OK");
    let _ = writeln!(out, "[server]");
    let _ = writeln!(out, "http_addr = {:?}", settings.server.http_addr);
    let _ = writeln!(out, "grpc_addr = {:?}", settings.server.grpc_addr);
    let _ = writeln!(out, "location = {:?}", settings.server.location);
    let _ = writeln!(out, "http_workers = {}", settings.server.http_workers);
    let _ = writeln!(out, "[exchange]");
    let exchange = &settings.exchange;
    let _ = writeln!(out, "enabled = {}", exchange.enabled);
    let _ = writeln!(out, "audience = {:?}", exchange.audience);
    let _ = writeln!(out, "token_prefix = {:?}", exchange.token_prefix);
    let _ = writeln!(out, "token_ttl_secs = {}", exchange.token_ttl_secs);
    let _ = writeln!(out, "jwt_leeway_secs = {}", exchange.jwt_leeway_secs);
    let _ = writeln!(
        out,
        "not_before_skew_secs = {}",
        exchange.not_before_skew_secs
    );
    let _ = writeln!(out, "[store]");
    let _ = writeln!(out, "{:?}", settings.store);
    let _ = writeln!(out, "[rate_limit]");
    let _ = writeln!(out, "{:?}", settings.rate_limit);
    let _ = writeln!(out, "[keys]");
    let _ = writeln!(out, "current = {:?}", keyring.current_key_id());
    let _ = writeln!(out, "key_ids = {:?}  # secrets redacted", keyring.key_ids());
    let _ = writeln!(out, "[grpc]");
    let _ = writeln!(out, "{:?}", settings.grpc);
    let _ = writeln!(out, "[telemetry]");
    let _ = writeln!(out, "{:?}", settings.telemetry);
    for issuer in issuers.issuers() {
        let _ = writeln!(out, "[[issuers]]");
        let _ = writeln!(out, "name = {:?}", issuer.name);
        let _ = writeln!(out, "kind = {:?}", issuer.kind.as_str());
        let _ = writeln!(out, "url = {:?}", issuer.display_url());
        let _ = writeln!(out, "enabled = {}", issuer.enabled);
        let algorithms: Vec<String> = issuer.algorithms.iter().map(|a| format!("{a:?}")).collect();
        let _ = writeln!(out, "algorithms = {algorithms:?}");
        if let Some(jwks_uri) = issuer.jwks_uri() {
            let _ = writeln!(out, "jwks_uri = {jwks_uri:?}");
        }
    }
    for publisher in &publishers {
        let _ = writeln!(out, "[[publishers]]");
        let _ = writeln!(out, "id = {:?}", publisher.id.as_str());
        let _ = writeln!(out, "describe = {:?}", publisher.spec.describe());
        let projects: Vec<&str> = publisher.projects.iter().map(|p| p.as_str()).collect();
        let _ = writeln!(out, "projects = {projects:?}");
    }
    Ok(out)
}
