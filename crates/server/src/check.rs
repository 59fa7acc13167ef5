//! `trustmint check-config`: validate what `serve` validates before it binds (sections,
//! issuers, publishers, keys, gRPC credentials and TLS files), then describe the
//! effective configuration, secrets redacted.
//!
//! The report is `configuration OK` followed by the effective settings as TOML: every
//! section with every key, defaults included, so an operator sees what `serve` will run
//! with after the file and the `TRUSTMINT__…` environment were layered. Secrets never
//! appear: key secrets and the gRPC token are `"<redacted>"`, and the password of a
//! Redis or OTLP URL is replaced the same way.

use std::fmt::Display;
use std::fmt::Write as _;

use serde_json::Value;
use trustmint_claims::IssuerRegistry;
use trustmint_publishers::{Publisher, PublisherPolicy};
use trustmint_store::Backend;
use trustmint_telemetry::LogFormat;
use trustmint_tokens::Keyring;

use crate::settings::{ConfigError, Settings};
use crate::wiring::{declared_publishers, issuer_registry, keyring};

/// What a redacted secret reads as.
const REDACTED: &str = "<redacted>";

/// Validates `settings` as `serve` would before binding (issuers, publishers, keys, the
/// gRPC token and TLS files) and returns `configuration OK` followed by the effective
/// configuration as TOML. Never prints a secret.
pub fn check(settings: &Settings) -> Result<String, ConfigError> {
    let issuers = issuer_registry(settings)?;
    let publishers = declared_publishers(settings, &issuers)?;
    let keyring = keyring(&settings.keys)?;
    settings.grpc.load().map_err(ConfigError)?;

    let mut toml = TomlText::default();
    toml.comment(
        "the effective settings: defaults, then the file, then TRUSTMINT__* variables; secrets redacted",
    );
    write_server(&mut toml, settings);
    write_exchange(&mut toml, settings);
    write_store(&mut toml, settings);
    write_rate_limit(&mut toml, settings);
    write_keys(&mut toml, settings, &keyring);
    write_grpc(&mut toml, settings);
    write_telemetry(&mut toml, settings);
    write_issuers(&mut toml, settings, &issuers);
    write_publishers(&mut toml, &publishers);
    Ok(format!("configuration OK\n{}", toml.finish()))
}

fn write_server(toml: &mut TomlText, settings: &Settings) {
    let server = &settings.server;
    toml.table("server");
    toml.string("http_addr", &server.http_addr);
    toml.string("grpc_addr", &server.grpc_addr);
    toml.string("location", &server.location);
    toml.plain("http_workers", server.http_workers);
}

fn write_exchange(toml: &mut TomlText, settings: &Settings) {
    let exchange = &settings.exchange;
    toml.table("exchange");
    toml.plain("enabled", exchange.enabled);
    toml.string("audience", &exchange.audience);
    toml.string("token_prefix", &exchange.token_prefix);
    toml.plain("token_ttl_secs", exchange.token_ttl_secs);
    toml.plain("jwt_leeway_secs", exchange.jwt_leeway_secs);
    toml.plain("not_before_skew_secs", exchange.not_before_skew_secs);
    toml.plain(
        "jwks_refresh_cooldown_secs",
        exchange.jwks_refresh_cooldown_secs,
    );
}

fn write_store(toml: &mut TomlText, settings: &Settings) {
    let store = &settings.store;
    toml.table("store");
    toml.string(
        "backend",
        match store.backend {
            Backend::Memory => "memory",
            Backend::Redis => "redis",
        },
    );
    toml.string("redis_url", &redact_url_password(&store.redis_url));
    let cluster_urls: Vec<String> = store
        .cluster_urls
        .iter()
        .map(|url| redact_url_password(url))
        .collect();
    toml.strings("cluster_urls", &cluster_urls);
    toml.string("key_prefix", &store.key_prefix);
    toml.plain("timeout_ms", store.timeout_ms);
    toml.plain("audit_stream_maxlen", store.audit_stream_maxlen);
}

fn write_rate_limit(toml: &mut TomlText, settings: &Settings) {
    let rate_limit = &settings.rate_limit;
    toml.table("rate_limit");
    toml.plain("enabled", rate_limit.enabled);
    // `{:?}` keeps the decimal point TOML needs for a float (5 → 5.0).
    toml.plain(
        "requests_per_second",
        format!("{:?}", rate_limit.requests_per_second),
    );
    toml.plain("burst", rate_limit.burst);
    let proxies: Vec<String> = rate_limit
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    toml.strings("trusted_proxies", &proxies);
}

fn write_keys(toml: &mut TomlText, settings: &Settings, keyring: &Keyring) {
    let keys = &settings.keys;
    toml.table("keys");
    if keys.current.is_empty() {
        toml.comment("no keys configured: serve mints with an ephemeral key whose tokens stop verifying when the process exits (development only)");
        toml.string("current", "");
        toml.string("secrets_dir", &keys.secrets_dir);
        return;
    }
    toml.string("current", keyring.current_key_id());
    toml.string("secrets_dir", &keys.secrets_dir);
    toml.comment("every key id that verifies (from keys.secrets and keys.secrets_dir)");
    toml.table("keys.secrets");
    for key_id in keyring.key_ids() {
        toml.string(&key_id, REDACTED);
    }
}

fn write_grpc(toml: &mut TomlText, settings: &Settings) {
    let grpc = &settings.grpc;
    toml.table("grpc");
    let auth_token = if grpc.auth_token.is_empty() {
        ""
    } else {
        REDACTED
    };
    toml.string("auth_token", auth_token);
    toml.string("auth_token_file", &grpc.auth_token_file);
    toml.string("tls_cert_file", &grpc.tls_cert_file);
    toml.string("tls_key_file", &grpc.tls_key_file);
    toml.string("tls_client_ca_file", &grpc.tls_client_ca_file);
}

fn write_telemetry(toml: &mut TomlText, settings: &Settings) {
    let telemetry = &settings.telemetry;
    toml.table("telemetry");
    toml.string(
        "log_format",
        match telemetry.log_format {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        },
    );
    toml.string("log_level", &telemetry.log_level);
    toml.string(
        "otlp_endpoint",
        &redact_url_password(&telemetry.otlp_endpoint),
    );
    toml.string("service_name", &telemetry.service_name);
}

fn write_issuers(toml: &mut TomlText, settings: &Settings, issuers: &IssuerRegistry) {
    if settings.issuers.is_empty() {
        toml.blank();
        toml.comment("no [[issuers]] configured: the four public issuers are trusted");
    }
    for issuer in issuers.issuers() {
        toml.array_table("issuers");
        toml.string("name", &issuer.name);
        toml.string("kind", issuer.kind.as_str());
        let url_key = if issuer.is_pattern() {
            "url_pattern"
        } else {
            "url"
        };
        toml.string(url_key, issuer.display_url());
        match issuer.jwks_uri() {
            Some(jwks_uri) => toml.string("jwks_uri", jwks_uri),
            None => toml.comment("keys by OIDC discovery of the token's iss"),
        }
        let algorithms: Vec<String> = issuer.algorithms.iter().map(ToString::to_string).collect();
        toml.strings("algorithms", &algorithms);
        toml.plain("enabled", issuer.enabled);
    }
}

fn write_publishers(toml: &mut TomlText, publishers: &[Publisher]) {
    for publisher in publishers {
        toml.array_table("publishers");
        toml.comment(&publisher.spec.describe());
        toml.comment(&format!("id {}", publisher.id.as_str()));
        let projects: Vec<&str> = publisher.projects.iter().map(|p| p.as_str()).collect();
        toml.string("kind", publisher.spec.provider().as_str());
        toml.strings("projects", &projects);
        // The spec's own serialisation has every field (and `kind`); unset ones are empty.
        if let Ok(Value::Object(fields)) = serde_json::to_value(&publisher.spec) {
            for (name, value) in &fields {
                match value {
                    Value::String(text) if name != "kind" && !text.is_empty() => {
                        toml.string(name, text);
                    }
                    // A custom issuer's bound claims.
                    Value::Object(entries) if !entries.is_empty() => {
                        let entries: Vec<(&str, &str)> = entries
                            .iter()
                            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                            .collect();
                        toml.inline_table(name, &entries);
                    }
                    _ => {}
                }
            }
        }
        write_policy(toml, &publisher.policy);
    }
}

/// The policy keys a publisher sets (none for the default policy).
fn write_policy(toml: &mut TomlText, policy: &PublisherPolicy) {
    if !policy.refs.is_empty() {
        toml.strings("refs", &policy.refs);
    }
    if policy.require_protected_ref {
        toml.plain("require_protected_ref", true);
    }
    if !policy.allow_self_hosted_runners {
        toml.plain("allow_self_hosted_runners", false);
    }
    if policy.require_protected_environment {
        toml.plain("require_protected_environment", true);
    }
}

/// `scheme://user:<redacted>@host/…` for a URL with a password; `<redacted>@host` when
/// the userinfo has no `:` (some write the password alone); other text unchanged.
fn redact_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |at| scheme_end + at);
    let Some(at) = url[scheme_end..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &url[scheme_end..scheme_end + at];
    let kept = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{REDACTED}"),
        None => REDACTED.to_owned(),
    };
    format!("{}{kept}{}", &url[..scheme_end], &url[scheme_end + at..])
}

/// A small TOML writer: tables, arrays of tables, and key/value lines.
#[derive(Default)]
struct TomlText {
    out: String,
}

impl TomlText {
    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn comment(&mut self, text: &str) {
        // A newline in a value (a publisher field cannot hold one, but be safe) would end
        // the comment and start a line of TOML.
        let _ = writeln!(self.out, "# {}", text.replace(['\n', '\r'], " "));
    }

    fn table(&mut self, name: &str) {
        let _ = writeln!(self.out, "\n[{name}]");
    }

    fn array_table(&mut self, name: &str) {
        let _ = writeln!(self.out, "\n[[{name}]]");
    }

    fn string(&mut self, key: &str, value: &str) {
        let _ = writeln!(self.out, "{} = {}", toml_key(key), toml_string(value));
    }

    fn strings<S: AsRef<str>>(&mut self, key: &str, values: &[S]) {
        let quoted: Vec<String> = values.iter().map(|v| toml_string(v.as_ref())).collect();
        let _ = writeln!(self.out, "{} = [{}]", toml_key(key), quoted.join(", "));
    }

    /// `key = { name = "value", … }`.
    fn inline_table(&mut self, key: &str, entries: &[(&str, &str)]) {
        let entries: Vec<String> = entries
            .iter()
            .map(|(name, value)| format!("{} = {}", toml_key(name), toml_string(value)))
            .collect();
        let _ = writeln!(self.out, "{} = {{ {} }}", toml_key(key), entries.join(", "));
    }

    /// Numbers and booleans, written as their `Display`.
    fn plain(&mut self, key: &str, value: impl Display) {
        let _ = writeln!(self.out, "{} = {value}", toml_key(key));
    }

    fn finish(self) -> String {
        self.out
    }
}

/// A bare key when TOML allows one, else a quoted key.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        toml_string(key)
    }
}

/// A TOML basic string: `"` and `\` escaped, control characters as `\uXXXX`.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// check-config shows a publisher's policy and a custom issuer's claims, as TOML
    /// that reads back to the same entry.
    #[test]
    fn publishers_show_policy_and_claims() {
        let entries = [
            serde_json::json!({
                "kind": "github", "projects": ["p"], "repository_owner": "o",
                "repository_name": "r", "workflow_filename": "release.yml",
                "refs": ["refs/tags/v*"], "require_protected_ref": true,
                "allow_self_hosted_runners": false,
            }),
            serde_json::json!({
                "kind": "oidc", "projects": ["p"], "issuer": "https://ci.example.com",
                "claims": { "tenant_id": "acme", "repository_id": "42" },
            }),
        ];
        let publishers: Vec<Publisher> = entries
            .iter()
            .map(|e| {
                trustmint_publishers::parse_declaration(e)
                    .expect("valid")
                    .into_declared_publisher()
            })
            .collect();
        let mut toml = TomlText::default();
        write_publishers(&mut toml, &publishers);
        let text = toml.finish();
        assert!(text.contains("refs = [\"refs/tags/v*\"]\nrequire_protected_ref = true\nallow_self_hosted_runners = false\n"), "{text}");
        assert!(
            text.contains("claims = { repository_id = \"42\", tenant_id = \"acme\" }\n"),
            "{text}"
        );
        let read: toml::Value = toml::from_str(&text).expect("valid TOML");
        let entries = read
            .get("publishers")
            .and_then(toml::Value::as_array)
            .expect("entries");
        for entry in entries {
            let json = serde_json::to_value(entry).expect("json");
            trustmint_publishers::parse_declaration(&json).expect("reads back");
        }
    }

    #[test]
    fn url_passwords_are_redacted() {
        for (url, expected) in [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            (
                "redis://:hunter2@10.0.0.1:6379/0",
                "redis://:<redacted>@10.0.0.1:6379/0",
            ),
            (
                "redis://app:hunter2@10.0.0.1:6379",
                "redis://app:<redacted>@10.0.0.1:6379",
            ),
            ("redis://hunter2@10.0.0.1", "redis://<redacted>@10.0.0.1"),
            (
                "http://collector:4317/v1?user=a@b",
                "http://collector:4317/v1?user=a@b",
            ),
            ("", ""),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url_password(url), expected, "{url}");
        }
    }

    #[test]
    fn strings_and_keys_are_valid_toml() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\u{7}y\nz"), "\"x\\u0007y\\nz\"");
        assert_eq!(toml_key("k1"), "k1");
        assert_eq!(toml_key("key id"), "\"key id\"");
        let mut toml = TomlText::default();
        toml.table("t");
        toml.string("a b", "v\"");
        toml.strings("list", &["x", "y"]);
        toml.plain("n", 5);
        let parsed: toml::Table = toml::from_str(&toml.finish()).expect("valid TOML");
        assert_eq!(parsed["t"]["a b"].as_str(), Some("v\""));
        assert_eq!(parsed["t"]["n"].as_integer(), Some(5));
        assert_eq!(parsed["t"]["list"].as_array().map(Vec::len), Some(2));
    }
}
