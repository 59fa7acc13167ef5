//! The set of trusted issuers, and routing of a token's `iss` to one of them.

use std::collections::HashMap;
use std::sync::Arc;

use crate::algorithm::Algorithm;
use trustmint_publishers::{OidcIssuerRules, Provider};

use crate::audience::AudienceRule;
use crate::issuer::{Issuer, IssuerMatcher, IssuerSettings};
use crate::issuer_url::{UrlPattern, normalize_issuer_url, parse_remote_url, trim_trailing_slash};

/// Longest configured issuer name (it becomes a metric label).
const MAX_NAME_LEN: usize = 100;

/// An invalid `[[issuers]]` entry. Displays as `issuers[<index>].<key>: <message>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("issuers[{index}].{key}: {message}")]
pub struct IssuerConfigError {
    /// Position of the entry in the list.
    pub index: usize,
    /// The offending key (`url`, `url_pattern`, `algorithms`, …).
    pub key: &'static str,
    /// What is wrong, in words an operator can act on.
    pub message: String,
}

/// The trusted issuers: exact URLs (looked up first) and `url_pattern`s (in config order).
#[derive(Debug)]
pub struct IssuerRegistry {
    issuers: Vec<Arc<Issuer>>,
    /// Normalised exact URL → index into `issuers`.
    exact: HashMap<String, usize>,
}

// === impl IssuerRegistry ===

impl IssuerRegistry {
    /// Validates every entry and builds the registry.
    ///
    /// Rules: exactly one of `url`/`url_pattern`; `url` is https (http only on a loopback
    /// host), without userinfo, query or fragment; in a `url_pattern` each `*` is a whole
    /// host label or path segment (`https://x*.com`, `https://host/*foo`, a host of only
    /// `*`, `*` in the last two host labels and `**` are refused); URLs and patterns are
    /// unique (a trailing `/` is not significant); `algorithms` are among RS256, PS256,
    /// ES256, EdDSA (`none` and `HS*` are refused with the reason); `jwks_uri` follows the
    /// `url` rules (a query is allowed); configured names are unique.
    pub fn new(settings: &[IssuerSettings]) -> Result<IssuerRegistry, IssuerConfigError> {
        let mut issuers = Vec::with_capacity(settings.len());
        let mut exact = HashMap::new();
        let mut patterns: HashMap<String, usize> = HashMap::new();
        let mut names: HashMap<String, usize> = HashMap::new();

        for (index, entry) in settings.iter().enumerate() {
            let error = |key: &'static str, message: String| IssuerConfigError {
                index,
                key,
                message,
            };

            let (matcher, display_url) = match (&entry.url, &entry.url_pattern) {
                (Some(url), None) => {
                    let normalized = normalize_issuer_url(url).map_err(|m| error("url", m))?;
                    if let Some(first) = exact.insert(normalized.clone(), index) {
                        return Err(error(
                            "url",
                            format!("duplicate of issuers[{first}].url ({url:?})"),
                        ));
                    }
                    (IssuerMatcher::Exact(normalized), url.clone())
                }
                (None, Some(pattern)) => {
                    let compiled =
                        UrlPattern::parse(pattern).map_err(|m| error("url_pattern", m))?;
                    let key = trim_trailing_slash(pattern).to_owned();
                    if let Some(first) = patterns.insert(key, index) {
                        return Err(error(
                            "url_pattern",
                            format!("duplicate of issuers[{first}].url_pattern ({pattern:?})"),
                        ));
                    }
                    (IssuerMatcher::Pattern(compiled), pattern.clone())
                }
                (None, None) => {
                    return Err(error(
                        "url",
                        "one of `url` or `url_pattern` is required".to_owned(),
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(error(
                        "url_pattern",
                        "set either `url` or `url_pattern`, not both".to_owned(),
                    ));
                }
            };

            let algorithms = parse_algorithms(entry.algorithms.as_deref())
                .map_err(|m| error("algorithms", m))?;
            let jwks_uri = match &entry.jwks_uri {
                Some(uri) => {
                    parse_remote_url(uri).map_err(|m| error("jwks_uri", m))?;
                    Some(uri.clone())
                }
                None => None,
            };
            let name = match &entry.name {
                Some(name) => {
                    check_name(name).map_err(|m| error("name", m))?;
                    if let Some(first) = names.get(name) {
                        return Err(error(
                            "name",
                            format!("duplicate of issuers[{first}].name ({name:?})"),
                        ));
                    }
                    names.insert(name.clone(), index);
                    name.clone()
                }
                None => derive_name(entry.kind, &matcher, &display_url),
            };

            let audiences = entry
                .audiences
                .iter()
                .flatten()
                .map(|raw| AudienceRule::parse(entry.kind, raw))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|m| error("audiences", m))?;

            let oidc_rules = oidc_rules(entry).map_err(|(key, m)| error(key, m))?;
            issuers.push(Issuer {
                oidc_rules,
                name,
                kind: entry.kind,
                enabled: entry.enabled.unwrap_or(true),
                algorithms,
                matcher,
                display_url,
                jwks_uri,
                audiences,
            });
        }

        disambiguate_derived_names(&mut issuers, settings);
        let issuers = issuers.into_iter().map(Arc::new).collect();
        Ok(IssuerRegistry { issuers, exact })
    }

    /// The public issuers trusted without `[[issuers]]`: PyPI's four (GitHub Actions,
    /// gitlab.com, Google, ActiveState), Buildkite, and the per-tenant `url_pattern`s of
    /// CircleCI and Bitbucket, with default settings (RS256, enabled, OIDC discovery, no
    /// extra audiences). Kinds without a public instance (Forgejo) have none.
    pub fn public_issuers() -> Vec<IssuerSettings> {
        Provider::ALL
            .iter()
            .copied()
            .filter(|kind| !kind.public_issuer().is_empty())
            .map(|kind| {
                if kind.public_issuer_is_pattern() {
                    IssuerSettings::pattern(kind, kind.public_issuer())
                } else {
                    IssuerSettings::exact(kind, kind.public_issuer())
                }
            })
            .collect()
    }

    /// The issuer trusted for `iss`: an exact URL match first (a trailing `/` is not
    /// significant), then the first matching `url_pattern` in config order.
    pub fn resolve(&self, iss: &str) -> Option<Arc<Issuer>> {
        if let Some(index) = self.exact.get(trim_trailing_slash(iss)) {
            return self.issuers.get(*index).cloned();
        }
        self.issuers
            .iter()
            .find(|issuer| issuer.matches_pattern(iss))
            .cloned()
    }

    /// Every configured issuer, in config order.
    pub fn issuers(&self) -> &[Arc<Issuer>] {
        &self.issuers
    }
}

fn parse_algorithms(names: Option<&[String]>) -> Result<Vec<Algorithm>, String> {
    let Some(names) = names else {
        return Ok(vec![Algorithm::RS256]);
    };
    if names.is_empty() {
        return Err("must list at least one algorithm (omit the key for [\"RS256\"])".to_owned());
    }
    let mut algorithms = Vec::with_capacity(names.len());
    for name in names {
        let algorithm: Algorithm = name.parse().map_err(|error| format!("{error}"))?;
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    Ok(algorithms)
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(format!("must be 1 to {MAX_NAME_LEN} characters"));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain whitespace or control characters".to_owned());
    }
    Ok(())
}

/// `github` for the kind's public URL, else `<kind>:<host and path>`.
fn derive_name(kind: Provider, matcher: &IssuerMatcher, display_url: &str) -> String {
    let public = match matcher {
        IssuerMatcher::Exact(url) => {
            !kind.public_issuer_is_pattern() && url == kind.public_issuer()
        }
        IssuerMatcher::Pattern(_) => {
            kind.public_issuer_is_pattern()
                && trim_trailing_slash(display_url) == kind.public_issuer()
        }
    };
    if public && !kind.public_issuer().is_empty() {
        return kind.as_str().to_owned();
    }
    let without_scheme = display_url
        .split_once("://")
        .map_or(display_url, |(_, rest)| rest);
    format!("{}:{}", kind.as_str(), trim_trailing_slash(without_scheme))
}

/// Derived names are unique already unless an operator named another issuer the same
/// (or two URLs differ only in scheme); then each derived one gets `#<index>` appended.
fn disambiguate_derived_names(issuers: &mut [Issuer], settings: &[IssuerSettings]) {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for issuer in issuers.iter() {
        *counts.entry(issuer.name.clone()).or_default() += 1;
    }
    for (index, (issuer, entry)) in issuers.iter_mut().zip(settings).enumerate() {
        let clashes = counts.get(&issuer.name).is_some_and(|count| *count > 1);
        if clashes && entry.name.is_none() {
            issuer.name = format!("{}#{index}", issuer.name);
        }
    }
}

/// The rules of a `kind = "oidc"` entry, checked; other kinds must not set them.
fn oidc_rules(entry: &IssuerSettings) -> Result<Option<OidcIssuerRules>, (&'static str, String)> {
    if entry.kind != Provider::Oidc {
        for (key, set) in [
            ("required_claims", entry.required_claims.is_some()),
            ("pattern_claims", entry.pattern_claims.is_some()),
            ("replay_key", entry.replay_key.is_some()),
        ] {
            if set {
                return Err((key, "applies only to issuers of kind oidc".to_owned()));
            }
        }
        return Ok(None);
    }
    let required = entry.required_claims.clone().unwrap_or_default();
    if required.is_empty() {
        return Err((
            "required_claims",
            "an oidc issuer lists at least one required claim: the tenant or project claim every publisher binds exactly, whose value indexes its publishers (e.g. [\"project_id\"])".to_owned(),
        ));
    }
    let patterns = entry.pattern_claims.clone().unwrap_or_default();
    for (key, names) in [
        ("required_claims", &required),
        ("pattern_claims", &patterns),
    ] {
        for name in names.iter() {
            if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err((key, format!("{name:?} is not a claim name")));
            }
            if names.iter().filter(|n| *n == name).count() > 1 {
                return Err((key, format!("lists {name:?} twice")));
            }
        }
    }
    if let Some(both) = required.iter().find(|name| patterns.contains(name)) {
        return Err((
            "pattern_claims",
            format!("{both:?} is a required claim, which publishers always bind exactly"),
        ));
    }
    let replay_by_hash = match entry.replay_key.as_deref() {
        None | Some("jti") => false,
        Some("sha256") => true,
        Some(other) => {
            return Err((
                "replay_key",
                format!(
                    "{other:?} is not one of \"jti\" (tokens must carry a jti) or \"sha256\" (the hash of the whole JWT)"
                ),
            ));
        }
    };
    Ok(Some(OidcIssuerRules {
        required_claims: required,
        pattern_claims: patterns,
        replay_by_hash,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(kind: Provider, url: &str) -> IssuerSettings {
        IssuerSettings::exact(kind, url)
    }

    fn pattern(kind: Provider, url_pattern: &str) -> IssuerSettings {
        IssuerSettings::pattern(kind, url_pattern)
    }

    fn error_of(settings: &[IssuerSettings]) -> String {
        IssuerRegistry::new(settings)
            .expect_err("invalid config")
            .to_string()
    }

    #[test]
    fn public_issuers_resolve_by_exact_url() {
        let registry = IssuerRegistry::new(&IssuerRegistry::public_issuers()).expect("valid");
        let rows = [
            (
                "https://token.actions.githubusercontent.com",
                Provider::GitHub,
                "github",
            ),
            ("https://gitlab.com", Provider::GitLab, "gitlab"),
            ("https://gitlab.com/", Provider::GitLab, "gitlab"),
            ("https://accounts.google.com", Provider::Google, "google"),
            (
                "https://platform.activestate.com/api/v1/oauth/oidc",
                Provider::ActiveState,
                "activestate",
            ),
        ];
        for (iss, kind, name) in rows {
            let issuer = registry.resolve(iss).expect(iss);
            assert_eq!((issuer.kind, issuer.name.as_str()), (kind, name), "{iss}");
            assert_eq!(issuer.algorithms, vec![Algorithm::RS256]);
            assert!(issuer.enabled);
            assert!(!issuer.is_pattern());
            assert_eq!(issuer.jwks_uri(), None);
        }
        assert!(registry.resolve("https://gitlab.example.com").is_none());
        assert!(registry.resolve("accounts.google.com").is_none());
        assert!(
            registry
                .resolve("https://token.actions.githubusercontent.com/slug")
                .is_none()
        );
    }

    #[test]
    fn exact_match_wins_over_pattern() {
        let registry = IssuerRegistry::new(&[
            IssuerSettings {
                name: Some("slugs".into()),
                ..pattern(
                    Provider::GitHub,
                    "https://token.actions.githubusercontent.com/*",
                )
            },
            IssuerSettings {
                name: Some("octo".into()),
                ..exact(
                    Provider::GitHub,
                    "https://token.actions.githubusercontent.com/octo",
                )
            },
        ])
        .expect("valid");
        assert_eq!(
            registry
                .resolve("https://token.actions.githubusercontent.com/octo")
                .expect("octo")
                .name,
            "octo"
        );
        assert_eq!(
            registry
                .resolve("https://token.actions.githubusercontent.com/other")
                .expect("slug")
                .name,
            "slugs"
        );
        assert!(
            registry
                .resolve("https://token.actions.githubusercontent.com")
                .is_none()
        );
    }

    #[test]
    fn derived_names_are_per_entry() {
        let registry = IssuerRegistry::new(&[
            exact(Provider::GitLab, "https://gitlab.example.com/"),
            pattern(
                Provider::GitHub,
                "https://*.ghe.example.com/_services/token",
            ),
            exact(
                Provider::GitHub,
                "https://token.actions.githubusercontent.com",
            ),
        ])
        .expect("valid");
        let names: Vec<&str> = registry.issuers().iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "gitlab:gitlab.example.com",
                "github:*.ghe.example.com/_services/token",
                "github"
            ]
        );
        assert_eq!(
            registry.issuers()[0].display_url(),
            "https://gitlab.example.com/"
        );
        assert!(registry.issuers()[1].is_pattern());
    }

    #[test]
    fn derived_name_clashing_with_a_configured_one_is_suffixed() {
        let registry = IssuerRegistry::new(&[
            IssuerSettings {
                name: Some("github".into()),
                ..exact(Provider::GitHub, "https://ghe.example.com/_services/token")
            },
            exact(
                Provider::GitHub,
                "https://token.actions.githubusercontent.com",
            ),
        ])
        .expect("valid");
        let names: Vec<&str> = registry.issuers().iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["github", "github#1"]);
    }

    #[test]
    fn settings_are_applied() {
        let registry = IssuerRegistry::new(&[IssuerSettings {
            jwks_uri: Some("http://127.0.0.1:9000/jwks".into()),
            algorithms: Some(vec!["ES256".into(), "RS256".into(), "ES256".into()]),
            enabled: Some(false),
            ..exact(Provider::GitLab, "https://gitlab.example.com")
        }])
        .expect("valid");
        let issuer = registry
            .resolve("https://gitlab.example.com")
            .expect("configured");
        assert_eq!(issuer.algorithms, vec![Algorithm::ES256, Algorithm::RS256]);
        assert!(!issuer.enabled);
        assert_eq!(issuer.jwks_uri(), Some("http://127.0.0.1:9000/jwks"));
    }

    #[test]
    fn config_error_table() {
        let gitlab = |url: &str| exact(Provider::GitLab, url);
        let rows: Vec<(Vec<IssuerSettings>, &str)> = vec![
            (
                vec![IssuerSettings {
                    url: None,
                    ..gitlab("")
                }],
                "issuers[0].url: one of `url` or `url_pattern` is required",
            ),
            (
                vec![IssuerSettings {
                    url_pattern: Some("https://*.example.com/x".into()),
                    ..gitlab("https://gitlab.com")
                }],
                "issuers[0].url_pattern: set either `url` or `url_pattern`, not both",
            ),
            (
                vec![gitlab("http://gitlab.example.com")],
                "issuers[0].url: must use https",
            ),
            (
                vec![
                    gitlab("https://a.example.com"),
                    gitlab("https://a.example.com/"),
                ],
                "issuers[1].url: duplicate of issuers[0].url",
            ),
            (
                vec![
                    gitlab("https://a.example.com"),
                    gitlab("https://b.example.com"),
                    pattern(Provider::GitHub, "https://x*.com"),
                ],
                "issuers[2].url_pattern: `*` must be a whole host label",
            ),
            (
                vec![
                    pattern(Provider::GitHub, "https://h.example.com/*"),
                    pattern(Provider::GitHub, "https://h.example.com/*/"),
                ],
                "issuers[1].url_pattern: duplicate of issuers[0].url_pattern",
            ),
            (
                vec![IssuerSettings {
                    algorithms: Some(vec!["none".into()]),
                    ..gitlab("https://gitlab.com")
                }],
                "issuers[0].algorithms: \"none\" is never accepted",
            ),
            (
                vec![IssuerSettings {
                    algorithms: Some(vec!["RS256".into(), "HS256".into()]),
                    ..gitlab("https://gitlab.com")
                }],
                "issuers[0].algorithms: \"HS256\" is a symmetric (shared-secret) algorithm",
            ),
            (
                vec![IssuerSettings {
                    algorithms: Some(vec!["RS512".into()]),
                    ..gitlab("https://gitlab.com")
                }],
                "issuers[0].algorithms: unsupported algorithm \"RS512\"",
            ),
            (
                vec![IssuerSettings {
                    algorithms: Some(vec![]),
                    ..gitlab("https://gitlab.com")
                }],
                "issuers[0].algorithms: must list at least one algorithm",
            ),
            (
                vec![IssuerSettings {
                    jwks_uri: Some("http://keys.example.com/jwks".into()),
                    ..gitlab("https://gitlab.com")
                }],
                "issuers[0].jwks_uri: must use https",
            ),
            (
                vec![
                    IssuerSettings {
                        name: Some("gl".into()),
                        ..gitlab("https://a.example.com")
                    },
                    IssuerSettings {
                        name: Some("gl".into()),
                        ..gitlab("https://b.example.com")
                    },
                ],
                "issuers[1].name: duplicate of issuers[0].name",
            ),
            (
                vec![IssuerSettings {
                    name: Some(String::new()),
                    ..gitlab("https://a.example.com")
                }],
                "issuers[0].name: must be 1 to 100",
            ),
            (
                vec![IssuerSettings {
                    name: Some("a b".into()),
                    ..gitlab("https://a.example.com")
                }],
                "issuers[0].name: must not contain whitespace",
            ),
        ];
        for (settings, expected) in rows {
            let message = error_of(&settings);
            assert!(
                message.starts_with(expected),
                "want {expected:?}, got {message:?}"
            );
        }
    }

    #[test]
    fn error_carries_index_and_key() {
        let error = IssuerRegistry::new(&[exact(Provider::GitHub, "ftp://x.example.com")])
            .expect_err("bad scheme");
        assert_eq!((error.index, error.key), (0, "url"));
    }

    #[test]
    fn empty_registry_trusts_nothing() {
        let registry = IssuerRegistry::new(&[]).expect("valid");
        assert!(registry.resolve("https://gitlab.com").is_none());
        assert!(registry.issuers().is_empty());
    }
}
