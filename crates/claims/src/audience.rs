//! Which `aud` values an issuer's tokens may carry: the service's `[exchange] audience`,
//! plus the issuer's own `audiences` entries.
//!
//! An entry is either a literal (`"pypi-staging"`) or a *publisher-bound* template with
//! one placeholder that names a publisher field of the issuer's kind
//! (`"ari:cloud:bitbucket::workspace/{workspace_uuid}"`, `"{organization_id}"`). A
//! template is never accepted for the kind as a whole: its placeholder is filled from
//! the token's own tenant claim (the platform says how), and the publisher pins that
//! same claim, so a token whose audience names its tenant can only match publishers of
//! that tenant. Platforms whose audience is fixed to the tenant (Bitbucket) or defaults
//! to it (CircleCI) need this; a literal tenant id would trust one tenant's tokens for
//! every publisher of the kind.

use serde_json::{Map, Value};
use trustmint_publishers::{Provider, TokenClaims};

/// Longest accepted audience entry, in bytes.
const MAX_AUDIENCE_LEN: usize = 255;

/// One parsed `audiences` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AudienceRule {
    /// Accepted as written.
    Literal(String),
    /// `prefix{placeholder}suffix`, filled from the token's tenant claim.
    Bound {
        prefix: String,
        placeholder: &'static str,
        suffix: String,
    },
}

// === impl AudienceRule ===

impl AudienceRule {
    /// Parses an entry for an issuer of `kind`; the error says what to change.
    pub(crate) fn parse(kind: Provider, raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_AUDIENCE_LEN {
            return Err(format!("must be 1 to {MAX_AUDIENCE_LEN} bytes"));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!(
                "{raw:?} must not contain whitespace or control characters"
            ));
        }
        let Some(open) = raw.find('{') else {
            if raw.contains('}') {
                return Err(format!("{raw:?} has a '}}' without a '{{'"));
            }
            return Ok(Self::Literal(raw.to_owned()));
        };
        let rest = &raw[open + 1..];
        let Some(close) = rest.find('}') else {
            return Err(format!("{raw:?} has a '{{' without a '}}'"));
        };
        let name = &rest[..close];
        let suffix = &rest[close + 1..];
        if suffix.contains(['{', '}']) {
            return Err(format!("{raw:?} may hold only one {{placeholder}}"));
        }
        let known = kind.audience_placeholders();
        let Some(placeholder) = known.iter().copied().find(|known| *known == name) else {
            return Err(if known.is_empty() {
                format!(
                    "{raw:?}: {kind} tokens have no publisher-bound audience, so {{…}} placeholders are not accepted"
                )
            } else {
                format!(
                    "{raw:?}: unknown placeholder {{{name}}}; {kind} accepts {}",
                    known
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        };
        Ok(Self::Bound {
            prefix: raw[..open].to_owned(),
            placeholder,
            suffix: suffix.to_owned(),
        })
    }

    /// Whether `aud` is this rule's audience for a token of `kind` with `claims`.
    fn accepts(&self, kind: Provider, aud: &str, iss: &str, claims: &Map<String, Value>) -> bool {
        match self {
            Self::Literal(literal) => literal == aud,
            Self::Bound {
                prefix,
                placeholder,
                suffix,
            } => {
                let Some(value) =
                    kind.audience_placeholder_value(placeholder, &TokenClaims::new(iss, claims))
                else {
                    return false;
                };
                !value.is_empty()
                    && aud.len() == prefix.len() + value.len() + suffix.len()
                    && aud.starts_with(prefix.as_str())
                    && aud.ends_with(suffix.as_str())
                    && aud[prefix.len()..aud.len() - suffix.len()].eq_ignore_ascii_case(&value)
            }
        }
    }
}

/// What `aud` must be for one token: the service audience, or one of its issuer's rules.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AudiencePolicy<'a> {
    pub(crate) service: &'a str,
    pub(crate) kind: Provider,
    pub(crate) extra: &'a [AudienceRule],
}

// === impl AudiencePolicy ===

impl AudiencePolicy<'_> {
    /// Whether a single-string `aud` is acceptable for the (authenticated) `claims`.
    pub(crate) fn accepts(&self, aud: &str, iss: &str, claims: &Map<String, Value>) -> bool {
        aud == self.service
            || self
                .extra
                .iter()
                .any(|rule| rule.accepts(self.kind, aud, iss, claims))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parse_table() {
        let bitbucket = Provider::Bitbucket;
        let rows: Vec<(Provider, &str, Result<AudienceRule, &str>)> = vec![
            (
                Provider::GitHub,
                "pypi-staging",
                Ok(AudienceRule::Literal("pypi-staging".into())),
            ),
            (
                bitbucket,
                "ari:cloud:bitbucket::workspace/{workspace_uuid}",
                Ok(AudienceRule::Bound {
                    prefix: "ari:cloud:bitbucket::workspace/".into(),
                    placeholder: "workspace_uuid",
                    suffix: String::new(),
                }),
            ),
            (Provider::GitHub, "", Err("must be 1 to 255 bytes")),
            (
                Provider::GitHub,
                "a b",
                Err("\"a b\" must not contain whitespace or control characters"),
            ),
            (
                Provider::GitHub,
                "x/{workspace_uuid}",
                Err(
                    "\"x/{workspace_uuid}\": github tokens have no publisher-bound audience, so {…} placeholders are not accepted",
                ),
            ),
            (
                bitbucket,
                "x/{repository_uuid}",
                Err(
                    "\"x/{repository_uuid}\": unknown placeholder {repository_uuid}; bitbucket accepts {workspace_uuid}",
                ),
            ),
            (
                bitbucket,
                "x/{workspace_uuid}{workspace_uuid}",
                Err("\"x/{workspace_uuid}{workspace_uuid}\" may hold only one {placeholder}"),
            ),
            (
                bitbucket,
                "x/{oops",
                Err("\"x/{oops\" has a '{' without a '}'"),
            ),
            (
                bitbucket,
                "x/oops}",
                Err("\"x/oops}\" has a '}' without a '{'"),
            ),
        ];
        for (kind, raw, expected) in rows {
            assert_eq!(
                AudienceRule::parse(kind, raw),
                expected.map_err(str::to_owned),
                "{raw}"
            );
        }
    }

    #[test]
    fn bound_audience_is_filled_from_the_token_itself() {
        let bitbucket = Provider::Bitbucket;
        let rule =
            AudienceRule::parse(bitbucket, "ari:cloud:bitbucket::workspace/{workspace_uuid}")
                .unwrap_or_else(|e| panic!("{e}"));
        let claims = json!({"workspaceUuid": "{8B1C2D3E-0000-4000-8000-00000000AAAA}"});
        let claims = claims.as_object().cloned().unwrap_or_default();
        let policy = AudiencePolicy {
            service: "pypi",
            kind: bitbucket,
            extra: std::slice::from_ref(&rule),
        };
        let iss = "https://api.bitbucket.org/2.0/workspaces/w/pipelines-config/identity/oidc";
        for (aud, accepted) in [
            ("pypi", true),
            (
                "ari:cloud:bitbucket::workspace/8b1c2d3e-0000-4000-8000-00000000aaaa",
                true,
            ),
            (
                "ari:cloud:bitbucket::workspace/99999999-0000-4000-8000-00000000bbbb",
                false,
            ),
            ("ari:cloud:bitbucket::workspace/", false),
            ("other", false),
        ] {
            assert_eq!(policy.accepts(aud, iss, &claims), accepted, "{aud}");
        }
        let no_tenant = Map::new();
        assert!(!policy.accepts("ari:cloud:bitbucket::workspace/", iss, &no_tenant));
    }
}
