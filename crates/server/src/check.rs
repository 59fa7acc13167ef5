//! `trustmint check-config`: validate what `serve` validates before it binds (sections,
//! issuers, publishers, keys, gRPC credentials and TLS files), then describe the
//! effective configuration, secrets redacted.
//!
//! The report is `configuration OK`, a few `#` notes, then the effective settings
//! serialised by `toml` from a redacted view: every section with every key, defaults
//! included, so an operator sees what `serve` will run with after the file and the
//! `TRUSTMINT__…` environment were layered. Secrets never appear: key secrets and the
//! gRPC token are `"<redacted>"`, and the password of a Redis or OTLP URL is replaced
//! the same way.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use trustmint_claims::IssuerRegistry;
use trustmint_exchange::{CratesSettings, ExchangeSettings, NpmSettings, TokenExchangeSettings};
use trustmint_grpc::GrpcSettings;
use trustmint_http::{GatewaySettings, SecretScanningSettings};
use trustmint_publishers::{Ecosystem, Publisher, PublisherPolicy};
use trustmint_store::{RateLimitSettings, StoreSettings};
use trustmint_telemetry::TelemetrySettings;
use trustmint_tokens::Keyring;

use crate::settings::{ConfigError, ServerSettings, Settings};
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
    crate::application::http_tls(settings)?;
    crate::application::gateway(settings)?;

    let view = EffectiveSettings::new(settings, &issuers, &keyring, &publishers);
    let body = toml::to_string(&view)
        .map_err(|error| ConfigError(format!("could not print the effective settings: {error}")))?;
    let mut report = String::from("configuration OK\n");
    comment(
        &mut report,
        "the effective settings: defaults, then the file, then TRUSTMINT__* variables; secrets redacted",
    );
    if settings.keys.current.is_empty() {
        comment(
            &mut report,
            "no keys configured: serve mints with an ephemeral key whose tokens stop verifying when the process exits (development only)",
        );
    }
    if settings.issuers.is_empty() {
        comment(
            &mut report,
            "no [[issuers]] configured: the public issuers are trusted",
        );
    }
    for publisher in &publishers {
        comment(
            &mut report,
            &format!(
                "publisher {}: {}",
                publisher.id.as_str(),
                publisher.spec.describe()
            ),
        );
    }
    report.push('\n');
    report.push_str(&body);
    Ok(report)
}

/// One `# …` line; a newline in the text (a publisher field cannot hold one, but be
/// safe) would end the comment and start a line of TOML.
fn comment(out: &mut String, text: &str) {
    out.push_str("# ");
    out.push_str(&text.replace(['\n', '\r'], " "));
    out.push('\n');
}

/// The settings `serve` runs with, as `check-config` prints them: every section with
/// every key, defaults included; issuers and publishers as validated; secrets redacted
/// (key secrets and the gRPC token by their own `Serialize`, URL passwords here).
#[derive(Serialize)]
struct EffectiveSettings<'a> {
    server: &'a ServerSettings,
    exchange: &'a ExchangeSettings,
    store: StoreSettings,
    rate_limit: &'a RateLimitSettings,
    keys: EffectiveKeys<'a>,
    grpc: &'a GrpcSettings,
    telemetry: TelemetrySettings,
    /// `Serialize` of the gateway settings redacts the index password.
    gateway: &'a GatewaySettings,
    /// The other ecosystems' doors (none holds a secret).
    crates: &'a CratesSettings,
    npm: &'a NpmSettings,
    token_exchange: &'a TokenExchangeSettings,
    /// Its keys URL with any password redacted.
    secret_scanning: SecretScanningSettings,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    issuers: Vec<EffectiveIssuer<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    publishers: Vec<EffectivePublisher<'a>>,
}

/// `[keys]`: the minting key and every key id that verifies (from `keys.secrets` and
/// `keys.secrets_dir`), each secret shown as `<redacted>`.
#[derive(Serialize)]
struct EffectiveKeys<'a> {
    current: String,
    secrets_dir: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    secrets: BTreeMap<String, &'static str>,
}

/// One `[[issuers]]` entry as the registry holds it (the public defaults included).
#[derive(Serialize)]
struct EffectiveIssuer<'a> {
    name: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url_pattern: Option<&'a str>,
    /// Absent: keys by OIDC discovery of the token's `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<&'a str>,
    algorithms: Vec<String>,
    enabled: bool,
    /// Extra audiences its tokens may carry, besides `[exchange] audience`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    audiences: Vec<String>,
}

/// One `[[publishers]]` entry: kind, normalised projects, and the spec's non-empty
/// fields (the spec's own serialisation has every field; unset ones are empty).
#[derive(Serialize)]
struct EffectivePublisher<'a> {
    kind: &'static str,
    projects: Vec<&'a str>,
    /// Absent for PyPI, the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    ecosystem: Option<&'static str>,
    /// Non-empty text fields, and a custom issuer's bound `claims`.
    #[serde(flatten)]
    fields: BTreeMap<String, Value>,
    /// The policy keys, when the policy restricts anything.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    policy: Option<&'a PublisherPolicy>,
}

impl<'a> EffectiveSettings<'a> {
    fn new(
        settings: &'a Settings,
        issuers: &'a IssuerRegistry,
        keyring: &Keyring,
        publishers: &'a [Publisher],
    ) -> Self {
        let mut store = settings.store.clone();
        store.redis_url = redact_url_password(&store.redis_url);
        for url in &mut store.cluster_urls {
            *url = redact_url_password(url);
        }
        let mut telemetry = settings.telemetry.clone();
        telemetry.otlp_endpoint = redact_url_password(&telemetry.otlp_endpoint);
        let mut secret_scanning = settings.secret_scanning.clone();
        secret_scanning.keys_url = redact_url_password(&secret_scanning.keys_url);
        let has_keys = !settings.keys.current.is_empty();
        let keys = EffectiveKeys {
            current: if has_keys {
                keyring.current_key_id().to_owned()
            } else {
                String::new()
            },
            secrets_dir: &settings.keys.secrets_dir,
            secrets: if has_keys {
                keyring
                    .key_ids()
                    .into_iter()
                    .map(|id| (id, REDACTED))
                    .collect()
            } else {
                BTreeMap::new()
            },
        };
        Self {
            server: &settings.server,
            exchange: &settings.exchange,
            store,
            rate_limit: &settings.rate_limit,
            keys,
            grpc: &settings.grpc,
            telemetry,
            gateway: &settings.gateway,
            crates: &settings.crates,
            npm: &settings.npm,
            token_exchange: &settings.token_exchange,
            secret_scanning,
            issuers: issuers
                .issuers()
                .iter()
                .map(|issuer| {
                    let url = issuer.display_url();
                    EffectiveIssuer {
                        name: &issuer.name,
                        kind: issuer.kind.as_str(),
                        url: (!issuer.is_pattern()).then_some(url),
                        url_pattern: issuer.is_pattern().then_some(url),
                        jwks_uri: issuer.jwks_uri(),
                        algorithms: issuer.algorithms.iter().map(ToString::to_string).collect(),
                        enabled: issuer.enabled,
                        audiences: issuer.audiences(),
                    }
                })
                .collect(),
            publishers: publishers.iter().map(EffectivePublisher::new).collect(),
        }
    }
}

impl<'a> EffectivePublisher<'a> {
    fn new(publisher: &'a Publisher) -> Self {
        let fields = match serde_json::to_value(&publisher.spec) {
            Ok(Value::Object(fields)) => fields
                .into_iter()
                .filter(|(name, value)| match value {
                    Value::String(text) => name != "kind" && !text.is_empty(),
                    Value::Object(entries) => !entries.is_empty(),
                    _ => false,
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        Self {
            kind: publisher.spec.provider().as_str(),
            projects: publisher.projects.iter().map(|p| p.as_str()).collect(),
            ecosystem: (publisher.ecosystem != Ecosystem::Pypi)
                .then(|| publisher.ecosystem.as_str()),
            fields,
            policy: (!publisher.policy.is_default()).then_some(&publisher.policy),
        }
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
        #[derive(Serialize)]
        struct Entries<'a> {
            publishers: Vec<EffectivePublisher<'a>>,
        }
        let view = Entries {
            publishers: publishers.iter().map(EffectivePublisher::new).collect(),
        };
        let text = toml::to_string(&view).expect("serializes");
        assert!(text.contains("refs = [\"refs/tags/v*\"]\nrequire_protected_ref = true\nallow_self_hosted_runners = false\nrequire_protected_environment = false\n"), "{text}");
        assert!(
            text.contains("[publishers.claims]\nrepository_id = \"42\"\ntenant_id = \"acme\"\n"),
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
    fn the_report_is_toml_with_url_passwords_redacted() {
        let mut settings = Settings::default();
        settings.store.redis_url = "redis://app:hunter2@10.0.0.1:6379".into();
        settings.store.cluster_urls = vec!["redis://:hunter3@10.0.0.2:7000".into()];
        settings.telemetry.otlp_endpoint = "http://otel:hunter4@collector:4317".into();
        settings.grpc.auth_token = "s3cret-index-token".into();
        let report = check(&settings).expect("defaults pass");
        for secret in ["hunter2", "hunter3", "hunter4", "s3cret-index-token"] {
            assert!(!report.contains(secret), "{secret} leaked: {report}");
        }
        let body = report
            .strip_prefix("configuration OK\n")
            .expect("the report starts with `configuration OK`");
        let parsed: toml::Table = toml::from_str(body).expect("the report is TOML");
        assert_eq!(
            parsed["store"]["redis_url"].as_str(),
            Some("redis://app:<redacted>@10.0.0.1:6379")
        );
        assert_eq!(
            parsed["store"]["cluster_urls"][0].as_str(),
            Some("redis://:<redacted>@10.0.0.2:7000")
        );
        assert_eq!(
            parsed["telemetry"]["otlp_endpoint"].as_str(),
            Some("http://otel:<redacted>@collector:4317")
        );
        assert_eq!(parsed["grpc"]["auth_token"].as_str(), Some("<redacted>"));
        assert_eq!(parsed["keys"]["current"].as_str(), Some(""));
        assert_eq!(parsed["issuers"].as_array().map(Vec::len), Some(7));
        assert!(parsed.get("publishers").is_none());
    }
}
