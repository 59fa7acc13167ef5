//! Configured OIDC issuers: what the operator writes (`IssuerSettings`) and what the
//! verifier routes to (`Issuer`).

use serde::{Deserialize, Serialize};

use crate::algorithm::Algorithm;
use crate::audience::AudienceRule;
use crate::issuer_url::UrlPattern;
use trustmint_publishers::{OidcIssuerRules, Provider};

/// One `[[issuers]]` entry as written in the configuration.
///
/// Exactly one of `url` (an exact issuer) and `url_pattern` (Fulcio-style wildcard, see
/// [`IssuerRegistry::new`](crate::IssuerRegistry::new)) must be set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerSettings {
    /// Metric/log label; derived from kind and host when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exact issuer URL (`iss`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Wildcard issuer URL: each `*` is one host label or path segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_pattern: Option<String>,
    /// The provider.
    pub kind: Provider,
    /// Fixed JWKS URL; without it keys come from OIDC discovery of the token's `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Allowed signature algorithms (default `["RS256"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithms: Option<Vec<String>>,
    /// Kill switch (default `true`): a disabled issuer's tokens get `not-enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Audiences this issuer's tokens may carry besides `[exchange] audience`: literals,
    /// or publisher-bound templates such as
    /// `"ari:cloud:bitbucket::workspace/{workspace_uuid}"` (see `audience.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audiences: Option<Vec<String>>,
    /// Kind `oidc` only (required there): claims every publisher binds exactly; the
    /// first indexes publishers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_claims: Option<Vec<String>>,
    /// Kind `oidc` only: claims publishers may bind with a `*` glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_claims: Option<Vec<String>>,
    /// Kind `oidc` only: `"jti"` (default, tokens must carry one) or `"sha256"` (tokens
    /// without `jti` are replay-guarded by the hash of the whole JWT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_key: Option<String>,
}

// === impl IssuerSettings ===

impl IssuerSettings {
    /// An exact-URL entry of `kind` with every optional field unset.
    pub fn exact(kind: Provider, url: impl Into<String>) -> Self {
        Self {
            name: None,
            url: Some(url.into()),
            url_pattern: None,
            kind,
            jwks_uri: None,
            algorithms: None,
            enabled: None,
            audiences: None,
            required_claims: None,
            pattern_claims: None,
            replay_key: None,
        }
    }

    /// A `url_pattern` entry of `kind` with every optional field unset.
    pub fn pattern(kind: Provider, url_pattern: impl Into<String>) -> Self {
        Self {
            url: None,
            url_pattern: Some(url_pattern.into()),
            ..Self::exact(kind, String::new())
        }
    }
}

/// A validated issuer the verifier can route tokens to. Shared as `Arc<Issuer>`.
#[derive(Debug)]
pub struct Issuer {
    /// Configured name, else derived (`github`, `gitlab:gitlab.example.com`, …). One per
    /// configured entry, never per concrete `iss`, so it is a bounded metric label.
    pub name: String,
    /// The provider.
    pub kind: Provider,
    /// Kill switch: callers must refuse tokens of a disabled issuer (`not-enabled`).
    pub enabled: bool,
    /// Allowed algorithms, never empty (default `[RS256]`).
    pub algorithms: Vec<Algorithm>,
    pub(crate) matcher: IssuerMatcher,
    pub(crate) display_url: String,
    pub(crate) jwks_uri: Option<String>,
    /// Extra accepted audiences (parsed `audiences`), empty by default.
    pub(crate) audiences: Vec<AudienceRule>,
    /// Kind `oidc`: what its publishers and tokens must satisfy; `None` otherwise.
    pub oidc_rules: Option<OidcIssuerRules>,
}

#[derive(Debug)]
pub(crate) enum IssuerMatcher {
    /// Normalised URL (no trailing `/`).
    Exact(String),
    Pattern(UrlPattern),
}

// === impl Issuer ===

impl Issuer {
    /// The configured `url` or `url_pattern`, for logs, config dumps and diagnostics.
    pub fn display_url(&self) -> &str {
        &self.display_url
    }

    /// The configured JWKS URL, if any (otherwise keys come from discovery).
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref()
    }

    /// The configured extra audiences, as written.
    pub fn audiences(&self) -> Vec<String> {
        self.audiences
            .iter()
            .map(|rule| match rule {
                AudienceRule::Literal(literal) => literal.clone(),
                AudienceRule::Bound {
                    prefix,
                    placeholder,
                    suffix,
                } => format!("{prefix}{{{placeholder}}}{suffix}"),
            })
            .collect()
    }

    /// Whether this issuer was configured with `url_pattern`.
    pub fn is_pattern(&self) -> bool {
        matches!(self.matcher, IssuerMatcher::Pattern(_))
    }

    pub(crate) fn matches_pattern(&self, iss: &str) -> bool {
        match &self.matcher {
            IssuerMatcher::Pattern(pattern) => pattern.matches(iss),
            IssuerMatcher::Exact(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Config {
        issuers: Vec<IssuerSettings>,
    }

    #[test]
    fn kinds_use_config_spelling() {
        for &kind in Provider::ALL {
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(
                serde_json::from_str::<Provider>(&json).expect("parse"),
                kind
            );
        }
    }

    #[test]
    fn settings_deserialize_from_toml_shape() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "issuers": [
                {"url": "https://gitlab.example.com", "kind": "gitlab", "algorithms": ["RS256", "ES256"]},
                {"url_pattern": "https://token.actions.githubusercontent.com/*", "kind": "github", "enabled": false}
            ]
        }))
        .expect("valid");
        assert_eq!(
            config.issuers[0].url.as_deref(),
            Some("https://gitlab.example.com")
        );
        assert_eq!(config.issuers[0].kind, Provider::GitLab);
        assert_eq!(config.issuers[1].enabled, Some(false));
    }

    #[test]
    fn settings_refuse_unknown_fields() {
        let error = serde_json::from_value::<IssuerSettings>(serde_json::json!({
            "url": "https://gitlab.com", "kind": "gitlab", "audiense": ["pypi"]
        }))
        .expect_err("unknown field");
        assert!(
            error.to_string().contains("unknown field `audiense`"),
            "{error}"
        );
    }

    #[test]
    fn settings_refuse_unknown_kind() {
        let error = serde_json::from_value::<IssuerSettings>(serde_json::json!({
            "url": "https://example.com", "kind": "travis"
        }))
        .expect_err("unknown kind");
        assert!(
            error.to_string().contains("unknown variant `travis`"),
            "{error}"
        );
    }
}
